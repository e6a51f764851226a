//! Images, flavors, VPCs and subnets.

use crate::app::catalog;
use crate::app::query::{query_pairs, typed};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ecs_types::errors::{EcsErrorBody, NovaItemNotFound};
use ecs_types::flavor::FlavorList;
use ecs_types::image::{ImageInfo, ImageList};
use ecs_types::network::{SubnetEnvelope, SubnetList, VpcEnvelope, VpcList};
use ecs_types::queries::{FlavorListQuery, ImageListQuery, SubnetListQuery};

type Res<T> = Result<Json<T>, ApiError>;

/// `GET /v2/cloudimages`.
#[utoipa::path(
    get,
    path = "/v2/cloudimages",
    operation_id = "ListImages",
    tag = "IMS",
    summary = "List the images the caller may use (public and its project's), sorted by name",
    params(
        ImageListQuery,
    ),
    responses(
        (status = 200, description = "One page of images.", body = ImageList),
        (status = 400, description = "`Ecs.0005`: a malformed number or an unknown `marker`.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn images(State(app): State<App>, Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<ImageList> {
    let q: ImageListQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(catalog::list_images(&app, &c, &q).await?))
}

/// `GET /v2/images/{image_id}`.
#[utoipa::path(
    get,
    path = "/v2/images/{image_id}",
    operation_id = "GlanceShowImage",
    tag = "IMS",
    summary = "Show an image (Glance view)",
    params(("image_id" = String, Path)),
    responses(
        (status = 200, description = "The image.", body = ImageInfo),
        (status = 400, description = "`Ecs.0005`: the request is malformed (a body over 1 MiB).", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such image visible to the caller.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn image(State(app): State<App>, Extension(c): Extension<Caller>, Path(id): Path<String>) -> Res<ImageInfo> {
    Ok(Json(catalog::show_image(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/cloudservers/flavors`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/flavors",
    operation_id = "ListFlavors",
    tag = "ECS",
    summary = "List flavors",
    params(ProjectPath, FlavorListQuery),
    responses(
        (status = 200, description = "The flavors.", body = FlavorList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn flavors(Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<FlavorList> {
    let q: FlavorListQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(catalog::list_flavors(&c, &q)))
}

/// `GET /v1/{project_id}/vpcs`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/vpcs",
    operation_id = "ListVpcs",
    tag = "VPC",
    summary = "List the project's VPCs",
    params(ProjectPath),
    responses(
        (status = 200, description = "The VPCs.", body = VpcList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn vpcs(State(app): State<App>, Extension(c): Extension<Caller>) -> Res<VpcList> {
    Ok(Json(catalog::list_vpcs(&app, &c).await?))
}

/// `GET /v1/{project_id}/vpcs/{vpc_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/vpcs/{vpc_id}",
    operation_id = "ShowVpc",
    tag = "VPC",
    summary = "Show a VPC",
    params(ProjectPath, ("vpc_id" = String, Path)),
    responses(
        (status = 200, description = "The VPC.", body = VpcEnvelope),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such VPC in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn vpc(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<VpcEnvelope> {
    Ok(Json(catalog::show_vpc(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/subnets`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/subnets",
    operation_id = "ListSubnets",
    tag = "VPC",
    summary = "List the project's subnets",
    params(ProjectPath, SubnetListQuery),
    responses(
        (status = 200, description = "The subnets.", body = SubnetList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn subnets(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<SubnetList> {
    let q: SubnetListQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(catalog::list_subnets(&app, &c, q.vpc_id.as_deref()).await?))
}

/// `GET /v1/{project_id}/subnets/{subnet_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/subnets/{subnet_id}",
    operation_id = "ShowSubnet",
    tag = "VPC",
    summary = "Show a subnet",
    params(ProjectPath, ("subnet_id" = String, Path)),
    responses(
        (status = 200, description = "The subnet.", body = SubnetEnvelope),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such subnet in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn subnet(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<SubnetEnvelope> {
    Ok(Json(catalog::show_subnet(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/cloudservers/flavors/{flavor_id}/resources`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/flavors/{flavor_id}/resources",
    operation_id = "ShowFlavorCapacity",
    tag = "ECS",
    summary = "The zones that have room for servers of a flavor now",
    params(ProjectPath, ("flavor_id" = String, Path), ecs_types::flavor::FlavorCapacityQuery),
    responses(
        (status = 200, description = "The zones with room (none when there is no room).", body = ecs_types::flavor::FlavorCapacity),
        (status = 400, description = "`Ecs.0019`: no such flavor; `Ecs.0005`: a malformed `count`.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn flavor_capacity(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, flavor)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Res<ecs_types::flavor::FlavorCapacity> {
    let q: ecs_types::flavor::FlavorCapacityQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(catalog::flavor_capacity(&app, &c, &flavor, &q).await?))
}

/// `GET /v1/{project_id}/cloudservers/flavor-sell-policies`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/flavor-sell-policies",
    operation_id = "ListFlavorSellPolicies",
    tag = "ECS",
    summary = "How each flavor is sold in each zone: pay-per-use, available or sold out",
    params(ProjectPath, ecs_types::flavor::SellPolicyQuery),
    responses(
        (status = 200, description = "One page of policies and how many match.", body = ecs_types::flavor::SellPolicyList),
        (status = 400, description = "`Ecs.0005`: an unknown `sell_status` or `sell_mode`, a malformed number.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn sell_policies(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<ecs_types::flavor::SellPolicyList> {
    let q: ecs_types::flavor::SellPolicyQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(catalog::sell_policies(&app, &c, &q).await?))
}
