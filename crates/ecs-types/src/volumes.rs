//! Disks as the ECS API shows them on a server (`block_device`, `os-volume_attachments`,
//! `appendvolumequota`) and as the disk service (EVS v2 `cloudvolumes`) shows them.
//!
//! JSON types follow the SDK models: `bootIndex` and `size` are integers in `ServerBlockDevice`,
//! `bootable` and `shareable` are strings ("true"/"false") in EVS `VolumeDetail`.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `GET .../block_device`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BlockDeviceList {
    #[serde(rename = "attachableQuantity")]
    pub attachable_quantity: AttachableQuantity,
    #[serde(rename = "volumeAttachments")]
    pub volume_attachments: Vec<BlockDevice>,
}

/// How many more disks of each bus the server can take.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachableQuantity {
    pub free_scsi: i64,
    pub free_blk: i64,
    pub free_disk: i64,
}

/// `GET .../block_device/{volume_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BlockDeviceEnvelope {
    #[serde(rename = "volumeAttachment")]
    pub volume_attachment: BlockDevice,
}

/// One disk of a server (SDK `ServerBlockDevice`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BlockDevice {
    #[serde(rename = "bootIndex")]
    pub boot_index: i64,
    #[serde(rename = "pciAddress")]
    pub pci_address: String,
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    pub device: String,
    #[serde(rename = "serverId")]
    pub server_id: String,
    pub id: String,
    /// GB.
    pub size: i64,
    /// `virtio` or `scsi`.
    pub bus: String,
}

/// `GET .../os-volume_attachments`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeAttachmentList {
    #[serde(rename = "volumeAttachments")]
    pub volume_attachments: Vec<ServerVolumeAttachment>,
}

/// One attachment (SDK `ServerVolumeAttachment`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerVolumeAttachment {
    pub device: String,
    pub id: String,
    #[serde(rename = "serverId")]
    pub server_id: String,
    #[serde(rename = "volumeId")]
    pub volume_id: String,
}

/// `GET .../appendvolumequota`: how many more disks the server can take.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppendableVolumeQuota {
    pub free_scsi: i64,
    pub free_blk: i64,
    pub count: i64,
}

/// `{"volume": VolumeDetail}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeEnvelope {
    pub volume: VolumeDetail,
}

/// `GET /v2/{project_id}/cloudvolumes/detail`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeDetailList {
    /// Matches in all, not the page size.
    pub count: i64,
    pub volumes: Vec<VolumeDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub volumes_links: Option<Vec<Link>>,
}

/// `GET /v2/{project_id}/cloudvolumes`: ids and names only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeSummaryList {
    pub volumes: Vec<VolumeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub volumes_links: Option<Vec<Link>>,
}

/// A volume of the summary list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeSummary {
    pub id: String,
    pub name: String,
    pub links: Vec<Link>,
}

/// `{"href", "rel"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
    pub rel: String,
}

/// A disk as the disk service shows it (SDK `huaweicloudsdkevs` `VolumeDetail`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeDetail {
    pub id: String,
    pub links: Vec<Link>,
    pub name: String,
    /// `in-use` while attached, `available` otherwise.
    pub status: String,
    pub attachments: Vec<VolumeAttachmentInfo>,
    pub availability_zone: String,
    #[serde(rename = "os-vol-host-attr:host")]
    pub host: String,
    pub source_volid: Option<String>,
    pub snapshot_id: Option<String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "os-vol-tenant-attr:tenant_id")]
    pub tenant_id: String,
    /// The image a system disk was made from (`image_id`, `image_name`, ...).
    #[schema(value_type = Object)]
    pub volume_image_metadata: BTreeMap<String, serde_json::Value>,
    pub volume_type: String,
    /// GB.
    pub size: i64,
    /// `"true"` for a system disk.
    pub bootable: String,
    #[schema(value_type = Object)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    pub encrypted: bool,
    pub replication_status: String,
    pub consistencygroup_id: Option<String>,
    /// `"true"` / `"false"`.
    pub shareable: String,
    pub multiattach: bool,
    pub user_id: String,
    pub service_type: String,
    pub tags: BTreeMap<String, String>,
    pub wwn: String,
    pub enterprise_project_id: String,
    pub serial_number: String,
}

/// An attachment of a disk (SDK `huaweicloudsdkevs` `Attachment`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeAttachmentInfo {
    pub server_id: String,
    pub attachment_id: String,
    pub attached_at: String,
    pub host_name: String,
    pub volume_id: String,
    pub device: String,
    pub id: String,
}

/// The filters of the EVS lists that ecsd applies (`list_volumes`); the SDK's others
/// (`metadata`, `sort_key`, `dedicated_storage_id`, ...) are accepted and ignored.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolumeListQuery {
    /// Name, substring.
    pub name: Option<String>,
    /// `in-use` or `available`.
    pub status: Option<String>,
    pub availability_zone: Option<String>,
    /// Only the disks attached to this server.
    pub server_id: Option<String>,
    /// One volume id.
    pub id: Option<String>,
    /// A JSON list of volume ids, `["id1","id2"]`.
    pub ids: Option<String>,
    /// Page size (default 1000).
    #[serde(default, deserialize_with = "crate::queries::uint")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Volumes to skip.
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<i32>, minimum = 0)]
    pub offset: Option<u32>,
    /// List from after this volume id.
    pub marker: Option<String>,
}

/// The answer of `POST /v2/{project_id}/cloudvolumes` (EVS SDK `CreateVolumeResponse`; no
/// `order_id`: nothing is ordered for pay-per-use volumes).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreateVolumeAccepted {
    pub job_id: String,
    pub volume_ids: Vec<String>,
}
