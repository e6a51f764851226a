//! Creating servers: the `/v1` and `/v1.1` create bodies are validated into one
//! [`CreateInput`], which [`accept`] turns into servers, their disks, the jobs and the sagas,
//! recorded in one transaction that also checks the project's quotas.

use super::validate;
use super::{begin, catalog, internal};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::{create_server, SagaParams};
use ecs_driver::Injection;
use ecs_model::flavor::Flavor;
use ecs_model::image::Image;
use ecs_model::job::{job_type, Job};
use ecs_model::network::{Subnet, Vpc};
use ecs_model::server::{Server, ServerNic, DEFAULT_ENTERPRISE_PROJECT};
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_model::volume::{self, Volume, MAX_DATA_DISKS, SYSTEM_DEVICE, VOLUME_TYPES};
use ecs_model::Error;
use ecs_store::{Begin, ServerFilter};
use ecs_types::create::{DataVolume, ExtendParam};
use ecs_types::requests::PostPaidServer;
use ecs_types::Code;
use std::collections::BTreeMap;

/// Most servers one create request may ask for.
pub const MAX_CREATE: i64 = 100;
/// Sizes of a data disk, in GB.
const DATA_DISK_GB: std::ops::RangeInclusive<i64> = 10..=32768;
/// Longest name of a batch: the `-0001` suffix takes the rest of the 64 characters.
const MAX_BATCH_NAME: usize = 59;

/// What a create request asks for, once validated.
pub enum Created {
    /// `dry_run`: everything checked, nothing created.
    DryRun,
    Accepted {
        job_id: String,
        server_ids: Vec<String>,
    },
}

/// A data disk to create with each server.
pub struct DataDiskInput {
    pub volume_type: String,
    pub size_gb: i64,
    pub multiattach: bool,
    pub delete_on_termination: bool,
}

/// A create request of either API version, every field checked and every reference resolved.
pub struct CreateInput {
    pub name: String,
    pub count: i64,
    pub image: Image,
    pub flavor: &'static Flavor,
    pub vpc: Vpc,
    pub subnet: Subnet,
    /// The address the single server asks for; `None`: the next free one.
    pub fixed_ip: Option<String>,
    pub root_type: String,
    pub root_gb: i64,
    pub data_disks: Vec<DataDiskInput>,
    pub key_name: Option<String>,
    pub public_key: Option<String>,
    pub admin_pass: Option<String>,
    pub user_data: Option<String>,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub security_groups: Vec<String>,
    pub availability_zone: String,
    pub enterprise_project_id: String,
    pub server_group: Option<String>,
    /// `auto_terminate_time`, milliseconds since the epoch.
    pub auto_terminate_ms: Option<i64>,
}

/// `POST /v1/{project_id}/cloudservers` and `POST /v1.1/{project_id}/cloudservers`.
pub async fn create(
    app: &App,
    caller: &Caller,
    server: Option<PostPaidServer>,
    dry_run: Option<bool>,
) -> Result<Created, Error> {
    let req = server.ok_or_else(|| Error::invalid("request body is illegal: server is required."))?;
    let input = validate(app, caller, &req).await?;
    if dry_run == Some(true) {
        return Ok(Created::DryRun);
    }
    accept(app, caller, input).await
}

/// `extendparam.chargingMode`: pay-per-use (`postPaid`, 0) is what ecsd offers; yearly/monthly
/// (`prePaid`, 1) is refused, as is anything else.
fn charging_mode(ext: &ExtendParam) -> Result<(), Error> {
    use serde_json::Value;
    let mode = match &ext.charging_mode {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(Error::invalid(format!("extendparam.chargingMode {other} is not a charging mode."))),
    };
    match mode.as_str() {
        "postPaid" | "0" => Ok(()),
        "prePaid" | "1" => Err(Error::new(Code::Ecs0005, PREPAID_REFUSED)),
        other => Err(Error::invalid(format!(
            "extendparam.chargingMode {other:?} is not a charging mode (postPaid or 0, prePaid or 1)."
        ))),
    }
}

