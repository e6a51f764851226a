//! Key pairs, images, VPCs and subnets.

use super::{bodies, commit, decode, encode, execute, get, query, query_opt, transaction, PgStore};
use crate::StoreError;
use deadpool_postgres::GenericClient;
use ecs_model::image::Image;
use ecs_model::keypair::Keypair;
use ecs_model::network::{self, Subnet, Vpc};

fn keypair_from_row(row: &tokio_postgres::Row) -> Result<Keypair, StoreError> {
    let mut kp: Keypair = decode(get(row, 1)?)?;
    kp.id = get(row, 0)?;
    Ok(kp)
}

/// Takes the lock of a project's row (creating the row first if need be) for the rest of the
/// transaction: writers that must see each other's work within a project (its default network,
/// its quota) queue here. Under READ COMMITTED each later statement of the holder sees
/// everything committed before it got the lock.
pub(super) async fn lock_project(c: &impl GenericClient, project_id: &str) -> Result<(), StoreError> {
    execute(c, "INSERT INTO projects (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", &[&project_id]).await?;
    execute(c, "SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", &[&project_id]).await?;
    Ok(())
}

impl PgStore {
    pub(crate) async fn kp_insert(&self, kp: Keypair) -> Result<Keypair, StoreError> {
        let c = self.client().await?;
        let body = encode(&kp)?;
        let row = query_opt(
            &c,
            "INSERT INTO keypairs (project_id, name, body) VALUES ($1, $2, $3)
             ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
            &[&kp.project_id, &kp.name, &body],
        )
        .await?;
        match row {
            Some(row) => Ok(Keypair { id: get(&row, 0)?, ..kp }),
            None => Err(StoreError::Conflict(format!("Key pair '{}' already exists.", kp.name))),
        }
    }

    pub(crate) async fn kp_get(&self, project_id: &str, name: &str) -> Result<Option<Keypair>, StoreError> {
        let c = self.client().await?;
        let row =
            query_opt(&c, "SELECT id, body FROM keypairs WHERE project_id = $1 AND name = $2", &[&project_id, &name])
                .await?;
        row.as_ref().map(keypair_from_row).transpose()
    }

    pub(crate) async fn kp_list(
        &self,
        project_id: &str,
        limit: Option<usize>,
        marker: Option<&str>,
    ) -> Result<Vec<Keypair>, StoreError> {
        let c = self.client().await?;
        let marker = marker.unwrap_or("");
        // `LIMIT NULL` is no limit.
        let limit = limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = query(
            &c,
            "SELECT id, body FROM keypairs WHERE project_id = $1 AND name > $2 ORDER BY name LIMIT $3",
            &[&project_id, &marker, &limit],
        )
        .await?;
        rows.iter().map(keypair_from_row).collect()
    }

    pub(crate) async fn kp_delete(&self, project_id: &str, name: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = execute(&c, "DELETE FROM keypairs WHERE project_id = $1 AND name = $2", &[&project_id, &name]).await?;
        Ok(n > 0)
    }

    pub(crate) async fn img_put(&self, image: Image) -> Result<(), StoreError> {
        let c = self.client().await?;
        execute(
            &c,
            "INSERT INTO images (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            &[&image.id, &encode(&image)?],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn img_get(&self, id: &str) -> Result<Option<Image>, StoreError> {
        let c = self.client().await?;
        let row = query_opt(&c, "SELECT body FROM images WHERE id = $1", &[&id]).await?;
        row.map(|r| get::<&str>(&r, 0).and_then(decode)).transpose()
    }

    pub(crate) async fn img_list(&self) -> Result<Vec<Image>, StoreError> {
        let c = self.client().await?;
        bodies(&query(&c, "SELECT body FROM images ORDER BY id", &[]).await?)
    }

    pub(crate) async fn net_default(&self, project_id: &str) -> Result<(Vpc, Subnet), StoreError> {
        let mut c = self.client().await?;
        if let Some(found) = net_find_in(&c, project_id).await? {
            return Ok(found);
        }
        let tx = transaction(&mut c).await?;
        // Two first requests of a project (on one node or two) may both get here: the project
        // lock makes the second wait, and it then finds the first one's network.
        lock_project(&tx, project_id).await?;
        if let Some(found) = net_find_in(&tx, project_id).await? {
            return Ok(found);
        }
        let now = ecs_model::timefmt::now_ms();
        let (vpc, subnet) = network::default_network(project_id, now);
        execute(
            &tx,
            "INSERT INTO vpcs (id, project_id, body) VALUES ($1, $2, $3)",
            &[&vpc.id, &project_id, &encode(&vpc)?],
        )
        .await?;
        execute(
            &tx,
            "INSERT INTO subnets (id, project_id, vpc_id, body) VALUES ($1, $2, $3, $4)",
            &[&subnet.id, &project_id, &vpc.id, &encode(&subnet)?],
        )
        .await?;
        // The default security group comes with the default network, as on Huawei Cloud.
        super::networks::ensure_default_group_in(&tx, project_id, &vpc.id).await?;
        commit(tx).await?;
        Ok((vpc, subnet))
    }

    pub(crate) async fn vpcs(&self, project_id: &str) -> Result<Vec<Vpc>, StoreError> {
        let c = self.client().await?;
        bodies(&query(&c, "SELECT body FROM vpcs WHERE project_id = $1 ORDER BY ord", &[&project_id]).await?)
    }

    pub(crate) async fn subnets(&self, project_id: &str) -> Result<Vec<Subnet>, StoreError> {
        let c = self.client().await?;
        bodies(&query(&c, "SELECT body FROM subnets WHERE project_id = $1 ORDER BY ord", &[&project_id]).await?)
    }

    pub(crate) async fn subnet_used_count(&self, subnet_id: &str) -> Result<i64, StoreError> {
        let c = self.client().await?;
        let row = super::one(&c, "SELECT COUNT(*) FROM ip_alloc WHERE subnet_id = $1", &[&subnet_id]).await?;
        get(&row, 0)
    }
}

/// The project's first VPC and its first subnet, if it has them.
async fn net_find_in(c: &impl GenericClient, project_id: &str) -> Result<Option<(Vpc, Subnet)>, StoreError> {
    let Some(row) =
        query_opt(c, "SELECT body FROM vpcs WHERE project_id = $1 ORDER BY ord LIMIT 1", &[&project_id]).await?
    else {
        return Ok(None);
    };
    let vpc: Vpc = decode(get(&row, 0)?)?;
    let row = query_opt(c, "SELECT body FROM subnets WHERE vpc_id = $1 ORDER BY ord LIMIT 1", &[&vpc.id]).await?;
    match row {
        Some(row) => Ok(Some((vpc, decode(get(&row, 0)?)?))),
        None => Ok(None),
    }
}
