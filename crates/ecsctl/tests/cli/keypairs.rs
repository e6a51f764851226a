//! `keypairs create/import/list/show/delete`, and the private key written once, mode 0600.

use crate::harness::Svc;
use std::os::unix::fs::PermissionsExt;

#[test]
fn key_pairs_made_imported_listed_and_deleted() {
    let svc = Svc::start();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("id_gen");

    let made = svc.run(&["keypairs", "create", "gen", "--private-key-file", key_file.to_str().unwrap()]);
    assert!(made.ok().contains("written to"), "{made:#?}");
    let private = std::fs::read_to_string(&key_file).unwrap();
    assert!(private.contains("PRIVATE KEY"), "{private}");
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    // An existing file is never overwritten, and no key pair is made then.
    svc.run(&["keypairs", "create", "gen2", "--private-key-file", key_file.to_str().unwrap()]).fails(2, "exists");
    svc.run(&["keypairs", "show", "gen2"]).fails(1, "404");

    // Without a file the private key is printed, once.
    let printed = svc.run(&["keypairs", "create", "shown"]);
    assert!(printed.ok().contains("PRIVATE KEY"), "{printed:#?}");
    assert!(printed.stderr.contains("shown this once"), "{printed:#?}");

    let shown = svc.run(&["keypairs", "show", "gen", "-o", "json"]).json();
    let public = shown["keypair"]["public_key"].as_str().unwrap().to_string();
    assert!(shown["keypair"].get("private_key").is_none(), "{shown}");
    let pub_file = dir.path().join("id.pub");
    std::fs::write(&pub_file, format!("{public}\n")).unwrap();
    let imported =
        svc.run(&["keypairs", "import", "imp", "--public-key-file", pub_file.to_str().unwrap(), "-o", "json"]).json();
    assert_eq!(imported["keypair"]["fingerprint"], shown["keypair"]["fingerprint"], "{imported}");
    assert!(imported["keypair"].get("private_key").is_none(), "{imported}");

    let list = svc.run(&["keypairs", "list", "-o", "json"]).json();
    let mut names: Vec<&str> =
        list["keypairs"].as_array().unwrap().iter().map(|k| k["keypair"]["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["gen", "imp", "shown"]);
    let table = svc.run(&["keypairs", "list"]).ok().to_string();
    assert!(table.contains("imp") && table.contains("FINGERPRINT"), "{table}");

    svc.run(&["keypairs", "delete", "imp"]).ok();
    svc.run(&["keypairs", "show", "imp"]).fails(1, "404");
    svc.run(&["keypairs", "delete", "imp"]).fails(1, "404");
}
