//! Security groups and their rules (VPC API v1), the groups a new server gets, and Nova's
//! add/remove/list of a server's groups.

use super::internal;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::security_group::{self as sg, SecurityGroup, SecurityGroupRule};
use ecs_model::server::Server;
use ecs_model::Error;
use ecs_store::StoreError;
use ecs_types::requests::IdRef;
use ecs_types::security_groups::*;
use ecs_types::server::SecurityGroupRef;
use ecs_types::Code;

/// `VPC.0601`: a security group or rule parameter is wrong.
fn invalid(message: impl Into<String>) -> Error {
    Error::new(Code::Vpc0601, message)
}

/// `VPC.0603` for a group.
fn group_missing(id: &str) -> Error {
    Error::new(Code::Vpc0603, format!("Security group {id} does not exist."))
}

/// A request body or query string the VPC API could not read: its `Ecs.0005` from the parser,
/// in the VPC API's code.
pub fn vpc_parse_error(e: Error) -> Error {
    // A blank body too: the VPC API answers every malformed request in its own shape.
    if e.code == Code::Ecs0005 || e.code == Code::Common0002 {
        invalid(e.message)
    } else {
        e
    }
}

/// The groups a new server is put in: those named (each must be the project's: `Ecs.0005`
/// naming the first that is not), or the project's default group when none is named.
pub async fn resolve_for_create(app: &App, caller: &Caller, refs: &[IdRef]) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    for r in refs {
        let id = r.id.as_deref().ok_or_else(|| Error::invalid("security_groups[].id is required."))?;
        let found = if ecs_model::ids::is_uuid(id) {
            app.ctx.store.security_group_get(&caller.project_id, id).await.map_err(internal)?
        } else {
            None
        };
        if found.is_none() {
            return Err(Error::invalid(format!("The security group [{id}] does not exist.")));
        }
        if !ids.iter().any(|i: &String| i == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        ids.push(default_group(app, caller).await?.id);
    }
    Ok(ids)
}

/// The project's default group (created with its default network).
async fn default_group(app: &App, caller: &Caller) -> Result<SecurityGroup, Error> {
    app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    let groups = app.ctx.store.security_group_list(&caller.project_id).await.map_err(internal)?;
    groups
        .into_iter()
        .find(|g| g.name == sg::DEFAULT_NAME)
        .ok_or_else(|| Error::internal(format!("project {} has no default security group", caller.project_id)))
}

/// `{"id", "name"}` of each of a server's groups, for the server detail. A group that can no
/// longer be read (the store failed) is shown by id alone rather than failing the read.
pub async fn refs_for_server(app: &App, s: &Server) -> Vec<SecurityGroupRef> {
    refs_with_names(app, s, &mut GroupNames::new()).await
}

/// Security group names already read while rendering one answer (a page of servers mostly
/// shares one or two groups), by group id.
pub type GroupNames = std::collections::HashMap<String, String>;

/// [`refs_for_server`], reading only the groups not yet in `names`.
pub async fn refs_with_names(app: &App, s: &Server, names: &mut GroupNames) -> Vec<SecurityGroupRef> {
    let mut out = Vec::with_capacity(s.security_groups.len());
    for id in &s.security_groups {
        let name = match names.get(id) {
            Some(n) => n.clone(),
            None => {
                let n = match app.ctx.store.security_group_get(&s.project_id, id).await {
                    Ok(Some(g)) => g.name,
                    Ok(None) => String::new(),
                    Err(e) => {
                        tracing::warn!(error = %e, group = %id, "cannot read a server's security group");
                        String::new()
                    }
                };
                names.insert(id.clone(), n.clone());
                n
            }
        };
        out.push(SecurityGroupRef { id: id.clone(), name });
    }
    out
}

fn rule_view(r: &SecurityGroupRule) -> SecurityGroupRuleView {
    SecurityGroupRuleView {
        id: r.id.clone(),
        description: r.description.clone(),
        security_group_id: r.security_group_id.clone(),
        direction: r.direction.clone(),
        ethertype: r.ethertype.clone(),
        protocol: r.protocol.clone(),
        port_range_min: r.port_range_min,
        port_range_max: r.port_range_max,
        remote_ip_prefix: r.remote_ip_prefix.clone(),
        remote_group_id: r.remote_group_id.clone(),
        remote_address_group_id: None,
        tenant_id: r.project_id.clone(),
    }
}

fn group_view(g: &SecurityGroup, rules: &[SecurityGroupRule]) -> SecurityGroupView {
    SecurityGroupView {
        id: g.id.clone(),
        name: g.name.clone(),
        description: g.description.clone(),
        vpc_id: g.vpc_id.clone(),
        enterprise_project_id: g.enterprise_project_id.clone(),
        security_group_rules: rules.iter().filter(|r| r.security_group_id == g.id).map(rule_view).collect(),
    }
}

