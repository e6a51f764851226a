//! The server list query (`GET /v1/{project_id}/cloudservers/detail`) as the store sees it.

use crate::ServerRow;
use ecs_model::server::Server;

/// Filters and pagination of a server list. `offset` is a page number (1-based) as in the
/// ECS API; `marker` (a server id) is the alternative, cursor-style pagination.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerFilter {
    pub name: Option<String>,
    pub ip: Option<String>,
    pub ip_eq: Option<String>,
    pub flavor: Option<String>,
    pub status: Option<String>,
    pub tags: Vec<String>,
    pub not_tags: Vec<String>,
    pub reservation_id: Option<String>,
    /// When set, every other filter is ignored.
    pub server_ids: Option<Vec<String>>,
    pub limit: usize,
    pub page: usize,
    pub marker: Option<String>,
}

impl ServerFilter {
    /// Whether which servers match depends only on what a server keeps for its life (its
    /// project, its id, its place in the order). A page of ids read now and the servers' details
    /// read a moment later then agree on which servers belong, whatever was written between
    /// them, but for a server deleted in between; with a filter on a name, an address, a flavor
    /// or a status, a server renamed, readdressed, resized or stopped in between would show in
    /// a list it no longer matches.
    pub fn membership_is_fixed(&self) -> bool {
        self.server_ids.is_some()
            || (self.name.is_none()
                && self.ip.is_none()
                && self.ip_eq.is_none()
                && self.flavor.is_none()
                && self.status.is_none()
                && !self.filters_bodies())
    }

    /// Whether the list filters on what only the JSON body holds (tags, reservation ids), so
    /// that a store must decode the matches of its columns' query to apply [`Self::matches_body`].
    pub(crate) fn filters_bodies(&self) -> bool {
        self.server_ids.is_none()
            && (!self.tags.is_empty() || !self.not_tags.is_empty() || self.reservation_id.is_some())
    }

    /// The filters no store expresses in SQL columns (tags and the reservation live in the
    /// server's JSON body), applied the same way by every store to the rows its query found.
    pub(crate) fn matches_body(&self, s: &Server) -> bool {
        let tag_ok = self.tags.iter().all(|t| has_tag(s, t));
        let not_tag_ok = self.not_tags.is_empty() || !self.not_tags.iter().all(|t| has_tag(s, t));
        let res_ok = self.reservation_id.as_ref().is_none_or(|r| &s.reservation_id == r);
        tag_ok && not_tag_ok && res_ok
    }
}

/// Whether the server has the tag `t`: a `key=value` tag exactly, or a bare `key` with any value.
fn has_tag(s: &Server, t: &str) -> bool {
    s.tags.iter().any(|have| have == t || (!t.contains('=') && have.split_once('=').is_some_and(|(k, _)| k == t)))
}

/// A `LIKE` pattern matching `s` anywhere, with `%`, `_` and `\` taken literally (`\` is the
/// escape character: SQLite's queries declare it, and it is PostgreSQL's default).
pub(crate) fn like_pattern(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of servers and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerPage {
    pub count: i64,
    pub servers: Vec<ServerRow>,
}
