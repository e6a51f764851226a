//! Servers, their addresses and volumes, and the atomic start of an operation.

use super::catalog::{decode, encode, query_bodies};
use super::{backend, execute_cached, jobs, query_row_cached, SqliteStore};
use crate::seen::{Seen, Table};
use crate::{Begin, NicRef, NicRelease, Readdress, ServerFilter, ServerPage, ServerRow, StoreError};
use ecs_model::network;
use ecs_model::server::Server;
use ecs_model::volume::Volume;
use rusqlite::{params, Connection, OptionalExtension};

fn volumes_of(c: &Connection, server_id: &str) -> Result<Vec<Volume>, StoreError> {
    let mut v: Vec<Volume> = query_bodies(c, "SELECT body FROM volumes WHERE server_id = ?1", server_id)?;
    crate::sort_volumes(&mut v);
    Ok(v)
}

/// A page of servers with their volumes, read in one statement for the whole page (`sql`
/// selects `server_id, body` of the volumes) instead of one per server.
fn rows_with_volumes(
    c: &Connection,
    servers: Vec<Server>,
    sql: &str,
    args: &[rusqlite::types::Value],
) -> Result<Vec<ServerRow>, StoreError> {
    let mut by_server: std::collections::HashMap<String, Vec<Volume>> = std::collections::HashMap::new();
    if !servers.is_empty() {
        let mut st = c.prepare_cached(sql).map_err(backend)?;
        let mut rows = st.query(rusqlite::params_from_iter(args.iter())).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            let server_id: String = r.get(0).map_err(backend)?;
            let body: String = r.get(1).map_err(backend)?;
            by_server.entry(server_id).or_default().push(decode(&body)?);
        }
    }
    Ok(servers
        .into_iter()
        .map(|server| {
            let mut volumes = by_server.remove(&server.id).unwrap_or_default();
            crate::sort_volumes(&mut volumes);
            ServerRow { server, volumes }
        })
        .collect())
}

fn row(c: &Connection, server: Server) -> Result<ServerRow, StoreError> {
    let volumes = volumes_of(c, &server.id)?;
    Ok(ServerRow { server, volumes })
}

/// A server and its volumes in one statement: a statement reads one snapshot, so the pair is
/// consistent without a `BEGIN` and a `COMMIT` around two reads. The volumes' bodies (JSON
/// objects) come joined into one JSON array.
fn row_in(c: &Connection, project_id: &str, id: &str) -> Result<Option<ServerRow>, StoreError> {
    Ok(row_and_ids_in(c, project_id, id)?.map(|(row, _)| row))
}

/// Row ids read, by table.
type RowIds = Vec<(Table, i64)>;

/// [`row_in`], with the row ids it read: the server's, then its volumes'.
fn row_and_ids_in(c: &Connection, project_id: &str, id: &str) -> Result<Option<(ServerRow, RowIds)>, StoreError> {
    let read: Option<(i64, String, String, Option<String>)> = c
        .prepare_cached(
            "SELECT s.rowid, s.body,
                    '[' || COALESCE((SELECT group_concat(v.body, ',') FROM volumes v WHERE v.server_id = s.id), '') || ']',
                    (SELECT group_concat(v.rowid) FROM volumes v WHERE v.server_id = s.id)
               FROM servers s WHERE s.id = ?1 AND s.project_id = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![id, project_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional()
        })
        .map_err(backend)?;
    let Some((rowid, server, volumes, volume_rowids)) = read else { return Ok(None) };
    let mut volumes: Vec<Volume> = decode(&volumes)?;
    crate::sort_volumes(&mut volumes);
    let mut ids = vec![(Table::Servers, rowid)];
    for v in volume_rowids.as_deref().unwrap_or("").split(',').filter(|v| !v.is_empty()) {
        ids.push((Table::Volumes, v.parse().map_err(backend)?));
    }
    Ok(Some((ServerRow { server: decode(&server)?, volumes }, ids)))
}