/// Why a yearly/monthly create is refused.
pub const PREPAID_REFUSED: &str = "Yearly/monthly (prePaid) servers are not supported by this service: every \
     server is pay-per-use. Omit extendparam.chargingMode or set it to postPaid.";

/// `extendparam.enterprise_project_id`: "0" (the default) or a UUID.
fn enterprise_project(ext: &ExtendParam) -> Result<String, Error> {
    match ext.enterprise_project_id.as_deref() {
        None | Some("") => Ok(DEFAULT_ENTERPRISE_PROJECT.to_string()),
        Some(id) if id == DEFAULT_ENTERPRISE_PROJECT || ecs_model::ids::is_uuid(id) => Ok(id.to_string()),
        Some(id) => Err(Error::invalid(format!(
            "extendparam.enterprise_project_id {id:?} is neither \"0\" nor an enterprise project id (UUID)."
        ))),
    }
}

fn volume_type(field: &str, t: Option<&str>) -> Result<String, Error> {
    let t = t.ok_or_else(|| Error::invalid(format!("server.{field}.volumetype is required.")))?;
    if !VOLUME_TYPES.contains(&t) {
        return Err(Error::invalid(format!("{field}.volumetype {t:?} is not one of {}.", VOLUME_TYPES.join(", "))));
    }
    Ok(t.to_string())
}

fn data_disks(volumes: &[DataVolume]) -> Result<Vec<DataDiskInput>, Error> {
    if volumes.len() > MAX_DATA_DISKS {
        return Err(Error::invalid(format!(
            "data_volumes: at most {MAX_DATA_DISKS} data disks per server, got {}.",
            volumes.len()
        )));
    }
    let mut out = Vec::with_capacity(volumes.len());
    for (i, d) in volumes.iter().enumerate() {
        let field = format!("data_volumes[{i}]");
        let volume_type = volume_type(&field, d.volumetype.as_deref())?;
        let size_gb = d.size.ok_or_else(|| Error::invalid(format!("server.{field}.size is required.")))?;
        if !DATA_DISK_GB.contains(&size_gb) {
            return Err(Error::invalid(format!(
                "{field}.size must be between {} and {} GB, got {size_gb}.",
                DATA_DISK_GB.start(),
                DATA_DISK_GB.end()
            )));
        }
        if d.data_image_id.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(Error::invalid(format!(
                "{field}.data_image_id: data disks from data-disk images are not supported by this service."
            )));
        }
        if d.extendparam.as_ref().and_then(|e| e.snapshot_id.as_deref()).is_some_and(|s| !s.is_empty()) {
            return Err(Error::invalid(format!(
                "{field}.extendparam.snapshotId: data disks from snapshots are not supported by this service."
            )));
        }
        out.push(DataDiskInput {
            volume_type,
            size_gb,
            multiattach: d.multiattach.unwrap_or(false) || d.shareable.unwrap_or(false),
            delete_on_termination: d.delete_on_termination.unwrap_or(false),
        });
    }
    Ok(out)
}

