//! Field rules shared by several operations.

use base64::Engine;
use ecs_model::Error;

/// Largest decoded user data (Huawei: 32 KB).
pub const MAX_USER_DATA: usize = 32 * 1024;

/// Server names: 1–64 characters of letters, digits, `_`, `-` and `.`.
pub fn server_name(name: &str) -> Result<(), Error> {
    let n = name.chars().count();
    if n == 0 || n > 64 {
        return Err(Error::invalid(format!("name must be 1 to 64 characters long, got {n}.")));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(Error::invalid(format!(
            "name {name:?} contains {c:?}; only letters, digits, '_', '-' and '.' are allowed."
        )));
    }
    Ok(())
}

/// Descriptions: at most 85 characters, no angle brackets.
pub fn description(d: &str) -> Result<(), Error> {
    if d.chars().count() > 85 {
        return Err(Error::invalid("description must be at most 85 characters long."));
    }
    if d.contains('<') || d.contains('>') {
        return Err(Error::invalid("description must not contain '<' or '>'."));
    }
    Ok(())
}

/// User data: valid base64 of at most 32 KB once decoded.
pub fn user_data(ud: &str) -> Result<(), Error> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(ud.trim())
        .map_err(|_| Error::invalid("user_data must be base64-encoded."))?;
    if decoded.len() > MAX_USER_DATA {
        return Err(Error::invalid(format!("user_data is {} bytes once decoded; the limit is 32 KB.", decoded.len())));
    }
    Ok(())
}

/// An admin password against the Linux rules (`Ecs.0011`).
pub fn admin_password(p: &str) -> Result<(), Error> {
    ecs_crypto::check_password_complexity(p, "root").map_err(|m| Error::new(ecs_types::Code::Ecs0011, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_user_data() {
        assert!(server_name("web-01.prod_a").is_ok());
        assert!(server_name("").is_err());
        assert!(server_name(&"x".repeat(65)).is_err());
        assert!(server_name("a b").is_err());
        assert!(user_data("IyEvYmluL2Jhc2gK").is_ok());
        assert!(user_data("not base64!").is_err());
        assert_eq!(admin_password("abc").unwrap_err().code, ecs_types::Code::Ecs0011);
        assert!(admin_password("!QAZxsw2").is_ok());
        assert!(description("<script>").is_err());
    }
}
