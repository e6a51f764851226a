//! Images, flavors, VPCs and subnets.

use crate::app::catalog;
use crate::app::query::{param, query_pairs};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ecs_types::errors::{EcsErrorBody, NovaItemNotFound};
use ecs_types::flavor::FlavorList;
use ecs_types::image::{ImageInfo, ImageList};
use ecs_types::network::{SubnetEnvelope, SubnetList, VpcEnvelope, VpcList};

type Res<T> = Result<Json<T>, ApiError>;

/// `GET /v2/cloudimages`.
#[utoipa::path(
    get,
    path = "/v2/cloudimages",
    operation_id = "ListImages",
    tag = "IMS",
    summary = "List the images the caller may use (public and its project's), sorted by name",
    params(
        ("__imagetype" = Option<String>, Query, description = "`gold` (public), `private`, ..."),
        ("__os_type" = Option<String>, Query),
        ("__platform" = Option<String>, Query),
        ("__os_bit" = Option<String>, Query),
        ("__isregistered" = Option<String>, Query),
        ("__support_kvm" = Option<String>, Query),
        ("id" = Option<String>, Query),
        ("name" = Option<String>, Query),
        ("status" = Option<String>, Query),
        ("visibility" = Option<String>, Query),
        ("disk_format" = Option<String>, Query),
        ("min_disk" = Option<u64>, Query, format = "uint64", description = "Only images needing at least this many GB."),
        ("marker" = Option<String>, Query, description = "List from after this image id."),
        ("limit" = Option<u64>, Query, format = "uint64", description = "Page size (default 500; taken into 1..=1000)."),
    ),
    responses(
        (status = 200, description = "One page of images.", body = ImageList),
        (status = 400, description = "`Ecs.0005`: a malformed number or an unknown `marker`.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn images(State(app): State<App>, Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<ImageList> {
    Ok(Json(catalog::list_images(&app, &c, &query_pairs(q.as_deref())).await?))
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
    params(ProjectPath, ("flavor_id" = Option<String>, Query, description = "Only this flavor.")),
    responses(
        (status = 200, description = "The flavors.", body = FlavorList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn flavors(Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<FlavorList> {
    Ok(Json(catalog::list_flavors(&c, &query_pairs(q.as_deref()))))
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
    params(ProjectPath, ("vpc_id" = Option<String>, Query, description = "Only this VPC's subnets.")),
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
    let q = query_pairs(q.as_deref());
    Ok(Json(catalog::list_subnets(&app, &c, param(&q, "vpc_id")).await?))
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