/// Checks every field of a create and resolves what it names (flavor, image, network, key
/// pair, zone). Nothing is written.
pub async fn validate(app: &App, caller: &Caller, req: &PostPaidServer) -> Result<CreateInput, Error> {
    let name = req.name.as_deref().ok_or_else(|| Error::invalid("server.name is required."))?;
    validate::server_name(name)?;
    let image_ref = req.image_ref.as_deref().ok_or_else(|| Error::invalid("server.imageRef is required."))?;
    let flavor_ref = req.flavor_ref.as_deref().ok_or_else(|| Error::invalid("server.flavorRef is required."))?;
    let vpc_id = req.vpcid.as_deref().ok_or_else(|| Error::invalid("server.vpcid is required."))?;
    if !ecs_model::ids::is_uuid(vpc_id) {
        return Err(Error::invalid(format!("vpc id[{vpc_id}] is not uuid.")));
    }
    let nics = req.nics.as_deref().unwrap_or_default();
    if nics.is_empty() {
        return Err(Error::invalid("server.nics must name one subnet."));
    }
    if nics.len() > 1 {
        return Err(Error::invalid("server.nics: only one NIC per server is supported."));
    }
    let subnet_id =
        nics[0].subnet_id.as_deref().ok_or_else(|| Error::invalid("server.nics[0].subnet_id is required."))?;
    if nics[0].ipv6_enable == Some(true) {
        return Err(Error::invalid("server.nics[0].ipv6_enable: IPv6 addresses are not supported by this service."));
    }
    if req.publicip.as_ref().is_some_and(|p| !p.is_null()) {
        return Err(Error::invalid(
            "server.publicip: elastic IPs are not supported by this service; servers have private addresses only.",
        ));
    }
    let root = req.root_volume.as_ref().ok_or_else(|| Error::invalid("server.root_volume is required."))?;
    let root_type = volume_type("root_volume", root.volumetype.as_deref())?;
    if root.extendparam.as_ref().and_then(|e| e.snapshot_id.as_deref()).is_some_and(|s| !s.is_empty()) {
        return Err(Error::invalid(
            "root_volume.extendparam.snapshotId: system disks from snapshots are not supported by this service.",
        ));
    }
    let data_disks = data_disks(req.data_volumes.as_deref().unwrap_or_default())?;
    let count = req.count.unwrap_or(1);
    if !(1..=MAX_CREATE).contains(&count) {
        return Err(Error::invalid(format!("count must be between 1 and {MAX_CREATE}, got {count}.")));
    }
    if count > 1 && name.chars().count() > MAX_BATCH_NAME {
        return Err(Error::invalid(format!(
            "name must be at most {MAX_BATCH_NAME} characters long when count is more than 1 (a -0001 suffix is added)."
        )));
    }
    let ext = req.extendparam.clone().unwrap_or_default();
    charging_mode(&ext)?;
    if ext.market_type.as_deref().is_some_and(|m| m == "spot") {
        return Err(Error::invalid("extendparam.marketType spot: spot servers are not supported by this service."));
    }
    let enterprise_project_id = enterprise_project(&ext)?;
    let server_group = match req.scheduler_hints.as_ref().and_then(|h| h.group.clone()) {
        Some(g) if !ecs_model::ids::is_uuid(&g) => {
            return Err(Error::invalid(format!("os:scheduler_hints.group {g:?} is not a server group id (UUID).")))
        }
        g => g,
    };
    // The group must exist now; the store checks again as the server joins it.
    if let Some(g) = &server_group {
        if app.ctx.store.server_group_get(&caller.project_id, g).await.map_err(super::internal)?.is_none() {
            return Err(Error::invalid(format!("os:scheduler_hints.group {g}: the server group does not exist.")));
        }
    }
    let zones = super::zones::of(app, caller);
    let availability_zone = match req.availability_zone.as_deref() {
        None | Some("") => zones[0].clone(),
        Some(z) if zones.iter().any(|k| k == z) => z.to_string(),
        Some(z) => {
            return Err(Error::invalid(format!(
                "availability_zone {z:?} does not exist; the zones are {}.",
                zones.join(", ")
            )))
        }
    };
    if let Some(p) = &req.admin_pass {
        validate::admin_password(p)?;
    }
    if let Some(ud) = &req.user_data {
        validate::user_data(ud)?;
    }
    if let Some(d) = &req.description {
        validate::description(d)?;
    }
    let mut metadata = BTreeMap::new();
    for (k, v) in req.metadata.clone().unwrap_or_default() {
        if k.starts_with("__") || k.len() > 255 || v.len() > 255 {
            return Err(Error::invalid(format!("metadata key {k:?} is reserved or too long.")));
        }
        metadata.insert(k, v);
    }
    let tags = super::tags::from_create(req.server_tags.clone())?;
    let groups = req.security_groups.as_deref().unwrap_or_default();
    let security_groups = super::security_groups::resolve_for_create(app, caller, groups).await?;
    let flavor = ecs_model::flavor::find(flavor_ref)
        .ok_or_else(|| Error::new(Code::Ecs0019, format!("Flavor {flavor_ref} does not exist or is abandoned.")))?;
    let image = catalog::image_for(app, caller, image_ref).await?;
    let root_gb = root.size.unwrap_or(image.min_disk.max(40));
    if root_gb < image.min_disk || root_gb > 1024 {
        return Err(Error::invalid(format!(
            "root_volume.size must be between {} (the image's minimum) and 1024 GB, got {root_gb}.",
            image.min_disk
        )));
    }
    let (vpc, subnet) = app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    if vpc.id != vpc_id {
        return Err(Error::invalid(format!("vpc id[{vpc_id}] does not exist in this project.")));
    }
    if subnet.id != subnet_id {
        return Err(Error::invalid(format!("subnet [{subnet_id}] does not exist in vpc [{vpc_id}].")));
    }
    let fixed_ip = match nics[0].ip_address.as_deref().filter(|ip| !ip.is_empty()) {
        None => None,
        Some(_) if count > 1 => {
            return Err(Error::invalid("server.nics[0].ip_address can only be given when count is 1."));
        }
        Some(ip) if ecs_model::network::host_index(&subnet.cidr, ip).is_none() => {
            return Err(Error::invalid(format!(
                "server.nics[0].ip_address {ip:?} is not an assignable address of subnet [{subnet_id}] ({}).",
                subnet.cidr
            )));
        }
        Some(ip) => Some(ip.to_string()),
    };
    let public_key = match &req.key_name {
        Some(k) => Some(
            app.ctx
                .store
                .keypair_get(&caller.project_id, k)
                .await
                .map_err(internal)?
                .ok_or_else(|| Error::new(Code::Ecs0314, format!("The key pair [{k}] does not exist.")))?
                .public_key,
        ),
        None => None,
    };
    Ok(CreateInput {
        name: name.to_string(),
        count,
        image,
        flavor,
        vpc,
        subnet,
        fixed_ip,
        root_type,
        root_gb,
        data_disks,
        key_name: req.key_name.clone(),
        public_key,
        admin_pass: req.admin_pass.clone(),
        user_data: req.user_data.clone(),
        description: req.description.clone().unwrap_or_default(),
        metadata,
        tags,
        security_groups,
        availability_zone,
        enterprise_project_id,
        server_group,
        auto_terminate_ms: super::auto_terminate::deadline(req.auto_terminate_time.as_deref().unwrap_or_default())?,
    })
}