/// The names of `s`'s security groups, by id, from their rows' `name` (not their bodies); the
/// groups' row ids are added to `ids`.
fn group_names_in(
    c: &Connection,
    s: &Server,
    ids: &mut Vec<(Table, i64)>,
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT rowid, name FROM security_groups WHERE id = ?1 AND project_id = ?2")
        .map_err(backend)?;
    let mut names = std::collections::HashMap::with_capacity(s.security_groups.len());
    for g in &s.security_groups {
        if let Some((rowid, name)) = st
            .query_row(params![g, s.project_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .optional()
            .map_err(backend)?
        {
            ids.push((Table::SecurityGroups, rowid));
            names.insert(g.clone(), name);
        }
    }
    Ok(names)
}

fn get_in(c: &Connection, project_id: &str, id: &str) -> Result<Option<Server>, StoreError> {
    let b: Option<String> = c
        .prepare_cached("SELECT body FROM servers WHERE id = ?1 AND project_id = ?2")
        .and_then(|mut st| st.query_row(params![id, project_id], |r| r.get(0)).optional())
        .map_err(backend)?;
    b.map(|b| decode(&b)).transpose()
}

/// Writes `s` if its generation still matches; returns it with the generation bumped.
pub(crate) fn update_in(c: &Connection, mut s: Server) -> Result<Server, StoreError> {
    let expected = s.generation;
    s.generation += 1;
    let n = c
        .prepare_cached(
            "UPDATE servers SET name = ?1, status = ?2, flavor_id = ?3, ip = ?4, generation = ?5, body = ?6,
                    auto_terminate_ms = ?9
             WHERE id = ?7 AND generation = ?8",
        )
        .and_then(|mut st| {
            st.execute(params![
                s.name,
                s.status(),
                s.flavor_id,
                s.network.ip,
                s.generation,
                encode(&s).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                s.id,
                expected,
                s.auto_terminate_ms
            ])
        })
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("server {} changed concurrently", s.id)));
    }
    Ok(s)
}

/// Allocates the lowest free address of the subnet: the next after the highest in use, or
/// (once the top is reached) the first gap.
fn allocate_ip(c: &Connection, subnet_id: &str, cidr: &str, server_id: &str) -> Result<u32, StoreError> {
    let max: Option<i64> = c
        .query_row("SELECT MAX(n) FROM ip_alloc WHERE subnet_id = ?1", params![subnet_id], |r| r.get(0))
        .map_err(backend)?;
    let mut n = max.map(|m| m + 1).unwrap_or(0) as u32;
    if network::host_address(cidr, n).is_none() {
        let gap: Option<i64> = c
            .query_row(
                "SELECT a.n + 1 FROM ip_alloc a WHERE a.subnet_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM ip_alloc b WHERE b.subnet_id = ?1 AND b.n = a.n + 1)
                 UNION SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ip_alloc WHERE subnet_id = ?1 AND n = 0)
                 ORDER BY 1 LIMIT 1",
                params![subnet_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        n = gap.ok_or_else(|| StoreError::AddressesExhausted(subnet_id.to_string()))? as u32;
        if network::host_address(cidr, n).is_none() {
            return Err(StoreError::AddressesExhausted(subnet_id.to_string()));
        }
    }
    execute_cached(
        c,
        "INSERT INTO ip_alloc (subnet_id, n, server_id) VALUES (?1, ?2, ?3)",
        params![subnet_id, n, server_id],
    )
    .map_err(backend)?;
    Ok(n)
}

fn subnet_cidr(c: &Connection, subnet_id: &str) -> Result<String, StoreError> {
    let subnets: Vec<ecs_model::network::Subnet> =
        query_bodies(c, "SELECT body FROM subnets WHERE id = ?1", subnet_id)?;
    subnets.into_iter().next().map(|s| s.cidr).ok_or_else(|| StoreError::NotFound(format!("subnet {subnet_id}")))
}

/// Takes the fixed address `ip` for the server: `AddressInUse` when another server has it.
fn reserve_ip(c: &Connection, subnet_id: &str, cidr: &str, ip: &str, server_id: &str) -> Result<u32, StoreError> {
    let n = network::host_index(cidr, ip)
        .ok_or_else(|| StoreError::NotFound(format!("address {ip} is not assignable in subnet {subnet_id}")))?;
    execute_cached(
        c,
        "INSERT INTO ip_alloc (subnet_id, n, server_id) VALUES (?1, ?2, ?3)",
        params![subnet_id, n, server_id],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::AddressInUse(ip.to_string())
        }
        e => backend(e),
    })?;
    Ok(n)
}