/// Applies `limit` and `marker` (an id of the list) to a list in its order.
fn page<T>(items: Vec<T>, id: impl Fn(&T) -> &str, limit: Option<u32>, marker: Option<&str>) -> Result<Vec<T>, Error> {
    let mut items = items;
    if let Some(m) = marker.filter(|m| !m.is_empty()) {
        let pos = items.iter().position(|i| id(i) == m).ok_or_else(|| invalid(format!("marker [{m}] is invalid.")))?;
        items.drain(..=pos);
    }
    if let Some(l) = limit.filter(|l| *l > 0) {
        items.truncate(usize::try_from(l).unwrap_or(usize::MAX));
    }
    Ok(items)
}

/// `GET /v1/{project_id}/security-groups`.
pub async fn list(app: &App, caller: &Caller, q: &SecurityGroupListQuery) -> Result<SecurityGroupList, Error> {
    app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    let mut groups = app.ctx.store.security_group_list(&caller.project_id).await.map_err(internal)?;
    if let Some(v) = q.vpc_id.as_deref().filter(|v| !v.is_empty()) {
        groups.retain(|g| g.vpc_id == v);
    }
    if let Some(e) = q.enterprise_project_id.as_deref().filter(|e| !e.is_empty() && *e != "all_granted_eps") {
        groups.retain(|g| g.enterprise_project_id == e);
    }
    let groups = page(groups, |g| &g.id, q.limit, q.marker.as_deref())?;
    let rules = app.ctx.store.security_group_rules(&caller.project_id, None).await.map_err(internal)?;
    Ok(SecurityGroupList { security_groups: groups.iter().map(|g| group_view(g, &rules)).collect() })
}

async fn group_of(app: &App, caller: &Caller, id: &str) -> Result<SecurityGroup, Error> {
    if !ecs_model::ids::is_uuid(id) {
        return Err(group_missing(id));
    }
    app.ctx.store.security_group_get(&caller.project_id, id).await.map_err(internal)?.ok_or_else(|| group_missing(id))
}

/// `GET /v1/{project_id}/security-groups/{id}`.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<SecurityGroupEnvelope, Error> {
    let g = group_of(app, caller, id).await?;
    let rules = app.ctx.store.security_group_rules(&caller.project_id, Some(&g.id)).await.map_err(internal)?;
    Ok(SecurityGroupEnvelope { security_group: group_view(&g, &rules) })
}

/// Names: 1–64 letters (any script), digits, `_`, `-` and `.` (the SDK model's rule).
fn check_name(name: &str) -> Result<(), Error> {
    let n = name.chars().count();
    if n == 0 || n > 64 || !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(invalid(format!(
            "security group name {name:?} is invalid: 1-64 letters, digits, '_', '-' or '.'."
        )));
    }
    Ok(())
}

/// `POST /v1/{project_id}/security-groups`: the new group has the two egress rules.
pub async fn create(app: &App, caller: &Caller, body: CreateSecurityGroupBody) -> Result<SecurityGroupEnvelope, Error> {
    let req = body.security_group.ok_or_else(|| invalid("request body is illegal: security_group is required."))?;
    let name = req.name.as_deref().ok_or_else(|| invalid("security_group.name is required."))?;
    check_name(name)?;
    if name == sg::DEFAULT_NAME {
        return Err(invalid("a security group named \"default\" exists already in every project."));
    }
    let (vpc, _) = app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    let vpc_id = match req.vpc_id.as_deref().filter(|v| !v.is_empty()) {
        Some(v) if v == vpc.id => v.to_string(),
        Some(v) => return Err(invalid(format!("vpc_id [{v}] is invalid: no such VPC in the project."))),
        None => String::new(),
    };
    let eps = req.enterprise_project_id.filter(|e| !e.is_empty()).unwrap_or_else(|| "0".into());
    if eps != "0" && !ecs_model::ids::is_uuid(&eps) {
        return Err(invalid(format!("enterprise_project_id [{eps}] is invalid: \"0\" or a UUID.")));
    }
    let now = ecs_model::timefmt::now_ms();
    let g = SecurityGroup {
        id: ecs_model::new_uuid(),
        project_id: caller.project_id.clone(),
        vpc_id,
        name: name.to_string(),
        description: String::new(),
        enterprise_project_id: eps,
        created_ms: now,
    };
    let rules = sg::egress_rules(&caller.project_id, &g.id, now);
    app.ctx.store.security_group_insert(g.clone(), rules.clone()).await.map_err(internal)?;
    Ok(SecurityGroupEnvelope { security_group: group_view(&g, &rules) })
}

