//! Request bodies of the ECS server operations.
//!
//! Every field the client may omit is an `Option`; the rules between fields (for example
//! "`userid` is required with `keyname`") are checked by the application layer, which can say
//! which rule was broken. Unknown fields are ignored, as the real service does.

use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `{"os-reinstall": {...}}` for `/v1` and `/v2` `reinstallos`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReinstallBody {
    #[serde(rename = "os-reinstall")]
    pub os_reinstall: Option<OsOptions>,
}

/// `{"os-change": {...}}` for `/v1` and `/v2` `changeos`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChangeOsBody {
    #[serde(rename = "os-change")]
    pub os_change: Option<OsOptions>,
}

/// The fields shared by reinstall and change OS (change OS adds `imageid` and `isAutoPay`).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct OsOptions {
    pub adminpass: Option<String>,
    pub keyname: Option<String>,
    pub userid: Option<String>,
    /// `withStopServer`: stop a running server first.
    #[schema(pattern = "^withStopServer$")]
    pub mode: Option<String>,
    pub metadata: Option<OsMetadata>,
    pub imageid: Option<String>,
    #[serde(rename = "isAutoPay")]
    pub is_auto_pay: Option<String>,
}

/// `metadata` of reinstall / change OS.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct OsMetadata {
    /// `"1"`: encrypt the system disk (with `__system__cmkid`), `"0"`: do not.
    #[serde(rename = "__system__encrypted")]
    #[schema(pattern = "^[01]$")]
    pub system_encrypted: Option<String>,
    #[serde(rename = "__system__cmkid")]
    pub system_cmkid: Option<String>,
    #[serde(rename = "BYOL")]
    #[schema(pattern = "^(true|false)$")]
    pub byol: Option<String>,
    /// Only meaningful for the `/v2` (Cloud-Init) variants.
    pub user_data: Option<String>,
}

/// `POST /v1/{project_id}/cloudservers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateServersBody {
    pub server: Option<PostPaidServer>,
    pub dry_run: Option<bool>,
}

/// The `server` object of a pay-per-use create.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct PostPaidServer {
    /// 1 to 64 letters, digits, `_`, `-` and `.`.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    #[serde(rename = "imageRef")]
    pub image_ref: Option<String>,
    #[serde(rename = "flavorRef")]
    pub flavor_ref: Option<String>,
    #[schema(format = "uuid")]
    pub vpcid: Option<String>,
    pub nics: Option<Vec<Nic>>,
    pub root_volume: Option<RootVolume>,
    pub data_volumes: Option<Vec<crate::create::DataVolume>>,
    pub availability_zone: Option<String>,
    pub key_name: Option<String>,
    #[serde(rename = "adminPass")]
    pub admin_pass: Option<String>,
    /// How many servers (default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub count: Option<i64>,
    #[serde(rename = "isAutoRename")]
    pub is_auto_rename: Option<bool>,
    pub security_groups: Option<Vec<IdRef>>,
    pub user_data: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub server_tags: Option<Vec<Tag>>,
    /// At most 85 characters, without `<` and `>`.
    #[schema(max_length = 85)]
    pub description: Option<String>,
    pub extendparam: Option<crate::create::ExtendParam>,
    #[serde(rename = "os:scheduler_hints")]
    pub scheduler_hints: Option<crate::create::SchedulerHints>,
    /// When the server deletes itself (`yyyy-MM-ddTHH:mm:ssZ`); absent or empty: never.
    pub auto_terminate_time: Option<String>,
    /// An elastic IP to create or bind: refused, servers have private addresses only.
    #[schema(value_type = Option<Object>)]
    pub publicip: Option<serde_json::Value>,
}

/// A NIC of a create request.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct Nic {
    pub subnet_id: Option<String>,
    /// A fixed private address in the subnet (only with `count` 1).
    pub ip_address: Option<String>,
    /// An IPv6 address as well: refused, the subnets are IPv4 only.
    pub ipv6_enable: Option<bool>,
}

/// The system volume of a create request.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct RootVolume {
    #[schema(pattern = "^(SATA|SAS|SSD|GPSSD|co-p1|uh-l1|ESSD|GPSSD2|ESSD2)$")]
    pub volumetype: Option<String>,
    pub size: Option<i64>,
    /// Accepted (provisioned IOPS of GPSSD2/ESSD2); not enforced.
    pub iops: Option<i64>,
    /// Accepted (provisioned throughput of GPSSD2); not enforced.
    pub throughput: Option<i64>,
    pub extendparam: Option<crate::create::VolumeExtendParam>,
    /// `__system__encrypted`, `__system__cmkid`: accepted, the disk is not encrypted.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `{"id": "..."}`.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct IdRef {
    pub id: Option<String>,
}

/// `{"key": "...", "value": "..."}`.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// `POST /v1/{project_id}/cloudservers/delete`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeleteServersBody {
    pub servers: Option<Vec<IdRef>>,
    pub delete_publicip: Option<bool>,
    pub delete_volume: Option<bool>,
}

/// `POST /v1/{project_id}/cloudservers/action`: exactly one of the three keys.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ServersActionBody {
    #[serde(rename = "os-start")]
    pub os_start: Option<BatchAction>,
    #[serde(rename = "os-stop")]
    pub os_stop: Option<BatchAction>,
    pub reboot: Option<BatchAction>,
}

