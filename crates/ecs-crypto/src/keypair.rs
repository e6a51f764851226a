//! Server-side key pair generation ("create keypair" without `public_key`).

use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey};

use crate::error::KeyError;
use crate::fingerprint::md5_fingerprint;

/// A key pair generated for a user (Nova "create keypair" without `public_key`).
///
/// `Debug` is deliberately not derived so the private key cannot end up in a log line.
#[derive(Clone)]
pub struct GeneratedKey {
    /// One OpenSSH line: `"ssh-ed25519 AAAA... <comment>"`.
    pub public_key: String,
    /// Unencrypted OpenSSH private key PEM (`-----BEGIN OPENSSH PRIVATE KEY-----`), usable
    /// with `ssh -i`.
    pub private_key: String,
    /// MD5 fingerprint of the public key blob, see [`crate::md5_fingerprint`].
    pub fingerprint: String,
}

/// Generates an Ed25519 key pair.
///
/// Ed25519 is used because it is fast to generate (even in debug builds) and accepted by
/// every current OpenSSH. The comment goes on the public line and inside the private key; it
/// may be empty but must not contain control characters, which would break the line format.
pub fn generate_keypair(comment: &str) -> Result<GeneratedKey, KeyError> {
    if comment.chars().any(char::is_control) {
        return Err(KeyError::InvalidComment);
    }
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(KeyError::Generation)?;
    key.set_comment(comment);

    let public = key.public_key();
    let public_key = public.to_openssh().map_err(KeyError::Generation)?;
    let blob = public.to_bytes().map_err(KeyError::Generation)?;
    // `to_openssh` returns a zeroizing buffer; the copy handed to the caller is theirs to
    // protect, but the library's own buffer is wiped when dropped here.
    let private_key = key.to_openssh(LineEnding::LF).map_err(KeyError::Generation)?.to_string();

    Ok(GeneratedKey { public_key, private_key, fingerprint: md5_fingerprint(&blob) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_public_key;
    use ssh_key::PublicKey;

    #[test]
    fn generated_pair_is_consistent() {
        let generated = generate_keypair("demo-key").expect("generation succeeds");

        assert!(generated.public_key.starts_with("ssh-ed25519 AAAA"));
        assert!(generated.public_key.ends_with(" demo-key"));
        let info = parse_public_key(&generated.public_key).expect("public line parses");
        assert_eq!(info.key_type, "ssh-ed25519");
        assert_eq!(info.fingerprint, generated.fingerprint);

        assert!(generated.private_key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        let private = PrivateKey::from_openssh(&generated.private_key).expect("PEM parses back");
        assert!(!private.is_encrypted());
        assert_eq!(private.algorithm(), Algorithm::Ed25519);
        let public = PublicKey::from_openssh(&generated.public_key).expect("public line");
        assert_eq!(private.public_key().key_data(), public.key_data());
        assert_eq!(private.comment(), "demo-key");
    }

    #[test]
    fn each_call_makes_a_new_key() {
        let a = generate_keypair("a").expect("generation succeeds");
        let b = generate_keypair("a").expect("generation succeeds");
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_ne!(a.private_key, b.private_key);
    }

    #[test]
    fn empty_comment_gives_two_field_line() {
        let generated = generate_keypair("").expect("generation succeeds");
        assert_eq!(generated.public_key.split(' ').count(), 2);
        parse_public_key(&generated.public_key).expect("public line parses");
    }

    #[test]
    fn rejects_comment_with_newline() {
        assert!(matches!(generate_keypair("a\nb"), Err(KeyError::InvalidComment)));
    }
}