/// Takes an address of the subnet for a NIC of `server_id`: `wanted` (`AddressInUse` when
/// another NIC holds it), or the next free one when `wanted` is empty. Its index and text.
fn take_address(
    c: &Connection,
    subnet_id: &str,
    cidr: &str,
    wanted: &str,
    server_id: &str,
) -> Result<(u32, String), StoreError> {
    let n = if wanted.is_empty() {
        allocate_ip(c, subnet_id, cidr, server_id)?
    } else {
        reserve_ip(c, subnet_id, cidr, wanted, server_id)?
    };
    let ip = network::host_address(cidr, n).ok_or_else(|| StoreError::AddressesExhausted(subnet_id.to_string()))?;
    Ok((n, ip.to_string()))
}

/// Inserts a new server with its address: the fixed one it asks for (`network.ip` already
/// set), or the next free one.
fn insert_in(c: &Connection, mut s: Server) -> Result<Server, StoreError> {
    let cidr = subnet_cidr(c, &s.network.subnet_id)?;
    let (n, ip) = take_address(c, &s.network.subnet_id, &cidr, &s.network.ip, &s.id)?;
    s.network.ip = ip;
    s.network.mac = network::mac_for(n);
    let seq: i64 =
        query_row_cached(c, "SELECT COALESCE(MAX(seq), 0) + 1 FROM servers", [], |r| r.get(0)).map_err(backend)?;
    execute_cached(
        c,
        "INSERT INTO servers (id, project_id, seq, name, status, flavor_id, ip, generation, body, auto_terminate_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            s.id,
            s.project_id,
            seq,
            s.name,
            s.status(),
            s.flavor_id,
            s.network.ip,
            s.generation,
            encode(&s)?,
            s.auto_terminate_ms
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!("server {} exists", s.id))
        }
        e => backend(e),
    })?;
    Ok(s)
}

/// Gives each added NIC its address and its port row (see [`Begin::attach_nics`]); the
/// servers are written after, with the addresses in them.
fn attach_nics_in(c: &Connection, servers: &mut [Server], nics: &[NicRef]) -> Result<(), StoreError> {
    for r in nics {
        let s = servers
            .iter_mut()
            .find(|s| s.id == r.server_id)
            .ok_or_else(|| StoreError::NotFound(format!("server {} is not among the servers written", r.server_id)))?;
        let (project_id, server_id) = (s.project_id.clone(), s.id.clone());
        let nic = s
            .extra_nics
            .iter_mut()
            .find(|n| n.port_id == r.port_id)
            .ok_or_else(|| StoreError::NotFound(format!("server {} has no NIC {}", r.server_id, r.port_id)))?;
        let cidr = subnet_cidr(c, &nic.subnet_id)?;
        nic.ip = take_address(c, &nic.subnet_id, &cidr, &nic.ip, &server_id)?.1;
        super::networks::port_insert_in(c, &ecs_model::port::Port::for_server(&project_id, &server_id, &r.port_id))?;
    }
    Ok(())
}

