//! Huawei ECS password complexity rules for `adminPass` on Linux images (upstream error
//! code Ecs.0011).

/// Special characters Huawei allows in a Linux instance password.
const SPECIALS: &str = "!@$%^-_=+[{}]:,./?";
const MIN_LEN: usize = 8;
const MAX_LEN: usize = 26;

/// Checks `password` against the ECS rules for a Linux image: 8–26 characters; only ASCII
/// letters, digits and the specials `!@$%^-_=+[{}]:,./?`; at least three of the four classes
/// (upper case, lower case, digit, special); and not containing `user` or `user` reversed,
/// case-insensitively.
///
/// The error is a sentence a person can act on, e.g.
/// `"The password length must range from 8 to 26."`.
pub fn check_password_complexity(password: &str, user: &str) -> Result<(), String> {
    let len = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(format!("The password length must range from {MIN_LEN} to {MAX_LEN}."));
    }

    let (mut upper, mut lower, mut digit, mut special) = (false, false, false, false);
    for c in password.chars() {
        match c {
            'A'..='Z' => upper = true,
            'a'..='z' => lower = true,
            '0'..='9' => digit = true,
            c if SPECIALS.contains(c) => special = true,
            _ => {
                return Err(format!(
                    "The password can contain only letters, digits and the special characters {SPECIALS}"
                ))
            }
        }
    }
    let classes = [upper, lower, digit, special].into_iter().filter(|present| *present).count();
    if classes < 3 {
        return Err(format!(
            "The password must contain at least three of the following: uppercase letters, \
             lowercase letters, digits, and special characters {SPECIALS}"
        ));
    }

    // An empty user name is contained in every string, so there is nothing to check then.
    if !user.is_empty() {
        let password = password.to_lowercase();
        let user = user.to_lowercase();
        let reversed: String = user.chars().rev().collect();
        if password.contains(&user) || password.contains(&reversed) {
            return Err(format!(
                "The password cannot contain the user name ({user}) or the user name spelled backwards."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_documented_examples() {
        assert_eq!(check_password_complexity("!QAZxsw2", "root"), Ok(()));
        assert_eq!(check_password_complexity("1qazXSW@", "root"), Ok(()));
        // Exactly 26 characters, three classes.
        assert_eq!(check_password_complexity("Abcdefghijklmnopqrstuvwxy1", "root"), Ok(()));
    }

    #[test]
    fn rejects_bad_length() {
        assert_eq!(
            check_password_complexity("Ab1!xyz", "root"),
            Err("The password length must range from 8 to 26.".to_owned())
        );
        assert!(check_password_complexity("Abcdefghijklmnopqrstuvwxy12", "root").is_err());
    }

    #[test]
    fn rejects_two_classes() {
        let err = check_password_complexity("abcdefgh12", "root").unwrap_err();
        assert!(err.contains("at least three"), "{err}");
        assert!(check_password_complexity("ABCDEFGH!!", "root").is_err());
    }

    #[test]
    fn rejects_disallowed_characters() {
        let err = check_password_complexity("Abc 1234!", "root").unwrap_err();
        assert!(err.contains("can contain only"), "{err}");
        assert!(check_password_complexity("Abc#1234!", "root").is_err());
        assert!(check_password_complexity("Abcé1234!", "root").is_err());
    }

    #[test]
    fn rejects_user_name_and_its_reverse() {
        let err = check_password_complexity("Xroot123!", "root").unwrap_err();
        assert!(err.contains("user name"), "{err}");
        assert!(check_password_complexity("X1ROOT23!", "root").is_err());
        assert!(check_password_complexity("Xtoor123!", "root").is_err());
        assert!(check_password_complexity("ToOr-2024x", "root").is_err());
    }
}
