//! MD5 key fingerprints in the colon-separated form Nova and Huawei Cloud report.

use md5::{Digest, Md5};

/// Colon-separated lower-case hex MD5 of a decoded SSH public key blob, e.g.
/// `"fc:47:b5:...:5a"`; this equals what `ssh-keygen -l -E md5` prints after its `MD5:` prefix.
pub fn md5_fingerprint(blob: &[u8]) -> String {
    let digest = Md5::digest(blob);
    digest.iter().map(|byte| format!("{byte:02x}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_blob_is_md5_of_nothing() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e.
        assert_eq!(md5_fingerprint(b""), "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e");
    }

    #[test]
    fn format_is_sixteen_lower_case_pairs() {
        let fp = md5_fingerprint(b"abc");
        assert_eq!(fp, "90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72");
        assert_eq!(fp.split(':').count(), 16);
    }
}
