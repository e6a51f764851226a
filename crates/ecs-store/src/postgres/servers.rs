//! Servers, their addresses and volumes, and the atomic start of an operation.

use super::{bodies, commit, decode, encode, execute, get, query, query_opt, transaction, PgStore};
use crate::{Begin, NicRef, NicRelease, Readdress, ServerFilter, ServerPage, ServerRow, StoreError};
use deadpool_postgres::GenericClient;
use ecs_model::job::Job;
use ecs_model::network;
use ecs_model::server::Server;
use ecs_model::volume::Volume;
use tokio_postgres::types::ToSql;

async fn volumes_of(c: &impl GenericClient, server_id: &str) -> Result<Vec<Volume>, StoreError> {
    let mut v: Vec<Volume> = bodies(&query(c, "SELECT body FROM volumes WHERE server_id = $1", &[&server_id]).await?)?;
    crate::sort_volumes(&mut v);
    Ok(v)
}

async fn row(c: &impl GenericClient, server: Server) -> Result<ServerRow, StoreError> {
    let volumes = volumes_of(c, &server.id).await?;
    Ok(ServerRow { server, volumes })
}

/// One write of a pipeline (see [`PgStore::begin_op`]).
type Write<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'a>>;

async fn get_in(c: &impl GenericClient, project_id: &str, id: &str) -> Result<Option<Server>, StoreError> {
    let row = query_opt(c, "SELECT body FROM servers WHERE id = $1 AND project_id = $2", &[&id, &project_id]).await?;
    row.map(|r| get::<&str>(&r, 0).and_then(decode)).transpose()
}

/// Writes `s` if its generation still matches; returns it with the generation bumped.
///
/// No lock is taken first: of two concurrent updates of one server, the second waits for the
/// first's row lock and PostgreSQL then evaluates its `generation = $expected` again on the row
/// the first committed, which no longer matches: it changes nothing and loses.
pub(super) async fn update_in(c: &impl GenericClient, mut s: Server) -> Result<Server, StoreError> {
    let expected = s.generation;
    s.generation += 1;
    let n = execute(
        c,
        "UPDATE servers SET name = $1, status = $2, flavor_id = $3, ip = $4, generation = $5,
                security_groups = $6, body = $7, auto_terminate_ms = $10
         WHERE id = $8 AND generation = $9",
        &[
            &s.name,
            &s.status(),
            &s.flavor_id,
            &s.network.ip,
            &s.generation,
            &s.security_groups,
            &encode(&s)?,
            &s.id,
            &expected,
            &s.auto_terminate_ms,
        ],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("server {} changed concurrently", s.id)));
    }
    Ok(s)
}

/// Allocates the lowest free address of the subnet: the next after the highest in use, or
/// (once the top is reached) the first gap.
///
/// The subnet's row is locked first (FOR UPDATE, until the transaction ends): two creates in
/// one subnet would otherwise both read the same highest address and the second would fail on
/// the primary key, refused for no reason of its own. Locked, the second waits and then reads
/// the first one's address.
async fn allocate_ip(c: &impl GenericClient, subnet_id: &str, server_id: &str) -> Result<(String, u32), StoreError> {
    let cidr = locked_subnet_cidr(c, subnet_id).await?;
    let max: Option<i64> =
        get(&super::one(c, "SELECT MAX(n) FROM ip_alloc WHERE subnet_id = $1", &[&subnet_id]).await?, 0)?;
    let mut n = max.map(|m| m + 1).unwrap_or(0);
    if u32::try_from(n).ok().and_then(|n| network::host_address(&cidr, n)).is_none() {
        let gap: Option<i64> = match query_opt(
            c,
            "SELECT a.n + 1 FROM ip_alloc a WHERE a.subnet_id = $1
               AND NOT EXISTS (SELECT 1 FROM ip_alloc b WHERE b.subnet_id = $1 AND b.n = a.n + 1)
             UNION SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ip_alloc WHERE subnet_id = $1 AND n = 0)
             ORDER BY 1 LIMIT 1",
            &[&subnet_id],
        )
        .await?
        {
            Some(row) => Some(get(&row, 0)?),
            None => None,
        };
        n = gap.ok_or_else(|| StoreError::AddressesExhausted(subnet_id.to_string()))?;
    }
    let index = u32::try_from(n).map_err(|_| StoreError::AddressesExhausted(subnet_id.to_string()))?;
    if network::host_address(&cidr, index).is_none() {
        return Err(StoreError::AddressesExhausted(subnet_id.to_string()));
    }
    execute(c, "INSERT INTO ip_alloc (subnet_id, n, server_id) VALUES ($1, $2, $3)", &[&subnet_id, &n, &server_id])
        .await?;
    Ok((cidr, index))
}

