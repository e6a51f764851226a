//! One VM: its files, its QEMU command line, starting it and stopping it.
//!
//! QEMU runs daemonized (`-daemonize -pidfile`), so guests outlive the control plane and a
//! restarted ecsd finds them again by pid file and QMP socket. `-no-reboot` plus `panic=-1`
//! on the demo kernel line make a crashed guest end its QEMU rather than spin a core forever;
//! the price is that a reboot from inside the guest stops the VM (the control plane sees
//! it stopped and can start it again).

use super::host::Accel;
use super::hotplug;
use super::image::{write_atomic, BootInfo, DiskBus};
use super::process::{self, tool};
use super::qmp::Qmp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the driver remembers about a VM (`vm.json`). The port is kept across stops and driver
/// restarts, so the SSH address shown to users stays the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmRecord {
    pub server_id: String,
    pub boot_disk: String,
    /// Data disks, in the order they are attached (absent in records of VMs without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<String>,
    /// Host loopback port forwarded to the guest's SSH port.
    pub port: u16,
    pub vcpus: i64,
    pub ram_mb: i64,
    /// The NICs added after the create, each on its own hot-plug port (absent in records of
    /// VMs without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<RecNic>,
}

/// An added NIC and the PCIe root port (`nicport<slot>`) it sits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecNic {
    pub id: String,
    pub mac: String,
    pub slot: u8,
}

/// How many NICs can be added to a VM: one empty PCIe root port each is put on every VM's
/// command line, because q35's root bus takes no hot-plugged devices.
pub const NIC_SLOTS: u8 = 4;

impl RecNic {
    /// The QEMU ids of its network backend and its device (port ids are UUIDs: short enough,
    /// and made of what QEMU ids allow).
    pub fn netdev_id(&self) -> String {
        format!("nicnet-{}", self.id)
    }
    pub fn device_id(&self) -> String {
        format!("nicdev-{}", self.id)
    }
}

impl VmRecord {
    /// The lowest hot-plug port no NIC of the record sits on.
    pub fn free_slot(&self) -> Option<u8> {
        (0..NIC_SLOTS).find(|s| !self.nics.iter().any(|n| n.slot == *s))
    }

    /// Whether the VM has `disk_id` attached, as its system disk or a data disk.
    pub fn uses(&self, disk_id: &str) -> bool {
        self.boot_disk == disk_id || self.data_disks.iter().any(|d| d == disk_id)
    }
}

/// The files of one VM under `vms/<server_id>/`.
#[derive(Debug, Clone)]
pub(crate) struct VmPaths {
    pub dir: PathBuf,
    pub record: PathBuf,
    pub pidfile: PathBuf,
    pub qmp: PathBuf,
    /// The VNC server of the VM's display (a unix socket: only this host's processes reach it,
    /// and ecsd hands it out through a remote-console token).
    pub vnc: PathBuf,
    pub serial: PathBuf,
    pub log: PathBuf,
}

impl VmPaths {
    pub fn new(vms: &Path, server_id: &str) -> VmPaths {
        let dir = vms.join(server_id);
        VmPaths {
            record: dir.join("vm.json"),
            pidfile: dir.join("qemu.pid"),
            qmp: dir.join("qmp.sock"),
            vnc: dir.join("vnc.sock"),
            serial: dir.join("serial.log"),
            log: dir.join("qemu.log"),
            dir,
        }
    }

    pub fn load(&self) -> Result<Option<VmRecord>, String> {
        match std::fs::read(&self.record) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| format!("VM record {} is corrupt: {e}", self.record.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", self.record.display())),
        }
    }