/// `DELETE /v1/{project_id}/security-groups/{id}`.
pub async fn delete(app: &App, caller: &Caller, id: &str) -> Result<(), Error> {
    group_of(app, caller, id).await?;
    app.ctx.store.security_group_delete(&caller.project_id, id).await.map_err(|e| match e {
        StoreError::NotFound(_) => group_missing(id),
        StoreError::Conflict(why) => Error::new(Code::Vpc0602, format!("Security group {id} in use: {why}.")),
        e => internal(e),
    })
}

/// `GET /v1/{project_id}/security-group-rules`.
pub async fn list_rules(
    app: &App,
    caller: &Caller,
    q: &SecurityGroupRuleListQuery,
) -> Result<SecurityGroupRuleList, Error> {
    let group = q.security_group_id.as_deref().filter(|g| !g.is_empty());
    let rules = app.ctx.store.security_group_rules(&caller.project_id, group).await.map_err(internal)?;
    let rules = page(rules, |r| &r.id, q.limit, q.marker.as_deref())?;
    Ok(SecurityGroupRuleList { security_group_rules: rules.iter().map(rule_view).collect() })
}

async fn rule_of(app: &App, caller: &Caller, id: &str) -> Result<SecurityGroupRule, Error> {
    let rules = app.ctx.store.security_group_rules(&caller.project_id, None).await.map_err(internal)?;
    rules
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::new(Code::Vpc0603, format!("Security group rule {id} does not exist.")))
}

/// `GET /v1/{project_id}/security-group-rules/{id}`.
pub async fn show_rule(app: &App, caller: &Caller, id: &str) -> Result<SecurityGroupRuleEnvelope, Error> {
    Ok(SecurityGroupRuleEnvelope { security_group_rule: rule_view(&rule_of(app, caller, id).await?) })
}

/// `DELETE /v1/{project_id}/security-group-rules/{id}`.
pub async fn delete_rule(app: &App, caller: &Caller, id: &str) -> Result<(), Error> {
    rule_of(app, caller, id).await?;
    if !app.ctx.store.security_group_rule_delete(&caller.project_id, id).await.map_err(internal)? {
        return Err(Error::new(Code::Vpc0603, format!("Security group rule {id} does not exist.")));
    }
    Ok(())
}

/// `POST /v1/{project_id}/security-group-rules`.
pub async fn create_rule(
    app: &App,
    caller: &Caller,
    body: CreateSecurityGroupRuleBody,
) -> Result<SecurityGroupRuleEnvelope, Error> {
    let req =
        body.security_group_rule.ok_or_else(|| invalid("request body is illegal: security_group_rule is required."))?;
    let group_id = req.security_group_id.as_deref().ok_or_else(|| invalid("security_group_id is required."))?;
    let rule = super::security_group_rules::checked(&caller.project_id, group_id, &req)?;
    group_of(app, caller, group_id).await?;
    app.ctx.store.security_group_rule_insert(rule.clone()).await.map_err(|e| match e {
        StoreError::NotFound(what) => Error::new(Code::Vpc0603, format!("The {what} does not exist.")),
        StoreError::Conflict(why) => Error::new(Code::Vpc0604, format!("Security group rule already exists: {why}.")),
        e => internal(e),
    })?;
    Ok(SecurityGroupRuleEnvelope { security_group_rule: rule_view(&rule) })
}

/// Nova `GET /v2.1/{project_id}/servers/{server_id}/os-security-groups`.
pub async fn nova_list(app: &App, caller: &Caller, server_id: &str) -> Result<NovaSecurityGroupList, Error> {
    let s = nova_server(app, caller, server_id).await?;
    let rules = app.ctx.store.security_group_rules(&caller.project_id, None).await.map_err(internal)?;
    let groups = app.ctx.store.security_group_list(&caller.project_id).await.map_err(internal)?;
    let name_of = |id: &str| groups.iter().find(|g| g.id == id).map(|g| g.name.clone());
    let mut out = Vec::new();
    for id in &s.security_groups {
        let Some(g) = groups.iter().find(|g| &g.id == id) else { continue };
        let rules = rules
            .iter()
            .filter(|r| r.security_group_id == g.id && r.direction == "ingress")
            .map(|r| NovaSecurityGroupRule {
                id: r.id.clone(),
                parent_group_id: g.id.clone(),
                ip_protocol: r.protocol.clone(),
                from_port: r.port_range_min,
                to_port: r.port_range_max,
                ip_range: NovaIpRange {
                    cidr: if r.remote_group_id.is_some() { None } else { r.remote_ip_prefix.clone() },
                },
                group: NovaGroupRef {
                    name: r.remote_group_id.as_deref().and_then(name_of),
                    tenant_id: r.remote_group_id.as_ref().map(|_| caller.project_id.clone()),
                },
            })
            .collect();
        out.push(NovaSecurityGroup {
            id: g.id.clone(),
            name: g.name.clone(),
            description: g.description.clone(),
            tenant_id: g.project_id.clone(),
            rules,
        });
    }
    Ok(NovaSecurityGroupList { security_groups: out })
}