/// The servers (and for stop/reboot the `type`) of a batch action.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchAction {
    pub servers: Option<Vec<IdRef>>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateServerBody {
    pub server: Option<UpdateServer>,
}

/// Updatable fields of a server.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct UpdateServer {
    /// 1 to 64 letters, digits, `_`, `-` and `.`.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// At most 85 characters, without `<` and `>`.
    #[schema(max_length = 85)]
    pub description: Option<String>,
    /// 1 to 64 ASCII letters, digits, `-` and `.`.
    #[schema(pattern = "^[A-Za-z0-9.-]{1,64}$")]
    pub hostname: Option<String>,
}

/// `POST /v1.1/{project_id}/cloudservers/{server_id}/resize` and its `/v1` form: `{"resize": {...}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ResizeBody {
    pub resize: Option<ResizeOptions>,
    /// `true`: check the request only; nothing is changed (answered 202).
    pub dry_run: Option<bool>,
}

/// The flavor change. `/v1` (`ResizePostPaidServerOption`) has `flavorRef` and `mode`; `/v1.1`
/// (`ResizePrePaidServerOption`) adds `dedicated_host_id` and `extendparam`.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct ResizeOptions {
    /// The new flavor's id.
    #[serde(rename = "flavorRef")]
    pub flavor_ref: Option<String>,
    /// `withStopServer`: stop a running server first and start it again after.
    #[schema(pattern = "^withStopServer$")]
    pub mode: Option<String>,
    /// A dedicated host to move to: ecsd has none, so it must be absent.
    pub dedicated_host_id: Option<String>,
    pub extendparam: Option<ResizeExtendParam>,
}

/// `extendparam` of a `/v1.1` resize.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct ResizeExtendParam {
    /// Yearly/monthly servers only: pay the order at once (`"true"`/`"false"`).
    #[serde(rename = "isAutoPay")]
    #[schema(pattern = "^(true|false)$")]
    pub is_auto_pay: Option<String>,
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/attachvolume`: `{"volumeAttachment": {...}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AttachVolumeBody {
    #[serde(rename = "volumeAttachment")]
    pub volume_attachment: Option<AttachVolumeOption>,
    /// `true`: check the request only; nothing is changed (answered 202).
    pub dry_run: Option<bool>,
}

/// The volume to attach (SDK `AttachServerVolumeOption`).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct AttachVolumeOption {
    /// The volume's id.
    #[serde(rename = "volumeId")]
    pub volume_id: Option<String>,
    /// Where it goes: `/dev/vdb`, ... (`/dev/sdX` is taken as `/dev/vdX`); absent: the first
    /// free data device. `/dev/vda` makes it the system disk of a stopped server without one.
    pub device: Option<String>,
    /// Only with `dry_run` and no `volumeId` in the real service; ignored.
    pub volume_type: Option<String>,
    /// Only with `dry_run` and no `volumeId` in the real service; ignored.
    pub count: Option<i64>,
    /// `"true"` asks for a SCSI disk, which ecsd does not offer.
    #[serde(rename = "hw:passthrough")]
    pub hwpassthrough: Option<String>,
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateBlockDeviceBody {
    pub block_device: Option<UpdateBlockDeviceOption>,
}

/// SDK `UpdateServerBlockDeviceOption`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateBlockDeviceOption {
    /// Whether the disk is deleted with the server.
    pub delete_on_termination: Option<bool>,
}

/// `POST /v2/{project_id}/cloudvolumes` (and `/v2.1`): `{"volume": {...}}` (EVS SDK
/// `CreateVolumeRequestBody`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateVolumeBody {
    pub volume: Option<CreateVolumeOption>,
    /// Create and attach to this server: not supported (attach it afterwards).
    pub server_id: Option<String>,
    #[serde(rename = "bssParam")]
    pub bss_param: Option<VolumeBssParam>,
    #[serde(rename = "OS-SCH-HNT:scheduler_hints")]
    #[schema(value_type = Option<Object>)]
    pub scheduler_hints: Option<serde_json::Value>,
}

/// EVS SDK `CreateVolumeOption`.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct CreateVolumeOption {
    pub availability_zone: Option<String>,
    pub backup_id: Option<String>,
    /// How many volumes (1 to 100).
    pub count: Option<i64>,
    pub description: Option<String>,
    pub enterprise_project_id: Option<String>,
    #[serde(rename = "imageRef")]
    pub image_ref: Option<String>,
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// Whether the volume is shared.
    pub multiattach: Option<bool>,
    pub name: Option<String>,
    /// GB: 10 to 32768 for a blank data volume.
    pub size: Option<i64>,
    pub snapshot_id: Option<String>,
    pub volume_type: Option<String>,
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
}

/// EVS SDK `BssParamForCreateVolume` (the part ecsd reads).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct VolumeBssParam {
    #[serde(rename = "chargingMode")]
    pub charging_mode: Option<String>,
    #[serde(rename = "isAutoPay")]
    pub is_auto_pay: Option<String>,
    #[serde(rename = "periodNum")]
    pub period_num: Option<i64>,
    #[serde(rename = "periodType")]
    pub period_type: Option<String>,
}
