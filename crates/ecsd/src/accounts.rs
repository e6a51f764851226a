//! Who may call the API: AK/SK credentials, each belonging to a user of a project.
//!
//! The bootstrap account comes from the variables the official SDKs read
//! (`HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_PROJECT_ID`), so a shell set up
//! for the SDK is set up for ecsd too; without them one is generated on first start and kept in
//! the data directory. More accounts come from the configuration file. Nodes that share a
//! database share the bootstrap account too (`accounts_shared.rs`).

use crate::config::{AccountConfig, FileConfig};
use crate::datadir::History;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// A credential and what it may act as.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub ak: String,
    pub sk: String,
    pub user_id: String,
    pub project_id: String,
    pub project_name: String,
    /// IAM user name for password authentication (`POST /v3/auth/tokens`); none: AK/SK only.
    #[serde(default)]
    pub user_name: Option<String>,
    /// SHA-512 crypt hash of that user's password.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// The account (domain) the user belongs to.
    #[serde(default = "default_domain")]
    pub domain_name: String,
}

fn default_domain() -> String {
    "ecsd".into()
}

// The secret key must never reach a log line, so Debug leaves it out.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("ak", &self.ak)
            .field("user_id", &self.user_id)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

/// Every known credential, by access key.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    by_ak: HashMap<String, Account>,
    bootstrap: Option<String>,
}

fn hex(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n).map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0')).collect()
}

fn alnum_upper(n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..n).map(|_| A[rng.gen_range(0..A.len())] as char).collect()
}

fn alnum(n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..n).map(|_| A[rng.gen_range(0..A.len())] as char).collect()
}

/// The longest password Huawei IAM lets a user have: "Can contain 8 to 32 characters" (6 to 32
/// in older versions) in the password rules of its `POST /v3/users` (Creating an IAM User)
/// API reference. The account's password policy (`PUT /v3.0/OS-SECURITYPOLICY/domains/{id}/
/// password-policy`) only sets the minimum, within 6-32; it has no maximum to raise. That the
/// `maximum_password_length` its query returns is always 32 is inferred, not documented.
pub const MAX_PASSWORD_CHARS: usize = 32;

/// The longest IAM user name: "1 to 64 characters" in the same API reference, and the "Characters
/// allowed in a username: 64" quota of IAM's notes and constraints (32 in older versions).
pub const MAX_USER_NAME_CHARS: usize = 64;

/// Whether `s` has more than `max` characters (looks at no more than `max + 1` of them).
pub fn longer_than(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().nth(max).is_some()
}

/// Password verifications that may run at once: half the cores, so that the other half keeps
/// serving everything else during a flood of logins. One takes a few milliseconds.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// A project id as IAM issues them: 32 lower-case hex characters.
pub fn valid_project_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(a: &Account) -> Result<(), String> {
    if !valid_project_id(&a.project_id) {
        return Err(format!("project id {:?} is not 32 lower-case hex characters", a.project_id));
    }
    if a.ak.is_empty() || a.ak.len() > 128 || !a.ak.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("access key {:?} must be 1-128 letters and digits", a.ak));
    }
    if a.sk.is_empty() || a.sk.len() > 256 {
        return Err("secret key must be 1-256 characters".into());
    }
    if a.user_id.is_empty() || a.user_id.len() > 64 {
        return Err("user id must be 1-64 characters".into());
    }
    Ok(())
}

impl Accounts {
    /// Builds the account set: the bootstrap account (environment, else the data directory,
    /// else newly generated and saved there) plus the configuration file's.
    ///
    /// The saved account says which project (and user) the directory's servers belong to, so
    /// it is never replaced behind the operator's back: a file that is there but cannot be read
    /// is refused even when the environment gives the credential (the saved user id, and the
    /// project id unless `HUAWEICLOUD_SDK_PROJECT_ID` is set, come from it), and so is a file
    /// missing from a directory that holds servers or key pairs ([`History::Used`]), unless the
    /// environment names the project.
    pub fn load(data_dir: &Path, file: &FileConfig, region: &str, history: History) -> Result<Self, String> {
        let saved_path = data_dir.join(SAVED);
        let saved = read_saved(&saved_path).map_err(|e| {
            format!(
                "{e}. It holds the account that owns this data directory's servers; replacing it would hide \
                 them. Restore it from a backup; to give that account up deliberately, remove the file \
                 (a new account is then generated, or taken from the HUAWEICLOUD_SDK_* variables)"
            )
        })?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let credential = (env("HUAWEICLOUD_SDK_AK"), env("HUAWEICLOUD_SDK_SK"));
        let project_from_env = env("HUAWEICLOUD_SDK_PROJECT_ID");
        if saved.is_none() && history == History::Used && (credential.0.is_none() || project_from_env.is_none()) {
            return Err(format!(
                "{} is missing, but the data directory holds servers or key pairs, which a new account \
                 would not see. Restore the file from a backup, or start with HUAWEICLOUD_SDK_AK, \
                 HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID set to the account the servers belong to",
                saved_path.display()
            ));
        }
        let bootstrap = match credential {
            (Some(ak), Some(sk)) => {
                let project_id = project_from_env
                    .or_else(|| saved.as_ref().map(|s| s.project_id.clone()))
                    .unwrap_or_else(|| hex(32));
                // The user id is ours to choose; keep it stable across restarts.
                let user_id = saved.as_ref().map(|s| s.user_id.clone()).unwrap_or_else(|| hex(32));
                Account { ak, sk, user_id, project_id, project_name: region.to_string(), ..Account::blank() }
            }
            _ => match saved {
                Some(s) => s,
                None => Account {
                    ak: alnum_upper(20),
                    sk: alnum(40),
                    user_id: hex(32),
                    project_id: hex(32),
                    project_name: region.to_string(),
                    ..Account::blank()
                },
            },
        };
        check(&bootstrap)?;
        save_private(&saved_path, &bootstrap)?;
        let mut accounts = Accounts { bootstrap: Some(bootstrap.ak.clone()), ..Default::default() };
        accounts.by_ak.insert(bootstrap.ak.clone(), bootstrap);
        for a in &file.accounts {
            let acc = from_config(a, region);
            check(&acc)?;
            if accounts.by_ak.insert(acc.ak.clone(), acc).is_some() {
                return Err(format!("access key {} is configured twice", a.ak));
            }
        }
        Ok(accounts)
    }

