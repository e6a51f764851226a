//! Ports, security groups and rules (VPC API v1), and a server's interfaces and groups as the
//! ECS and Nova APIs show them.

use crate::app::query::{query_pairs, typed};
use crate::app::security_groups::vpc_parse_error;
use crate::app::{ports, security_groups as groups};
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_types::errors::{EcsErrorBody, NovaItemNotFound, VpcErrorBody};
use ecs_types::ports::*;
use ecs_types::security_groups::*;

type Res<T> = Result<Json<T>, ApiError>;

/// `GET /v1/{project_id}/ports/{port_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/ports/{port_id}",
    operation_id = "ShowPort",
    tag = "VPC",
    summary = "Show a port (every address a server shows has one: `OS-EXT-IPS:port_id`)",
    params(ProjectPath, ("port_id" = String, Path)),
    responses(
        (status = 200, description = "The port.", body = PortEnvelope),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`VPC.2501`: no such port in the project.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show_port(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<PortEnvelope> {
    Ok(Json(ports::show(&app, &c, &id).await?))
}

/// `PUT /v1/{project_id}/ports/{port_id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/ports/{port_id}",
    operation_id = "UpdatePort",
    tag = "VPC",
    summary = "Change a port's name, security groups, allowed address pairs or DHCP options",
    params(ProjectPath, ("port_id" = String, Path)),
    request_body = UpdatePortBody,
    responses(
        (status = 200, description = "The port as changed.", body = PortEnvelope),
        (status = 400, description = "`VPC.2500`: a field is invalid or names an unknown security group; \
            `Ecs.0023`: not the caller's project.", body = VpcErrorBody),
        (status = 404, description = "`VPC.2501`: no such port in the project.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn update_port(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<PortEnvelope> {
    let b: UpdatePortBody = parse(&body).map_err(|e| {
        if e.code == ecs_types::Code::Ecs0005 || e.code == ecs_types::Code::Common0002 {
            ecs_model::Error::new(ecs_types::Code::Vpc2500, e.message)
        } else {
            e
        }
    })?;
    Ok(Json(ports::update(&app, &c, &id, b).await?))
}

/// `GET /v1/{project_id}/ports`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/ports",
    operation_id = "ListPorts",
    tag = "VPC",
    summary = "List the project's ports",
    params(ProjectPath, PortListQuery),
    responses(
        (status = 200, description = "The ports matching every filter, by id.", body = PortList),
        (status = 400, description = "`VPC.2500`: a malformed `limit`, `fixed_ips` or an unknown `marker`.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list_ports(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<PortList> {
    Ok(Json(ports::list(&app, &c, &query_pairs(q.as_deref())).await?))
}

/// `GET /v1/{project_id}/security-groups`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-groups",
    operation_id = "ListSecurityGroups",
    tag = "VPC",
    summary = "List the project's security groups (the default group first)",
    params(ProjectPath, SecurityGroupListQuery),
    responses(
        (status = 200, description = "The groups with their rules.", body = SecurityGroupList),
        (status = 400, description = "`VPC.0601`: a malformed `limit` or an unknown `marker`.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list_groups(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<SecurityGroupList> {
    let q: SecurityGroupListQuery = typed(&query_pairs(q.as_deref())).map_err(vpc_parse_error)?;
    Ok(Json(groups::list(&app, &c, &q).await?))
}

/// `POST /v1/{project_id}/security-groups`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/security-groups",
    operation_id = "CreateSecurityGroup",
    tag = "VPC",
    summary = "Create a security group (it starts with the IPv4 and IPv6 egress rules)",
    params(ProjectPath),
    request_body = CreateSecurityGroupBody,
    responses(
        (status = 200, description = "The new group.", body = SecurityGroupEnvelope),
        (status = 400, description = "`VPC.0601`: a missing or invalid name, the name `default`, an unknown \
            `vpc_id` or `enterprise_project_id`, or a malformed body.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn create_group(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Res<SecurityGroupEnvelope> {
    let b: CreateSecurityGroupBody = parse(&body).map_err(vpc_parse_error)?;
    Ok(Json(groups::create(&app, &c, b).await?))
}

/// `GET /v1/{project_id}/security-groups/{security_group_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-groups/{security_group_id}",
    operation_id = "ShowSecurityGroup",
    tag = "VPC",
    summary = "Show a security group with its rules",
    params(ProjectPath, ("security_group_id" = String, Path)),
    responses(
        (status = 200, description = "The group.", body = SecurityGroupEnvelope),
        (status = 404, description = "`VPC.0603`: no such group in the project.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show_group(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<SecurityGroupEnvelope> {
    Ok(Json(groups::show(&app, &c, &id).await?))
}

/// `DELETE /v1/{project_id}/security-groups/{security_group_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/security-groups/{security_group_id}",
    operation_id = "DeleteSecurityGroup",
    tag = "VPC",
    summary = "Delete a security group and its rules",
    params(ProjectPath, ("security_group_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`VPC.0603`: no such group in the project.", body = VpcErrorBody),
        (status = 409, description = "`VPC.0602`: the default group, a group a server's port uses, or one \
            another group's rule refers to.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn delete_group(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    groups::delete(&app, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{project_id}/security-group-rules`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-group-rules",
    operation_id = "ListSecurityGroupRules",
    tag = "VPC",
    summary = "List the project's security group rules",
    params(ProjectPath, SecurityGroupRuleListQuery),
    responses(
        (status = 200, description = "The rules.", body = SecurityGroupRuleList),
        (status = 400, description = "`VPC.0601`: a malformed `limit` or an unknown `marker`.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list_rules(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<SecurityGroupRuleList> {
    let q: SecurityGroupRuleListQuery = typed(&query_pairs(q.as_deref())).map_err(vpc_parse_error)?;
    Ok(Json(groups::list_rules(&app, &c, &q).await?))
}

/// `POST /v1/{project_id}/security-group-rules`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/security-group-rules",
    operation_id = "CreateSecurityGroupRule",
    tag = "VPC",
    summary = "Add a rule to a security group",
    params(ProjectPath),
    request_body = CreateSecurityGroupRuleBody,
    responses(
        (status = 200, description = "The new rule.", body = SecurityGroupRuleEnvelope),
        (status = 400, description = "`VPC.0601`: a field breaks the rule rules (direction, ethertype, \
            protocol, port range, remote), or a malformed body.", body = VpcErrorBody),
        (status = 404, description = "`VPC.0603`: the group or the remote group is not the project's.", body = VpcErrorBody),
        (status = 409, description = "`VPC.0604`: the group has a rule for the same traffic.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn create_rule(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Res<SecurityGroupRuleEnvelope> {
    let b: CreateSecurityGroupRuleBody = parse(&body).map_err(vpc_parse_error)?;
    Ok(Json(groups::create_rule(&app, &c, b).await?))
}

/// `GET /v1/{project_id}/security-group-rules/{security_group_rule_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-group-rules/{security_group_rule_id}",
    operation_id = "ShowSecurityGroupRule",
    tag = "VPC",
    summary = "Show a security group rule",
    params(ProjectPath, ("security_group_rule_id" = String, Path)),
    responses(
        (status = 200, description = "The rule.", body = SecurityGroupRuleEnvelope),
        (status = 404, description = "`VPC.0603`: no such rule in the project.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show_rule(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<SecurityGroupRuleEnvelope> {
    Ok(Json(groups::show_rule(&app, &c, &id).await?))
}

/// `DELETE /v1/{project_id}/security-group-rules/{security_group_rule_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/security-group-rules/{security_group_rule_id}",
    operation_id = "DeleteSecurityGroupRule",
    tag = "VPC",
    summary = "Delete a security group rule",
    params(ProjectPath, ("security_group_rule_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`VPC.0603`: no such rule in the project.", body = VpcErrorBody),
        GatewayRejections,
    ),
)]
pub async fn delete_rule(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    groups::delete_rule(&app, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-interface`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface",
    operation_id = "ListServerInterfaces",
    tag = "ECS",
    summary = "List a server's interfaces (its port)",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The interfaces.", body = InterfaceList),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn interfaces(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<InterfaceList> {
    Ok(Json(InterfaceList { interface_attachments: ports::interfaces(&app, &c, &id, false).await? }))
}

/// Nova `GET /v2.1/{project_id}/servers/{server_id}/os-interface`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface",
    operation_id = "NovaListServerInterfaces",
    tag = "Nova",
    summary = "List a server's interfaces (its port)",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The interfaces.", body = InterfaceList),
        (status = 404, description = "`itemNotFound`: no such server in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn nova_interfaces(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<InterfaceList> {
    Ok(Json(InterfaceList { interface_attachments: ports::interfaces(&app, &c, &id, true).await? }))
}

/// Nova `GET /v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}",
    operation_id = "NovaShowServerInterface",
    tag = "Nova",
    summary = "Show one of a server's interfaces",
    params(ProjectPath, ("server_id" = String, Path), ("port_id" = String, Path)),
    responses(
        (status = 200, description = "The interface.", body = InterfaceEnvelope),
        (status = 404, description = "`itemNotFound`: no such server, or the port is not the server's.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn nova_interface(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, port)): Path<(String, String, String)>,
) -> Res<InterfaceEnvelope> {
    let found = ports::interfaces(&app, &c, &id, true).await?.into_iter().find(|i| i.port_id == port);
    let interface_attachment = found.ok_or_else(|| {
        ecs_model::Error::new(
            ecs_types::Code::NovaNotFound,
            format!("Port {port} is not attached to the instance {id}."),
        )
    })?;
    Ok(Json(InterfaceEnvelope { interface_attachment }))
}

/// Nova `GET /v2.1/{project_id}/servers/{server_id}/os-security-groups`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-security-groups",
    operation_id = "NovaListServerSecurityGroups",
    tag = "Nova",
    summary = "List a server's security groups with their ingress rules",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The groups.", body = NovaSecurityGroupList),
        (status = 404, description = "`itemNotFound`: no such server in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn nova_security_groups(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<NovaSecurityGroupList> {
    Ok(Json(groups::nova_list(&app, &c, &id).await?))
}
