//! A server with its volumes and what a request reads with it, in one statement.
//!
//! A request that acts on a server reads it, its volumes, and often a key pair and an image
//! before it decides anything (and a detail shows its security groups' names). Read one by one,
//! that is four statements: four parses and plans on the server, four round trips. Here it is
//! one, whose sub-selects read one snapshot.

use super::{decode, get, query_opt, PgStore};
use crate::{AlsoRead, ServerRow, ServerWith, StoreError};
use ecs_model::keypair::Keypair;
use ecs_model::volume::Volume;

/// The server, its volumes' bodies, and nothing else.
const SERVER: &str = "SELECT s.body, ARRAY(SELECT v.body FROM volumes v WHERE v.server_id = s.id)
                        FROM servers s WHERE s.id = $1 AND s.project_id = $2";

/// The server and its volumes, then the key pair's id and body, then the image's body: the
/// image named by `$3`, or with `$4` the server's own (`image_id` of its body).
/// With `$6`, the ids and the names of the server's security groups follow, in two arrays in
/// the same order.
const SERVER_WITH: &str = "SELECT s.body, ARRAY(SELECT v.body FROM volumes v WHERE v.server_id = s.id), k.id, k.body,
                             (SELECT i.body FROM images i
                               WHERE i.id = COALESCE($3::text, CASE WHEN $4::bool THEN s.body::json->>'image_id' END)),
                             CASE WHEN $6::bool THEN ARRAY(SELECT g.id FROM security_groups g
                               WHERE g.project_id = s.project_id AND g.id = ANY(s.security_groups) ORDER BY g.id) END,
                             CASE WHEN $6::bool THEN ARRAY(SELECT g.name FROM security_groups g
                               WHERE g.project_id = s.project_id AND g.id = ANY(s.security_groups) ORDER BY g.id) END
                        FROM servers s LEFT JOIN keypairs k ON k.project_id = s.project_id AND k.name = $5::text
                       WHERE s.id = $1 AND s.project_id = $2";

fn server_row(row: &tokio_postgres::Row) -> Result<ServerRow, StoreError> {
    let server = decode(get::<&str>(row, 0)?)?;
    let mut volumes = get::<Vec<&str>>(row, 1)?.into_iter().map(decode).collect::<Result<Vec<Volume>, _>>()?;
    crate::sort_volumes(&mut volumes);
    Ok(ServerRow { server, volumes })
}

impl PgStore {
    pub(crate) async fn srv_get(&self, project_id: &str, id: &str) -> Result<Option<ServerRow>, StoreError> {
        let c = self.client().await?;
        query_opt(&c, SERVER, &[&id, &project_id]).await?.as_ref().map(server_row).transpose()
    }

    pub(crate) async fn srv_get_with(
        &self,
        project_id: &str,
        id: &str,
        also: AlsoRead<'_>,
    ) -> Result<ServerWith, StoreError> {
        let c = self.client().await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
            [&id, &project_id, &also.image, &also.own_image, &also.keypair, &also.group_names];
        let Some(row) = query_opt(&c, SERVER_WITH, &params).await? else {
            return Ok(ServerWith::default());
        };
        let keypair = match get::<Option<&str>>(&row, 3)? {
            Some(body) => {
                let mut kp: Keypair = decode(body)?;
                kp.id = get(&row, 2)?;
                Some(kp)
            }
            None => None,
        };
        let image = get::<Option<&str>>(&row, 4)?.map(decode).transpose()?;
        let ids = get::<Option<Vec<String>>>(&row, 5)?.unwrap_or_default();
        let names = get::<Option<Vec<String>>>(&row, 6)?.unwrap_or_default();
        let group_names = ids.into_iter().zip(names).collect();
        Ok(ServerWith { row: Some(server_row(&row)?), keypair, image, group_names, seen: None })
    }
}
