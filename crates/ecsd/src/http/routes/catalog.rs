//! Images, flavors, VPCs and subnets.

use crate::app::catalog;
use crate::context::App;
use crate::http::json::{param, query_pairs};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ecs_types::flavor::FlavorList;
use ecs_types::image::{ImageInfo, ImageList};
use ecs_types::network::{SubnetEnvelope, SubnetList, VpcEnvelope, VpcList};

type Res<T> = Result<Json<T>, ApiError>;

/// `GET /v2/cloudimages`.
pub async fn images(State(app): State<App>, Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<ImageList> {
    Ok(Json(catalog::list_images(&app, &c, &query_pairs(q.as_deref())).await?))
}

/// `GET /v2/images/{image_id}`.
pub async fn image(State(app): State<App>, Extension(c): Extension<Caller>, Path(id): Path<String>) -> Res<ImageInfo> {
    Ok(Json(catalog::show_image(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/cloudservers/flavors`.
pub async fn flavors(Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<FlavorList> {
    Ok(Json(catalog::list_flavors(&c, &query_pairs(q.as_deref()))))
}

/// `GET /v1/{project_id}/vpcs`.
pub async fn vpcs(State(app): State<App>, Extension(c): Extension<Caller>) -> Res<VpcList> {
    Ok(Json(catalog::list_vpcs(&app, &c).await?))
}

/// `GET /v1/{project_id}/vpcs/{vpc_id}`.
pub async fn vpc(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<VpcEnvelope> {
    Ok(Json(catalog::show_vpc(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/subnets`.
pub async fn subnets(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<SubnetList> {
    let q = query_pairs(q.as_deref());
    Ok(Json(catalog::list_subnets(&app, &c, param(&q, "vpc_id")).await?))
}

/// `GET /v1/{project_id}/subnets/{subnet_id}`.
pub async fn subnet(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<SubnetEnvelope> {
    Ok(Json(catalog::show_subnet(&app, &c, &id).await?))
}