/// The subnet's CIDR, its row locked until the transaction ends (see [`allocate_ip`]).
async fn locked_subnet_cidr(c: &impl GenericClient, subnet_id: &str) -> Result<String, StoreError> {
    match query_opt(c, "SELECT body FROM subnets WHERE id = $1 FOR UPDATE", &[&subnet_id]).await? {
        Some(row) => Ok(decode::<ecs_model::network::Subnet>(get(&row, 0)?)?.cidr),
        None => Err(StoreError::NotFound(format!("subnet {subnet_id}"))),
    }
}

/// Takes the fixed address `ip` for the server: `AddressInUse` when another server has it.
/// Under the subnet's lock, so the check and the insert cannot interleave with another
/// allocation in the subnet.
async fn reserve_ip(
    c: &impl GenericClient,
    subnet_id: &str,
    ip: &str,
    server_id: &str,
) -> Result<(String, u32), StoreError> {
    let cidr = locked_subnet_cidr(c, subnet_id).await?;
    let index = network::host_index(&cidr, ip)
        .ok_or_else(|| StoreError::NotFound(format!("address {ip} is not assignable in subnet {subnet_id}")))?;
    let n = i64::from(index);
    let taken = execute(
        c,
        "INSERT INTO ip_alloc (subnet_id, n, server_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&subnet_id, &n, &server_id],
    )
    .await?;
    if taken == 0 {
        return Err(StoreError::AddressInUse(ip.to_string()));
    }
    Ok((cidr, index))
}

/// Takes an address of the subnet for a NIC of `server_id`: `wanted` (`AddressInUse` when
/// another NIC holds it), or the next free one when `wanted` is empty. The subnet's CIDR (read
/// under its lock), the address's index and its text.
async fn take_address(
    c: &impl GenericClient,
    subnet_id: &str,
    wanted: &str,
    server_id: &str,
) -> Result<(String, u32, String), StoreError> {
    let (cidr, n) = if wanted.is_empty() {
        allocate_ip(c, subnet_id, server_id).await?
    } else {
        reserve_ip(c, subnet_id, wanted, server_id).await?
    };
    let ip = network::host_address(&cidr, n).ok_or_else(|| StoreError::AddressesExhausted(subnet_id.to_string()))?;
    Ok((cidr, n, ip.to_string()))
}

/// Inserts a new server with its address: the fixed one it asks for (`network.ip` already
/// set), or the next free one.
async fn insert_in(c: &impl GenericClient, mut s: Server) -> Result<Server, StoreError> {
    let (_, n, ip) = take_address(c, &s.network.subnet_id, &s.network.ip, &s.id).await?;
    s.network.ip = ip;
    s.network.mac = network::mac_for(n);
    let inserted = execute(
        c,
        "INSERT INTO servers (id, project_id, name, status, flavor_id, ip, generation, security_groups, host, body,
                              auto_terminate_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
        &[
            &s.id,
            &s.project_id,
            &s.name,
            &s.status(),
            &s.flavor_id,
            &s.network.ip,
            &s.generation,
            &s.security_groups,
            &s.host,
            &encode(&s)?,
            &s.auto_terminate_ms,
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!("server {} exists", s.id)));
    }
    Ok(s)
}

