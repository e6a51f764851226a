//! Pure gate functions: may this operation start on this server, now?
//!
//! Each returns the exact Huawei error the request is refused with. They read only the server
//! record (and whether it has a system disk), so they are tested here over every state and
//! called by the application layer inside the transaction that takes the server's lock.

use crate::server::Server;
use crate::state::VmState;
use crate::Error;
use ecs_types::Code;

fn not_locked(s: &Server) -> Result<(), Error> {
    if s.locked {
        return Err(Error::new(Code::Ecs0605, format!("ECS[{}] is locked.", s.id)));
    }
    Ok(())
}

fn not_busy(s: &Server) -> Result<(), Error> {
    match s.task_state {
        Some(t) => Err(Error::new(
            Code::Ecs0100,
            format!(
                "The ECS status does not meet requirements: server {} is busy ({}); try again when the current operation has finished.",
                s.id,
                t.as_str()
            ),
        )),
        None => Ok(()),
    }
}

fn wrong_status(s: &Server, wanted: &str) -> Error {
    Error::new(
        Code::Ecs0100,
        format!("The ECS status does not meet requirements: server {} is {}, {wanted}.", s.id, s.status()),
    )
}

/// Reinstall and change OS: the server must be unlocked, idle, have a system disk, and be
/// stopped — or running with `mode: withStopServer`, or recovering from a failed reinstall.
pub fn os_rebuild_allowed(s: &Server, has_system_disk: bool, with_stop: bool) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    if !has_system_disk {
        return Err(Error::new(Code::Ecs0105, format!("No system disk found on server {}.", s.id)));
    }
    match s.vm_state {
        VmState::Stopped => Ok(()),
        VmState::Error | VmState::Active if s.os_change_failed => Ok(()),
        VmState::Active if with_stop => Ok(()),
        VmState::Active => {
            Err(wrong_status(s, "it must be SHUTOFF, or the request must carry \"mode\": \"withStopServer\""))
        }
        _ => Err(wrong_status(s, "it must be SHUTOFF")),
    }
}

/// Resize (a flavor change): unlocked, idle, and stopped — or running with
/// `mode: withStopServer`, which stops it first. A running server without the mode is refused
/// as the rebuild is: ecsd's flavors all need the VM to restart for a new vCPU count and memory.
pub fn resize_allowed(s: &Server, with_stop: bool) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Stopped => Ok(()),
        VmState::Active if with_stop => Ok(()),
        VmState::Active => {
            Err(wrong_status(s, "it must be SHUTOFF, or the request must carry \"mode\": \"withStopServer\""))
        }
        _ => Err(wrong_status(s, "it must be SHUTOFF")),
    }
}

/// Start: unlocked, idle, and stopped or already running (a no-op).
pub fn start_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Stopped | VmState::Active => Ok(()),
        _ => Err(wrong_status(s, "it must be SHUTOFF to be started")),
    }
}

/// Stop: unlocked, idle, and running or already stopped (a no-op).
pub fn stop_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Stopped | VmState::Active | VmState::Error => Ok(()),
        _ => Err(wrong_status(s, "it must be ACTIVE to be stopped")),
    }
}

/// Reboot: unlocked, idle, running.
pub fn reboot_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Active => Ok(()),
        _ => Err(wrong_status(s, "it must be ACTIVE to be rebooted")),
    }
}

/// Delete: unlocked and idle (any power state, including ERROR).
pub fn delete_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)
}

/// Attach a volume: unlocked, idle, and running or stopped (a running VM gets it hot-plugged).
pub fn volume_attach_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Active | VmState::Stopped => Ok(()),
        _ => Err(wrong_status(s, "it must be ACTIVE or SHUTOFF to change its disks")),
    }
}

/// Attach a system disk: as any volume, and the server must be stopped (it boots from it).
pub fn system_disk_attach_allowed(s: &Server) -> Result<(), Error> {
    match s.vm_state {
        VmState::Stopped => Ok(()),
        _ => Err(wrong_status(s, "it must be SHUTOFF to take a system disk")),
    }
}

/// Detach a volume: as an attach; the system disk only from a stopped server (it cannot be
/// taken from under a running guest).
pub fn volume_detach_allowed(s: &Server, system: bool) -> Result<(), Error> {
    volume_attach_allowed(s)?;
    match s.vm_state {
        VmState::Active if system => Err(wrong_status(s, "it must be SHUTOFF to have its system disk detached")),
        _ => Ok(()),
    }
}

/// Rename / describe: only the lock matters (metadata edits do not conflict with operations).
pub fn update_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)
}

/// Adding or removing NICs: unlocked, idle, and running (hot-plug) or stopped (the NICs are
/// there at the next start).
pub fn nic_change_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Active | VmState::Stopped => Ok(()),
        _ => Err(wrong_status(s, "it must be ACTIVE or SHUTOFF")),
    }
}

/// Changing the primary NIC's address (`change-network-interface`): unlocked, idle and stopped,
/// as Huawei documents (the guest must not hold the old address while it changes).
pub fn nic_readdress_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Stopped => Ok(()),
        _ => Err(wrong_status(s, "it must be SHUTOFF to change its NIC's address")),
    }
}

