//! NICs added to and removed from a server (`/v1 .../nics`, Nova `os-interface` attach) and how
//! many more a server can take.

use crate::app::nics;
use crate::context::App;
use crate::http::json::{parse, parse_nova};
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ecs_types::errors::{EcsErrorBody, NovaBadRequest, NovaConflict, NovaItemNotFound};
use ecs_types::job::JobAccepted;
use ecs_types::nics::*;

/// `POST /v1/{project_id}/cloudservers/{server_id}/nics`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/nics",
    operation_id = "BatchAddServerNics",
    tag = "ECS",
    summary = "Add NICs to a server (job type `batchAddServerNics`)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = AddNicsBody,
    responses(
        (status = 200, description = "Accepted: the job. The NICs, their addresses and ports are the server's \
            at once; the job plugs them into the VM.", body = JobAccepted),
        (status = 400, description = "`Ecs.0005`: no `nics`, a NIC without `subnet_id`, a `port_id`, IPv6 or \
            vRoCE, an unknown subnet or one of another VPC, an address that is not the subnet's or is taken, \
            the subnet has no free address, a security group that is not the server's, more than 4 added NICs; \
            `Ecs.0100`: the server is busy or neither ACTIVE nor SHUTOFF; `Ecs.0605`: locked; `Common.0002`: \
            empty body. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn add(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<JobAccepted>, ApiError> {
    let body: AddNicsBody = parse(&body)?;
    Ok(Json(JobAccepted { job_id: nics::add(&app, &c, &id, body).await? }))
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/nics/delete`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/nics/delete",
    operation_id = "BatchDeleteServerNics",
    tag = "ECS",
    summary = "Delete added NICs from a server (job type `batchDeleteServerNics`)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = DeleteNicsBody,
    responses(
        (status = 200, description = "Accepted: the job; it unplugs the NICs and frees their ports and \
            addresses.", body = JobAccepted),
        (status = 400, description = "`Ecs.0005`: no `nics`, a NIC without `id`, a port that is not one of the \
            server's NICs; `Ecs.0100`: busy, or neither ACTIVE nor SHUTOFF; `Ecs.0605`: locked. Nothing is \
            changed.", body = EcsErrorBody),
        (status = 403, description = "`Ecs.0003`: the primary NIC cannot be deleted.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn delete(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<JobAccepted>, ApiError> {
    let body: DeleteNicsBody = parse(&body)?;
    Ok(Json(JobAccepted { job_id: nics::delete(&app, &c, &id, body).await? }))
}

/// Nova `POST /v2.1/{project_id}/servers/{server_id}/os-interface`.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface",
    operation_id = "NovaAttachInterface",
    tag = "Nova",
    summary = "Attach a NIC on a subnet to a server (the plug is a `batchAddServerNics` job)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = NovaAttachBody,
    responses(
        (status = 200, description = "The NIC, with its port and address.", body = NovaAttached),
        (status = 400, description = "`badRequest`: no `interfaceAttachment` or `net_id`, a `port_id`, more \
            than one fixed address, an unknown subnet or one of another VPC, an address that is not the \
            subnet's or is taken, more than 4 added NICs.", body = NovaBadRequest),
        (status = 404, description = "`itemNotFound`: no such server in the project.", body = NovaItemNotFound),
        (status = 409, description = "`conflictingRequest`: the server is busy, locked, or neither ACTIVE nor \
            SHUTOFF.", body = NovaConflict),
        GatewayRejections,
    ),
)]
pub async fn nova_attach(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<NovaAttached>, ApiError> {
    let body: NovaAttachBody = parse_nova(&body)?;
    Ok(Json(nics::nova_attach(&app, &c, &id, body).await?))
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-interface_extension`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface_extension",
    operation_id = "ShowServerAttachableNicNum",
    tag = "ECS",
    summary = "How many more NICs (and data disks) a server can take, and its NICs",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The free NIC and disk slots and the interfaces.", body = AttachableNics),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn attachable(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<AttachableNics>, ApiError> {
    Ok(Json(nics::attachable(&app, &c, &id).await?))
}

/// `PUT /v1/{project_id}/cloudservers/nics/{nic_id}`: associate and disassociate share it; the
/// body says which.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/nics/{nic_id}",
    operation_id = "AssociateServerVirtualIp",
    tag = "ECS",
    summary = "Associate a virtual IP with a NIC, or (empty `subnet_id` and `ip_address`) disassociate it",
    params(ProjectPath, ("nic_id" = String, Path)),
    request_body = VirtualIpBody,
    responses(
        (status = 200, description = "The NIC's port: the virtual IP is one of its allowed address pairs (or \
            no longer).", body = VirtualIpAnswer),
        (status = 400, description = "`Ecs.0005`: no `nic`, an unknown NIC, another subnet than the NIC's, an \
            address that is not the subnet's or is one of the server's NICs, only one of the two fields; \
            `Ecs.0605`: the server is locked. Nothing is changed.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn virtual_ip(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<VirtualIpAnswer>, ApiError> {
    let body: VirtualIpBody = parse(&body)?;
    Ok(Json(nics::virtual_ip(&app, &c, &id, body).await?))
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface",
    operation_id = "ChangeServerNetworkInterface",
    tag = "ECS",
    summary = "Give a stopped server's primary NIC a new address in its subnet",
    params(ProjectPath, ("server_id" = String, Path), ("port_id" = String, Path)),
    request_body = ChangeNicBody,
    responses(
        (status = 200, description = "The NIC with its new address; the old one is free again.", body = ChangedNic),
        (status = 400, description = "`Ecs.0005`: not the server's primary NIC, no `ip_address`, no or another \
            `subnet_id`, an address not the subnet's, the NIC's own or another's, IPv6; `Ecs.0100`: the server \
            is not SHUTOFF or is busy; `Ecs.0605`: it is locked. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn change_network_interface(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, port)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<ChangedNic>, ApiError> {
    let body: ChangeNicBody = parse(&body)?;
    Ok(Json(crate::app::change_nic::change(&app, &c, &id, &port, body).await?))
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}",
    operation_id = "UpdateServerInterface",
    tag = "ECS",
    summary = "Change a NIC's delete_on_termination (only true: a port is always deleted with its NIC)",
    params(ProjectPath, ("server_id" = String, Path), ("port_id" = String, Path)),
    request_body = UpdateInterfaceBody,
    responses(
        (status = 200, description = "`{}`: `delete_on_termination` is `true`, as every NIC's is.", body = InterfaceUpdated),
        (status = 400, description = "`Ecs.0005`: no `interface_attachment.delete_on_termination`, or the port \
            is not one of the server's NICs; `Ecs.0000`: `false` (a port exists only on its server); `Ecs.0605`: \
            the server is locked. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn update_interface(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, port)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<InterfaceUpdated>, ApiError> {
    let body: UpdateInterfaceBody = parse(&body)?;
    crate::app::nic_attachment::update(&app, &c, &id, &port, body).await?;
    Ok(Json(InterfaceUpdated {}))
}
