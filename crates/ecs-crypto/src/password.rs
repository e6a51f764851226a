//! SHA-512-crypt password hashes (`$6$salt$hash`) as written to `/etc/shadow`.

use sha_crypt::{Params, PasswordVerifier, ShaCrypt};
use ssh_key::rand_core::{OsRng, RngCore};

/// The crypt(3) base64 alphabet, used for both the salt and the encoded digest.
const CRYPT_ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Salt length in characters; SHA-crypt uses at most 16.
const SALT_LEN: usize = 16;

/// Byte order in which SHA-512-crypt encodes its 64-byte digest: 21 groups of three bytes
/// (each written as four characters), then the last byte alone (two characters). Taken
/// from the reference implementation by Ulrich Drepper, which glibc's crypt(3) follows.
const SHA512_ORDER: [[usize; 3]; 21] = [
    [0, 21, 42],
    [22, 43, 1],
    [44, 2, 23],
    [3, 24, 45],
    [25, 46, 4],
    [47, 5, 26],
    [6, 27, 48],
    [28, 49, 7],
    [50, 8, 29],
    [9, 30, 51],
    [31, 52, 10],
    [53, 11, 32],
    [12, 33, 54],
    [34, 55, 13],
    [56, 14, 35],
    [15, 36, 57],
    [37, 58, 16],
    [59, 17, 38],
    [18, 39, 60],
    [40, 61, 19],
    [62, 20, 41],
];

/// Hashes `password` with SHA-512-crypt and a random 16-character salt, giving
/// `"$6$<salt>$<hash>"` (5000 rounds, the default, so no `rounds=` field), usable as an
/// `/etc/shadow` entry or in cloud-init's `passwd`.
///
/// # Panics
/// If the operating system's random number generator fails, which leaves no safe way to
/// produce a salt.
pub fn hash_password(password: &str) -> String {
    let mut random = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut random);
    // 64 alphabet characters, so the low six bits of each byte pick one uniformly.
    let salt: String = random.iter().map(|b| char::from(CRYPT_ALPHABET[usize::from(b & 0x3f)])).collect();
    hash_password_with_salt(password, &salt)
}

/// Hashes `password` with SHA-512-crypt (5000 rounds) using the given salt, exactly as
/// `openssl passwd -6 -salt <salt>` or glibc `crypt(password, "$6$<salt>")` would.
///
/// Only the first 16 characters of `salt` are used, as in crypt(3). The salt should come
/// from the crypt alphabet `[./0-9A-Za-z]`; `$` would make the result unparseable.
pub fn hash_password_with_salt(password: &str, salt: &str) -> String {
    let salt = &salt.as_bytes()[..salt.len().min(SALT_LEN)];
    let digest = sha_crypt::sha512_crypt(password.as_bytes(), salt, Params::RECOMMENDED);

    let mut out = String::with_capacity(3 + salt.len() + 1 + 86);
    out.push_str("$6$");
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    for [a, b, c] in SHA512_ORDER {
        push_crypt_base64(&mut out, [digest[a], digest[b], digest[c]], 4);
    }
    push_crypt_base64(&mut out, [0, 0, digest[63]], 2);
    out
}

/// Appends `chars` characters encoding the 24-bit big-endian value of `bytes`, least
/// significant six bits first (crypt's `b64_from_24bit`).
fn push_crypt_base64(out: &mut String, bytes: [u8; 3], chars: usize) {
    let mut w = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
    for _ in 0..chars {
        // Masked to six bits, so the index is always within the alphabet.
        out.push(char::from(CRYPT_ALPHABET[(w & 0x3f) as usize]));
        w >>= 6;
    }
}

/// Checks `password` against a SHA-crypt hash (`$6$...`, also `$5$...`, with or without a
/// `rounds=` field). Returns false for a wrong password and for a hash that cannot be parsed.
pub fn verify_password(password: &str, hash: &str) -> bool {
    // The library verifier compares in constant time and understands every field crypt(3)
    // may write, so hashes produced elsewhere (e.g. by chpasswd) verify too.
    ShaCrypt::default().verify_password(password.as_bytes(), hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let hash = hash_password("!QAZxsw2");
        assert!(hash.starts_with("$6$"), "{hash}");
        let fields: Vec<&str> = hash.split('$').collect();
        assert_eq!(fields.len(), 4, "{hash}");
        assert_eq!(fields[2].len(), SALT_LEN);
        assert!(fields[2].bytes().all(|b| CRYPT_ALPHABET.contains(&b)));
        assert_eq!(fields[3].len(), 86);
        assert!(verify_password("!QAZxsw2", &hash));
        assert!(!verify_password("!QAZxsw3", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_password("same"), hash_password("same"));
    }

    #[test]
    fn matches_openssl_passwd() {
        // `openssl passwd -6 -salt saltsaltsaltsalt 'Hello world!'`
        let expected = "$6$saltsaltsaltsalt$HXHZKJ0g.uKZHDcR9YIeniE7EWRBrei5U2090m6ZyXxoHrCmrfz3uLl219xdRK/fN3ZsMvKWeXNxv7g0bQ10W.";
        assert_eq!(hash_password_with_salt("Hello world!", "saltsaltsaltsalt"), expected);
        assert!(verify_password("Hello world!", expected));
        // `openssl passwd -6 -salt 'kf8.jB3ZLrhG2/n1' '!QAZxsw2'`
        let expected = "$6$kf8.jB3ZLrhG2/n1$P8h74KdqkBEuViCMSgJgLyyGBAoUjM/Y6StAiN3TuP8JvpoBvjJWVNOkAe4HgCXTQI9juZL0jL51IR2ZoCp7P.";
        assert_eq!(hash_password_with_salt("!QAZxsw2", "kf8.jB3ZLrhG2/n1"), expected);
    }

    #[test]
    fn matches_reference_vector_with_short_salt() {
        // From the SHA-crypt specification's test vectors.
        let expected =
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert_eq!(hash_password_with_salt("Hello world!", "saltstring"), expected);
    }

    #[test]
    fn verifies_hash_with_explicit_rounds() {
        // Specification vector: rounds=10000, salt truncated to 16 characters.
        let hash = "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";
        assert!(verify_password("Hello world!", hash));
        assert!(!verify_password("Hello world?", hash));
    }

    #[test]
    fn malformed_hash_does_not_verify() {
        assert!(!verify_password("x", ""));
        assert!(!verify_password("x", "$6$"));
        assert!(!verify_password("x", "plaintext"));
        assert!(!verify_password("x", "$1$abc$def"));
    }
}
