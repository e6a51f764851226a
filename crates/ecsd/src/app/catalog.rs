//! Read-only catalogs: images (IMS), flavors, VPCs and subnets.

use super::{internal, views};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::flavor::FLAVORS;
use ecs_model::image::Image;
use ecs_model::Error;
use ecs_types::flavor::FlavorList;
use ecs_types::image::{ImageInfo, ImageList, PageInfo};
use ecs_types::network::{SubnetEnvelope, SubnetList, VpcEnvelope, VpcList};
use ecs_types::queries::{FlavorListQuery, ImageListQuery};
use ecs_types::Code;

/// Whether the caller may use an image: public or its project's, and bootable by the driver
/// (a real driver needs the image's bytes; the built-in catalog has none).
fn usable(app: &App, caller: &Caller, i: &Image) -> bool {
    let owned = i.owner.is_none() || i.owner.as_deref() == Some(caller.project_id.as_str());
    owned && (app.ctx.driver.name() == "sim" || i.file.is_some())
}

/// Images the caller may see.
pub async fn visible_images(app: &App, caller: &Caller) -> Result<Vec<Image>, Error> {
    let all = app.ctx.store.image_list().await.map_err(internal)?;
    Ok(all.into_iter().filter(|i| usable(app, caller, i)).collect())
}

/// An image the caller may use, or `Ecs.0031`.
pub async fn image_for(app: &App, caller: &Caller, id: &str) -> Result<Image, Error> {
    let img = app.ctx.store.image_get(id).await.map_err(internal)?;
    image_checked(app, caller, id, img)
}

/// [`image_for`] of an image already read (with the server a request is about).
pub fn image_checked(app: &App, caller: &Caller, id: &str, img: Option<Image>) -> Result<Image, Error> {
    match img {
        Some(i) if usable(app, caller, &i) => {
            if i.status != "active" {
                return Err(Error::new(Code::Ecs0032, format!("The image [{id}] is not in Active state.")));
            }
            Ok(i)
        }
        _ => Err(Error::new(Code::Ecs0031, format!("The image [{id}] does not exist."))),
    }
}

/// IMS `GET /v2/cloudimages` with its common filters and marker pagination (sorted by name).
pub async fn list_images(app: &App, caller: &Caller, q: &ImageListQuery) -> Result<ImageList, Error> {
    let mut imgs = visible_images(app, caller).await?;
    let eq = |want: &Option<String>, v: &str| want.as_deref().is_none_or(|want| want == v);
    imgs.retain(|i| {
        eq(&q.imagetype, &i.image_type)
            && eq(&q.os_type, &i.os_type)
            && eq(&q.platform, &i.platform)
            && eq(&q.os_bit, &i.os_bit)
            && eq(&q.id, &i.id)
            && eq(&q.name, &i.name)
            && eq(&q.status, &i.status)
            && eq(&q.visibility, &i.visibility)
            && eq(&q.disk_format, &i.disk_format)
            && eq(&q.isregistered, "true")
            && eq(&q.support_kvm, "true")
    });
    if let Some(min) = q.min_disk {
        imgs.retain(|i| i.min_disk >= i64::try_from(min).unwrap_or(i64::MAX));
    }
    imgs.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    if let Some(m) = &q.marker {
        let pos = imgs
            .iter()
            .position(|i| &i.id == m)
            .ok_or_else(|| Error::invalid(format!("marker [{m}] is not an image id.")))?;
        imgs.drain(..=pos);
    }
    let limit = q.limit.unwrap_or(500).clamp(1, 1000) as usize;
    let more = imgs.len() > limit;
    imgs.truncate(limit);
    let next_marker = if more { imgs.last().map(|i| i.id.clone()).unwrap_or_default() } else { String::new() };
    Ok(ImageList { images: imgs.iter().map(views::image_info).collect(), page_info: PageInfo { next_marker } })
}

/// Glance-style `GET /v2/images/{id}`.
pub async fn show_image(app: &App, caller: &Caller, id: &str) -> Result<ImageInfo, Error> {
    let imgs = visible_images(app, caller).await?;
    imgs.iter()
        .find(|i| i.id == id)
        .map(views::image_info)
        .ok_or_else(|| Error::new(Code::NovaNotFound, format!("No image found with ID {id}")))
}

