//! Data disks plugged into and out of a running guest over QMP.
//!
//! On the q35 machine the root complex (`pcie.0`) takes no hot-plugged devices, so every VM is
//! started with a few empty PCIe root ports (`hp0`, `hp1`, ...), and each data disk, whether
//! attached at boot or later, sits behind a port of its own: that is what lets any of them be
//! unplugged while the guest runs. A disk's block node and device are named after its id
//! (`v<id without dashes, 30 characters>`, `dev-<id>`), so a replayed step finds what an earlier try did: plugging a disk
//! that is in, or unplugging one that is out, succeeds without doing anything.
//!
//! Unplugging is a request to the guest (the port's attention button): the guest's PCIe
//! hot-plug driver releases the device, QEMU announces `DEVICE_DELETED`, and only then is the
//! block node removed, so the qcow2 file is closed with everything the guest wrote.

use super::qmp::Qmp;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Root ports a VM gets for its data disks. Each is a PCI bridge for which the firmware sets
/// memory aside; a few are enough for the disks a guest gets at once, and keep the firmware's
/// windows small on a 128 MiB guest.
pub(crate) const PORTS: usize = 8;

/// How long the guest has to release an unplugged disk. Linux's PCIe hot-plug driver waits
/// five seconds after the attention button before it acts (so a person can cancel).
const UNPLUG_TIMEOUT: Duration = Duration::from_secs(30);

/// The block node (and, at boot, the `-drive` id) of a data disk. QEMU's node names have at
/// most 31 characters: the id's first 30 letters and digits (120 bits of a UUID) after a `v`.
pub(crate) fn node_name(disk_id: &str) -> String {
    let short: String = disk_id.chars().filter(char::is_ascii_alphanumeric).take(30).collect();
    format!("v{short}")
}

/// The guest device of a data disk.
pub(crate) fn device_id(disk_id: &str) -> String {
    format!("dev-{disk_id}")
}

/// The id of the `n`-th root port.
pub(crate) fn port_id(n: usize) -> String {
    format!("hp{n}")
}

/// The QEMU arguments of the root ports: eight functions of one slot, as a real board packs
/// them (function 0 marked multifunction), at slot 0x10, after what QEMU places by itself. No
/// I/O space is reserved behind them: virtio on PCIe needs none, and sixteen ports' worth of
/// I/O windows would exhaust what the platform has.
pub(crate) fn port_args() -> Vec<String> {
    (0..PORTS)
        .flat_map(|n| {
            let multi = if n % 8 == 0 { ",multifunction=on" } else { "" };
            [
                "-device".to_string(),
                format!(
                    "pcie-root-port,id={},bus=pcie.0,chassis={},addr=0x{:x}.{}{multi},io-reserve=0",
                    port_id(n),
                    n + 1,
                    0x10 + n / 8,
                    n % 8
                ),
            ]
        })
        .collect()
}

/// Every device of a `query-pci` answer, behind bridges too.
fn devices(pci: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for d in list.as_array().into_iter().flatten() {
            out.push(d);
            walk(&d["pci_bridge"]["devices"], out);
        }
    }
    let mut out = Vec::new();
    for bus in pci.as_array().into_iter().flatten() {
        walk(&bus["devices"], &mut out);
    }
    out
}

/// Whether a device with this id is in the guest.
fn present(pci: &Value, id: &str) -> bool {
    devices(pci).iter().any(|d| d["qdev_id"] == id)
}

/// The first of our root ports with nothing behind it.
fn free_port(pci: &Value) -> Option<String> {
    let all = devices(pci);
    (0..PORTS).map(port_id).find(|p| {
        all.iter()
            .any(|d| d["qdev_id"] == p.as_str() && d["pci_bridge"]["devices"].as_array().is_none_or(Vec::is_empty))
    })
}

async fn connect(qmp: &Path) -> Result<Qmp, String> {
    Qmp::connect(qmp, Duration::from_secs(5)).await
}

