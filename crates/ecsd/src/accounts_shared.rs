//! The bootstrap account of the nodes that share a database: the first node to start writes
//! its own to the database (setting [`BOOTSTRAP_SETTING`]), and every node, then or later, uses
//! the one there, so that a node started on the database with a fresh data directory accepts
//! the credential the first one printed. The data directory's `account.json` becomes a copy of
//! it: on a shared database the servers belong to the database's account, not the directory's.
//! A file that cannot be read is still refused, as on a store of its own.
//!
//! A node whose environment names a credential (`HUAWEICLOUD_SDK_*`) keeps it as its own, as on
//! a store of its own, and accepts the shared one as well. Accounts of the configuration file
//! are honoured as ever.

use crate::accounts::{account_from_json, save_private, Account, Accounts, SAVED};
use crate::config::FileConfig;
use crate::datadir::History;
use ecs_store::Store;
use std::path::Path;

/// The setting holding the shared bootstrap account (JSON; it holds the secret key).
pub const BOOTSTRAP_SETTING: &str = "bootstrap_account";

fn parse(json: &str) -> Result<Account, String> {
    account_from_json(json.as_bytes())
        .map_err(|e| format!("the bootstrap account in the database ({BOOTSTRAP_SETTING}) {e}"))
}

impl Accounts {
    /// [`Accounts::load`], with the bootstrap account shared through `store` when the store is
    /// shared.
    pub async fn load_shared(
        data_dir: &Path,
        file: &FileConfig,
        region: &str,
        history: History,
        store: &dyn Store,
    ) -> Result<Self, String> {
        if !store.shared() {
            return Accounts::load(data_dir, file, region, history);
        }
        let db = |e: ecs_store::StoreError| format!("cannot read the bootstrap account from the database: {e}");
        let saved_path = data_dir.join(SAVED);
        let stored = match store.setting_get(BOOTSTRAP_SETTING).await.map_err(db)? {
            Some(json) => Some(parse(&json)?),
            None => None,
        };
        // A fresh data directory takes the database's account. One that has a file keeps it
        // through `Accounts::load`, which refuses a file it cannot read (as on a store of its
        // own: it is never replaced behind the operator's back); a readable one that is not
        // the database's is replaced below.
        if let Some(shared) = stored.as_ref().filter(|_| !saved_path.exists()) {
            save_private(&saved_path, shared)?;
        }
        let mut accounts = Accounts::load(data_dir, file, region, history)?;
        let mine = accounts.bootstrap().cloned().ok_or("no bootstrap account")?;
        let shared = match stored {
            Some(shared) => shared,
            None => {
                let json = serde_json::to_string(&mine).map_err(|e| e.to_string())?;
                parse(&store.setting_init(BOOTSTRAP_SETTING, &json).await.map_err(db)?)?
            }
        };
        if shared != mine {
            // Another node wrote first (both started on a new database at once), this node's
            // file is of another database, or its environment names another credential: load
            // again on the shared one.
            tracing::warn!(ak = %shared.ak, "this node takes the bootstrap account of the database it shares");
            save_private(&saved_path, &shared)?;
            accounts = Accounts::load(data_dir, file, region, history)?;
            accounts.also_accept(shared);
        }
        Ok(accounts)
    }
}
