//! The route table: every method and path ecsd serves, in one place.

pub(super) mod admin;
pub(super) mod catalog;
pub(super) mod iam;
pub(super) mod jobs;
pub(super) mod keypairs;
pub(super) mod servers;

use crate::context::App;
use axum::routing::{delete, get, post};
use axum::Router;

/// Paths follow the SDKs' `resource_path`s exactly; `{project_id}` is checked against the
/// caller by the authentication layer before any handler runs.
pub fn api() -> Router<App> {
    Router::new()
        // ECS
        .route("/v1/{project_id}/jobs/{job_id}", get(jobs::show))
        .route("/v1/{project_id}/cloudservers", post(servers::create))
        .route("/v1/{project_id}/cloudservers/detail", get(servers::list))
        .route("/v1/{project_id}/cloudservers/flavors", get(catalog::flavors))
        .route("/v1/{project_id}/cloudservers/delete", post(servers::delete))
        .route("/v1/{project_id}/cloudservers/action", post(servers::action))
        .route("/v1/{project_id}/cloudservers/{server_id}", get(servers::show).put(servers::update))
        .route("/v1/{project_id}/cloudservers/{server_id}/reinstallos", post(servers::reinstall_v1))
        .route("/v2/{project_id}/cloudservers/{server_id}/reinstallos", post(servers::reinstall_v2))
        .route("/v1/{project_id}/cloudservers/{server_id}/changeos", post(servers::changeos_v1))
        .route("/v2/{project_id}/cloudservers/{server_id}/changeos", post(servers::changeos_v2))
        // Nova-compatible
        .route("/v2.1/{project_id}/os-keypairs", post(keypairs::create).get(keypairs::list))
        .route("/v2.1/{project_id}/os-keypairs/{name}", get(keypairs::show).delete(keypairs::delete))
        .route("/v2/{project_id}/os-keypairs", post(keypairs::create).get(keypairs::list))
        .route("/v2/{project_id}/os-keypairs/{name}", get(keypairs::show).delete(keypairs::delete))
        .route("/v2.1/{project_id}/servers/{server_id}/action", post(servers::nova_action))
        // IMS
        .route("/v2/cloudimages", get(catalog::images))
        .route("/v2/images/{image_id}", get(catalog::image))
        // VPC
        .route("/v1/{project_id}/vpcs", get(catalog::vpcs))
        .route("/v1/{project_id}/vpcs/{vpc_id}", get(catalog::vpc))
        .route("/v1/{project_id}/subnets", get(catalog::subnets))
        .route("/v1/{project_id}/subnets/{subnet_id}", get(catalog::subnet))
        // IAM
        .route("/v3/auth/tokens", post(iam::issue_token))
        .route("/v3/projects", get(iam::projects))
        // ecsd's own admin API
        .route("/ecsd-admin/v1/faults", get(admin::list).post(admin::create).delete(admin::clear))
        .route("/ecsd-admin/v1/faults/{id}", delete(admin::remove))
        // This API's OpenAPI document (unauthenticated)
        .route("/openapi.json", get(super::openapi::serve))
}
