//! Servers' details as last answered, kept rendered: a client polling a server (an SDK waiting
//! for it to be `ACTIVE`, a console page) is answered without the detail being decoded,
//! rendered and serialized again, for as long as nothing it was made of has changed.
//!
//! What makes this correct:
//! - an entry is served only while the store says that none of the rows its read saw has been
//!   written since ([`ecs_store::Store::unchanged_since`]). Only a store that sees every write
//!   made to it can say so (SQLite, opened by one process); a store that other nodes write to
//!   gives no [`Seen`], and nothing from it is kept;
//! - what a detail shows from outside the store (whether the server's host is down, how to
//!   reach its VM) is asked again at every answer and compared with what the entry was
//!   rendered with;
//! - an entry answers only its own project: another project's caller falls through to the
//!   store, which answers as for an unknown server.
//!
//! The cache is bounded by the bytes it holds; the least recently used details leave first.

use bytes::Bytes;
use ecs_store::{Seen, Store};
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::Arc;

/// At most this many bytes of details are kept (a detail is 2-3 KB).
const CAPACITY_BYTES: u64 = 16 * 1024 * 1024;

/// A detail as answered, with what it was made of.
pub struct Shown {
    pub project_id: String,
    pub seen: Seen,
    /// The server's host, and whether it was down.
    pub host: Option<String>,
    pub host_down: bool,
    /// How to reach the VM, as the driver said.
    pub access: Option<String>,
    /// The answer's JSON.
    pub body: Bytes,
}

#[derive(Clone)]
struct BodySize;

impl Weighter<String, Arc<Shown>> for BodySize {
    fn weight(&self, key: &String, s: &Arc<Shown>) -> u64 {
        // The rows a read notes (a server, its volumes and groups) are 16 bytes each.
        (key.len() + s.project_id.len() + s.body.len() + 16 * 4) as u64
    }
}

/// The kept details, by server id.
pub struct ShownServers {
    cache: Cache<String, Arc<Shown>, BodySize>,
}

impl ShownServers {
    pub fn new() -> ShownServers {
        ShownServers::with(CAPACITY_BYTES)
    }

    fn with(capacity_bytes: u64) -> ShownServers {
        let estimated = (capacity_bytes / 2048) as usize;
        ShownServers { cache: Cache::with_weighter(estimated.max(1), capacity_bytes, BodySize) }
    }

    /// The kept detail of server `id` for `project_id`, if `store` says it is still current;
    /// one that is not is dropped.
    pub fn get(&self, store: &dyn Store, project_id: &str, id: &str) -> Option<Arc<Shown>> {
        let shown = self.cache.get(id)?;
        if shown.project_id != project_id {
            return None;
        }
        if !store.unchanged_since(&shown.seen) {
            self.cache.remove(id);
            return None;
        }
        Some(shown)
    }

    /// Keeps the detail of server `id`.
    pub fn offer(&self, id: &str, shown: Shown) {
        self.cache.insert(id.to_string(), Arc::new(shown));
    }
}

impl Default for ShownServers {
    fn default() -> Self {
        ShownServers::new()
    }
}