/// Gives primary NICs their new addresses and takes the old ones back (see
/// [`Begin::readdress`]): the new one is taken first, so a request for an address in use fails
/// before anything is given up.
fn readdress_in(c: &Connection, servers: &mut [Server], changes: &[Readdress]) -> Result<(), StoreError> {
    for r in changes {
        let s = servers
            .iter_mut()
            .find(|s| s.id == r.server_id)
            .ok_or_else(|| StoreError::NotFound(format!("server {} is not among the servers written", r.server_id)))?;
        let cidr = subnet_cidr(c, &s.network.subnet_id)?;
        s.network.ip = take_address(c, &s.network.subnet_id, &cidr, &s.network.ip, &s.id)?.1;
        if let Some(old) = network::host_index(&cidr, &r.old_ip) {
            execute_cached(
                c,
                "DELETE FROM ip_alloc WHERE subnet_id = ?1 AND n = ?2 AND server_id = ?3",
                params![s.network.subnet_id, old, s.id],
            )
            .map_err(backend)?;
        }
    }
    Ok(())
}

/// Deletes the ports and addresses of removed NICs (see [`Begin::release_nics`]).
fn release_nics_in(c: &Connection, nics: &[NicRelease]) -> Result<(), StoreError> {
    for r in nics {
        let cidr = subnet_cidr(c, &r.subnet_id)?;
        if let Some(n) = network::host_index(&cidr, &r.ip) {
            execute_cached(
                c,
                "DELETE FROM ip_alloc WHERE subnet_id = ?1 AND n = ?2 AND server_id = ?3",
                params![r.subnet_id, n, r.server_id],
            )
            .map_err(backend)?;
        }
        execute_cached(
            c,
            "DELETE FROM ports WHERE id = ?1 AND project_id = ?2 AND server_id = ?3",
            params![r.port_id, r.project_id, r.server_id],
        )
        .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn volume_put_in(c: &Connection, v: &Volume) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO volumes (id, server_id, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id, body = excluded.body",
    )
    .and_then(|mut st| st.execute(params![v.id, v.server_id, serde_json::to_string(v).unwrap_or_default()]))
    .map_err(backend)?;
    Ok(())
}

/// The `WHERE` clause of a server list and its arguments (`?` placeholders, in order).
fn list_where(project_id: &str, f: &ServerFilter) -> (String, Vec<String>) {
    let mut sql = String::from(" WHERE project_id = ?");
    let mut args: Vec<String> = vec![project_id.to_string()];
    if let Some(ids) = &f.server_ids {
        sql.push_str(&format!(" AND id IN ({})", vec!["?"; ids.len().max(1)].join(",")));
        if ids.is_empty() {
            args.push(String::new());
        }
        args.extend(ids.iter().cloned());
        return (sql, args);
    }
    if let Some(n) = &f.name {
        sql.push_str(" AND name LIKE ? ESCAPE '\\'");
        args.push(crate::filter::like_pattern(n));
    }
    if let Some(ip) = &f.ip {
        sql.push_str(" AND ip LIKE ? ESCAPE '\\'");
        args.push(crate::filter::like_pattern(ip));
    }
    if let Some(ip) = &f.ip_eq {
        sql.push_str(" AND ip = ?");
        args.push(ip.clone());
    }
    if let Some(fl) = &f.flavor {
        sql.push_str(" AND flavor_id = ?");
        args.push(fl.clone());
    }
    if let Some(st) = &f.status {
        sql.push_str(" AND status = ?");
        args.push(st.clone());
    }
    (sql, args)
}

/// Where a list's page starts: the position after which a list with `f.marker` starts
/// (`i64::MAX` for an unknown marker: from the top, as before markers were checked), and the
/// matches to skip (the pages before `f.page`, without a marker).
fn page_start(c: &Connection, project_id: &str, f: &ServerFilter) -> Result<(Option<i64>, usize), StoreError> {
    let Some(m) = &f.marker else { return Ok((None, f.page.saturating_sub(1).saturating_mul(f.limit))) };
    let seq = c
        .prepare_cached("SELECT seq FROM servers WHERE id = ?1 AND project_id = ?2")
        .and_then(|mut st| st.query_row(params![m, project_id], |r| r.get(0)).optional())
        .map_err(backend)?
        .unwrap_or(i64::MAX);
    Ok((Some(seq), 0))
}

/// The first column of every row `sql` selects, as text.
fn strings_of(c: &Connection, sql: &str, args: &[rusqlite::types::Value]) -> Result<Vec<String>, StoreError> {
    let mut st = c.prepare_cached(sql).map_err(backend)?;
    let strings = st
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    Ok(strings)
}

/// A list filtered on columns only: the count of its matches, and the statement (selecting
/// `body`) with its arguments for the page. Everything is in columns, so the count is the kept
/// one (or the matches counted over the index when filtered) and only the page is fetched: an
/// unfiltered page costs the same whether the project holds a hundred servers or a hundred
/// thousand.
fn column_page(
    c: &Connection,
    project_id: &str,
    f: &ServerFilter,
    marker_seq: Option<i64>,
    skip: usize,
) -> Result<(i64, String, Vec<rusqlite::types::Value>), StoreError> {
    let (cond, args) = list_where(project_id, f);
    let count: i64 = if args.len() == 1 {
        // Only the project: its count is kept by the schema's triggers.
        c.prepare_cached("SELECT COALESCE(SUM(n), 0) FROM server_counts WHERE project_id = ?1")
            .and_then(|mut st| st.query_row(params![project_id], |r| r.get(0)))
            .map_err(backend)?
    } else {
        c.prepare_cached(&format!("SELECT COUNT(*) FROM servers{cond}"))
            .and_then(|mut st| st.query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0)))
            .map_err(backend)?
    };
    use rusqlite::types::Value;
    let mut page_args: Vec<Value> = args.iter().cloned().map(Value::Text).collect();
    let mut sql = format!("SELECT body FROM servers{cond}");
    if let Some(m) = marker_seq {
        sql.push_str(" AND seq < ?");
        page_args.push(Value::Integer(m));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ? OFFSET ?");
    page_args.push(Value::Integer(i64::try_from(f.limit).unwrap_or(i64::MAX)));
    page_args.push(Value::Integer(i64::try_from(skip).unwrap_or(i64::MAX)));
    Ok((count, sql, page_args))
}

