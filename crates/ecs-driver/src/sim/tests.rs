//! The journal's own tests (restarts, torn and damaged lines, compaction), and the suite run
//! over the journal and over memory.

use super::*;
use std::io::Write;
use std::sync::Arc;

fn driver() -> (tempfile::TempDir, SimDriver) {
    let d = tempfile::tempdir().unwrap();
    let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
    (d, s)
}

fn memory() -> SimDriver<MemoryRecords> {
    SimDriver::over(MemoryRecords::default(), Duration::ZERO)
}

fn spec(id: &str) -> DiskSpec {
    DiskSpec::from_image(id, "img", None, 40)
}

/// The suite over the journal and over memory.
#[tokio::test]
async fn every_verb_is_idempotent() {
    let (_d, s) = driver();
    suite::every_verb_is_idempotent(&s).await;
    suite::every_verb_is_idempotent(&memory()).await;
}

#[tokio::test]
async fn blank_data_disks_are_attached_in_order_and_must_exist() {
    let (_d, s) = driver();
    suite::blank_data_disks_are_attached_in_order_and_must_exist(&s).await;
    suite::blank_data_disks_are_attached_in_order_and_must_exist(&memory()).await;
}

#[tokio::test]
async fn nics_are_plugged_once_and_kept_across_a_stop() {
    let (_d, s) = driver();
    suite::nics_are_plugged_once_and_kept_across_a_stop(&s).await;
    suite::nics_are_plugged_once_and_kept_across_a_stop(&memory()).await;
}

#[tokio::test]
async fn a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape() {
    let (_d, s) = driver();
    suite::a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape(&s).await;
    suite::a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape(&memory()).await;
}

#[tokio::test]
async fn a_second_driver_on_the_same_records_carries_on() {
    let records = Arc::new(MemoryRecords::default());
    let (a, b) = (SimDriver::over(records.clone(), Duration::ZERO), SimDriver::over(records, Duration::ZERO));
    suite::a_second_driver_on_the_same_records_carries_on(&a, &b).await;
}

/// Journal lines of VMs without data disks are as they were before data disks.
#[tokio::test]
async fn journal_lines_of_vms_without_data_disks_have_no_data_disks_field() {
    let (d, s) = driver();
    s.disk_create(&spec("sys")).await.unwrap();
    let vm = VmSpec {
        server_id: "s2".into(),
        boot_disk: "sys".into(),
        data_disks: vec![],
        vcpus: 1,
        ram_mb: 1024,
        nics: vec![],
    };
    s.vm_start(&vm).await.unwrap();
    let text = std::fs::read_to_string(d.path().join("state.jsonl")).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.contains("\"s2\"") && !last.contains("data_disks"), "{last}");
}

#[tokio::test]
async fn the_state_survives_a_restart_and_a_torn_last_line() {
    let (d, s) = driver();
    s.disk_create(&spec("d1")).await.unwrap();
    s.disk_create(&spec("d2")).await.unwrap();
    s.disk_delete("d1").await.unwrap();
    let vm = VmSpec {
        server_id: "s1".into(),
        boot_disk: "d2".into(),
        data_disks: vec![],
        vcpus: 1,
        ram_mb: 1024,
        nics: vec![],
    };
    s.vm_start(&vm).await.unwrap();
    drop(s);
    // A power loss can leave half a line at the end: it is dropped, the rest is kept.
    let mut f = std::fs::OpenOptions::new().append(true).open(d.path().join("state.jsonl")).unwrap();
    f.write_all(br#"{"op":"disk_gone","disk_"#).unwrap();
    let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
    assert_eq!(s.disk_list().await.unwrap(), ["d2"]);
    assert_eq!(s.vm_power("s1").await.unwrap(), Power::Running);
    // Opening cut the torn line off, so the next append starts a line of its own.
    s.disk_delete("d2").await.unwrap();
    let state = SimState::load(d.path()).unwrap();
    assert!(state.disks.is_empty());
    assert_eq!(state.vms.len(), 1);
}

#[tokio::test]
async fn an_append_cut_short_is_cut_off_and_the_records_after_it_are_kept() {
    let (d, s) = driver();
    s.disk_create(&spec("d1")).await.unwrap();
    // The disk fills up in the middle of the next record.
    s.records().journal.lock().unwrap().short_write = Some(17);
    let err = s.disk_create(&spec("d2")).await.unwrap_err();
    assert!(err.no_space, "a full disk is said as such: {err:?}");
    assert_eq!(s.disk_list().await.unwrap(), ["d1"], "a failed verb changed nothing");
    // Space is back: later changes follow the last whole record, not half of one.
    s.disk_create(&spec("d3")).await.unwrap();
    s.disk_delete("d1").await.unwrap();
    let text = std::fs::read_to_string(d.path().join("state.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    drop(s);
    let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
    assert_eq!(s.disk_list().await.unwrap(), ["d3"]);
}

#[tokio::test]
async fn a_damaged_line_in_the_middle_is_refused_and_named() {
    let (d, s) = driver();
    for id in ["d1", "d2", "d3"] {
        s.disk_create(&spec(id)).await.unwrap();
    }
    drop(s);
    let path = d.path().join("state.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(String::from).collect();
    lines[1] = "\u{0}garbage{".into();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    for err in [SimDriver::new(d.path(), Duration::ZERO).err().unwrap(), SimState::load(d.path()).unwrap_err()] {
        assert!(err.message.contains("damaged") && err.message.contains("line 2"), "{err}");
    }
    // Nothing was cut: the damaged journal is still there for the operator to look at.
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
}

#[tokio::test]
async fn the_journal_is_compacted_as_it_grows() {
    let (d, s) = driver();
    s.disk_create(&spec("d1")).await.unwrap();
    let vm = VmSpec {
        server_id: "s1".into(),
        boot_disk: "d1".into(),
        data_disks: vec![],
        vcpus: 1,
        ram_mb: 1024,
        nics: vec![],
    };
    for _ in 0..6_000 {
        s.vm_start(&vm).await.unwrap();
        s.vm_stop("s1", false).await.unwrap();
    }
    let lines = std::fs::read_to_string(d.path().join("state.jsonl")).unwrap().lines().count();
    assert!(lines <= 10_001, "{lines} lines for 2 objects");
    let state = SimState::load(d.path()).unwrap();
    assert_eq!(state.vms["s1"].boots, 6_000);
    assert!(!state.vms["s1"].running);
}
