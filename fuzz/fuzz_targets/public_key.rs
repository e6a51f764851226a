//! Fuzz target: imported OpenSSH public key lines and `adminPass` complexity checks.
//!
//! The whole input (lossily decoded as UTF-8) is tried as a key line and as a password; if it
//! contains a NUL, the text before it is also checked as a password against the user name after.

#![no_main]

use ecs_crypto::{check_password_complexity, parse_public_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Ok(key) = parse_public_key(&text) {
        // 16 lower-case hex pairs joined by 15 colons.
        assert_eq!(key.fingerprint.len(), 47, "fingerprint {:?}", key.fingerprint);
        assert_eq!(key.normalized, text.trim());
        assert!(key.normalized.starts_with(key.key_type.as_str()));
    }

    check_password(&text, "root");
    if let Some((password, user)) = text.split_once('\0') {
        check_password(password, user);
    }
});

fn check_password(password: &str, user: &str) {
    if check_password_complexity(password, user).is_ok() {
        let len = password.chars().count();
        assert!((8..=26).contains(&len), "accepted a password of {len} characters");
        assert!(password.is_ascii(), "accepted a non-ASCII password");
    }
}