    /// A set with exactly these accounts (tests).
    pub fn from_list(list: Vec<Account>) -> Self {
        let bootstrap = list.first().map(|a| a.ak.clone());
        Accounts { by_ak: list.into_iter().map(|a| (a.ak.clone(), a)).collect(), bootstrap }
    }

    /// Accepts `a` as well (unless its access key is taken already): the bootstrap account of
    /// the nodes sharing a database, on a node whose own comes from its environment.
    pub(crate) fn also_accept(&mut self, a: Account) {
        self.by_ak.entry(a.ak.clone()).or_insert(a);
    }

    /// The account of an access key.
    pub fn get(&self, ak: &str) -> Option<&Account> {
        self.by_ak.get(ak)
    }

    /// The bootstrap account (printed at start-up).
    pub fn bootstrap(&self) -> Option<&Account> {
        self.bootstrap.as_ref().and_then(|ak| self.by_ak.get(ak))
    }

    /// The account a user name and password log in to, in the given domain (any when `None`).
    ///
    /// SHA-512-crypt costs time quadratic in the password's length (100 KB took 29 s), so a
    /// password or user name longer than IAM allows is refused before any hashing: no
    /// configured login can match it (the configuration file is checked for the same bounds).
    /// The hashing itself runs on the blocking pool, at most [`hashing_slots`] at a time, so
    /// that a flood of logins neither stalls the async workers nor takes every core; a login
    /// whose caller went away (the future was dropped) before its turn is never hashed.
    pub async fn by_password(&self, user: &str, password: &str, domain: Option<&str>) -> Option<Account> {
        if longer_than(user, MAX_USER_NAME_CHARS) || longer_than(password, MAX_PASSWORD_CHARS) {
            return None;
        }
        let candidates: Vec<Account> = self
            .by_ak
            .values()
            .filter(|a| {
                a.user_name.as_deref() == Some(user)
                    && domain.is_none_or(|d| d == a.domain_name)
                    && a.password_hash.is_some()
            })
            .cloned()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> =
            std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(hashing_slots()));
        // The semaphore is never closed; waiting for it is where a dropped login stops.
        let permit = HASHING.acquire().await.ok()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // The blocking pool may have queued this behind other work: skip the hash if the
            // caller has gone meanwhile.
            if tx.is_closed() {
                return;
            }
            let found = candidates
                .into_iter()
                .find(|a| a.password_hash.as_deref().is_some_and(|h| ecs_crypto::verify_password(&password, h)));
            let _ = tx.send(found);
        });
        rx.await.ok().flatten()
    }

    /// Every account (IAM project listing).
    pub fn all(&self) -> impl Iterator<Item = &Account> {
        self.by_ak.values()
    }

    /// Every distinct project id.
    /// The account of the IAM user `name` (of the domain, when one is named), if there is one.
    pub fn by_user_name(&self, name: &str, domain: Option<&str>) -> Option<&Account> {
        self.by_ak.values().find(|a| a.user_name.as_deref() == Some(name) && domain.is_none_or(|d| d == a.domain_name))
    }

    /// Whether some credential is of the project `id`.
    pub fn has_project(&self, id: &str) -> bool {
        self.by_ak.values().any(|a| a.project_id == id)
    }

    pub fn projects(&self) -> Vec<String> {
        let mut p: Vec<String> = self.by_ak.values().map(|a| a.project_id.clone()).collect();
        p.sort();
        p.dedup();
        p
    }
}

/// The bootstrap account's file in the data directory.
pub const SAVED: &str = "account.json";

/// The account saved at `path`: `None` when there is no file, an error naming the file when
/// it is there but cannot be read or parsed (also used by `ecsd check`).
pub fn read_saved(path: &Path) -> Result<Option<Account>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    account_from_json(&bytes).map(Some).map_err(|e| format!("{} {e}", path.display()))
}

