//! Key pairs, images, VPCs and subnets.

use super::{backend, execute_cached, query_row_cached, SqliteStore};
use crate::StoreError;
use ecs_model::image::Image;
use ecs_model::keypair::Keypair;
use ecs_model::network::{self, Subnet, Vpc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;

pub(crate) fn decode<T: DeserializeOwned>(body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Damaged(format!("a stored record does not parse: {e}")))
}

pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn keypair_from_row(id: i64, body: &str) -> Result<Keypair, StoreError> {
    let mut kp: Keypair = decode(body)?;
    kp.id = id;
    Ok(kp)
}

impl SqliteStore {
    pub(crate) async fn kp_insert(&self, kp: Keypair) -> Result<Keypair, StoreError> {
        self.write(move |c| {
            let body = encode(&kp)?;
            let n = c
                .execute(
                    "INSERT OR IGNORE INTO keypairs (project_id, name, body) VALUES (?1, ?2, ?3)",
                    params![kp.project_id, kp.name, body],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::Conflict(format!("Key pair '{}' already exists.", kp.name)));
            }
            let id = c.last_insert_rowid();
            Ok(Keypair { id, ..kp })
        })
        .await
    }

    pub(crate) async fn kp_get(&self, project_id: &str, name: &str) -> Result<Option<Keypair>, StoreError> {
        let (p, n) = (project_id.to_string(), name.to_string());
        self.read_now(move |c| keypair_get_in(c, &p, &n)).await
    }

    pub(crate) async fn kp_list(
        &self,
        project_id: &str,
        limit: Option<usize>,
        marker: Option<&str>,
    ) -> Result<Vec<Keypair>, StoreError> {
        let p = project_id.to_string();
        let marker = marker.unwrap_or("").to_string();
        let limit = limit.map(|l| l as i64).unwrap_or(-1);
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT id, body FROM keypairs WHERE project_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3")
                .map_err(backend)?;
            let rows = st
                .query_map(params![p, marker, limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend).and_then(|(id, b)| keypair_from_row(id, &b))).collect()
        })
        .await
    }

    pub(crate) async fn kp_delete(&self, project_id: &str, name: &str) -> Result<bool, StoreError> {
        let (p, n) = (project_id.to_string(), name.to_string());
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM keypairs WHERE project_id = ?1 AND name = ?2", params![p, n])
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    pub(crate) async fn img_put(&self, image: Image) -> Result<(), StoreError> {
        self.write(move |c| {
            execute_cached(
                c,
                "INSERT INTO images (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                params![image.id, encode(&image)?],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn img_get(&self, id: &str) -> Result<Option<Image>, StoreError> {
        let id = id.to_string();
        self.read_now(move |c| image_get_in(c, &id)).await
    }

    pub(crate) async fn img_list(&self) -> Result<Vec<Image>, StoreError> {
        self.read_now(|c| query_bodies(c, "SELECT body FROM images ORDER BY id", "")).await
    }

    pub(crate) async fn net_default(&self, project_id: &str) -> Result<(Vpc, Subnet), StoreError> {
        if let Some(found) = self.net_find(project_id).await? {
            return Ok(found);
        }
        let p = project_id.to_string();
        self.write(move |c| {
            // Checked again inside the write transaction: two first requests may race here.
            if let Some(found) = net_find_in(c, &p)? {
                return Ok(found);
            }
            let now = ecs_model::timefmt::now_ms();
            let (vpc, subnet) = network::default_network(&p, now);
            execute_cached(
                c,
                "INSERT INTO vpcs (id, project_id, body) VALUES (?1, ?2, ?3)",
                params![vpc.id, p, encode(&vpc)?],
            )
            .map_err(backend)?;
            execute_cached(
                c,
                "INSERT INTO subnets (id, project_id, vpc_id, body) VALUES (?1, ?2, ?3, ?4)",
                params![subnet.id, p, vpc.id, encode(&subnet)?],
            )
            .map_err(backend)?;
            // The default security group comes with the default network, as on Huawei Cloud.
            super::networks::ensure_default_group_in(c, &p, &vpc.id)?;
            Ok((vpc, subnet))
        })
        .await
    }

    async fn net_find(&self, project_id: &str) -> Result<Option<(Vpc, Subnet)>, StoreError> {
        let p = project_id.to_string();
        self.read_now(move |c| net_find_in(c, &p)).await
    }

    pub(crate) async fn vpcs(&self, project_id: &str) -> Result<Vec<Vpc>, StoreError> {
        let p = project_id.to_string();
        self.read_now(move |c| query_bodies_in_rowid_order(c, "SELECT rowid, body FROM vpcs WHERE project_id = ?1", &p))
            .await
    }

    pub(crate) async fn subnets(&self, project_id: &str) -> Result<Vec<Subnet>, StoreError> {
        let p = project_id.to_string();
        self.read_now(move |c| {
            query_bodies_in_rowid_order(c, "SELECT rowid, body FROM subnets WHERE project_id = ?1", &p)
        })
        .await
    }

    pub(crate) async fn subnet_used_count(&self, subnet_id: &str) -> Result<i64, StoreError> {
        let s = subnet_id.to_string();
        self.read(move |c| {
            query_row_cached(c, "SELECT COUNT(*) FROM ip_alloc WHERE subnet_id = ?1", params![s], |r| r.get(0))
                .map_err(backend)
        })
        .await
    }
}

pub(crate) fn keypair_get_in(c: &Connection, project_id: &str, name: &str) -> Result<Option<Keypair>, StoreError> {
    let row: Option<(i64, String)> = c
        .prepare_cached("SELECT id, body FROM keypairs WHERE project_id = ?1 AND name = ?2")
        .and_then(|mut st| st.query_row(params![project_id, name], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    row.map(|(id, b)| keypair_from_row(id, &b)).transpose()
}

pub(crate) fn image_get_in(c: &Connection, id: &str) -> Result<Option<Image>, StoreError> {
    let b: Option<String> = c
        .prepare_cached("SELECT body FROM images WHERE id = ?1")
        .and_then(|mut st| st.query_row(params![id], |r| r.get(0)).optional())
        .map_err(backend)?;
    b.map(|b| decode(&b)).transpose()
}

fn net_find_in(c: &Connection, project_id: &str) -> Result<Option<(Vpc, Subnet)>, StoreError> {
    let vpcs: Vec<Vpc> =
        query_bodies_in_rowid_order(c, "SELECT rowid, body FROM vpcs WHERE project_id = ?1", project_id)?;
    let Some(vpc) = vpcs.into_iter().next() else {
        return Ok(None);
    };
    let subnets: Vec<Subnet> =
        query_bodies_in_rowid_order(c, "SELECT rowid, body FROM subnets WHERE vpc_id = ?1", &vpc.id)?;
    Ok(subnets.into_iter().next().map(|s| (vpc, s)))
}

/// Runs a one-parameter query (`?1` = `arg`, or no parameter when the SQL has none) and
/// decodes the `body` column of each row.
pub(crate) fn query_bodies<T: DeserializeOwned>(c: &Connection, sql: &str, arg: &str) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare_cached(sql).map_err(backend)?;
    let mut out = Vec::new();
    let mut rows = if st.parameter_count() == 0 { st.query([]) } else { st.query(params![arg]) }.map_err(backend)?;
    while let Some(r) = rows.next().map_err(backend)? {
        let b: String = r.get(0).map_err(backend)?;
        out.push(decode(&b)?);
    }
    Ok(out)
}

/// Like [`query_bodies`] for SQL selecting `rowid, body`, returned in rowid (insertion) order.
///
/// The order is applied here rather than with `ORDER BY rowid`: with a bound parameter, that
/// clause makes SQLite compile the statement again on every execution (see
/// docs/benchmarks.md), and these queries return a handful of rows.
pub(crate) fn query_bodies_in_rowid_order<T: DeserializeOwned>(
    c: &Connection,
    sql: &str,
    arg: &str,
) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare_cached(sql).map_err(backend)?;
    let mut rows: Vec<(i64, String)> = st
        .query_map(params![arg], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    rows.sort_unstable_by_key(|(rowid, _)| *rowid);
    rows.iter().map(|(_, b)| decode(b)).collect()
}
