//! Reinstall and change OS, all four variants (`/v1` without Cloud-Init, `/v2` with it).
//!
//! The request is checked in the order a user can act on: the body's own rules first
//! (`Ecs.0005`, `Ecs.0011`), then the server (`Ecs.0114`) and its state (`Ecs.0605`,
//! `Ecs.0100`, `Ecs.0105`), then the key pair (`Ecs.0314`) and the image (`Ecs.0031`).

use super::{begin, catalog, validate};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::rebuild_os::{self, ImageInfo};
use crate::sagas::SagaParams;
use ecs_driver::Injection;
use ecs_model::job::{job_type, Job};
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::{AlsoRead, Begin};
use ecs_types::requests::{OsMetadata, OsOptions};
use ecs_types::Code;

/// Which API was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// `changeos` (a new image) rather than `reinstallos` (the server's image).
    pub change: bool,
    /// `/v2`: the image has Cloud-Init; key, password and user data go through it.
    pub cloud_init: bool,
}

impl Variant {
    fn wrapper(self) -> &'static str {
        if self.change {
            "os-change"
        } else {
            "os-reinstall"
        }
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// The field rules of the body (no store access).
pub fn check_fields(v: Variant, o: &OsOptions) -> Result<(), Error> {
    let pass = nonempty(&o.adminpass);
    let key = nonempty(&o.keyname);
    let meta = o.metadata.clone().unwrap_or_default();
    if let Some(mode) = &o.mode {
        if mode != "withStopServer" {
            return Err(Error::invalid(format!("mode {mode:?} is invalid; the only value is \"withStopServer\".")));
        }
    }
    if key.is_some() && nonempty(&o.userid).is_none() {
        return Err(Error::invalid("userid is required when keyname is specified."));
    }
    if v.cloud_init {
        if pass.is_some() && key.is_some() {
            return Err(Error::invalid("adminpass and keyname cannot both be specified."));
        }
        if pass.is_none() && key.is_none() && nonempty(&meta.user_data).is_none() {
            return Err(Error::invalid(
                "metadata.user_data is required when neither adminpass nor keyname is specified.",
            ));
        }
        if let Some(ud) = nonempty(&meta.user_data) {
            validate::user_data(ud)?;
        }
    } else if pass.is_none() && key.is_none() {
        return Err(Error::invalid("adminpass and keyname cannot both be empty."));
    }
    check_metadata(&meta)?;
    if v.change {
        let img = nonempty(&o.imageid).ok_or_else(|| Error::invalid("imageid is required."))?;
        if !ecs_model::ids::is_uuid(img) {
            return Err(Error::new(Code::Ecs0031, format!("The image [{img}] does not exist.")));
        }
        if let Some(p) = &o.is_auto_pay {
            if p != "true" && p != "false" {
                return Err(Error::invalid(format!("isAutoPay {p:?} is invalid; use \"true\" or \"false\".")));
            }
        }
    }
    if let Some(p) = pass {
        validate::admin_password(p)?;
    }
    Ok(())
}

fn check_metadata(m: &OsMetadata) -> Result<(), Error> {
    match m.system_encrypted.as_deref() {
        None | Some("0") => {
            if m.system_cmkid.is_some() {
                return Err(Error::invalid("__system__cmkid is only valid with __system__encrypted \"1\"."));
            }
        }
        Some("1") => match m.system_cmkid.as_deref() {
            Some(id) if id.len() == 36 => {}
            Some(id) => {
                return Err(Error::invalid(format!("__system__cmkid must be 36 characters, got {}.", id.len())))
            }
            None => return Err(Error::invalid("__system__cmkid is required when __system__encrypted is \"1\".")),
        },
        Some(other) => {
            return Err(Error::invalid(format!("__system__encrypted {other:?} is invalid; use \"0\" or \"1\".")))
        }
    }
    if let Some(b) = &m.byol {
        if b != "true" && b != "false" {
            return Err(Error::invalid(format!("BYOL {b:?} is invalid; use \"true\" or \"false\".")));
        }
    }
    Ok(())
}

/// Accepts a reinstall or change-OS request and starts its saga; returns the job id.
pub async fn rebuild(
    app: &App,
    caller: &Caller,
    server_id: &str,
    v: Variant,
    opts: Option<OsOptions>,
) -> Result<String, Error> {
    let o = opts.ok_or_else(|| Error::invalid(format!("request body is illegal: {} is required.", v.wrapper())))?;
    check_fields(v, &o)?;
    // The server, the key pair and the image are read together (one statement on a database
    // server); their errors are still answered in the order the checks read: the server's first.
    let also = AlsoRead {
        keypair: nonempty(&o.keyname),
        image: nonempty(&o.imageid).filter(|_| v.change),
        own_image: !v.change,
        group_names: false,
        seen: false,
    };
    let (row, read) = super::server_with_of(app, &caller.project_id, server_id, also).await?;
    let with_stop = o.mode.as_deref() == Some("withStopServer");
    let system_disk = row.volumes.iter().find(|vol| vol.boot_index == Some(0)).cloned();
    gates::os_rebuild_allowed(&row.server, system_disk.is_some(), with_stop)?;
    let old_disk = system_disk.ok_or_else(|| Error::code(Code::Ecs0105))?;

    let key = match nonempty(&o.keyname) {
        Some(name) => {
            let kp = read
                .keypair
                .ok_or_else(|| Error::new(Code::Ecs0314, format!("The key pair [{name}] does not exist.")))?;
            let userid = nonempty(&o.userid).unwrap_or_default();
            if kp.user_id != userid {
                return Err(Error::new(
                    Code::Ecs0314,
                    format!("the keypair {name} does not match the user_id {userid}."),
                ));
            }
            Some(kp)
        }
        None => None,
    };
    let image_id =
        if v.change { nonempty(&o.imageid).unwrap_or_default().to_string() } else { row.server.image_id.clone() };
    let image = catalog::image_checked(app, caller, &image_id, read.image)?;
    if old_disk.size_gb < image.min_disk {
        return Err(Error::invalid(format!(
            "The system disk ({} GB) is smaller than the image's minimum ({} GB).",
            old_disk.size_gb, image.min_disk
        )));
    }

    let now = now_ms();
    let was_running = row.server.vm_state == VmState::Active;
    let mut server = row.server.clone();
    server.task_state = Some(if was_running { TaskState::PoweringOff } else { TaskState::Rebuilding });
    server.updated_ms = now;
    let kind = if v.change { job_type::CHANGE_OS } else { job_type::REINSTALL_OS };
    let job = Job::new(&caller.project_id, kind, None, Some(server_id), now);
    let meta = o.metadata.clone().unwrap_or_default();
    let user_data = if v.cloud_init { nonempty(&meta.user_data).map(str::to_string) } else { None };
    let password_hash = super::hash_password(nonempty(&o.adminpass)).await?;
    let params = rebuild_os::Params {
        project_id: caller.project_id.clone(),
        server_id: server_id.to_string(),
        change_os: v.change,
        prior_vm_state: row.server.vm_state,
        was_running,
        old_disk,
        image: ImageInfo::from(&image),
        key_name: key.as_ref().map(|k| k.name.clone()),
        injection: Injection {
            public_key: key.map(|k| k.public_key),
            password_hash,
            user_data,
            hostname: Some(row.server.hostname.clone()),
            // The /v1 APIs write into the disk themselves: the image has nothing to read a seed.
            via_cloud_init: v.cloud_init && image.cloud_init,
        },
        cloud_init_api: v.cloud_init,
        data_disks: crate::sagas::data_disk_ids(&row.volumes),
        vcpus: ecs_model::flavor::find(&row.server.flavor_id).map(|f| f.vcpus).unwrap_or(1),
        ram_mb: ecs_model::flavor::find(&row.server.flavor_id).map(|f| f.ram_mb).unwrap_or(1024),
        nics: crate::sagas::vm_nics(&row.server),
    };
    let b = Begin {
        update_servers: vec![server],
        jobs: vec![job.clone()],
        sagas: vec![params.record(&job.id)?],
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(job.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: Variant = Variant { change: false, cloud_init: false };
    const V2: Variant = Variant { change: false, cloud_init: true };
    const C1: Variant = Variant { change: true, cloud_init: false };

    fn opts(f: impl FnOnce(&mut OsOptions)) -> OsOptions {
        let mut o = OsOptions::default();
        f(&mut o);
        o
    }

    fn code(r: Result<(), Error>) -> Option<Code> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn v1_needs_a_key_or_a_password() {
        assert_eq!(code(check_fields(V1, &opts(|_| {}))), Some(Code::Ecs0005));
        assert_eq!(code(check_fields(V1, &opts(|o| o.adminpass = Some("!QAZxsw2".into())))), None);
        let key_only = opts(|o| o.keyname = Some("k".into()));
        assert_eq!(code(check_fields(V1, &key_only)), Some(Code::Ecs0005), "userid missing");
        let both = opts(|o| {
            o.keyname = Some("k".into());
            o.userid = Some("u".into());
            o.adminpass = Some("!QAZxsw2".into());
        });
        assert_eq!(code(check_fields(V1, &both)), None, "v1 allows both");
        assert_eq!(code(check_fields(V2, &both)), Some(Code::Ecs0005), "v2 forbids both");
    }

    #[test]
    fn v2_without_credentials_needs_user_data() {
        assert_eq!(code(check_fields(V2, &opts(|_| {}))), Some(Code::Ecs0005));
        let ud = opts(|o| {
            o.metadata = Some(OsMetadata { user_data: Some("IyEvYmluL2Jhc2gK".into()), ..Default::default() })
        });
        assert_eq!(code(check_fields(V2, &ud)), None);
    }

    #[test]
    fn enumerated_fields_and_passwords() {
        let base = |f: fn(&mut OsOptions)| {
            opts(|o| {
                o.adminpass = Some("!QAZxsw2".into());
                f(o)
            })
        };
        assert_eq!(code(check_fields(V1, &base(|o| o.mode = Some("stop".into())))), Some(Code::Ecs0005));
        assert_eq!(code(check_fields(V1, &base(|o| o.mode = Some("withStopServer".into())))), None);
        assert_eq!(
            code(check_fields(
                V1,
                &base(|o| o.metadata = Some(OsMetadata { byol: Some("yes".into()), ..Default::default() }))
            )),
            Some(Code::Ecs0005)
        );
        assert_eq!(
            code(check_fields(
                V1,
                &base(|o| o.metadata = Some(OsMetadata { system_encrypted: Some("1".into()), ..Default::default() }))
            )),
            Some(Code::Ecs0005)
        );
        assert_eq!(code(check_fields(V1, &opts(|o| o.adminpass = Some("abc".into())))), Some(Code::Ecs0011));
        assert_eq!(code(check_fields(C1, &base(|_| {}))), Some(Code::Ecs0005), "imageid required");
        assert_eq!(code(check_fields(C1, &base(|o| o.imageid = Some("nope".into())))), Some(Code::Ecs0031));
    }
}
