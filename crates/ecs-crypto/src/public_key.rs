//! Validation of imported OpenSSH public key lines ("create keypair" with `public_key`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::KeyError;
use crate::fingerprint::md5_fingerprint;

/// Longest public key line accepted, in bytes. A 16384-bit RSA key is about 2.8 KB of
/// base64, so this leaves room for a comment while bounding what gets stored.
pub const MAX_PUBLIC_KEY_LEN: usize = 4096;

/// Key types accepted for import, as they appear at the start of an OpenSSH line.
const SUPPORTED_TYPES: [&str; 6] =
    ["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-dss"];

/// A validated public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// The declared (and verified) key type, e.g. `"ssh-ed25519"`.
    pub key_type: String,
    /// The input line with surrounding whitespace removed.
    pub normalized: String,
    /// MD5 fingerprint of the key blob, see [`crate::md5_fingerprint`].
    pub fingerprint: String,
}

/// Validates an imported OpenSSH public key line: `"<type> <base64> [comment]"`.
///
/// Accepts `ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256/384/521` and `ssh-dss`. The base64
/// must decode, the type string embedded in the blob must match the declared type, and the
/// blob must be a well-formed key of that type. Surrounding whitespace is trimmed; empty
/// input, more than one line and lines longer than [`MAX_PUBLIC_KEY_LEN`] bytes are rejected.
/// Options in front of the type (as `authorized_keys` allows) are not accepted.
pub fn parse_public_key(line: &str) -> Result<PublicKeyInfo, KeyError> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Err(KeyError::Empty);
    }
    if trimmed.len() > MAX_PUBLIC_KEY_LEN {
        return Err(KeyError::TooLong { max: MAX_PUBLIC_KEY_LEN });
    }
    if trimmed.contains(['\n', '\r']) {
        return Err(KeyError::MultiLine);
    }
    // The line ends up in authorized_keys and in API responses; anything invisible but a
    // field separator would only cause trouble there.
    if trimmed.chars().any(|c| c.is_control() && c != '\t') {
        return Err(KeyError::ControlCharacter);
    }

    let mut fields = trimmed.split_whitespace();
    let (Some(declared), Some(data)) = (fields.next(), fields.next()) else {
        return Err(KeyError::Format);
    };
    let key_type = SUPPORTED_TYPES.into_iter().find(|t| *t == declared).ok_or(KeyError::UnsupportedType)?;

    let blob = STANDARD.decode(data).map_err(|_| KeyError::Base64)?;
    if embedded_type(&blob) != Some(key_type.as_bytes()) {
        return Err(KeyError::TypeMismatch { declared: key_type });
    }
    // Full structural check (lengths, curve name and point encoding, no trailing bytes), so
    // a truncated or padded blob is refused here rather than by sshd inside the guest.
    ssh_key::PublicKey::from_bytes(&blob).map_err(|_| KeyError::Malformed)?;

    Ok(PublicKeyInfo {
        key_type: key_type.to_owned(),
        normalized: trimmed.to_owned(),
        fingerprint: md5_fingerprint(&blob),
    })
}

