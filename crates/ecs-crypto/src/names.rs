//! Naming rules for user-visible resources.

/// Longest key pair name Huawei Cloud accepts, in characters.
const MAX_KEYPAIR_NAME_CHARS: usize = 64;

/// Checks a key pair name against the Huawei rule: 1–64 characters, each a letter (any
/// script), a digit, `_` or `-`.
///
/// The error is a sentence suitable for an API error body.
pub fn validate_keypair_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if len == 0 || len > MAX_KEYPAIR_NAME_CHARS {
        return Err(format!("The key pair name must contain 1 to {MAX_KEYPAIR_NAME_CHARS} characters."));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        return Err("The key pair name can contain only letters, digits, underscores (_) and hyphens (-).".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_names() {
        assert_eq!(validate_keypair_name("KeyPair-350b"), Ok(()));
        assert_eq!(validate_keypair_name("demo_1"), Ok(()));
        assert_eq!(validate_keypair_name("密钥对-1"), Ok(()));
        assert_eq!(validate_keypair_name(&"k".repeat(64)), Ok(()));
    }

    #[test]
    fn rejects_bad_length() {
        let empty = validate_keypair_name("").unwrap_err();
        assert!(empty.contains("1 to 64"), "{empty}");
        assert!(validate_keypair_name(&"k".repeat(65)).is_err());
    }

    #[test]
    fn rejects_bad_characters() {
        let space = validate_keypair_name("my key").unwrap_err();
        assert!(space.contains("only letters"), "{space}");
        assert!(validate_keypair_name("a/b").is_err());
        assert!(validate_keypair_name("a.b").is_err());
    }
}
