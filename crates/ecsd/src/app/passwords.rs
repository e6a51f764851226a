//! Passwords: the one-click reset of one server or several, the Windows password calls (empty
//! for the Linux servers ecsd runs) and the reset flag.
//!
//! A reset is accepted on a running or a stopped server and takes effect at its next start or
//! reboot, as on Huawei Cloud: the request records the new password's hash as pending
//! (`Server.pending_password_hash`) and answers 204 at once; the power saga writes it into the
//! system disk's `/etc/shadow` while the VM is off, before it boots, and only then makes it the
//! server's password. A running VM's disk is never written while the VM has it open, and a
//! crash at any point leaves either the old password in force with the reset still pending, or
//! the new one written (writing it again is harmless).
//!
//! The password itself is only ever hashed: it is in no log line, no error message, no record.

use super::servers::batch_ids;
use super::{begin, hash_password, server_of};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::server::Server;
use ecs_model::state::VmState;
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::Begin;
use ecs_types::passwords::*;
use ecs_types::Code;

pub use super::names::Batch;

/// Special characters the reset rules allow (fewer than at create: no `$ ^ { } ,`).
const RESET_SPECIALS: &str = "!@%-_=+[]:./?";

/// The reset rules: 8–26 characters of letters, digits and `!@%-_=+[]:./?`, three of the four
/// kinds, not containing `root` or `administrator` or either reversed, nor three consecutive
/// characters of `Administrator` (`Ecs.0011`, naming the rule broken).
pub fn check_complexity(p: &str) -> Result<(), Error> {
    let bad = |m: String| Error::new(Code::Ecs0011, m);
    // The offending character is not named: it is part of a password.
    if p.chars().any(|c| !(c.is_ascii_alphanumeric() || RESET_SPECIALS.contains(c))) {
        return Err(bad(format!(
            "The password can contain only letters, digits and the special characters {RESET_SPECIALS}"
        )));
    }
    ecs_crypto::check_password_complexity(p, "root").map_err(bad)?;
    let lower = p.to_lowercase();
    let admin = "administrator";
    let reversed: String = admin.chars().rev().collect();
    if lower.contains(admin) || lower.contains(&reversed) {
        return Err(bad(
            "The password cannot contain the user name (administrator) or the user name spelled backwards.".into(),
        ));
    }
    let chars: Vec<char> = admin.chars().collect();
    if chars.windows(3).any(|w| lower.contains(&w.iter().collect::<String>())) {
        return Err(bad(
            "The password cannot contain three consecutive characters of the user name Administrator.".into()
        ));
    }
    Ok(())
}

/// Without `is_check_password` the single reset checks no complexity (Huawei's default); it
/// still refuses what could not be a login password at all.
fn check_minimal(p: &str) -> Result<(), Error> {
    if p.is_empty() || p.chars().count() > 26 {
        return Err(Error::new(Code::Ecs0011, "The password length must range from 1 to 26."));
    }
    if p.chars().any(|c| c.is_control()) {
        return Err(Error::new(Code::Ecs0011, "The password cannot contain control characters."));
    }
    Ok(())
}