/// The leading SSH `string` of a key blob (RFC 4253 §6.6): a big-endian u32 length followed
/// by that many bytes, which name the key type.
fn embedded_type(blob: &[u8]) -> Option<&[u8]> {
    let (len, rest) = blob.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    rest.get(..len)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures made with `ssh-keygen`; the fingerprints are what `ssh-keygen -l -E md5 -f`
    // printed for each, without its "MD5:" prefix.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGy4EI42i+3NatlN3MHCcpN6g7XXMFiGMMOJjOQPJG/P fixture@ecsd";
    const ED25519_MD5: &str = "ea:40:21:42:f9:51:bb:82:a9:f5:50:02:78:f3:2f:bf";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDGTZ2yCku27GgTxPzYdYxm80kIi9WzDOehztH5vTXEGo/NR1355jb0aFePWIOFjNHWv849O3ak9mjf7CH1fjadFKSIKzB9vn8iEjscQNSfFlV8k5T6rDQR4dN0nx5FWdCvCUmVXMnuZTRlIEM/Q7/Y7srEmjwCMIamtbB2oe9FhC0lK2O9Q49wy/JDkkryRsvrtrNHBz6Tua2m1LDTx8OrW2S0bRPJNzGlCJKDPkYemMjWIw3GCfHfXkifjM+iws7Qslvx5i1FA0GxTUKze1IAoZZeYqkyjrTf3uTOKe6KtpLnr3Pb2aOgWQhASCVFtC5RYRB88fCrz+v5KdC8cJQ7 fixture@ecsd";
    const RSA_MD5: &str = "cc:14:1c:86:c3:13:5a:47:63:33:df:f6:d2:af:59:8a";
    const ECDSA_P256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGQdICHr4Pd0zFRwdvEWMLSHGO5AMqJo07hBEMQYF0tt6/9zY0gqMVtzGKfUa4FS0ElCHvWl9k6PvOauXzRSksA=";
    const ECDSA_P256_MD5: &str = "cb:b1:95:f3:32:ce:e2:10:94:10:ae:3d:5a:44:a0:5e";

    const ECDSA_P521: &str = "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBABkW2hVzCpn3ONN+S6XHKwRc+QHQoVCR6j8gU2KzezPmcc3/PJlt5wwQlv88XVSWBZE2j7OvxmXm1krv6CAgtDMHAB4FTUfjP1mnH5hfGiWHRGjdtF4paPRRKPgyeorMKpaHpXedWaTZaMVdFrmLbOJYUag/xstaVorfDcIJhIU0Gk7kw== p521";
    const ECDSA_P521_MD5: &str = "2f:c7:51:82:75:c7:f7:e2:31:e5:38:3c:ff:8a:aa:a2";
    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBAJyVHJCGqeIdKT9h2ywHOQDcI2zRZdTfFGxpOjv1GiIlLdsriuTAQc64PdboJKKmx0SzltBRRDeYQiqO5qrcAWgcg7tR7zUn4CrBYVsatj/OAr3/0YWY/4pa4HKcxBHYDADGhxIVVBK+5/QvZV9bIO2GGLaRUxWvE47+H1MNwIxZAAAAFQDOi462D5Y5E4vzpf6Qxnv8QkF18QAAAIA1b6bd/IIY2arsuYjoZhfwoYxJhsoyH+yatoV71/ZSnDWEpH0VB1bCQ/qKh5GQVdLWlwv1L7FZuE0D/yZQWnPXdUMxsFfvmHmUPoOSxlmkZOU0yiqeehWSxuS2AMpCZMsY5TY6VbR+iYDArE5Mar56VXSRSm9IxK/b2vyceFDH6AAAAIEAjuQqV1ziDh9IJaL7hO+IIIP3adFUAcCoiiKS0Rp2+ikCJSvVG4DKIhARmiu5d59a/L+8PF7L1r/ae1E0rIKyYO0cM0e8h9V//TJZboPkkX0XaBV0Kdd7PAAEl9dyKr17TWF12YdoPYnQLZNVsWX1vr1qbvBlAho7bQOTEK4FkgI= dsa";
    const DSA_MD5: &str = "d9:8a:13:ea:1e:af:e1:fe:49:d3:58:54:20:e2:d9:3e";

    fn base64_of(line: &str) -> &str {
        line.split(' ').nth(1).expect("fixture has a base64 field")
    }

    #[test]
    fn ed25519_fixture_matches_ssh_keygen() {
        let info = parse_public_key(ED25519).expect("valid key");
        assert_eq!(info.key_type, "ssh-ed25519");
        assert_eq!(info.normalized, ED25519);
        assert_eq!(info.fingerprint, ED25519_MD5);
    }

    #[test]
    fn rsa_fixture_matches_ssh_keygen() {
        let info = parse_public_key(RSA).expect("valid key");
        assert_eq!(info.key_type, "ssh-rsa");
        assert_eq!(info.fingerprint, RSA_MD5);
    }

    #[test]
    fn ecdsa_fixture_without_comment_matches_ssh_keygen() {
        let info = parse_public_key(ECDSA_P256).expect("valid key");
        assert_eq!(info.key_type, "ecdsa-sha2-nistp256");
        assert_eq!(info.fingerprint, ECDSA_P256_MD5);
    }

    #[test]
    fn ecdsa_p521_and_dsa_fixtures_match_ssh_keygen() {
        let p521 = parse_public_key(ECDSA_P521).expect("valid key");
        assert_eq!(p521.key_type, "ecdsa-sha2-nistp521");
        assert_eq!(p521.fingerprint, ECDSA_P521_MD5);
        let dsa = parse_public_key(DSA).expect("valid key");
        assert_eq!(dsa.key_type, "ssh-dss");
        assert_eq!(dsa.fingerprint, DSA_MD5);
    }

    #[test]
    fn rejects_curve_mismatch() {
        // A P-256 key relabelled as P-384: the embedded name disagrees.
        let forged = format!("ecdsa-sha2-nistp384 {}", base64_of(ECDSA_P256));
        assert!(matches!(parse_public_key(&forged), Err(KeyError::TypeMismatch { .. })));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        let info = parse_public_key(&format!("  \t{ED25519}\r\n")).expect("valid key");
        assert_eq!(info.normalized, ED25519);
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert!(matches!(parse_public_key(""), Err(KeyError::Empty)));
        assert!(matches!(parse_public_key(" \n\t "), Err(KeyError::Empty)));
    }

    #[test]
    fn rejects_two_lines() {
        let two = format!("{ED25519}\n{RSA}");
        assert!(matches!(parse_public_key(&two), Err(KeyError::MultiLine)));
    }

    #[test]
    fn rejects_garbage_base64() {
        let err = parse_public_key("ssh-ed25519 not*base64!! user").unwrap_err();
        assert!(matches!(err, KeyError::Base64));
    }

    #[test]
    fn rejects_rsa_header_over_ed25519_blob() {
        let forged = format!("ssh-rsa {} user", base64_of(ED25519));
        let err = parse_public_key(&forged).unwrap_err();
        assert!(matches!(err, KeyError::TypeMismatch { declared: "ssh-rsa" }));
        // The message names the problem, not the key.
        assert!(!err.to_string().contains(base64_of(ED25519)));
    }

    #[test]
    fn rejects_unknown_type_and_missing_data() {
        assert!(matches!(parse_public_key("ssh-foo AAAA"), Err(KeyError::UnsupportedType)));
        assert!(matches!(parse_public_key("ssh-ed25519"), Err(KeyError::Format)));
    }

    #[test]
    fn rejects_truncated_blob() {
        // Drop the last 4 bytes of the ed25519 blob: the type still matches but the 32-byte
        // key is cut short.
        let blob = STANDARD.decode(base64_of(ED25519)).expect("fixture");
        let short = STANDARD.encode(&blob[..blob.len() - 4]);
        assert!(matches!(parse_public_key(&format!("ssh-ed25519 {short}")), Err(KeyError::Malformed)));
    }

    #[test]
    fn rejects_overlong_line() {
        let long = format!("{ED25519} {}", "c".repeat(MAX_PUBLIC_KEY_LEN));
        assert!(matches!(parse_public_key(&long), Err(KeyError::TooLong { .. })));
    }

    #[test]
    fn rejects_control_characters() {
        let with_nul = format!("{ED25519}\0");
        assert!(matches!(parse_public_key(&with_nul), Err(KeyError::ControlCharacter)));
    }
}