/// Plugs the qcow2 `file` into the running guest as a virtio disk with serial `serial`.
pub(crate) async fn plug(qmp: &Path, disk_id: &str, file: &Path, serial: &str) -> Result<(), String> {
    let mut q = connect(qmp).await?;
    let pci = q.execute("query-pci", None).await?;
    let (node, device) = (node_name(disk_id), device_id(disk_id));
    if present(&pci, &device) {
        return Ok(());
    }
    let port = free_port(&pci)
        .ok_or_else(|| format!("every hot-plug port ({PORTS}) is taken; stop the server to attach more disks"))?;
    // A node left by a plug interrupted before its device was added is used as it is.
    let nodes = q.execute("query-named-block-nodes", Some(json!({"flat": true}))).await?;
    if !nodes.as_array().into_iter().flatten().any(|n| n["node-name"] == node.as_str()) {
        q.execute(
            "blockdev-add",
            Some(json!({
                "driver": "qcow2", "node-name": node, "discard": "unmap",
                "file": {"driver": "file", "filename": file.to_string_lossy()},
            })),
        )
        .await?;
    }
    q.execute(
        "device_add",
        Some(json!({"driver": "virtio-blk-pci", "id": device, "drive": node, "bus": port, "serial": serial})),
    )
    .await?;
    Ok(())
}

/// Unplugs a data disk from the running guest and closes its file.
pub(crate) async fn unplug(qmp: &Path, disk_id: &str) -> Result<(), String> {
    let mut q = connect(qmp).await?;
    let pci = q.execute("query-pci", None).await?;
    let (node, device) = (node_name(disk_id), device_id(disk_id));
    if present(&pci, &device) {
        match q.execute("device_del", Some(json!({"id": device}))).await {
            Ok(_) => {}
            // A second request while the guest is still releasing it: wait for the same event.
            Err(e) if e.contains("in progress") => {}
            Err(e) => return Err(e),
        }
        q.wait_event_where("DEVICE_DELETED", |e| e["data"]["device"] == device.as_str(), UNPLUG_TIMEOUT)
            .await
            .map_err(|e| format!("the guest did not release disk {disk_id}: {e}"))?;
    }
    // A disk attached at boot is a `-drive`, removed with its device; one plugged in later is a
    // node of its own, removed here.
    let nodes = q.execute("query-named-block-nodes", Some(json!({"flat": true}))).await?;
    if nodes.as_array().into_iter().flatten().any(|n| n["node-name"] == node.as_str()) {
        q.execute("blockdev-del", Some(json!({"node-name": node}))).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_fit_qemu_and_start_with_a_letter() {
        let n = node_name("0d2c4b6a-8e10-4f32-9a54-76b98dcafe01");
        assert_eq!(n, "v0d2c4b6a8e104f329a5476b98dcafe");
        assert!(n.len() <= 31);
    }

    #[test]
    fn ports_share_one_multifunction_slot() {
        let args = port_args().join(" ");
        assert!(args.contains("pcie-root-port,id=hp0,bus=pcie.0,chassis=1,addr=0x10.0,multifunction=on"), "{args}");
        assert!(args.contains("pcie-root-port,id=hp7,bus=pcie.0,chassis=8,addr=0x10.7,io-reserve=0"), "{args}");
        assert_eq!(port_args().len(), 2 * PORTS);
    }

    #[test]
    fn a_free_port_is_one_with_nothing_behind_it() {
        let pci = json!([{"bus": 0, "devices": [
            {"qdev_id": "hp0", "pci_bridge": {"devices": [{"qdev_id": "dev-a"}]}},
            {"qdev_id": "hp1", "pci_bridge": {"devices": []}},
            {"qdev_id": "other"}
        ]}]);
        assert!(present(&pci, "dev-a"));
        assert!(!present(&pci, "dev-b"));
        assert_eq!(free_port(&pci).as_deref(), Some("hp1"));
        let full = json!([{"bus": 0, "devices": [{"qdev_id": "hp0", "pci_bridge": {"devices": [{"qdev_id": "x"}]}}]}]);
        assert_eq!(free_port(&full), None);
    }
}