/// `GET /v1/{project_id}/cloudservers/flavors`.
pub fn list_flavors(caller: &Caller, q: &FlavorListQuery) -> FlavorList {
    let want = q.flavor_id.as_deref();
    FlavorList {
        flavors: FLAVORS
            .iter()
            .filter(|f| want.is_none_or(|w| w == f.id))
            .map(|f| views::flavor_view(f, &caller.project_id))
            .collect(),
    }
}

/// `GET /v1/{project_id}/vpcs`.
pub async fn list_vpcs(app: &App, caller: &Caller) -> Result<VpcList, Error> {
    app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    let vpcs = app.ctx.store.vpc_list(&caller.project_id).await.map_err(internal)?;
    Ok(VpcList { vpcs: vpcs.iter().map(views::vpc_view).collect() })
}

/// `GET /v1/{project_id}/vpcs/{vpc_id}`.
pub async fn show_vpc(app: &App, caller: &Caller, id: &str) -> Result<VpcEnvelope, Error> {
    let vpcs = list_vpcs(app, caller).await?;
    vpcs.vpcs
        .into_iter()
        .find(|v| v.id == id)
        .map(|vpc| VpcEnvelope { vpc })
        .ok_or_else(|| Error::new(Code::NovaNotFound, format!("Vpc {id} could not be found.")))
}

/// `GET /v1/{project_id}/subnets`, optionally of one VPC.
pub async fn list_subnets(app: &App, caller: &Caller, vpc_id: Option<&str>) -> Result<SubnetList, Error> {
    app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    let subnets = app.ctx.store.subnet_list(&caller.project_id).await.map_err(internal)?;
    let mut out = Vec::new();
    for s in subnets.iter().filter(|s| vpc_id.is_none_or(|v| v == s.vpc_id)) {
        let used = app.ctx.store.subnet_used(&s.id).await.map_err(internal)?;
        out.push(views::subnet_view(s, used));
    }
    Ok(SubnetList { subnets: out })
}

/// `GET /v1/{project_id}/subnets/{subnet_id}`.
pub async fn show_subnet(app: &App, caller: &Caller, id: &str) -> Result<SubnetEnvelope, Error> {
    let all = list_subnets(app, caller, None).await?;
    all.subnets
        .into_iter()
        .find(|s| s.id == id)
        .map(|subnet| SubnetEnvelope { subnet })
        .ok_or_else(|| Error::new(Code::NovaNotFound, format!("Subnet {id} could not be found.")))
}

/// `GET /v1/{project_id}/cloudservers/flavors/{flavor_id}/resources`: the zones of the caller's
/// region that can take `count` servers of the flavor now. Every zone is served by the same
/// nodes, so all zones have room or none has: on a store several nodes share, room is what
/// the live nodes have free (as placement sees it); a node alone takes what it is asked.
pub async fn flavor_capacity(
    app: &App,
    caller: &Caller,
    flavor_id: &str,
    q: &ecs_types::flavor::FlavorCapacityQuery,
) -> Result<ecs_types::flavor::FlavorCapacity, Error> {
    use ecs_types::flavor::{FlavorCapacity, FlavorCapacityZone};
    let flavor = ecs_model::flavor::find(flavor_id)
        .ok_or_else(|| Error::new(Code::Ecs0019, format!("Flavor {flavor_id} does not exist or is abandoned.")))?;
    let count = match q.count.as_deref().filter(|c| !c.is_empty()) {
        None => 1,
        Some(c) => match c.parse::<i64>() {
            Ok(n) if (1..=super::create::MAX_CREATE).contains(&n) => n,
            _ => {
                return Err(Error::invalid(format!(
                    "count must be a number between 1 and {}, got {c:?}.",
                    super::create::MAX_CREATE
                )))
            }
        },
    };
    let region = app.accounts.get(&caller.ak).map(|a| a.project_name.clone()).unwrap_or_default();
    let asked: Vec<&str> = q
        .region_ids
        .as_deref()
        .map(|r| r.split(',').map(str::trim).filter(|r| !r.is_empty()).collect())
        .unwrap_or_default();
    if !asked.is_empty() && !asked.contains(&region.as_str()) {
        return Ok(FlavorCapacity { resources: vec![] });
    }
    let room = servers_that_fit(app, flavor).await? >= count;
    let zones = super::zones::of(app, caller);
    let resources = if room {
        zones
            .iter()
            .enumerate()
            .map(|(i, z)| FlavorCapacityZone {
                region_id: region.clone(),
                availability_zone: z.clone(),
                prefer: i == 0,
            })
            .collect()
    } else {
        vec![]
    };
    Ok(FlavorCapacity { resources })
}