/// The count and the page's server ids of a list whose membership is fixed
/// ([`ServerFilter::membership_is_fixed`]), in one snapshot; `None` for any other list.
fn list_ids_in(c: &Connection, project_id: &str, f: &ServerFilter) -> Result<Option<(i64, Vec<String>)>, StoreError> {
    if !f.membership_is_fixed() {
        return Ok(None);
    }
    super::in_snapshot(c, |c| {
        let (marker_seq, skip) = page_start(c, project_id, f)?;
        let (count, sql, page_args) = column_page(c, project_id, f, marker_seq, skip)?;
        let ids = strings_of(c, &sql.replacen("SELECT body FROM", "SELECT id FROM", 1), &page_args)?;
        Ok(Some((count, ids)))
    })
}

fn list_in(c: &Connection, project_id: &str, f: &ServerFilter) -> Result<ServerPage, StoreError> {
    let (cond, args) = list_where(project_id, f);
    let (marker_seq, skip) = page_start(c, project_id, f)?;
    if !f.filters_bodies() {
        let (count, sql, page_args) = column_page(c, project_id, f, marker_seq, skip)?;
        let bodies = strings_of(c, &sql, &page_args)?;
        let servers = bodies.iter().map(|b| decode::<Server>(b)).collect::<Result<Vec<_>, _>>()?;
        // The same page again, as the volumes' key: one statement for the page's volumes.
        let ids = sql.replacen("SELECT body FROM", "SELECT id FROM", 1);
        let volumes = format!("SELECT server_id, body FROM volumes WHERE server_id IN ({ids})");
        let servers = rows_with_volumes(c, servers, &volumes, &page_args)?;
        return Ok(ServerPage { count, servers });
    }
    // Tags and reservation ids live in the JSON body: walk the matches and decode each.
    let sql = format!("SELECT seq, body FROM servers{cond} ORDER BY seq DESC");
    let mut st = c.prepare(&sql).map_err(backend)?;
    let mut rows = st.query(rusqlite::params_from_iter(args.iter())).map_err(backend)?;
    let mut count = 0i64;
    let mut matched_after_marker = 0usize;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(backend)? {
        let seq: i64 = r.get(0).map_err(backend)?;
        let body: String = r.get(1).map_err(backend)?;
        let server: Server = decode(&body)?;
        if !f.matches_body(&server) {
            continue;
        }
        count += 1;
        if marker_seq.is_some_and(|m| seq >= m) {
            continue;
        }
        matched_after_marker += 1;
        if matched_after_marker <= skip || out.len() >= f.limit {
            continue;
        }
        out.push(server);
    }
    drop(rows);
    let servers = out.into_iter().map(|s| row(c, s)).collect::<Result<Vec<_>, _>>()?;
    Ok(ServerPage { count, servers })
}