/// Gives each added NIC its address (under its subnet's lock, as a new server's) and its port
/// row (see [`Begin::attach_nics`]); the servers are written after, with the addresses in them.
async fn attach_nics_in(c: &impl GenericClient, servers: &mut [Server], nics: &[NicRef]) -> Result<(), StoreError> {
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
        nic.ip = take_address(c, &nic.subnet_id, &nic.ip, &server_id).await?.2;
        let port = ecs_model::port::Port::for_server(&project_id, &server_id, &r.port_id);
        super::networks::port_insert_in(c, &port).await?;
    }
    Ok(())
}

/// Gives primary NICs their new addresses and takes the old ones back (see
/// [`Begin::readdress`]): the new one is taken first, so a request for an address in use fails
/// before anything is given up.
async fn readdress_in(c: &impl GenericClient, servers: &mut [Server], changes: &[Readdress]) -> Result<(), StoreError> {
    for r in changes {
        let s = servers
            .iter_mut()
            .find(|s| s.id == r.server_id)
            .ok_or_else(|| StoreError::NotFound(format!("server {} is not among the servers written", r.server_id)))?;
        let (cidr, _, ip) = take_address(c, &s.network.subnet_id, &s.network.ip, &s.id).await?;
        s.network.ip = ip;
        if let Some(old) = network::host_index(&cidr, &r.old_ip) {
            let old = i64::from(old);
            execute(
                c,
                "DELETE FROM ip_alloc WHERE subnet_id = $1 AND n = $2 AND server_id = $3",
                &[&s.network.subnet_id, &old, &s.id],
            )
            .await?;
        }
    }
    Ok(())
}

