//! NoCloud seeds: login data handed to Cloud-Init instead of written into the filesystem.
//!
//! Cloud-Init's NoCloud datasource reads `meta-data` and `user-data` from any filesystem
//! labelled `cidata`. We build a tiny ISO 9660 image with `genisoimage` (the layout Cloud-Init
//! documents) and the driver attaches it as a CD-ROM next to the system disk at boot.

use super::process::{self, find_tool, tool};
use crate::Injection;
use base64::Engine;
use std::path::Path;
use std::time::Duration;

/// NoCloud `meta-data`: the instance id (a new one makes Cloud-Init run its per-instance
/// modules again, as after a reinstall) and the host name.
pub(crate) fn meta_data(instance_id: &str, hostname: Option<&str>) -> String {
    let mut s = format!("instance-id: {instance_id}\n");
    if let Some(h) = hostname {
        s += &format!("local-hostname: {h}\n");
    }
    s
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Our own `#cloud-config`: root login by key (Cloud-Init disables root login by default),
/// the root password hash, the host name.
pub(crate) fn cloud_config(inj: &Injection) -> String {
    let mut s = String::from("#cloud-config\ndisable_root: false\n");
    if let Some(key) = &inj.public_key {
        s += &format!("ssh_authorized_keys:\n  - {}\n", yaml_str(key.trim()));
    }
    if let Some(hash) = &inj.password_hash {
        s += "ssh_pwauth: true\nchpasswd:\n  expire: false\n  users:\n";
        s += &format!("    - name: root\n      password: {}\n      type: hash\n", yaml_str(hash));
    }
    if let Some(h) = &inj.hostname {
        s += &format!("hostname: {}\n", yaml_str(h));
    }
    s
}

/// `user-data`: our cloud-config alone, or, when the user gave user data too, a MIME multipart
/// document holding both (Cloud-Init merges the parts; `text/plain` parts are typed by their
/// first line, so user scripts and user cloud-configs both work).
pub(crate) fn user_data(inj: &Injection, boundary: &str) -> Result<Vec<u8>, String> {
    let ours = cloud_config(inj);
    let Some(encoded) = &inj.user_data else { return Ok(ours.into_bytes()) };
    let cleaned: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let user = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| format!("user data is not valid base64: {e}"))?;
    let mut out = format!(
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\nMIME-Version: 1.0\n\n\
         --{boundary}\nContent-Type: text/cloud-config; charset=\"utf-8\"\n\n{ours}\n\
         --{boundary}\nContent-Type: text/plain; charset=\"utf-8\"\n\n"
    )
    .into_bytes();
    out.extend_from_slice(&user);
    out.extend_from_slice(format!("\n--{boundary}--\n").as_bytes());
    Ok(out)
}

/// The ISO tool available on this host: `genisoimage`, or `xorriso` in mkisofs mode.
pub fn seed_tool() -> Option<String> {
    ["genisoimage", "mkisofs", "xorriso"].into_iter().find(|t| find_tool(t).is_some()).map(str::to_string)
}

/// Writes the seed image for `inj` at `path` (atomically: built under a temp name, renamed).
pub(crate) async fn write_seed(path: &Path, instance_id: &str, inj: &Injection) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    std::fs::write(dir.path().join("meta-data"), meta_data(instance_id, inj.hostname.as_deref()))
        .map_err(|e| format!("cannot write meta-data: {e}"))?;
    std::fs::write(dir.path().join("user-data"), user_data(inj, &format!("ecsd-{instance_id}"))?)
        .map_err(|e| format!("cannot write user-data: {e}"))?;
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let iso = seed_tool().ok_or("no ISO tool for the Cloud-Init seed: apt-get install genisoimage")?;
    let mut cmd = tool(&iso);
    if iso == "xorriso" {
        cmd.args(["-as", "mkisofs"]);
    }
    cmd.arg("-output").arg(&tmp).args(["-volid", "cidata", "-joliet", "-rock", "-quiet"]).current_dir(dir.path());
    cmd.args(["meta-data", "user-data"]);
    process::run(&mut cmd, "build the Cloud-Init seed", Duration::from_secs(60)).await?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename the seed into place: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inj() -> Injection {
        Injection {
            public_key: Some("ssh-ed25519 AAAA me".into()),
            password_hash: Some("$6$s$h".into()),
            hostname: Some("web-1".into()),
            via_cloud_init: true,
            ..Default::default()
        }
    }

    #[test]
    fn cloud_config_carries_key_password_and_name() {
        let c = cloud_config(&inj());
        assert_eq!(
            c,
            "#cloud-config\ndisable_root: false\nssh_authorized_keys:\n  - \"ssh-ed25519 AAAA me\"\n\
             ssh_pwauth: true\nchpasswd:\n  expire: false\n  users:\n    - name: root\n      password: \"$6$s$h\"\n      \
             type: hash\nhostname: \"web-1\"\n"
        );
        assert_eq!(meta_data("d1", Some("web-1")), "instance-id: d1\nlocal-hostname: web-1\n");
    }

    #[test]
    fn user_data_is_merged_as_multipart() {
        let mut i = inj();
        assert!(user_data(&i, "b").unwrap().starts_with(b"#cloud-config\n"));
        i.user_data = Some("IyEvYmluL3NoCmVjaG8gaGk=".into()); // "#!/bin/sh\necho hi"
        let text = String::from_utf8(user_data(&i, "b").unwrap()).unwrap();
        assert!(text.starts_with("Content-Type: multipart/mixed; boundary=\"b\""));
        assert!(text.contains("--b\nContent-Type: text/cloud-config"));
        assert!(text.contains("Content-Type: text/plain; charset=\"utf-8\"\n\n#!/bin/sh\necho hi\n--b--\n"));
        i.user_data = Some("not base64!".into());
        assert!(user_data(&i, "b").is_err());
    }

    #[tokio::test]
    async fn the_seed_is_an_iso_labelled_cidata() {
        if seed_tool().is_none() {
            println!("SKIPPED: no genisoimage/xorriso on this host");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.iso");
        write_seed(&path, "d1", &inj()).await.unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // ISO 9660 primary volume descriptor at sector 16: "CD001", volume id at +40.
        let pvd = &bytes[16 * 2048..17 * 2048];
        assert_eq!(&pvd[1..6], b"CD001");
        assert_eq!(std::str::from_utf8(&pvd[40..72]).unwrap().trim_end(), "cidata");
        let body = String::from_utf8_lossy(&bytes);
        assert!(body.contains("instance-id: d1"));
        assert!(body.contains("ssh_authorized_keys"));
    }
}
