//! What the simulated driver does over any [`SimRecords`], as checks that panic on a failure:
//! run by this crate's tests over the journal and over memory, and by ecsd's over the records
//! it keeps in a shared database, so that every keeper gives the same driver.

use super::{SimDriver, SimRecords};
use crate::{ComputeDriver, DiskSpec, Injection, Power, VmSpec};

fn spec(id: &str) -> DiskSpec {
    DiskSpec::from_image(id, "img", None, 40)
}

fn vm(server: &str, boot: &str, data: &[&str]) -> VmSpec {
    VmSpec {
        server_id: server.into(),
        boot_disk: boot.into(),
        data_disks: data.iter().map(|d| d.to_string()).collect(),
        vcpus: 1,
        ram_mb: 1024,
        nics: vec![],
    }
}

/// Every verb is an "ensure": doing it twice is doing it once.
pub async fn every_verb_is_idempotent<R: SimRecords>(s: &SimDriver<R>) {
    s.disk_create(&spec("d1")).await.unwrap();
    s.disk_create(&spec("d1")).await.unwrap();
    let inj = Injection { public_key: Some("ssh-ed25519 AAAA k".into()), ..Default::default() };
    s.disk_inject("d1", &inj).await.unwrap();
    s.disk_inject("d1", &inj).await.unwrap();
    assert_eq!(s.disk("d1").await.unwrap().unwrap().injection, Some(inj));
    let vm = vm("s1", "d1", &[]);
    s.vm_start(&vm).await.unwrap();
    s.vm_start(&vm).await.unwrap();
    assert_eq!(s.vm("s1").await.unwrap().unwrap().boots, 1);
    assert_eq!(s.vm_power("s1").await.unwrap(), Power::Running);
    s.vm_stop("s1", false).await.unwrap();
    s.vm_stop("s1", false).await.unwrap();
    assert_eq!(s.vm_power("s1").await.unwrap(), Power::Stopped);
    s.vm_reboot(&vm, true).await.unwrap();
    assert_eq!((s.vm_power("s1").await.unwrap(), s.vm("s1").await.unwrap().unwrap().boots), (Power::Running, 2));
    s.disk_delete("d1").await.unwrap();
    s.disk_delete("d1").await.unwrap();
    assert!(s.disk_list().await.unwrap().is_empty());
    s.vm_destroy("s1").await.unwrap();
    s.vm_destroy("s1").await.unwrap();
    assert_eq!(s.vm_power("s1").await.unwrap(), Power::Absent);
    assert!(s.records().state().await.unwrap().vms.is_empty());
}

/// NICs are plugged and unplugged once however often asked, survive a stop, and a start with
/// other NICs is a restart; the console shows each boot.
pub async fn nics_are_plugged_once_and_kept_across_a_stop<R: SimRecords>(s: &SimDriver<R>) {
    use crate::VmNic;
    s.disk_create(&spec("n1")).await.unwrap();
    let nic = VmNic { id: "port-1".into(), mac: "fa:16:3e:01:02:03".into() };
    assert!(s.nic_attach("s9", &nic).await.is_err(), "no VM to plug into");
    let mut spec_vm = vm("s9", "n1", &[]);
    s.vm_start(&spec_vm).await.unwrap();
    s.nic_attach("s9", &nic).await.unwrap();
    s.nic_attach("s9", &nic).await.unwrap();
    assert_eq!(s.vm("s9").await.unwrap().unwrap().nics, vec![nic.clone()]);
    s.vm_stop("s9", false).await.unwrap();
    spec_vm.nics = vec![nic.clone()];
    s.vm_start(&spec_vm).await.unwrap();
    let started = s.vm("s9").await.unwrap().unwrap();
    assert_eq!((started.boots, started.nics.len()), (2, 1));
    s.vm_start(&spec_vm).await.unwrap();
    assert_eq!(s.vm("s9").await.unwrap().unwrap().boots, 2, "the same NICs: nothing to do");
    let console = s.console_output("s9").await.unwrap().unwrap();
    assert!(console.contains("boot 2 of s9") && console.contains("fa:16:3e:01:02:03"), "{console}");
    s.nic_detach("s9", "port-1").await.unwrap();
    s.nic_detach("s9", "port-1").await.unwrap();
    s.nic_detach("nobody", "port-1").await.unwrap();
    assert!(s.vm("s9").await.unwrap().unwrap().nics.is_empty());
    assert_eq!(s.console_output("nobody").await.unwrap(), None);
    s.vm_destroy("s9").await.unwrap();
    s.disk_delete("n1").await.unwrap();
}

