//! The server list query (`GET /v1/{project_id}/cloudservers/detail`) as the store sees it.

use crate::ServerRow;

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

/// One page of servers and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerPage {
    pub count: i64,
    pub servers: Vec<ServerRow>,
}