/// May this server's password be reset now: unlocked, idle, and running or stopped.
pub fn reset_allowed(s: &Server) -> Result<(), Error> {
    gates::update_allowed(s)?;
    if let Some(t) = s.task_state {
        return Err(Error::new(
            Code::Ecs0100,
            format!(
                "The ECS status does not meet requirements: server {} is busy ({}); try again when the current operation has finished.",
                s.id,
                t.as_str()
            ),
        ));
    }
    match s.vm_state {
        VmState::Active | VmState::Stopped => Ok(()),
        _ => Err(Error::new(
            Code::Ecs0100,
            format!(
                "The ECS status does not meet requirements: server {} is {}, it must be ACTIVE or SHUTOFF.",
                s.id,
                s.status()
            ),
        )),
    }
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/os-reset-password`.
pub async fn reset(app: &App, caller: &Caller, id: &str, body: ResetPasswordBody) -> Result<(), Error> {
    let opt =
        body.reset_password.ok_or_else(|| Error::invalid("request body is illegal: reset-password is required."))?;
    let pw = opt.new_password.ok_or_else(|| Error::invalid("reset-password.new_password is required."))?;
    if opt.is_check_password == Some(true) {
        check_complexity(&pw)?;
    } else {
        check_minimal(&pw)?;
    }
    // Refuse a missing or busy server before spending the hash.
    reset_allowed(&server_of(app, &caller.project_id, id).await?.server)?;
    let hash = hash_password(Some(&pw)).await?;
    super::update_gated(app, &caller.project_id, id, reset_allowed, |s| {
        s.pending_password_hash = hash.clone();
    })
    .await?;
    Ok(())
}

/// `PUT /v1/{project_id}/cloudservers/os-reset-passwords`: every server or none, in one
/// transaction (a concurrent change to any of them makes it fail as busy).
pub async fn batch_reset(app: &App, caller: &Caller, body: BatchResetPasswordBody) -> Result<Batch, Error> {
    let dry_run = body.dry_run == Some(true);
    let pw = match body.new_password {
        Some(p) => {
            check_complexity(&p)?;
            Some(p)
        }
        None if dry_run => None,
        None => return Err(Error::invalid("request body is illegal: new_password is required.")),
    };
    let ids = batch_ids(body.servers)?;
    let mut servers = Vec::with_capacity(ids.len());
    for id in &ids {
        let s = server_of(app, &caller.project_id, id).await?.server;
        reset_allowed(&s)?;
        servers.push(s);
    }
    if dry_run {
        return Ok(Batch::DryRun);
    }
    let hash = hash_password(pw.as_deref()).await?;
    let now = now_ms();
    let mut b = Begin::default();
    for mut s in servers {
        s.pending_password_hash = hash.clone();
        s.updated_ms = now;
        b.update_servers.push(s);
    }
    begin(app, b).await?;
    Ok(Batch::Done(BatchServersAnswer { response: ids.into_iter().map(|id| ServerIdView { id }).collect() }))
}

/// `GET .../os-server-password`: the Windows password encrypted with the key pair; ecsd runs
/// Linux guests only, so it is always empty.
pub async fn show_windows_password(app: &App, caller: &Caller, id: &str) -> Result<ServerPassword, Error> {
    server_of(app, &caller.project_id, id).await?;
    Ok(ServerPassword { password: String::new() })
}

/// `DELETE .../os-server-password`: nothing is kept, so there is nothing to clear.
pub async fn delete_windows_password(app: &App, caller: &Caller, id: &str) -> Result<(), Error> {
    server_of(app, &caller.project_id, id).await?;
    Ok(())
}

/// `GET .../os-resetpwd-flag`: every server ecsd runs supports the offline reset.
pub async fn reset_flag(app: &App, caller: &Caller, id: &str) -> Result<ResetPasswordFlag, Error> {
    server_of(app, &caller.project_id, id).await?;
    Ok(ResetPasswordFlag { resetpwd_flag: "True".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_complexity_rules_name_the_rule() {
        assert!(check_complexity("Reset-Pw1x").is_ok());
        let msg = |p: &str| check_complexity(p).unwrap_err().message;
        assert!(msg("Ab1!").contains("8 to 26"));
        assert!(msg("Abcdefg1$").contains("special characters"));
        assert!(msg("abcdefgh").contains("three"));
        assert!(msg("Toor-Pass1").contains("root"));
        assert!(msg("Xmin-Pass1").contains("consecutive"));
        assert_eq!(check_complexity("Abcdefg1$").unwrap_err().code, Code::Ecs0011);
        assert!(!msg("Abcdefg1$").contains("Abcdefg1$"));
        assert!(check_minimal("a").is_ok());
        assert!(check_minimal("").is_err());
        assert!(check_minimal("a\nb").is_err());
    }
}