impl SqliteStore {
    pub(crate) async fn srv_get(&self, project_id: &str, id: &str) -> Result<Option<ServerRow>, StoreError> {
        self.read_now(move |c| row_in(c, project_id, id)).await
    }

    /// The server, its volumes, and the key pair and image `also` names, in one snapshot.
    pub(crate) async fn srv_get_with(
        &self,
        project_id: &str,
        id: &str,
        also: crate::AlsoRead<'_>,
    ) -> Result<crate::ServerWith, StoreError> {
        use super::catalog::{image_get_in, keypair_get_in};
        // Taken before the read starts (see `changes.rs`).
        let at = self.changes.now();
        self.read_now(move |c| {
            let read = |c: &Connection| {
                let Some((row, ids)) = row_and_ids_in(c, project_id, id)? else {
                    return Ok((crate::ServerWith::default(), Vec::new()));
                };
                let keypair = also.keypair.map(|name| keypair_get_in(c, project_id, name)).transpose()?.flatten();
                let image_id = also.image.or(also.own_image.then_some(row.server.image_id.as_str()));
                let image = image_id.map(|i| image_get_in(c, i)).transpose()?.flatten();
                Ok((crate::ServerWith { row: Some(row), keypair, image, ..Default::default() }, ids))
            };
            // The server alone is one statement; with a key pair or an image, the reads share
            // one snapshot.
            let (mut with, mut ids) = if also.keypair.is_none() && also.image.is_none() && !also.own_image {
                read(c)?
            } else {
                super::in_snapshot(c, read)?
            };
            // A group's name is not part of the server's snapshot: a group renamed in between
            // shows either name, as when the detail read it apart.
            if let Some(r) = with.row.as_ref().filter(|_| also.group_names) {
                with.group_names = group_names_in(c, &r.server, &mut ids)?;
            }
            // Only what a kept answer is made of is noted: the key pair and the image are not.
            if also.seen && with.row.is_some() && also.keypair.is_none() && also.image.is_none() && !also.own_image {
                with.seen = Some(Seen { at, rows: ids });
            }
            Ok(with)
        })
        .await
    }

    pub(crate) async fn srv_list_ids(
        &self,
        project_id: &str,
        f: &ServerFilter,
    ) -> Result<Option<(i64, Vec<String>)>, StoreError> {
        let (p, f) = (project_id.to_string(), f.clone());
        self.read(move |c| list_ids_in(c, &p, &f)).await
    }

    /// See [`crate::Store::unchanged_since`].
    pub(crate) fn srv_unchanged_since(&self, seen: &Seen) -> bool {
        self.changes.unchanged_since(seen)
    }

    pub(crate) async fn srv_only(&self, project_id: &str, id: &str) -> Result<Option<Server>, StoreError> {
        self.read_now(move |c| get_in(c, project_id, id)).await
    }

    pub(crate) async fn srv_list(&self, project_id: &str, f: &ServerFilter) -> Result<ServerPage, StoreError> {
        let (p, f) = (project_id.to_string(), f.clone());
        self.read(move |c| super::in_snapshot(c, |c| list_in(c, &p, &f))).await
    }