/// Data disks are attached in their order and must all exist; a start on other disks is a
/// restart.
pub async fn blank_data_disks_are_attached_in_order_and_must_exist<R: SimRecords>(s: &SimDriver<R>) {
    s.disk_create(&spec("sys")).await.unwrap();
    s.disk_create(&DiskSpec::blank("data-1", 10)).await.unwrap();
    s.disk_create(&DiskSpec::blank("data-1", 10)).await.unwrap();
    let blank = s.disk("data-1").await.unwrap().unwrap();
    assert_eq!((blank.image_id.as_str(), blank.size_gb, blank.injection), ("", 10, None));
    let mut vm = vm("s1", "sys", &["data-1", "data-2"]);
    assert!(s.vm_start(&vm).await.unwrap_err().message.contains("data disk data-2 does not exist"));
    assert_eq!(s.vm_power("s1").await.unwrap(), Power::Absent);
    s.disk_create(&DiskSpec::blank("data-2", 20)).await.unwrap();
    s.vm_start(&vm).await.unwrap();
    s.vm_start(&vm).await.unwrap();
    let running = s.vm("s1").await.unwrap().unwrap();
    assert_eq!((running.data_disks, running.boots), (vec!["data-1".to_string(), "data-2".to_string()], 1));
    vm.data_disks.pop();
    s.vm_start(&vm).await.unwrap();
    assert_eq!(s.vm("s1").await.unwrap().unwrap().boots, 2);
    assert_eq!(s.disk_list().await.unwrap(), ["data-1", "data-2", "sys"], "in order");
}

/// A VM needs its boot disk; ids are kept to what ecsd generates; a missing disk cannot be
/// injected.
pub async fn a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape<R: SimRecords>(s: &SimDriver<R>) {
    let err = s.vm_start(&vm("s1", "nope", &[])).await.unwrap_err();
    assert!(err.message.contains("boot disk nope does not exist"), "{err}");
    assert!(s.disk_create(&spec("../x")).await.is_err());
    assert!(s.disk_inject("missing", &Injection::default()).await.is_err());
    assert!(s.vm_reboot(&vm("s1", "nope", &[]), false).await.is_err(), "no VM to reboot");
}

/// Two drivers on the same records (two nodes on one database): what one does, the other
/// sees at once, and can carry on.
pub async fn a_second_driver_on_the_same_records_carries_on<A: SimRecords, B: SimRecords>(
    a: &SimDriver<A>,
    b: &SimDriver<B>,
) {
    a.disk_create(&spec("d1")).await.unwrap();
    a.vm_start(&vm("s1", "d1", &[])).await.unwrap();
    assert_eq!(b.disk_list().await.unwrap(), ["d1"]);
    assert_eq!(b.vm_power("s1").await.unwrap(), Power::Running);
    b.vm_stop("s1", false).await.unwrap();
    assert_eq!(a.vm_power("s1").await.unwrap(), Power::Stopped);
    b.disk_create(&spec("d2")).await.unwrap();
    b.vm_start(&vm("s1", "d2", &[])).await.unwrap();
    let seen = a.vm("s1").await.unwrap().unwrap();
    assert_eq!((seen.boot_disk.as_deref(), seen.boots), (Some("d2"), 2));
    a.disk_delete("d1").await.unwrap();
    assert_eq!(b.records().state().await.unwrap().disks.into_keys().collect::<Vec<_>>(), ["d2"]);
}