/// How many servers of `flavor` the live nodes have room for now, as placement counts it (each
/// node's free vCPUs and memory); a node alone (a store only it opens) has room for any number.
async fn servers_that_fit(app: &App, flavor: &ecs_model::flavor::Flavor) -> Result<i64, Error> {
    let Some(cluster) = app.ctx.store.cluster() else { return Ok(i64::MAX) };
    let nodes = cluster.node_list().await.map_err(internal)?;
    Ok(nodes
        .iter()
        .filter(|n| n.live)
        .map(|n| {
            let by_cpu = if flavor.vcpus > 0 { n.free_vcpus() / flavor.vcpus } else { i64::MAX };
            let by_mem = if flavor.ram_mb > 0 { n.free_memory_mib() / flavor.ram_mb } else { i64::MAX };
            by_cpu.min(by_mem).max(0)
        })
        .fold(0i64, |a, b| a.saturating_add(b)))
}

/// `GET /v1/{project_id}/cloudservers/flavor-sell-policies`: every flavor is sold pay-per-use
/// (`postPaid`) in every zone of the region, `available` while the nodes have room for one
/// server of it and `sellout` when they have not; yearly/monthly, spot and reserved sales are
/// not offered, so asking for those modes lists nothing.
pub async fn sell_policies(
    app: &App,
    caller: &Caller,
    q: &ecs_types::flavor::SellPolicyQuery,
) -> Result<ecs_types::flavor::SellPolicyList, Error> {
    use ecs_types::flavor::{SellPolicy, SellPolicyList};
    let opt = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    if let Some(st) = opt(&q.sell_status) {
        if st != "available" && st != "sellout" {
            return Err(Error::invalid(format!("sell_status must be available or sellout, got {st:?}.")));
        }
    }
    if let Some(m) = opt(&q.sell_mode) {
        if !["postPaid", "prePaid", "spot", "ri"].contains(&m.as_str()) {
            return Err(Error::invalid(format!("sell_mode must be postPaid, prePaid, spot or ri, got {m:?}.")));
        }
    }
    let limit = q.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(Error::invalid(format!("limit must be between 1 and 1000, got {limit}.")));
    }
    let zones = super::zones::of(app, caller);
    let mut all = Vec::new();
    // Ids number the (flavor, zone) pairs in catalog order, so they stay the same between calls.
    for (i, f) in FLAVORS.iter().enumerate() {
        let status = if servers_that_fit(app, f).await? >= 1 { "available" } else { "sellout" };
        for (j, z) in zones.iter().enumerate() {
            all.push(SellPolicy {
                id: (i * zones.len() + j + 1) as i64,
                flavor_id: f.id.to_string(),
                sell_status: status.to_string(),
                availability_zone_id: z.clone(),
                sell_mode: "postPaid".to_string(),
            });
        }
    }
    let matching: Vec<SellPolicy> = all
        .into_iter()
        .filter(|p| opt(&q.flavor_id).is_none_or(|f| p.flavor_id == f))
        .filter(|p| opt(&q.sell_status).is_none_or(|s| p.sell_status == s))
        .filter(|p| opt(&q.sell_mode).is_none_or(|m| p.sell_mode == m))
        .filter(|p| opt(&q.availability_zone_id).is_none_or(|z| p.availability_zone_id == z))
        .collect();
    let count = matching.len() as i64;
    let after = q.marker.unwrap_or(0) as i64;
    let sell_policies = matching.into_iter().filter(|p| p.id > after).take(limit as usize).collect();
    Ok(SellPolicyList { count, sell_policies })
}