    pub(crate) async fn srv_ids_with_status(&self, status: &str) -> Result<Vec<(String, String)>, StoreError> {
        let status = status.to_string();
        self.read(move |c| {
            let mut st = c.prepare("SELECT project_id, id FROM servers WHERE status = ?1").map_err(backend)?;
            let rows = st.query_map(params![status], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    pub(crate) async fn srv_update(&self, s: Server) -> Result<Server, StoreError> {
        self.write(move |c| update_in(c, s)).await
    }

    pub(crate) async fn srv_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write(move |c| {
            execute_cached(c, "DELETE FROM servers WHERE id = ?1 AND project_id = ?2", params![id, p])
                .map_err(backend)?;
            execute_cached(c, "DELETE FROM ip_alloc WHERE server_id = ?1", params![id]).map_err(backend)?;
            super::networks::ports_delete_for_server_in(c, &id)?;
            super::volumes::release_in(c, &id)?;
            super::server_groups::leave_in(c, &id)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn vol_put(&self, v: Volume) -> Result<(), StoreError> {
        self.write(move |c| volume_put_in(c, &v)).await
    }

    pub(crate) async fn vol_get(&self, id: &str) -> Result<Option<Volume>, StoreError> {
        let id = id.to_string();
        self.read_now(move |c| {
            Ok(query_bodies::<Volume>(c, "SELECT body FROM volumes WHERE id = ?1", &id)?.into_iter().next())
        })
        .await
    }

    pub(crate) async fn vol_delete(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.write(move |c| {
            execute_cached(c, "DELETE FROM volumes WHERE id = ?1", params![id]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn vol_list(&self) -> Result<Vec<Volume>, StoreError> {
        self.read(|c| query_bodies(c, "SELECT body FROM volumes ORDER BY id", "")).await
    }

    pub(crate) async fn begin_op(&self, mut b: Begin) -> Result<Vec<Server>, StoreError> {
        let log = b.log.take().map(jobs::EncodedLog::new).transpose()?;
        self.write(move |c| {
            let project = b.insert_servers.first().or(b.update_servers.first()).map(|s| s.project_id.clone());
            if let (Some(q), Some(project)) = (&b.quota, project) {
                super::quotas::check_in(c, &project, q, &b.insert_servers, &b.update_servers)?;
            }
            let mut updates = b.update_servers;
            attach_nics_in(c, &mut updates, &b.attach_nics)?;
            readdress_in(c, &mut updates, &b.readdress)?;
            release_nics_in(c, &b.release_nics)?;
            for s in updates {
                update_in(c, s)?;
            }
            for sw in &b.swap_volumes {
                super::volumes::swap_in(c, sw)?;
            }
            let mut inserted = Vec::with_capacity(b.insert_servers.len());
            for s in b.insert_servers {
                let s = insert_in(c, s)?;
                super::networks::port_insert_for_server_in(c, &s)?;
                if let Some(g) = &s.server_group {
                    super::server_groups::join_in(c, g, &s)?;
                }
                inserted.push(s);
            }
            for v in &b.insert_volumes {
                volume_put_in(c, v)?;
            }
            for id in &b.delete_volumes {
                execute_cached(c, "DELETE FROM volumes WHERE id = ?1", params![id]).map_err(backend)?;
            }
            // A saga recorded with its first step started makes its job RUNNING at once, as
            // appending that event later would have.
            let started: std::collections::HashSet<&str> =
                b.sagas.iter().filter(|s| jobs::starts_first_step(&s.events)).map(|s| s.id.as_str()).collect();
            for j in &b.jobs {
                if j.status == ecs_model::job::JobStatus::Init && started.contains(j.id.as_str()) {
                    let mut j = j.clone();
                    j.status = ecs_model::job::JobStatus::Running;
                    jobs::job_insert_in(c, &j)?;
                } else {
                    jobs::job_insert_in(c, j)?;
                }
            }
            for s in &b.sagas {
                jobs::saga_insert_in(c, s)?;
            }
            if let Some(log) = log {
                log.write_in(c)?;
            }
            Ok(inserted)
        })
        .await
    }
}
