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

/// A job id: 32 lower-case hex characters, `ff8080`, then 10 fixed for this process, the time
/// in milliseconds (12) and a counter (4).
///
/// The layout is that of the ids the real service returns (a per-machine prefix, then time and
/// a counter), and it keeps ids issued close together close together in the store's indexes:
/// with random ids every job, saga and saga-log write landed on a different B-tree page, and a
/// group commit wrote several times as many pages as with ids that grow.
pub fn new_job_id() -> String {
    static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let prefix = *PREFIX.get_or_init(|| rand::thread_rng().gen::<u64>() & 0xff_ffff_ffff);
    let ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
            & 0xffff_ffff_ffff;
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("ff8080{prefix:010x}{ms:012x}{n:04x}")
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
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn job_ids_are_unique_and_share_this_process_prefix() {
        let ids: Vec<String> = (0..10_000).map(|_| new_job_id()).collect();
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(ids.iter().all(|id| id[..16] == ids[0][..16]), "one prefix per process");
        // Ids of different milliseconds sort in the order they were issued.
        let later = {
            std::thread::sleep(std::time::Duration::from_millis(2));
            new_job_id()
        };
        assert!(later > ids[0]);
    }

    #[test]
    fn uuid_check_rejects_other_shapes() {
        assert!(is_uuid(&new_uuid()));
        assert!(!is_uuid("abc"));
        assert!(!is_uuid("0123456789abcdef0123456789abcdef"));
        assert!(!is_job_id("../etc"));
    }
}
