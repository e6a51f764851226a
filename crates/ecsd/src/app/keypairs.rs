//! Nova-compatible key pairs: generate, import, list, show, delete.

use super::internal;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::keypair::Keypair;
use ecs_model::timefmt::{micro_time, now_ms};
use ecs_model::Error;
use ecs_store::StoreError;
use ecs_types::keypair::*;
use ecs_types::Code;

fn not_found(name: &str) -> Error {
    Error::new(Code::NovaNotFound, format!("Keypair {name} not found for the current user."))
}

/// Creates (no `public_key`: a new Ed25519 key whose private half is returned once) or
/// imports a key pair.
pub async fn create(app: &App, caller: &Caller, body: CreateKeypairBody) -> Result<CreatedKeypair, Error> {
    let req = body.keypair;
    ecs_crypto::validate_keypair_name(&req.name).map_err(|m| Error::new(Code::NovaBadRequest, m))?;
    let key_type = req.key_type.clone().unwrap_or_else(|| "ssh".into());
    if key_type != "ssh" {
        return Err(Error::new(
            Code::NovaBadRequest,
            format!("Keypair type {key_type:?} is not supported; use \"ssh\"."),
        ));
    }
    if let Some(u) = &req.user_id {
        if u != &caller.user_id {
            return Err(Error::new(Code::NovaBadRequest, "user_id must be the caller's own user id."));
        }
    }
    let (public_key, fingerprint, private_key) = match req.public_key.as_deref() {
        Some(line) => {
            let info = ecs_crypto::parse_public_key(line)
                .map_err(|e| Error::new(Code::NovaBadRequest, format!("Keypair data is invalid: {e}")))?;
            (info.normalized, info.fingerprint, None)
        }
        None => {
            let g = ecs_crypto::generate_keypair(&req.name).map_err(|e| Error::internal(e.to_string()))?;
            (g.public_key, g.fingerprint, Some(g.private_key))
        }
    };
    let kp = Keypair {
        id: 0,
        project_id: caller.project_id.clone(),
        user_id: caller.user_id.clone(),
        name: req.name.clone(),
        public_key,
        fingerprint,
        key_type,
        created_ms: now_ms(),
    };
    let kp = app.ctx.store.keypair_insert(kp).await.map_err(|e| match e {
        StoreError::Conflict(_) => Error::new(Code::NovaConflict, format!("Key pair '{}' already exists.", req.name)),
        e => internal(e),
    })?;
    Ok(CreatedKeypair {
        fingerprint: kp.fingerprint,
        name: kp.name,
        public_key: kp.public_key,
        private_key,
        user_id: kp.user_id,
        key_type: kp.key_type,
    })
}

/// Lists the project's key pairs (`limit`/`marker` as in Nova 2.35).
pub async fn list(
    app: &App,
    caller: &Caller,
    limit: Option<usize>,
    marker: Option<&str>,
) -> Result<KeypairList, Error> {
    if let Some(m) = marker {
        if app.ctx.store.keypair_get(&caller.project_id, m).await.map_err(internal)?.is_none() {
            return Err(Error::new(Code::NovaBadRequest, format!("marker [{m}] not found")));
        }
    }
    let kps = app.ctx.store.keypair_list(&caller.project_id, limit, marker).await.map_err(internal)?;
    Ok(KeypairList {
        keypairs: kps
            .into_iter()
            .map(|k| KeypairEnvelope {
                keypair: ListedKeypair {
                    fingerprint: k.fingerprint,
                    name: k.name,
                    public_key: k.public_key,
                    key_type: k.key_type,
                },
            })
            .collect(),
    })
}

/// Shows one key pair in Nova's detail form.
pub async fn show(app: &App, caller: &Caller, name: &str) -> Result<KeypairDetail, Error> {
    // A name no key pair can have is not looked up at all.
    ecs_crypto::validate_keypair_name(name).map_err(|_| not_found(name))?;
    let k =
        app.ctx.store.keypair_get(&caller.project_id, name).await.map_err(internal)?.ok_or_else(|| not_found(name))?;
    Ok(KeypairDetail {
        created_at: micro_time(k.created_ms),
        deleted: false,
        deleted_at: None,
        fingerprint: k.fingerprint,
        id: k.id,
        name: k.name,
        public_key: k.public_key,
        updated_at: None,
        user_id: k.user_id,
        key_type: k.key_type,
    })
}

/// Deletes a key pair.
pub async fn delete(app: &App, caller: &Caller, name: &str) -> Result<(), Error> {
    ecs_crypto::validate_keypair_name(name).map_err(|_| not_found(name))?;
    if app.ctx.store.keypair_delete(&caller.project_id, name).await.map_err(internal)? {
        Ok(())
    } else {
        Err(not_found(name))
    }
}