/// The highest `-NNNN` suffix of `base` among the project's server names, 0 if none: a batch
/// continues from it, as Huawei numbers batches ("ecs-0011" after an existing "ecs-0010").
async fn highest_suffix(app: &App, project_id: &str, base: &str) -> Result<u32, Error> {
    let filter = ServerFilter { name: Some(base.to_string()), limit: 1000, page: 1, ..Default::default() };
    let page = app.ctx.store.server_list(project_id, &filter).await.map_err(internal)?;
    let prefix = format!("{base}-");
    Ok(page
        .servers
        .iter()
        .filter_map(|r| r.server.name.strip_prefix(&prefix))
        .filter(|n| n.len() == 4)
        .filter_map(|n| n.parse::<u32>().ok())
        .max()
        .unwrap_or(0))
}

/// The names of a batch: the name itself for one server; otherwise `name-0001`, `name-0002`,
/// ... continuing after the highest number already used, and starting again at 0001 after 9999.
async fn batch_names(app: &App, project_id: &str, input: &CreateInput) -> Result<Vec<String>, Error> {
    if input.count == 1 {
        return Ok(vec![input.name.clone()]);
    }
    let start = highest_suffix(app, project_id, &input.name).await?;
    Ok((1..=input.count as u32).map(|i| format!("{}-{:04}", input.name, (start + i - 1) % 9999 + 1)).collect())
}

