//! PostgreSQL-only store tests: opening (migrations, a newer or a foreign schema, several nodes
//! at once, no server) and how URLs are shown. What every store does is in the conformance
//! suite (`crate::conformance`).

use super::{redact, PgStore, SCHEMA_VERSION};
use crate::pg_cluster::Cluster;
use crate::StoreError;

/// The database name at the end of a cluster URL.
fn db_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

#[tokio::test]
async fn a_schema_newer_than_this_build_is_refused_naming_both_versions() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    drop(PgStore::open(&url).await.unwrap());
    let newer = SCHEMA_VERSION + 1;
    cluster
        .psql(
            db_of(&url),
            &format!(
                "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
                 VALUES ({newer}, 'from_the_future', '2030-01-01T00:00:00Z', '0')"
            ),
        )
        .unwrap();
    match PgStore::open(&url).await {
        Err(StoreError::Backend(m)) => {
            let want = format!(
                "its schema is version {newer}, written by a newer ecsd (this one knows version {SCHEMA_VERSION})"
            );
            assert!(m.contains(&want) && m.contains(db_of(&url)), "{m}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

#[tokio::test]
async fn another_programs_database_is_refused_not_given_our_tables() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    cluster.psql(db_of(&url), "CREATE TABLE photos (id SERIAL PRIMARY KEY, file TEXT)").unwrap();
    match PgStore::open(&url).await {
        Err(StoreError::Damaged(m)) => assert!(m.contains("not an ecsd database") && m.contains("photos"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
    let tables = cluster.psql(db_of(&url), "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").unwrap();
    assert_eq!(tables.trim(), "1", "nothing added to it");
}

/// Nodes starting together on a new database: one migrates, the others wait and find the
/// schema in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_opening_a_new_database_together_migrate_it_once() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::open_with(&url, 2).await.map(|_| ()) })
        })
        .collect();
    for o in opens {
        o.await.unwrap().expect("every node opens the database");
    }
    let applied = cluster.psql(db_of(&url), "SELECT COUNT(*) FROM refinery_schema_history").unwrap();
    assert_eq!(applied.trim(), super::schema::migration_count().to_string());
}

#[tokio::test]
async fn a_database_that_is_not_there_is_a_backend_error_naming_it() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.url("no_such_database");
    match PgStore::open(&url).await {
        Err(StoreError::Backend(m)) => assert!(m.contains("no_such_database"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_backend_error() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    match PgStore::open(&format!("postgres://ecsd:secret@127.0.0.1:{port}/ecsd")).await {
        Err(StoreError::Backend(m)) => {
            assert!(m.contains(&format!("postgres://ecsd@127.0.0.1:{port}/ecsd")), "{m}");
            assert!(!m.contains("secret"), "the password is never shown: {m}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

#[test]
fn urls_are_shown_without_their_password() {
    assert_eq!(redact("postgres://u:pw@h:5/db"), "postgres://u:***@h:5/db");
    assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(redact("not a url"), "not a url");
}
