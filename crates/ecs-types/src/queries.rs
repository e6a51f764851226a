//! The query strings of the list calls, one declaration each: the service reads a request's
//! parameters into it, and the OpenAPI document lists its fields.
//!
//! Every value arrives as text. Numbers are read by [`uint`], which takes an empty value
//! (`?limit=`) as an absent one, as the SDKs send unset parameters; anything not a
//! non-negative integer is refused, naming the parameter. Unknown parameters are ignored, and
//! of a repeated one the last counts.

use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

/// Reads a non-negative integer sent as text; empty is absent.
pub fn uint<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            v.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{v:?} is not a non-negative integer")))
        }
    }
}

/// Reads a non-negative integer of at most `i32::MAX` sent as text (a page size or offset:
/// the document declares them 32-bit, as Huawei's APIs do); empty is absent.
pub fn int32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match uint::<D, u32>(d)? {
        Some(v) if v > i32::MAX as u32 => Err(serde::de::Error::custom(format!("{v} is larger than {}", i32::MAX))),
        v => Ok(v),
    }
}

/// `GET /v1/{project_id}/cloudservers/detail`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerListQuery {
    /// Page number, from 1 (0 is taken as 1).
    #[serde(default, deserialize_with = "uint")]
    #[param(value_type = Option<u32>, maximum = 2147483647)]
    pub offset: Option<u64>,
    /// Page size (default 25).
    #[serde(default, deserialize_with = "uint")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Name filter (a regular expression).
    pub name: Option<String>,
    /// Only servers in this status.
    pub status: Option<String>,
    /// Only servers of this flavor.
    pub flavor: Option<String>,
    /// Private IP address filter (substring).
    pub ip: Option<String>,
    /// Private IP address, exact.
    pub ip_eq: Option<String>,
    /// Comma-separated tags the servers must all have: `key=value` (or `key.value`), or a bare
    /// `key` for any value.
    pub tags: Option<String>,
    /// Comma-separated tags the servers must not have.
    #[serde(rename = "not-tags")]
    pub not_tags: Option<String>,
    /// Servers created by one request.
    pub reservation_id: Option<String>,
    /// Comma-separated server ids.
    pub server_id: Option<String>,
    /// List from after this server id.
    pub marker: Option<String>,
}

/// IMS `GET /v2/cloudimages`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImageListQuery {
    /// `gold` (public), `private`, ...
    #[serde(rename = "__imagetype")]
    pub imagetype: Option<String>,
    #[serde(rename = "__os_type")]
    pub os_type: Option<String>,
    #[serde(rename = "__platform")]
    pub platform: Option<String>,
    #[serde(rename = "__os_bit")]
    pub os_bit: Option<String>,
    #[serde(rename = "__isregistered")]
    pub isregistered: Option<String>,
    #[serde(rename = "__support_kvm")]
    pub support_kvm: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub visibility: Option<String>,
    pub disk_format: Option<String>,
    /// Only images needing at least this many GB.
    #[serde(default, deserialize_with = "uint")]
    #[param(format = "uint64")]
    pub min_disk: Option<u64>,
    /// List from after this image id.
    pub marker: Option<String>,
    /// Page size (default 500; taken into 1..=1000).
    #[serde(default, deserialize_with = "uint")]
    #[param(format = "uint64")]
    pub limit: Option<u64>,
}

/// `GET /v1/{project_id}/cloudservers/flavors`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlavorListQuery {
    /// Only this flavor.
    pub flavor_id: Option<String>,
}

/// `GET /v1/{project_id}/cloudservers/resize_flavors`: the flavors a server (or a flavor) can
/// change to. One of `instance_uuid`, `source_flavor_id` and `source_flavor_name` is required.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResizeFlavorsQuery {
    /// The server to resize.
    pub instance_uuid: Option<String>,
    /// The flavor to resize from, by id.
    pub source_flavor_id: Option<String>,
    /// The flavor to resize from, by name (ecsd's flavor names are their ids).
    pub source_flavor_name: Option<String>,
    /// At most this many flavors.
    #[serde(default, deserialize_with = "uint")]
    #[param(minimum = 1)]
    pub limit: Option<u64>,
    /// The last flavor id of the previous page.
    pub marker: Option<String>,
    /// `flavorid` (default), `name`, `memory_mb`, `vcpus`, `root_gb`.
    pub sort_key: Option<String>,
    /// `asc` (default) or `desc`.
    pub sort_dir: Option<String>,
}

/// `GET /v1/{project_id}/subnets`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubnetListQuery {
    /// Only this VPC's subnets.
    pub vpc_id: Option<String>,
}

/// Nova `GET /v2.1/{project_id}/os-keypairs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeypairListQuery {
    /// At most this many.
    #[serde(default, deserialize_with = "uint")]
    #[param(format = "uint64")]
    pub limit: Option<u64>,
    /// List from after the key pair of this name.
    pub marker: Option<String>,
}

/// IAM `GET /v3/projects`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectListQuery {
    /// Only the project of this name (a region name).
    pub name: Option<String>,
}

/// `DELETE /v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetachVolumeQuery {
    /// `"1"`: force the detach; `"0"` (the default): a normal one. ecsd detaches the same way.
    #[param(pattern = "^[01]$")]
    pub delete_flag: Option<String>,
}