/// An account saved as JSON, checked; the error says what is wrong ("does not parse: ...",
/// "is not valid: ...") for the caller to name where it came from.
pub fn account_from_json(bytes: &[u8]) -> Result<Account, String> {
    let account: Account = serde_json::from_slice(bytes).map_err(|e| format!("does not parse: {e}"))?;
    check(&account).map_err(|e| format!("is not valid: {e}"))?;
    Ok(account)
}

fn from_config(a: &AccountConfig, region: &str) -> Account {
    Account {
        ak: a.ak.clone(),
        sk: a.sk.clone(),
        user_id: a.user_id.clone(),
        project_id: a.project_id.clone(),
        project_name: a.project_name.clone().unwrap_or_else(|| region.to_string()),
        user_name: a.user_name.clone(),
        // A plain password in the file is hashed here and not kept.
        password_hash: a.password_hash.clone().or_else(|| a.password.as_deref().map(ecs_crypto::hash_password)),
        domain_name: a.domain_name.clone().unwrap_or_else(default_domain),
    }
}

impl Account {
    /// An account with no password login (fields filled in by the caller).
    pub fn blank() -> Account {
        Account {
            ak: String::new(),
            sk: String::new(),
            user_id: String::new(),
            project_id: String::new(),
            project_name: String::new(),
            user_name: None,
            password_hash: None,
            domain_name: default_domain(),
        }
    }
}

/// Writes the account file readable by its owner only: it holds a secret key.
pub(crate) fn save_private(path: &Path, a: &Account) -> Result<(), String> {
    let bytes = serde_json::to_vec_pretty(a).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret_key() {
        let a = Account {
            ak: "AK1".into(),
            sk: "VERYSECRET".into(),
            user_id: "u".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
            project_name: "r".into(),
            password_hash: Some(ecs_crypto::hash_password("pw-12345678")),
            ..Account::blank()
        };
        assert!(!format!("{a:?}").contains("VERYSECRET"));
        assert!(!format!("{:?}", Accounts::from_list(vec![a])).contains("VERYSECRET"));
    }

    #[test]
    fn project_ids_must_look_like_iam_ones() {
        assert!(valid_project_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_project_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!valid_project_id("{project_id}"));
    }

    #[test]
    fn config_file_accounts_are_added_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file: FileConfig = toml::from_str(
            r#"
            [[accounts]]
            project_id = "fedcba9876543210fedcba9876543210"
            user_id = "u2"
            ak = "SECONDAK"
            sk = "second"
            "#,
        )
        .unwrap();
        let acc = Accounts::load(dir.path(), &file, "cn-north-4", History::New).unwrap();
        let second = acc.get("SECONDAK").unwrap();
        assert_eq!(second.project_id, "fedcba9876543210fedcba9876543210");
        assert_eq!(second.project_name, "cn-north-4");
        assert!(acc.projects().contains(&second.project_id));
        // The bootstrap account was generated and saved, and is the same on the next load.
        let again = Accounts::load(dir.path(), &file, "cn-north-4", History::Used).unwrap();
        assert_eq!(acc.bootstrap().unwrap().ak, again.bootstrap().unwrap().ak);

        let mut bad = file.clone();
        bad.accounts[0].project_id = "not-hex".into();
        assert!(Accounts::load(dir.path(), &bad, "r", History::Used).unwrap_err().contains("32 lower-case hex"));
        let mut dup = file.clone();
        dup.accounts.push(dup.accounts[0].clone());
        assert!(Accounts::load(dir.path(), &dup, "r", History::Used).unwrap_err().contains("twice"));
        assert!(toml::from_str::<FileConfig>("[[accounts]]\nunknown = 1").is_err());
    }

    // These run without the HUAWEICLOUD_SDK_* variables, as the tests of this crate do (the
    // environment is the process's: no test here sets them).
    #[test]
    fn an_unreadable_account_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SAVED);
        std::fs::write(&path, "{ not json").unwrap();
        let e = Accounts::load(dir.path(), &FileConfig::default(), "r", History::Used).unwrap_err();
        assert!(e.contains("account.json does not parse") && e.contains("Restore"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json", "left as it was");
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let e = Accounts::load(dir.path(), &FileConfig::default(), "r", History::Used).unwrap_err();
        assert!(e.contains("cannot read") && e.contains("account.json"), "{e}");
    }

    #[test]
    fn a_missing_account_file_is_generated_only_in_a_new_directory() {
        let dir = tempfile::tempdir().unwrap();
        let e = Accounts::load(dir.path(), &FileConfig::default(), "r", History::Used).unwrap_err();
        assert!(e.contains("is missing") && e.contains("HUAWEICLOUD_SDK_PROJECT_ID"), "{e}");
        assert!(!dir.path().join(SAVED).exists());
        Accounts::load(dir.path(), &FileConfig::default(), "r", History::New).unwrap();
        assert!(dir.path().join(SAVED).exists());
    }
}
