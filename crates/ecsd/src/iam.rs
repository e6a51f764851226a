//! IAM-compatible tokens: `POST /v3/auth/tokens` issues one, `X-Auth-Token` presents it.
//!
//! A token is self-contained: the claims (account, user, project, expiry) and an HMAC of them
//! under a secret kept in the data directory. Nothing is stored per token; every token dies at
//! its expiry (24 hours, as on Huawei Cloud), and all of them at once when the service restarts
//! with a new secret (`ECSD_TOKEN_SECRET`, or delete `DATA_DIR/token.secret`). Nodes that share
//! a database share the secret too (kept in it, written by the first node to start), so that a
//! token minted by one is accepted by all.

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const PREFIX: &str = "ecsd1";

/// The setting that holds the token secret of the nodes sharing a database.
pub const SECRET_SETTING: &str = "token_secret";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The access key of the account the token acts as.
    pub ak: String,
    pub user_id: String,
    pub project_id: String,
    /// Unix seconds.
    pub issued: u64,
    pub expires: u64,
}

/// Mints and checks tokens.
pub struct Tokens {
    secret: Vec<u8>,
    pub ttl: Duration,
}

/// Why a token was refused (the gateway's wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Expired,
}

impl TokenError {
    /// The 401 message.
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Malformed => "Incorrect IAM authentication information: decrypt token fail",
            TokenError::Expired => "Incorrect IAM authentication information: token expires",
        }
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Tokens {
    /// The secret from `ECSD_TOKEN_SECRET`, if set.
    fn from_env(ttl: Duration) -> Result<Option<Tokens>, String> {
        let Ok(s) = std::env::var("ECSD_TOKEN_SECRET") else { return Ok(None) };
        if s.len() < 16 {
            return Err("ECSD_TOKEN_SECRET must be at least 16 characters".into());
        }
        Ok(Some(Tokens { secret: s.into_bytes(), ttl }))
    }

    /// The secret from `ECSD_TOKEN_SECRET`, else the one kept in the shared `store` (setting
    /// [`SECRET_SETTING`]; the first node to start writes it, every node reads the same back).
    pub async fn load_shared(store: &dyn ecs_store::Store, ttl: Duration) -> Result<Tokens, String> {
        if let Some(t) = Tokens::from_env(ttl)? {
            return Ok(t);
        }
        let mine = hex::encode(rand::random::<[u8; 32]>());
        let secret = store
            .setting_init(SECRET_SETTING, &mine)
            .await
            .map_err(|e| format!("cannot read the token secret from the database: {e}"))?;
        if secret.len() < 32 {
            return Err(format!("the token secret in the database ({SECRET_SETTING}) is shorter than 32 characters"));
        }
        Ok(Tokens { secret: secret.into_bytes(), ttl })
    }

    /// The secret from `ECSD_TOKEN_SECRET`, else from `DATA_DIR/token.secret` (created once).
    pub fn load(data_dir: &Path, ttl: Duration) -> Result<Tokens, String> {
        if let Some(t) = Tokens::from_env(ttl)? {
            return Ok(t);
        }
        let path = data_dir.join("token.secret");
        let secret = match std::fs::read(&path) {
            Ok(b) if b.len() >= 32 => b,
            _ => {
                let b: [u8; 32] = rand::random();
                let hex = hex::encode(b).into_bytes();
                std::fs::write(&path, &hex).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
                }
                hex
            }
        };
        Ok(Tokens { secret, ttl })
    }

    /// A token for tests and embedders with a fixed secret.
    pub fn with_secret(secret: &[u8], ttl: Duration) -> Tokens {
        Tokens { secret: secret.to_vec(), ttl }
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        m.update(PREFIX.as_bytes());
        m.update(b".");
        m.update(payload.as_bytes());
        m
    }

    /// Issues a token; returns it with its claims.
    pub fn mint(&self, ak: &str, user_id: &str, project_id: &str, now: SystemTime) -> (String, Claims) {
        let claims = Claims {
            ak: ak.to_string(),
            user_id: user_id.to_string(),
            project_id: project_id.to_string(),
            issued: unix(now),
            expires: unix(now) + self.ttl.as_secs(),
        };
        let json = serde_json::to_vec(&claims).unwrap_or_default();
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let sig = hex::encode(self.mac(&payload).finalize().into_bytes());
        (format!("{PREFIX}.{payload}.{sig}"), claims)
    }

    /// Checks a presented token (constant-time MAC comparison) and its expiry.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Claims, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(PREFIX), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let sig = hex::decode(sig).map_err(|_| TokenError::Malformed)?;
        self.mac(payload).verify_slice(&sig).map_err(|_| TokenError::Malformed)?;
        let json =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if unix(now) >= claims.expires {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Keystone's time format, as IAM answers: `2026-11-28T09:00:00.000000Z`.
pub fn iam_time(unix_secs: u64) -> String {
    format!("{}Z", ecs_model::timefmt::micro_time(unix_secs as i64 * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_expire_and_die_with_their_secret() {
        let t = Tokens::with_secret(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let now = SystemTime::now();
        let (tok, claims) = t.mint("AK", "u", "p", now);
        assert_eq!(t.verify(&tok, now).unwrap(), claims);
        assert_eq!(t.verify(&tok, now + Duration::from_secs(61)), Err(TokenError::Expired));
        let other = Tokens::with_secret(b"another-secret-another-secret!!", Duration::from_secs(60));
        assert_eq!(other.verify(&tok, now), Err(TokenError::Malformed));
        // A tampered payload (another project) fails the MAC.
        let mut parts: Vec<&str> = tok.split('.').collect();
        let forged_claims = Claims { project_id: "q".into(), ..claims };
        let forged =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        parts[1] = &forged;
        assert_eq!(t.verify(&parts.join("."), now), Err(TokenError::Malformed));
        assert_eq!(t.verify("garbage", now), Err(TokenError::Malformed));
    }
}