    pub fn store(&self, rec: &VmRecord) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        write_atomic(&self.record, &serde_json::to_vec_pretty(rec).map_err(|e| e.to_string())?)
    }

    /// The QEMU pid, if our QEMU for this VM is alive (the QMP socket path on its command
    /// line tells it from an unrelated process that reused the pid).
    pub fn pid(&self) -> Option<i32> {
        process::live_pid(&self.pidfile, &self.qmp)
    }

    /// Forgets a QEMU that is gone.
    pub fn clear_runtime(&self) -> Result<(), String> {
        process::remove_file_quiet(&self.pidfile)?;
        process::remove_file_quiet(&self.vnc)?;
        process::remove_file_quiet(&self.qmp)
    }
}

/// Everything a QEMU command line is made of.
pub(crate) struct Launch<'a> {
    pub paths: &'a VmPaths,
    pub rec: &'a VmRecord,
    pub disk: &'a Path,
    /// Data disks (id and file), attached after the system disk in this order.
    pub data: &'a [(String, PathBuf)],
    pub boot: &'a BootInfo,
    pub seed: Option<&'a Path>,
    pub accel: Accel,
}

/// QEMU's option syntax doubles commas inside values.
fn esc(p: &Path) -> String {
    p.to_string_lossy().replace(',', ",,")
}

/// The serial number a data disk shows the guest: the first 20 characters of its id (all virtio
/// carries), as clouds do so that a guest can tell its volumes apart by id.
pub(crate) fn virtio_serial(disk_id: &str) -> String {
    disk_id.chars().take(20).collect()
}