/// Triggering a crash dump: unlocked and idle; the guest must be running (Huawei allows ACTIVE,
/// PAUSED, RESCUED, RESIZED and ERROR; ecsd has the first and the last). A server in ERROR is
/// let through: whether its VM still runs is the driver's to say.
pub fn crash_dump_allowed(s: &Server) -> Result<(), Error> {
    not_locked(s)?;
    not_busy(s)?;
    match s.vm_state {
        VmState::Active | VmState::Error => Ok(()),
        _ => Err(wrong_status(s, "it must be ACTIVE to have a crash dump triggered")),
    }
}

/// A remote console: the guest must be running (only the server's status matters: a console
/// shows whatever the guest is doing, and a lock does not hide it).
pub fn remote_console_allowed(s: &Server) -> Result<(), Error> {
    match s.vm_state {
        VmState::Active => Ok(()),
        _ => Err(wrong_status(s, "it must be ACTIVE for a remote console")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ServerNic;
    use crate::state::TaskState;

    fn server(vm: VmState, task: Option<TaskState>) -> Server {
        Server {
            id: "s1".into(),
            project_id: "p".into(),
            user_id: "u".into(),
            name: "n".into(),
            description: String::new(),
            hostname: "n".into(),
            vm_state: vm,
            task_state: task,
            image_id: "i".into(),
            flavor_id: "f".into(),
            key_name: None,
            admin_pass_hash: None,
            pending_password_hash: None,
            user_data: None,
            metadata: Default::default(),
            network: ServerNic {
                vpc_id: "v".into(),
                subnet_id: "sn".into(),
                ip: "192.168.0.2".into(),
                mac: "fa:16:3e:00:00:01".into(),
                port_id: "port".into(),
            },
            availability_zone: "az1".into(),
            security_groups: vec![],
            tags: vec![],
            locked: false,
            created_ms: 0,
            updated_ms: 0,
            launched_ms: None,
            os_change_failed: false,
            fault: None,
            launch_index: 0,
            reservation_id: "r-1".into(),
            generation: 1,
            enterprise_project_id: "0".into(),
            server_group: None,
            auto_terminate_ms: None,
            host: None,
            extra_nics: Vec::new(),
        }
    }

    fn code(r: Result<(), Error>) -> Option<Code> {
        r.err().map(|e| e.code)
    }

    const ALL_VM: [VmState; 5] =
        [VmState::Building, VmState::Active, VmState::Stopped, VmState::Error, VmState::Deleted];

    #[test]
    fn rebuild_gate_over_every_vm_state() {
        for vm in ALL_VM {
            for with_stop in [false, true] {
                let got = code(os_rebuild_allowed(&server(vm, None), true, with_stop));
                let want = match (vm, with_stop) {
                    (VmState::Stopped, _) | (VmState::Active, true) => None,
                    _ => Some(Code::Ecs0100),
                };
                assert_eq!(got, want, "{vm:?} with_stop={with_stop}");
            }
        }
    }

    #[test]
    fn crash_dump_gate_wants_a_guest_that_may_run_and_no_operation_under_way() {
        for vm in ALL_VM {
            let want = match vm {
                VmState::Active | VmState::Error => None,
                _ => Some(Code::Ecs0100),
            };
            assert_eq!(code(crash_dump_allowed(&server(vm, None))), want, "{vm:?}");
        }
        assert_eq!(code(crash_dump_allowed(&server(VmState::Active, Some(TaskState::Rebooting)))), Some(Code::Ecs0100));
        let mut s = server(VmState::Active, None);
        s.locked = true;
        assert_eq!(code(crash_dump_allowed(&s)), Some(Code::Ecs0605));
    }

    #[test]
    fn remote_console_gate_wants_an_active_server_whatever_its_lock_or_task() {
        for vm in ALL_VM {
            let want = if vm == VmState::Active { None } else { Some(Code::Ecs0100) };
            assert_eq!(code(remote_console_allowed(&server(vm, None))), want, "{vm:?}");
        }
        let mut s = server(VmState::Active, Some(TaskState::Rebooting));
        s.locked = true;
        assert_eq!(code(remote_console_allowed(&s)), None);
    }

    #[test]
    fn rebuild_gate_order_lock_then_busy_then_disk() {
        let mut s = server(VmState::Stopped, Some(TaskState::Rebuilding));
        s.locked = true;
        assert_eq!(code(os_rebuild_allowed(&s, false, true)), Some(Code::Ecs0605));
        s.locked = false;
        assert_eq!(code(os_rebuild_allowed(&s, false, true)), Some(Code::Ecs0100));
        s.task_state = None;
        assert_eq!(code(os_rebuild_allowed(&s, false, true)), Some(Code::Ecs0105));
        assert_eq!(code(os_rebuild_allowed(&s, true, false)), None);
    }

    #[test]
    fn failed_rebuild_can_be_retried_without_stop_mode() {
        for vm in [VmState::Active, VmState::Error] {
            let mut s = server(vm, None);
            s.os_change_failed = true;
            assert_eq!(code(os_rebuild_allowed(&s, true, false)), None);
        }
    }

    #[test]
    fn resize_gate_over_every_vm_state() {
        for vm in ALL_VM {
            for with_stop in [false, true] {
                let got = code(resize_allowed(&server(vm, None), with_stop));
                let want = match (vm, with_stop) {
                    (VmState::Stopped, _) | (VmState::Active, true) => None,
                    _ => Some(Code::Ecs0100),
                };
                assert_eq!(got, want, "{vm:?} with_stop={with_stop}");
            }
        }
        let mut s = server(VmState::Stopped, Some(TaskState::ResizePrep));
        s.locked = true;
        assert_eq!(code(resize_allowed(&s, true)), Some(Code::Ecs0605));
        s.locked = false;
        assert_eq!(code(resize_allowed(&s, true)), Some(Code::Ecs0100));
    }

    #[test]
    fn busy_servers_refuse_every_operation() {
        for task in [TaskState::Rebuilding, TaskState::PoweringOff, TaskState::Deleting, TaskState::Spawning] {
            let s = server(VmState::Active, Some(task));
            assert_eq!(code(start_allowed(&s)), Some(Code::Ecs0100));
            assert_eq!(code(stop_allowed(&s)), Some(Code::Ecs0100));
            assert_eq!(code(reboot_allowed(&s)), Some(Code::Ecs0100));
            assert_eq!(code(delete_allowed(&s)), Some(Code::Ecs0100));
            assert_eq!(code(os_rebuild_allowed(&s, true, true)), Some(Code::Ecs0100));
            assert_eq!(code(update_allowed(&s)), None);
        }
    }

    #[test]
    fn power_gates_over_every_vm_state() {
        for vm in ALL_VM {
            let s = server(vm, None);
            assert_eq!(code(start_allowed(&s)).is_none(), matches!(vm, VmState::Stopped | VmState::Active));
            assert_eq!(
                code(stop_allowed(&s)).is_none(),
                matches!(vm, VmState::Stopped | VmState::Active | VmState::Error)
            );
            assert_eq!(code(reboot_allowed(&s)).is_none(), vm == VmState::Active);
            assert_eq!(code(delete_allowed(&s)), None);
        }
    }

    #[test]
    fn locked_servers_refuse_management_operations() {
        let mut s = server(VmState::Active, None);
        s.locked = true;
        for r in [start_allowed(&s), stop_allowed(&s), reboot_allowed(&s), delete_allowed(&s), update_allowed(&s)] {
            assert_eq!(code(r), Some(Code::Ecs0605));
        }
    }

    #[test]
    fn nic_gate_over_every_vm_state_then_lock_and_busy() {
        for vm in ALL_VM {
            let want = match vm {
                VmState::Active | VmState::Stopped => None,
                _ => Some(Code::Ecs0100),
            };
            assert_eq!(code(nic_change_allowed(&server(vm, None))), want, "{vm:?}");
        }
        let mut s = server(VmState::Active, Some(TaskState::AttachingInterface));
        assert_eq!(code(nic_change_allowed(&s)), Some(Code::Ecs0100));
        s.locked = true;
        assert_eq!(code(nic_change_allowed(&s)), Some(Code::Ecs0605));
    }

    #[test]
    fn disk_gates_over_every_vm_state() {
        for vm in ALL_VM {
            let s = server(vm, None);
            let changeable = matches!(vm, VmState::Active | VmState::Stopped);
            assert_eq!(code(volume_attach_allowed(&s)).is_none(), changeable, "{vm:?}");
            assert_eq!(code(volume_detach_allowed(&s, false)).is_none(), changeable, "{vm:?}");
            assert_eq!(code(volume_detach_allowed(&s, true)).is_none(), vm == VmState::Stopped, "{vm:?}");
            assert_eq!(code(system_disk_attach_allowed(&s)).is_none(), vm == VmState::Stopped, "{vm:?}");
        }
        let mut s = server(VmState::Active, Some(TaskState::AttachingVolume));
        assert_eq!(code(volume_attach_allowed(&s)), Some(Code::Ecs0100));
        assert_eq!(code(delete_allowed(&s)), Some(Code::Ecs0100));
        s.locked = true;
        assert_eq!(code(volume_detach_allowed(&s, false)), Some(Code::Ecs0605));
    }

    #[test]
    fn readdress_gate_wants_a_stopped_idle_unlocked_server() {
        for vm in ALL_VM {
            let want = if vm == VmState::Stopped { None } else { Some(Code::Ecs0100) };
            assert_eq!(code(nic_readdress_allowed(&server(vm, None))), want, "{vm:?}");
        }
        let mut s = server(VmState::Stopped, Some(TaskState::Rebuilding));
        assert_eq!(code(nic_readdress_allowed(&s)), Some(Code::Ecs0100));
        s.task_state = None;
        s.locked = true;
        assert_eq!(code(nic_readdress_allowed(&s)), Some(Code::Ecs0605));
    }
}