/// Deletes the ports and addresses of removed NICs (see [`Begin::release_nics`]).
async fn release_nics_in(c: &impl GenericClient, nics: &[NicRelease]) -> Result<(), StoreError> {
    for r in nics {
        let subnet = query_opt(c, "SELECT body FROM subnets WHERE id = $1", &[&r.subnet_id]).await?;
        let cidr = match subnet {
            Some(row) => decode::<ecs_model::network::Subnet>(get(&row, 0)?)?.cidr,
            None => return Err(StoreError::NotFound(format!("subnet {}", r.subnet_id))),
        };
        if let Some(n) = network::host_index(&cidr, &r.ip) {
            let n = i64::from(n);
            execute(
                c,
                "DELETE FROM ip_alloc WHERE subnet_id = $1 AND n = $2 AND server_id = $3",
                &[&r.subnet_id, &n, &r.server_id],
            )
            .await?;
        }
        execute(
            c,
            "DELETE FROM ports WHERE id = $1 AND project_id = $2 AND server_id = $3",
            &[&r.port_id, &r.project_id, &r.server_id],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn volume_put_in(c: &impl GenericClient, v: &Volume) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO volumes (id, project_id, server_id, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, server_id = excluded.server_id,
                                        body = excluded.body",
        &[&v.id, &v.project_id, &v.server_id, &encode(v)?],
    )
    .await?;
    Ok(())
}

/// Parameters of a query built at run time, numbered as they are pushed.
#[derive(Default)]
struct Args(Vec<Box<dyn ToSql + Sync + Send>>);

impl Args {
    /// Adds a parameter; its placeholder (`$n`).
    fn push(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(v));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect()
    }
}

/// The `WHERE` clause of a server list, its parameters pushed onto `args`.
///
/// Name matching is `ILIKE`: SQLite's `LIKE` ignores the case of ASCII letters, and both stores
/// must answer the same list.
fn list_where(project_id: &str, f: &ServerFilter, args: &mut Args) -> String {
    let mut sql = format!(" WHERE project_id = {}", args.push(project_id.to_string()));
    if let Some(ids) = &f.server_ids {
        sql.push_str(&format!(" AND id = ANY({})", args.push(ids.clone())));
        return sql;
    }
    if let Some(n) = &f.name {
        sql.push_str(&format!(" AND name ILIKE {}", args.push(crate::filter::like_pattern(n))));
    }
    if let Some(ip) = &f.ip {
        sql.push_str(&format!(" AND ip LIKE {}", args.push(crate::filter::like_pattern(ip))));
    }
    if let Some(ip) = &f.ip_eq {
        sql.push_str(&format!(" AND ip = {}", args.push(ip.clone())));
    }
    if let Some(fl) = &f.flavor {
        sql.push_str(&format!(" AND flavor_id = {}", args.push(fl.clone())));
    }
    if let Some(st) = &f.status {
        sql.push_str(&format!(" AND status = {}", args.push(st.clone())));
    }
    sql
}

async fn list_in(c: &impl GenericClient, project_id: &str, f: &ServerFilter) -> Result<ServerPage, StoreError> {
    let body_filters = f.filters_bodies();
    let marker_seq: Option<i64> = match &f.marker {
        Some(m) => Some(
            match query_opt(c, "SELECT seq FROM servers WHERE id = $1 AND project_id = $2", &[m, &project_id]).await? {
                Some(r) => get(&r, 0)?,
                None => i64::MAX,
            },
        ),
        None => None,
    };
    let skip = if marker_seq.is_some() { 0 } else { f.page.saturating_sub(1).saturating_mul(f.limit) };
    if !body_filters {
        // Everything is in columns: count over the index and fetch only the page.
        let mut args = Args::default();
        let cond = list_where(project_id, f, &mut args);
        let count: i64 = get(&super::one(c, &format!("SELECT COUNT(*) FROM servers{cond}"), &args.refs()).await?, 0)?;
        let mut sql = format!("SELECT body FROM servers{cond}");
        if let Some(m) = marker_seq {
            sql.push_str(&format!(" AND seq < {}", args.push(m)));
        }
        let limit = args.push(i64::try_from(f.limit).unwrap_or(i64::MAX));
        let offset = args.push(i64::try_from(skip).unwrap_or(i64::MAX));
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit} OFFSET {offset}"));
        let found: Vec<Server> = bodies(&query(c, &sql, &args.refs()).await?)?;
        let mut servers = Vec::with_capacity(found.len());
        for s in found {
            servers.push(row(c, s).await?);
        }
        return Ok(ServerPage { count, servers });
    }
    // Tags and reservation ids live in the JSON body: walk the matches and decode each.
    let mut args = Args::default();
    let cond = list_where(project_id, f, &mut args);
    let rows = query(c, &format!("SELECT seq, body FROM servers{cond} ORDER BY seq DESC"), &args.refs()).await?;
    let mut count = 0i64;
    let mut matched_after_marker = 0usize;
    let mut out = Vec::new();
    for r in &rows {
        let seq: i64 = get(r, 0)?;
        let server: Server = decode(get(r, 1)?)?;
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
    let mut servers = Vec::with_capacity(out.len());
    for s in out {
        servers.push(row(c, s).await?);
    }
    Ok(ServerPage { count, servers })
}

impl PgStore {
    pub(crate) async fn srv_only(&self, project_id: &str, id: &str) -> Result<Option<Server>, StoreError> {
        let c = self.client().await?;
        get_in(&c, project_id, id).await
    }

    pub(crate) async fn srv_list(&self, project_id: &str, f: &ServerFilter) -> Result<ServerPage, StoreError> {
        let mut c = self.client().await?;
        // One snapshot for the count and the page, so that they agree.
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(super::pg_err)?;
        let page = list_in(&tx, project_id, f).await?;
        commit(tx).await?;
        Ok(page)
    }

    pub(crate) async fn srv_ids_with_status(&self, status: &str) -> Result<Vec<(String, String)>, StoreError> {
        let c = self.client().await?;
        let rows = query(&c, "SELECT project_id, id FROM servers WHERE status = $1", &[&status]).await?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }

    pub(crate) async fn srv_update(&self, s: Server) -> Result<Server, StoreError> {
        let c = self.client().await?;
        update_in(&c, s).await
    }

    pub(crate) async fn srv_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        execute(&tx, "DELETE FROM servers WHERE id = $1 AND project_id = $2", &[&id, &project_id]).await?;
        execute(&tx, "DELETE FROM ip_alloc WHERE server_id = $1", &[&id]).await?;
        super::networks::ports_delete_for_server_in(&tx, id).await?;
        super::volumes::release_in(&tx, id).await?;
        super::server_groups::leave_in(&tx, id).await?;
        commit(tx).await
    }

    pub(crate) async fn vol_put(&self, v: Volume) -> Result<(), StoreError> {
        let c = self.client().await?;
        volume_put_in(&c, &v).await
    }

    pub(crate) async fn vol_get(&self, id: &str) -> Result<Option<Volume>, StoreError> {
        let c = self.client().await?;
        let row = query_opt(&c, "SELECT body FROM volumes WHERE id = $1", &[&id]).await?;
        row.map(|r| get::<&str>(&r, 0).and_then(decode)).transpose()
    }

    pub(crate) async fn vol_delete(&self, id: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        execute(&c, "DELETE FROM volumes WHERE id = $1", &[&id]).await?;
        Ok(())
    }

    pub(crate) async fn vol_list(&self) -> Result<Vec<Volume>, StoreError> {
        let c = self.client().await?;
        bodies(&query(&c, "SELECT body FROM volumes ORDER BY id", &[]).await?)
    }

    /// [`crate::Store::begin`]: one READ COMMITTED transaction, all of it or nothing.
    ///
    /// Its locks, taken in this order (the same in every transaction, so two of them never
    /// wait for each other in a circle): the saga's row (FOR SHARE) when a step writes, for the
    /// fence; the project's row when a quota is checked, so that
    /// of two creates at the quota's edge the second counts the first one's servers and is
    /// refused; the servers it changes, by their compare-and-swap, in id order; the subnet
    /// of each new server, for its address; the hosts the new servers are placed on, for their
    /// capacity; the security groups the new servers name
    /// (FOR SHARE), so that none of them is deleted before this commits; the server group
    /// each new server joins (FOR UPDATE), so that anti-affinity is checked one join at a time.
    pub(crate) async fn begin_op(&self, mut b: Begin) -> Result<Vec<Server>, StoreError> {
        if super::one_server_op::fits(&b) {
            return super::one_server_op::write(self, b).await.map(|()| Vec::new());
        }
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        if let Some(hold) = &b.fence {
            super::jobs::fence_write_in(&tx, hold).await?;
        }
        let last_event = match &b.log {
            Some(log) => super::jobs::log_fence_in(&tx, log).await?,
            None => 0,
        };
        let project = b.insert_servers.first().or(b.update_servers.first()).map(|s| s.project_id.clone());
        if let (Some(q), Some(project)) = (&b.quota, project) {
            super::catalog::lock_project(&tx, &project).await?;
            super::quotas::check_in(&tx, &project, q, &b.insert_servers, &b.update_servers).await?;
        }
        // Only a resize (which carries a quota) changes a placed server's flavor.
        let resized: &[Server] = if b.quota.is_some() { &b.update_servers } else { &[] };
        super::nodes::check_hosts_in(&tx, &b.insert_servers, resized).await?;
        b.update_servers.sort_by(|x, y| x.id.cmp(&y.id));
        // Added NICs take their subnets' locks before their server's row lock (the only begin
        // that takes both, so no other transaction waits for them the other way round).
        attach_nics_in(&tx, &mut b.update_servers, &b.attach_nics).await?;
        readdress_in(&tx, &mut b.update_servers, &b.readdress).await?;
        release_nics_in(&tx, &b.release_nics).await?;
        // The writes that need no answer before the next one are sent together (pipelined on
        // the transaction's connection) and awaited at once: one round trip for the lot rather
        // than one each. A single server's compare-and-swap joins them when no server is
        // inserted (a reinstall, a resize, a stop of one server): it is then the only row lock
        // taken, so the lock order above holds; if it loses, the error drops the transaction,
        // which rolls back whatever else the pipeline wrote. Several servers' updates still go
        // one by one, in id order.
        // A request that takes volumes locks them after its server (below), so its server's
        // update is not pipelined: it must come first.
        let pipelined_update =
            if b.insert_servers.is_empty() && b.update_servers.len() == 1 && b.swap_volumes.is_empty() {
                b.update_servers.pop()
            } else {
                None
            };
        for s in b.update_servers {
            update_in(&tx, s).await?;
        }
        // Volumes in id order, as servers, so that two transactions never wait on each other.
        b.swap_volumes.sort_by(|x, y| x.from.id.cmp(&y.from.id));
        for sw in &b.swap_volumes {
            super::volumes::swap_in(&tx, sw).await?;
        }
        let mut inserted = Vec::with_capacity(b.insert_servers.len());
        for s in b.insert_servers {
            let s = insert_in(&tx, s).await?;
            super::networks::port_insert_for_server_in(&tx, &s).await?;
            if let Some(g) = &s.server_group {
                super::server_groups::join_in(&tx, g, &s, super::server_groups::OnSameHost::Replace).await?;
            }
            inserted.push(s);
        }
        let jobs = recorded_jobs(&b.jobs, &b.sagas);
        // Who holds the sagas recorded here (declared before the writes that borrow it).
        let member = self.member();
        let member = member.as_ref();
        let mut writes: Vec<Write<'_>> = Vec::with_capacity(1 + b.insert_volumes.len() + jobs.len() + b.sagas.len());
        if let Some(s) = pipelined_update {
            let tx = &tx;
            writes.push(Box::pin(async move { update_in(tx, s).await.map(drop) }));
        }
        writes.extend(b.insert_volumes.iter().map(|v| -> Write<'_> { Box::pin(volume_put_in(&tx, v)) }));
        match (jobs.as_slice(), b.sagas.as_slice()) {
            // One job and its saga (most requests): one statement for both and the saga's events.
            ([j], [s]) if j.id == s.id => {
                writes.push(Box::pin(super::jobs::job_with_saga_insert_in(&tx, j, s, member)))
            }
            _ => {
                writes.extend(jobs.iter().map(|j| -> Write<'_> { Box::pin(super::jobs::job_insert_in(&tx, j)) }));
                writes.extend(
                    b.sagas.iter().map(|s| -> Write<'_> { Box::pin(super::jobs::saga_insert_in(&tx, s, member)) }),
                );
            }
        }
        futures_util::future::try_join_all(writes).await?;
        for id in &b.delete_volumes {
            execute(&tx, "DELETE FROM volumes WHERE id = $1", &[id]).await?;
        }
        if let Some(log) = &b.log {
            let me = member.map(|m| m.name.as_str());
            super::jobs::log_write_in(&tx, log, last_event, me).await?;
        }
        commit(tx).await?;
        Ok(inserted)
    }
}

/// The jobs as they are recorded: a saga recorded with its first step started makes its job
/// RUNNING at once, as appending that event later would have.
pub(super) fn recorded_jobs(jobs: &[Job], sagas: &[ecs_saga::SagaRecord]) -> Vec<Job> {
    let started: std::collections::HashSet<&str> =
        sagas.iter().filter(|s| crate::rules::starts_first_step(&s.events)).map(|s| s.id.as_str()).collect();
    jobs.iter()
        .map(|j| {
            let mut j = j.clone();
            if j.status == ecs_model::job::JobStatus::Init && started.contains(j.id.as_str()) {
                j.status = ecs_model::job::JobStatus::Running;
            }
            j
        })
        .collect()
}
