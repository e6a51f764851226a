//! The PostgreSQL schema: versioned migrations (refinery, from `migrations/postgres/`), run at
//! open on a connection of their own.

use super::pg_err;
use crate::StoreError;

refinery::embed_migrations!("migrations/postgres");

/// The schema version this code writes: its newest migration.
pub const SCHEMA_VERSION: i64 = 5;

/// How many migrations this build carries (the rows a fully migrated database's history has).
#[cfg(test)]
pub(super) fn migration_count() -> usize {
    migrations::runner().get_migrations().len()
}

/// Where refinery records the migrations it applied.
const HISTORY: &str = "refinery_schema_history";

/// Held (a session-level advisory lock) while one node migrates, so that nodes starting
/// together on a new database do not both create its tables. An election of who runs a
/// one-off chore, which is what advisory locks are for; nothing relies on it for correctness
/// after the migration.
const MIGRATION_LOCK: i64 = 0x6563_7364_6d69_6772; // "ecsdmigr"

/// Creates or upgrades the schema of the database `config` names. Refuses a database that
/// holds other tables but none of ecsd's (another program's), and one whose schema is newer
/// than this build knows, with nothing written to either.
pub(super) async fn migrate(config: &tokio_postgres::Config) -> Result<(), StoreError> {
    let (mut client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(pg_err)?;
    // The connection task ends when `client` is dropped, at the end of this function.
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "the migration connection failed");
        }
    });
    let r = migrate_on(&mut client).await;
    drop(client);
    let _ = driver.await;
    r
}

async fn migrate_on(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg_err)?;
    let r = check_and_run(client).await;
    // Released with the connection anyway; unlocked here so that a failure is not held longer.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
    r
}

async fn check_and_run(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    let tables: Vec<String> = client
        .query("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1", &[])
        .await
        .map_err(pg_err)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !tables.is_empty() && !tables.iter().any(|t| t == HISTORY) {
        return Err(StoreError::Damaged(format!(
            "it is not an ecsd database (it has the tables {}, none of ecsd's)",
            tables.join(", ")
        )));
    }
    if tables.iter().any(|t| t == HISTORY) {
        let newest: Option<i32> =
            client.query_one(&format!("SELECT MAX(version) FROM {HISTORY}"), &[]).await.map_err(pg_err)?.get(0);
        if let Some(v) = newest.map(i64::from).filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Backend(format!(
                "its schema is version {v}, written by a newer ecsd (this one knows version {SCHEMA_VERSION})"
            )));
        }
    }
    // Grouped: every pending migration in one transaction, so that a failure (or a crash) part
    // of the way leaves the schema as it was, never half upgraded.
    let report = migrations::runner()
        .set_grouped(true)
        .run_async(client)
        .await
        .map_err(|e| StoreError::Backend(format!("migrating the schema: {e}")))?;
    for m in report.applied_migrations() {
        tracing::info!(version = m.version(), name = m.name(), "applied a schema migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_the_newest_migration() {
        let newest = super::migrations::runner().get_migrations().iter().map(|m| i64::from(m.version())).max();
        assert_eq!(newest, Some(super::SCHEMA_VERSION));
    }
}
