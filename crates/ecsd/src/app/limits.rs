//! `GET /v1/{project_id}/cloudservers/limits`: the project's quotas and its usage.

use super::internal;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::Error;
use ecs_types::limits::{LimitsEnvelope, ServerLimits};

/// Limits ecsd does not enforce, answered with the values of Huawei's default quotas (the
/// server-group limits, which it does enforce, are `ecs_model::server_group`'s).
mod fixed {
    pub const IMAGE_META: i64 = 50;
    pub const PERSONALITY: i64 = 5;
    pub const PERSONALITY_SIZE: i64 = 10240;
    pub const SECURITY_GROUP_RULES: i64 = 20;
    pub const SECURITY_GROUPS: i64 = 10;
    pub const SERVER_META: i64 = 10;
    pub const FLOATING_IPS: i64 = 10;
    pub const KEYPAIRS: i64 = 100;
}

/// The `absolute` limits: instances, cores and RAM are the enforced quotas and what the
/// project's servers use of them; spot limits are 0 (spot servers are not offered).
pub async fn show(app: &App, caller: &Caller) -> Result<LimitsEnvelope, Error> {
    let used = app.ctx.store.project_usage(&caller.project_id).await.map_err(internal)?;
    let groups = app.ctx.store.server_group_list(&caller.project_id).await.map_err(internal)?.len() as i64;
    let q = app.quotas;
    Ok(LimitsEnvelope {
        absolute: ServerLimits {
            max_image_meta: fixed::IMAGE_META,
            max_personality: fixed::PERSONALITY,
            max_personality_size: fixed::PERSONALITY_SIZE,
            max_security_group_rules: fixed::SECURITY_GROUP_RULES,
            max_security_groups: fixed::SECURITY_GROUPS,
            max_server_group_members: ecs_model::server_group::MAX_MEMBERS as i64,
            max_server_groups: ecs_model::server_group::MAX_GROUPS,
            max_server_meta: fixed::SERVER_META,
            max_total_cores: q.cores,
            max_total_floating_ips: fixed::FLOATING_IPS,
            max_total_instances: q.instances,
            max_total_keypairs: fixed::KEYPAIRS,
            max_total_ram_size: q.ram_mb,
            total_cores_used: used.cores,
            total_floating_ips_used: 0,
            total_instances_used: used.instances,
            total_ram_used: used.ram_mb,
            total_security_groups_used: 0,
            total_server_groups_used: groups,
            max_total_spot_instances: 0,
            max_total_spot_cores: 0,
            max_total_spot_ram_size: 0,
            total_spot_instances_used: 0,
            total_spot_cores_used: 0,
            total_spot_ram_used: 0,
            limit_by_flavor: vec![],
        },
    })
}