/// Records the servers, their disks, the parent job with one sub-job and one saga per server,
/// in one transaction that refuses it whole if it would exceed the project's quotas.
pub async fn accept(app: &App, caller: &Caller, input: CreateInput) -> Result<Created, Error> {
    let now = now_ms();
    let names = batch_names(app, &caller.project_id, &input).await?;
    let password_hash = super::hash_password(input.admin_pass.as_deref()).await?;
    let parent = Job::new(&caller.project_id, job_type::CREATE_SERVER, None, None, now);
    let reservation_id = format!("r-{}", &ecs_model::new_uuid()[..8]);
    let mut b = Begin { quota: Some(app.quotas), ..Default::default() };
    for (i, server_name) in names.into_iter().enumerate() {
        let id = ecs_model::new_uuid();
        let mut metadata = input.metadata.clone();
        ecs_model::image::image_metadata(&mut metadata, &input.image);
        let server = Server {
            id: id.clone(),
            project_id: caller.project_id.clone(),
            user_id: caller.user_id.clone(),
            name: server_name.clone(),
            description: input.description.clone(),
            hostname: server_name.to_lowercase(),
            vm_state: VmState::Building,
            task_state: Some(TaskState::Scheduling),
            image_id: input.image.id.clone(),
            flavor_id: input.flavor.id.to_string(),
            key_name: input.key_name.clone(),
            admin_pass_hash: password_hash.clone(),
            pending_password_hash: None,
            user_data: input.user_data.clone(),
            metadata,
            network: ServerNic {
                vpc_id: input.vpc.id.clone(),
                subnet_id: input.subnet.id.clone(),
                ip: input.fixed_ip.clone().unwrap_or_default(),
                mac: String::new(),
                port_id: ecs_model::new_uuid(),
            },
            availability_zone: input.availability_zone.clone(),
            security_groups: input.security_groups.clone(),
            tags: input.tags.clone(),
            locked: false,
            created_ms: now,
            updated_ms: now,
            launched_ms: None,
            os_change_failed: false,
            fault: None,
            launch_index: i as i64,
            reservation_id: reservation_id.clone(),
            generation: 1,
            enterprise_project_id: input.enterprise_project_id.clone(),
            server_group: input.server_group.clone(),
            host: None,
            auto_terminate_ms: input.auto_terminate_ms,
            extra_nics: Vec::new(),
        };
        let disk = |n: usize, boot_index: i64, device: String, size_gb: i64, volume_type: &str| Volume {
            id: ecs_model::new_uuid(),
            project_id: caller.project_id.clone(),
            server_id: Some(id.clone()),
            boot_index: Some(boot_index),
            image_id: (boot_index == 0).then(|| input.image.id.clone()),
            size_gb,
            volume_type: volume_type.to_string(),
            device,
            delete_on_termination: true,
            created_ms: now,
            name: Some(format!("{server_name}-volume-{n:04}")),
            multiattach: false,
            availability_zone: Some(input.availability_zone.clone()),
            pending: None,
        };
        let system = disk(0, 0, SYSTEM_DEVICE.into(), input.root_gb, &input.root_type);
        let data: Vec<Volume> = input
            .data_disks
            .iter()
            .enumerate()
            .map(|(n, d)| Volume {
                multiattach: d.multiattach,
                delete_on_termination: d.delete_on_termination,
                ..disk(n + 1, -1, volume::data_device(n), d.size_gb, &d.volume_type)
            })
            .collect();
        let child = Job::new(&caller.project_id, job_type::CREATE_SINGLE_SERVER, Some(&parent.id), Some(&id), now);
        let params = create_server::Params {
            project_id: caller.project_id.clone(),
            server_id: id.clone(),
            disk_id: system.id.clone(),
            image_id: input.image.id.clone(),
            image_file: input.image.file.clone(),
            size_gb: input.root_gb,
            injection: Injection {
                public_key: input.public_key.clone(),
                password_hash: password_hash.clone(),
                user_data: input.user_data.clone(),
                hostname: Some(server.hostname.clone()),
                via_cloud_init: input.image.cloud_init,
            },
            vcpus: input.flavor.vcpus,
            ram_mb: input.flavor.ram_mb,
            data_disks: data
                .iter()
                .map(|v| create_server::DataDisk { disk_id: v.id.clone(), size_gb: v.size_gb })
                .collect(),
        };
        b.sagas.push(params.record(&child.id)?);
        b.jobs.push(child);
        b.insert_servers.push(server);
        b.insert_volumes.push(system);
        b.insert_volumes.extend(data);
    }
    b.jobs.insert(0, parent.clone());
    let inserted = begin(app, b).await?;
    if input.auto_terminate_ms.is_some() {
        crate::auto_terminate::wake();
    }
    Ok(Created::Accepted { job_id: parent.id, server_ids: inserted.into_iter().map(|s| s.id).collect() })
}
