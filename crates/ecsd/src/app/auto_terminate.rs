//! `POST /v1/{project_id}/cloudservers/{server_id}/actions/update-auto-terminate-time`: when a
//! server deletes itself. The time is kept with the server (in its record and in a column the
//! scheduler reads, `crate::auto_terminate`), so it survives restarts.

use crate::caller::Caller;
use crate::context::App;
use ecs_model::timefmt::{now_ms, parse_server_time};
use ecs_model::{gates, Error};
use ecs_types::server_groups::AutoTerminateBody;

/// A deadline at most this far ahead (Huawei: three years).
const MAX_AHEAD_MS: i64 = 3 * 366 * 24 * 3600 * 1000;

/// A deadline as given (`""`: none), checked: the server form, in the future, at most three
/// years ahead. Also what a create's `auto_terminate_time` is read with.
pub fn deadline(raw: &str) -> Result<Option<i64>, Error> {
    if raw.is_empty() {
        return Ok(None);
    }
    let ms = parse_server_time(raw).ok_or_else(|| {
        Error::invalid(format!("auto_terminate_time {raw:?} is invalid; use yyyy-MM-ddTHH:mm:ssZ (UTC)."))
    })?;
    let now = now_ms();
    if ms <= now {
        return Err(Error::invalid(format!("auto_terminate_time {raw} is not in the future.")));
    }
    if ms > now + MAX_AHEAD_MS {
        return Err(Error::invalid(format!("auto_terminate_time {raw} is more than three years ahead.")));
    }
    Ok(Some(ms))
}

/// Sets or (an empty string) cancels the server's scheduled deletion.
///
/// Huawei also asks for a time at least half an hour ahead and moves one with seconds to the
/// minute; ecsd takes any time in the future, to the second, so that tests and demos need not
/// wait half an hour (inferred deviation, documented in `docs/wire/auto-terminate.md`).
pub async fn update(app: &App, caller: &Caller, server_id: &str, body: AutoTerminateBody) -> Result<(), Error> {
    let raw = body
        .auto_terminate_time
        .ok_or_else(|| Error::invalid("auto_terminate_time is required (an empty string cancels)."))?;
    let at = deadline(&raw)?;
    super::update_gated(app, &caller.project_id, server_id, gates::update_allowed, |s| s.auto_terminate_ms = at)
        .await?;
    crate::auto_terminate::wake();
    Ok(())
}