/// A server of the caller's project, or Nova's `itemNotFound`.
async fn nova_server(app: &App, caller: &Caller, id: &str) -> Result<Server, Error> {
    let missing = || Error::new(Code::NovaNotFound, format!("Instance {id} could not be found."));
    if !ecs_model::ids::is_uuid(id) {
        return Err(missing());
    }
    app.ctx.store.server_only(&caller.project_id, id).await.map_err(internal)?.ok_or_else(missing)
}

/// The group a Nova action names: by id, else by name (which must be unambiguous).
pub(crate) async fn nova_group(app: &App, caller: &Caller, name: &str) -> Result<SecurityGroup, Error> {
    let groups = app.ctx.store.security_group_list(&caller.project_id).await.map_err(internal)?;
    if let Some(g) = groups.iter().find(|g| g.id == name) {
        return Ok(g.clone());
    }
    let named: Vec<&SecurityGroup> = groups.iter().filter(|g| g.name == name).collect();
    match named.as_slice() {
        [g] => Ok((*g).clone()),
        [] => Err(Error::new(
            Code::NovaNotFound,
            format!("Security group {name} not found for project {}.", caller.project_id),
        )),
        _ => Err(Error::new(
            Code::NovaConflict,
            format!("Multiple security groups are named {name}; name one by its id."),
        )),
    }
}

/// Nova `addSecurityGroup` (`add` true) and `removeSecurityGroup` on a server: the server's
/// list, which its port shows too, changes in one compare-and-swap that also checks that the
/// group still exists.
pub async fn nova_change(app: &App, caller: &Caller, server_id: &str, name: &str, add: bool) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::new(Code::NovaBadRequest, "Security group name cannot be empty."));
    }
    let g = nova_group(app, caller, name).await?;
    for _ in 0..3 {
        let mut s = nova_server(app, caller, server_id).await?;
        let has = s.security_groups.contains(&g.id);
        match (add, has) {
            (true, true) => {
                return Err(Error::new(
                    Code::NovaBadRequest,
                    format!("Security group {name} is already associated with the instance {server_id}."),
                ))
            }
            (false, false) => {
                return Err(Error::new(
                    Code::NovaBadRequest,
                    format!("Security group {name} not associated with the instance {server_id}."),
                ))
            }
            (true, false) => s.security_groups.push(g.id.clone()),
            (false, true) => s.security_groups.retain(|id| id != &g.id),
        }
        s.updated_ms = ecs_model::timefmt::now_ms();
        match app.ctx.store.server_update_security_groups(s).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(StoreError::NotFound(_)) => {
                return Err(Error::new(Code::NovaNotFound, format!("Security group {name} was deleted meanwhile.")))
            }
            Err(e) => return Err(internal(e)),
        }
    }
    Err(Error::new(Code::NovaConflict, "Other requests kept changing the server; try again."))
}

/// Reads a Nova `addSecurityGroup` / `removeSecurityGroup` body: `Some((add, name))` for one of
/// them alone, `None` for any other action (left to the other actions of the path).
pub fn nova_action_of(v: &serde_json::Map<String, serde_json::Value>) -> Result<Option<(bool, String)>, Error> {
    let add = match (v.get("addSecurityGroup"), v.get("removeSecurityGroup")) {
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(Error::new(
                Code::NovaBadRequest,
                "addSecurityGroup and removeSecurityGroup cannot be combined.",
            ))
        }
    };
    let key = if add { "addSecurityGroup" } else { "removeSecurityGroup" };
    if v.len() != 1 {
        return Err(Error::new(Code::NovaBadRequest, format!("{key} cannot be combined with another action.")));
    }
    let arg: NovaSecurityGroupAction = serde_json::from_value(v[key].clone())
        .map_err(|e| Error::new(Code::NovaBadRequest, format!("Invalid input for {key}: {e}.")))?;
    let name = arg.name.ok_or_else(|| Error::new(Code::NovaBadRequest, format!("{key}.name is required.")))?;
    Ok(Some((add, name)))
}