/// A stable locally administered MAC per server (the guest sees the same NIC every boot).
fn mac_for(server_id: &str) -> String {
    // FNV-1a: tiny, stable across Rust versions (unlike the std hasher).
    let mut h: u32 = 0x811c_9dc5;
    for b in server_id.bytes() {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    format!("52:54:00:{:02x}:{:02x}:{:02x}", (h >> 16) as u8, (h >> 8) as u8, h as u8)
}

/// The QEMU arguments for a VM.
pub(crate) fn qemu_args(l: &Launch<'_>) -> Vec<String> {
    let p = l.paths;
    let mut a: Vec<String> = Vec::new();
    let mut add = |xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
    add(&["-name", &format!("ecsd-{}", l.rec.server_id)]);
    add(&["-machine", "q35"]);
    add(&l.accel.qemu_args());
    add(&["-smp", &l.rec.vcpus.max(1).to_string(), "-m", &format!("{}M", l.rec.ram_mb.max(64))]);
    add(&["-nodefaults", "-display", "none", "-no-reboot"]);
    add(&["-daemonize", "-pidfile", &p.pidfile.to_string_lossy()]);
    add(&["-qmp", &format!("unix:{},server=on,wait=off", esc(&p.qmp))]);
    add(&["-vnc", &format!("unix:{}", esc(&p.vnc))]);
    add(&["-D", &p.log.to_string_lossy()]);
    // The serial console goes to a file, appended across boots: what a person reads first
    // when a guest does not come up.
    add(&["-chardev", &format!("file,id=serial0,path={},append=on", esc(&p.serial)), "-serial", "chardev:serial0"]);
    add(&["-drive", &format!("file={},if=none,id=disk0,format=qcow2,cache=writeback,discard=unmap", esc(l.disk))]);
    match l.boot.bus() {
        DiskBus::Virtio => add(&["-device", "virtio-blk-pci,drive=disk0,bootindex=1"]),
        DiskBus::Nvme => {
            // NVMe needs a serial number (at most 20 characters).
            let serial: String = l.rec.boot_disk.chars().filter(char::is_ascii_alphanumeric).take(20).collect();
            add(&["-device", &format!("nvme,drive=disk0,serial={serial},bootindex=1")])
        }
    }
    // Data disks after the system disk: QEMU gives them PCI slots in this order and the guest
    // names virtio disks in PCI order, so the first data disk is the first virtio disk after a
    // virtio system disk (`/dev/vdb`), or the first one at all after an NVMe system disk.
    //
    // Each sits behind a root port of its own (see `hotplug`), so that any of them can be
    // unplugged while the guest runs; the ports follow each other, so the guest still finds
    // the disks in this order. Disks beyond the ports go on the root complex: they work, but
    // can only be detached from a stopped server.
    a.extend(hotplug::port_args());
    let mut add = |xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
    for (n, (id, path)) in l.data.iter().enumerate() {
        let drive = hotplug::node_name(id);
        let device = hotplug::device_id(id);
        let bus = if n < hotplug::PORTS { format!(",bus={}", hotplug::port_id(n)) } else { String::new() };
        add(&["-drive", &format!("file={},if=none,id={drive},format=qcow2,cache=writeback,discard=unmap", esc(path))]);
        add(&["-device", &format!("virtio-blk-pci,drive={drive},id={device}{bus},serial={}", virtio_serial(id))]);
    }
    if let Some(seed) = l.seed {
        add(&["-drive", &format!("file={},if=ide,media=cdrom,format=raw,readonly=on", esc(seed))]);
    }
    if let Some(kernel) = &l.boot.kernel {
        add(&["-kernel", &kernel.to_string_lossy()]);
        if let Some(initrd) = &l.boot.initrd {
            add(&["-initrd", &initrd.to_string_lossy()]);
        }
        if let Some(append) = &l.boot.append {
            add(&["-append", append]);
        }
    }
    add(&["-netdev", &format!("user,id=net0,hostfwd=tcp:127.0.0.1:{}-:22", l.rec.port)]);
    add(&["-device", &format!("virtio-net-pci,netdev=net0,mac={}", mac_for(&l.rec.server_id))]);
    add(&["-device", "virtio-rng-pci"]);
    // Empty root ports for NICs added while the VM runs (chassis numbers of their own, after
    // anything else's), then the NICs added before this start, each on its port. Each added
    // NIC has a user-mode network of its own: the guest sees a real link, with no forward.
    for slot in 0..NIC_SLOTS {
        add(&["-device", &format!("pcie-root-port,id=nicport{slot},chassis={},slot=0", 40 + u32::from(slot))]);
    }
    for n in &l.rec.nics {
        add(&["-netdev", &format!("user,id={}", n.netdev_id())]);
        add(&["-device", &nic_device(n)]);
    }
    // A display for the VNC console, last: every device above keeps the PCI slot it had
    // before VMs had one, so a guest's disks and NICs keep their names.
    add(&["-device", "VGA"]);
    a
}

/// The `-device` value of an added NIC (the same fields `device_add` gets when it is plugged
/// into a running VM).
fn nic_device(n: &RecNic) -> String {
    format!("virtio-net-pci,netdev={},mac={},id={},bus=nicport{}", n.netdev_id(), n.mac, n.device_id(), n.slot)
}

/// Plugs an added NIC into a running VM over QMP. A backend or device already there (a
/// replayed step) counts as plugged.
pub(crate) async fn hot_plug_nic(paths: &VmPaths, n: &RecNic) -> Result<(), String> {
    let mut qmp = Qmp::connect(&paths.qmp, Duration::from_secs(5)).await?;
    let netdev = serde_json::json!({"type": "user", "id": n.netdev_id()});
    if let Err(e) = qmp.execute("netdev_add", Some(netdev)).await {
        if !e.contains("already") && !e.contains("Duplicate") {
            return Err(e);
        }
    }
    let device = serde_json::json!({
        "driver": "virtio-net-pci", "netdev": n.netdev_id(), "mac": n.mac, "id": n.device_id(),
        "bus": format!("nicport{}", n.slot),
    });
    match qmp.execute("device_add", Some(device)).await {
        Ok(_) => Ok(()),
        Err(e) if e.contains("Duplicate") || e.contains("already") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Unplugs an added NIC from a running VM: `device_del`, then the guest's acknowledgement
/// (`DEVICE_DELETED`; the guest must eject the device), then the backend. Either one gone
/// already counts as removed.
pub(crate) async fn hot_unplug_nic(paths: &VmPaths, n: &RecNic, limit: Duration) -> Result<(), String> {
    let mut qmp = Qmp::connect(&paths.qmp, Duration::from_secs(5)).await?;
    let device = n.device_id();
    let asked = match qmp.execute("device_del", Some(serde_json::json!({"id": device}))).await {
        Ok(_) => true,
        // A replayed step: the guest was asked already and may still be releasing it.
        Err(e) if e.contains("already in the process") => true,
        Err(e) if e.contains("not found") => false,
        Err(e) => return Err(e),
    };
    if asked {
        // The event names the device in `data.device` (its backend's event, which comes
        // first, names only a path).
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = qmp
                .wait_event("DEVICE_DELETED", None, left)
                .await
                .map_err(|e| format!("the guest did not release NIC {}: {e}", n.id))?;
            if e["data"]["device"] == device.as_str() {
                break;
            }
        }
    }
    match qmp.execute("netdev_del", Some(serde_json::json!({"id": n.netdev_id()}))).await {
        Ok(_) => Ok(()),
        Err(e) if e.contains("not found") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sends the guest a non-maskable interrupt (QMP `inject-nmi`, what a crash dump is triggered
/// with): a kernel set up for kdump dumps and restarts; others log it on the serial console.
pub(crate) async fn inject_nmi(paths: &VmPaths) -> Result<(), String> {
    let mut qmp = Qmp::connect(&paths.qmp, Duration::from_secs(5)).await?;
    qmp.execute("inject-nmi", None).await.map(|_| ())
}

/// Starts QEMU; returns its pid once it runs. QEMU's launcher process exits when the daemon is
/// set up (or failed), so its exit status and stderr tell whether the start worked.
pub(crate) async fn launch(l: &Launch<'_>) -> Result<i32, String> {
    process::check_socket_path(&l.paths.qmp)?;
    process::check_socket_path(&l.paths.vnc)?;
    l.paths.clear_runtime()?;
    let out =
        process::output(tool("qemu-system-x86_64").args(qemu_args(l)), "start the VM", Duration::from_secs(60)).await?;
    if !out.status.success() {
        return Err(format!("QEMU did not start ({}): {}", out.status, process::tail(&out.stderr)));
    }
    // The pid file is written before the launcher exits.
    match process::read_pid_file(&l.paths.pidfile) {
        Some(pid) if process::pid_alive(pid) => Ok(pid),
        _ => Err(format!(
            "QEMU exited right after starting; its console said: {}",
            process::tail(&std::fs::read(&l.paths.serial).unwrap_or_default())
        )),
    }
}

/// What a VM's QEMU is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// No QEMU.
    Gone,
    /// QEMU runs the guest (or runs and QMP is busy: we trust the process).
    Running(i32),
    /// QEMU is alive but the guest is not running (paused after an error, and so on).
    Halted(i32, String),
}

/// Process liveness, then QMP `query-status`.
pub(crate) async fn liveness(paths: &VmPaths) -> Liveness {
    let Some(pid) = paths.pid() else { return Liveness::Gone };
    let status = async {
        let mut qmp = Qmp::connect(&paths.qmp, Duration::from_secs(3)).await?;
        qmp.execute("query-status", None).await
    }
    .await;
    match status {
        Ok(v) => match v["status"].as_str() {
            Some("running") | None => Liveness::Running(pid),
            Some(other) => Liveness::Halted(pid, other.to_string()),
        },
        Err(e) => {
            // QMP serves one client at a time; a busy or slow socket is not a dead VM.
            tracing::debug!(pid, error = %e, "QMP did not answer query-status; trusting the live process");
            if process::pid_alive(pid) {
                Liveness::Running(pid)
            } else {
                Liveness::Gone
            }
        }
    }
}

/// Stops a VM's QEMU: `system_powerdown` and up to `grace` for the guest to power off (unless
/// `force`), then `quit`, then SIGKILL.
pub(crate) async fn shutdown(paths: &VmPaths, force: bool, grace: Duration) -> Result<(), String> {
    let Some(pid) = paths.pid() else { return paths.clear_runtime() };
    if !force {
        let asked = async {
            let mut qmp = Qmp::connect(&paths.qmp, Duration::from_secs(5)).await?;
            qmp.execute("system_powerdown", None).await
        }
        .await;
        match asked {
            Ok(_) if process::wait_gone(pid, grace).await => return paths.clear_runtime(),
            Ok(_) => tracing::warn!(pid, "guest did not power off within {} s; quitting QEMU", grace.as_secs()),
            Err(e) => tracing::warn!(pid, error = %e, "cannot ask the guest to power off; quitting QEMU"),
        }
    }
    let quit = async {
        let mut qmp = Qmp::connect(&paths.qmp, Duration::from_secs(5)).await?;
        qmp.quit().await
    }
    .await;
    if quit.is_ok() && process::wait_gone(pid, Duration::from_secs(5)).await {
        return paths.clear_runtime();
    }
    process::signal(pid, libc::SIGKILL);
    if process::wait_gone(pid, Duration::from_secs(10)).await {
        return paths.clear_runtime();
    }
    Err(format!("QEMU (pid {pid}) does not stop, even after SIGKILL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_has_what_the_guest_needs() {
        let paths = VmPaths::new(Path::new("/state/vms"), "s1");
        let rec = VmRecord {
            server_id: "s1".into(),
            boot_disk: "disk-0001".into(),
            data_disks: vec![],
            port: 2222,
            vcpus: 2,
            ram_mb: 256,
            nics: vec![],
        };
        let boot = BootInfo {
            kernel: Some("/img/vmlinuz".into()),
            append: Some("console=ttyS0 root=/dev/nvme0n1".into()),
            disk_bus: Some(DiskBus::Nvme),
            ..Default::default()
        };
        let l = Launch {
            paths: &paths,
            rec: &rec,
            disk: Path::new("/state/disks/disk-0001.qcow2"),
            data: &[],
            boot: &boot,
            seed: None,
            accel: Accel::Tcg,
        };
        let args = qemu_args(&l).join(" ");
        for part in [
            "-accel tcg -cpu max",
            "-smp 2 -m 256M",
            "-no-reboot",
            "-daemonize -pidfile /state/vms/s1/qemu.pid",
            "-qmp unix:/state/vms/s1/qmp.sock,server=on,wait=off",
            "file=/state/disks/disk-0001.qcow2,if=none,id=disk0,format=qcow2",
            "nvme,drive=disk0,serial=disk0001,bootindex=1",
            "-kernel /img/vmlinuz",
            "-append console=ttyS0 root=/dev/nvme0n1",
            "hostfwd=tcp:127.0.0.1:2222-:22",
        ] {
            assert!(args.contains(part), "missing {part:?} in {args}");
        }
        assert!(!args.contains("cdrom"));
        assert!(!args.contains("drive=data"), "no data disks, none attached: {args}");

        let plain = BootInfo::default();
        let seed = PathBuf::from("/state/disks/d,1.seed.iso");
        let l = Launch { boot: &plain, seed: Some(&seed), accel: Accel::Kvm, ..l };
        let args = qemu_args(&l).join(" ");
        assert!(args.contains("virtio-blk-pci,drive=disk0"));
        assert!(args.contains("file=/state/disks/d,,1.seed.iso,if=ide,media=cdrom"));
        assert!(args.contains("-accel kvm -cpu host"));
        assert!(!args.contains("-kernel"));
    }

    #[test]
    fn data_disks_follow_the_system_disk_in_their_order() {
        let paths = VmPaths::new(Path::new("/state/vms"), "s1");
        let data = [
            ("0d2c4b6a-8e10-4f32-9a54-76b98dcafe01".to_string(), PathBuf::from("/state/disks/0d2c.qcow2")),
            ("data-2".to_string(), PathBuf::from("/state/disks/data-2.qcow2")),
        ];
        let rec = VmRecord {
            server_id: "s1".into(),
            boot_disk: "sys".into(),
            data_disks: data.iter().map(|(id, _)| id.clone()).collect(),
            port: 2222,
            vcpus: 1,
            ram_mb: 128,
            nics: vec![],
        };
        let boot = BootInfo::default();
        let l = Launch {
            paths: &paths,
            rec: &rec,
            disk: Path::new("/state/disks/sys.qcow2"),
            data: &data,
            boot: &boot,
            seed: None,
            accel: Accel::Tcg,
        };
        let args = qemu_args(&l);
        let at = |needle: &str| {
            args.iter().position(|a| a.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {args:?}"))
        };
        let system = at("virtio-blk-pci,drive=disk0,bootindex=1");
        let first = at("virtio-blk-pci,drive=v0d2c4b6a8e104f329a5476b98dcafe,\
            id=dev-0d2c4b6a-8e10-4f32-9a54-76b98dcafe01,bus=hp0,serial=0d2c4b6a-8e10-4f32-9");
        let second = at("virtio-blk-pci,drive=vdata2,id=dev-data-2,bus=hp1,serial=data-2");
        assert!(system < first && first < second, "{args:?}");
        assert!(at("file=/state/disks/0d2c.qcow2,if=none,id=v0d2c4b6a8e104f329a5476b98dcafe,format=qcow2") < first);
        assert!(at("file=/state/disks/data-2.qcow2,if=none,id=vdata2,format=qcow2") < second);
        assert!(at("pcie-root-port,id=hp1,") < first, "the ports come before the disks behind them");
        assert!(second < at("virtio-net-pci"), "disks before the NIC: {args:?}");
        assert!(
            !args.iter().any(|a| a.contains("drive=data0") && a.contains("bootindex")),
            "only the system disk boots"
        );
        assert!(rec.uses("sys") && rec.uses("data-2") && !rec.uses("other"));
    }

    #[test]
    fn macs_are_stable_and_local() {
        assert_eq!(mac_for("s1"), mac_for("s1"));
        assert_ne!(mac_for("s1"), mac_for("s2"));
        assert!(mac_for("s1").starts_with("52:54:00:"));
    }

    #[test]
    fn added_nics_get_a_free_port_and_their_mac() {
        let paths = VmPaths::new(Path::new("/state/vms"), "s1");
        let nic = |id: &str, slot| RecNic { id: id.into(), mac: "fa:16:3e:00:00:09".into(), slot };
        let mut rec = VmRecord {
            server_id: "s1".into(),
            boot_disk: "sys".into(),
            data_disks: vec![],
            port: 2222,
            vcpus: 1,
            ram_mb: 128,
            nics: vec![nic("p-b", 1)],
        };
        assert_eq!(rec.free_slot(), Some(0), "the lowest port nothing sits on");
        rec.nics.push(nic("p-a", 0));
        assert_eq!(rec.free_slot(), Some(2));
        let boot = BootInfo::default();
        let l = Launch {
            paths: &paths,
            rec: &rec,
            disk: Path::new("/state/disks/sys.qcow2"),
            data: &[],
            boot: &boot,
            seed: None,
            accel: Accel::Tcg,
        };
        let args = qemu_args(&l);
        // The NICs' root ports, beside the data disks' (`hp<n>`).
        let ports = args.iter().filter(|a| a.starts_with("pcie-root-port,id=nicport")).count();
        assert_eq!(ports, usize::from(NIC_SLOTS));
        assert!(args.iter().any(|a| a == "user,id=nicnet-p-b"), "{args:?}");
        assert!(
            args.iter()
                .any(|a| a == "virtio-net-pci,netdev=nicnet-p-b,mac=fa:16:3e:00:00:09,id=nicdev-p-b,bus=nicport1"),
            "{args:?}"
        );
        rec.nics.extend((2..NIC_SLOTS).map(|s| nic(&format!("p-{s}"), s)));
        assert_eq!(rec.free_slot(), None, "every port is taken");
    }
}
