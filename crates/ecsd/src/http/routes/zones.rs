//! Availability zones, ECS and Nova forms.

use crate::app::zones;
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::Caller;
use axum::extract::State;
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::zones::*;

/// `GET /v1/{project_id}/availability-zones`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/availability-zones",
    operation_id = "ListServerAzInfo",
    tag = "ECS",
    summary = "List the region's availability zones",
    params(ProjectPath),
    responses(
        (status = 200, description = "The zones.", body = AzList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list(State(app): State<App>, Extension(c): Extension<Caller>) -> Json<AzList> {
    Json(AzList {
        availability_zones: zones::of(&app, &c)
            .into_iter()
            .map(|z| AzInfo {
                alias: z.clone(),
                availability_zone_id: z,
                kind: "core".into(),
                mode: "single".into(),
                public_border_group: "center".into(),
                az_group_ids: vec![],
                category: 0,
            })
            .collect(),
    })
}

/// `GET /v2.1/{project_id}/os-availability-zone`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-availability-zone",
    operation_id = "NovaListAvailabilityZones",
    tag = "Nova",
    summary = "List the region's availability zones (Nova)",
    params(ProjectPath),
    responses(
        (status = 200, description = "The zones, all available.", body = NovaAzList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn nova_list(State(app): State<App>, Extension(c): Extension<Caller>) -> Json<NovaAzList> {
    Json(NovaAzList {
        availability_zone_info: zones::of(&app, &c)
            .into_iter()
            .map(|z| NovaAz { hosts: None, zone_name: z, zone_state: NovaAzState { available: true } })
            .collect(),
    })
}
