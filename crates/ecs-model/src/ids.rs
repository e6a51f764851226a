//! Identifier generation.
//!
//! Servers, volumes, images, VPCs and subnets use UUIDs as on Huawei Cloud. Job ids are 32
//! lower-case hex characters starting `ff8080`, the shape real job ids have; clients treat them as
//! opaque strings, but a faithful shape keeps log parsers and regexes in user code working.

use rand::Rng;

/// A random v4 UUID in its hyphenated lower-case form.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A job id: `ff8080` followed by 26 random hex characters.
pub fn new_job_id() -> String {
    let mut rng = rand::thread_rng();
    let tail: String = (0..26).map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0')).collect();
    format!("ff8080{tail}")
}

/// Whether `s` is a hyphenated UUID (what server, image and volume ids look like).
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// Whether `s` looks like a job id: 1–64 characters of hex digits and hyphens (covers both the
/// 32-hex and UUID forms), so that nothing else reaches the store.
pub fn is_job_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_have_the_real_shape() {
        let id = new_job_id();
        assert_eq!(id.len(), 32);
        assert!(id.starts_with("ff8080"));
        assert!(is_job_id(&id));
        assert_ne!(id, new_job_id());
    }

    #[test]
    fn uuid_check_rejects_other_shapes() {
        assert!(is_uuid(&new_uuid()));
        assert!(!is_uuid("abc"));
        assert!(!is_uuid("0123456789abcdef0123456789abcdef"));
        assert!(!is_job_id("../etc"));
    }
}
