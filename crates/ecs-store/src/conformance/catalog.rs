//! Key pairs, images and the default network.

use super::Backend;
use crate::StoreError;
use ecs_model::keypair::Keypair;

pub(super) fn keypair(project: &str, name: &str) -> Keypair {
    Keypair {
        id: 0,
        project_id: project.into(),
        user_id: "u".into(),
        name: name.into(),
        public_key: "ssh-ed25519 AAAA".into(),
        fingerprint: "aa".into(),
        key_type: "ssh".into(),
        created_ms: 0,
    }
}

pub(super) async fn keypair_names_are_unique_per_project(b: &dyn Backend) {
    let st = b.open().await;
    let a = st.keypair_insert(keypair("p1", "k1")).await.unwrap();
    assert!(a.id > 0);
    assert!(matches!(st.keypair_insert(keypair("p1", "k1")).await, Err(StoreError::Conflict(_))));
    st.keypair_insert(keypair("p2", "k1")).await.unwrap();
    assert_eq!(st.keypair_list("p1", None, None).await.unwrap().len(), 1);
    assert_eq!(st.keypair_get("p1", "k1").await.unwrap().map(|k| k.id), Some(a.id));
    assert!(st.keypair_delete("p1", "k1").await.unwrap());
    assert!(!st.keypair_delete("p1", "k1").await.unwrap());
    assert!(st.keypair_get("p1", "k1").await.unwrap().is_none());
    assert!(st.keypair_get("p2", "k1").await.unwrap().is_some());
}

/// Listed by name in byte order (upper case before lower), after the marker, at most `limit`.
pub(super) async fn keypairs_page_by_name(b: &dyn Backend) {
    let st = b.open().await;
    for n in ["b", "a", "C", "d"] {
        st.keypair_insert(keypair("p1", n)).await.unwrap();
    }
    let names = |v: Vec<Keypair>| v.into_iter().map(|k| k.name).collect::<Vec<_>>();
    assert_eq!(names(st.keypair_list("p1", None, None).await.unwrap()), ["C", "a", "b", "d"]);
    assert_eq!(names(st.keypair_list("p1", Some(2), Some("C")).await.unwrap()), ["a", "b"]);
    assert_eq!(names(st.keypair_list("p1", Some(0), None).await.unwrap()), Vec::<String>::new());
}

pub(super) async fn images_are_replaced_by_id(b: &dyn Backend) {
    let st = b.open().await;
    let mut images = ecs_model::image::builtin_images(0);
    assert!(images.len() >= 2);
    for img in &images {
        st.image_put(img.clone()).await.unwrap();
    }
    images[0].name = "renamed".into();
    st.image_put(images[0].clone()).await.unwrap();
    assert_eq!(st.image_get(&images[0].id).await.unwrap().map(|i| i.name), Some("renamed".to_string()));
    assert_eq!(st.image_get("no-such-image").await.unwrap(), None);
    let mut ids: Vec<String> = images.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    assert_eq!(st.image_list().await.unwrap().into_iter().map(|i| i.id).collect::<Vec<_>>(), ids, "by id");
}

/// The first requests of a project, racing, all get the one default network it then has.
pub(super) async fn concurrent_first_requests_make_one_default_network(b: &dyn Backend) {
    let st = b.open().await;
    super::warm_up(&st, 8).await;
    let mut handles = vec![];
    for _ in 0..8 {
        let st = st.clone();
        handles.push(tokio::spawn(async move { st.network_default("p1").await.unwrap() }));
    }
    let mut vpcs = Vec::new();
    for h in handles {
        let (vpc, subnet) = h.await.unwrap();
        assert_eq!(subnet.vpc_id, vpc.id);
        vpcs.push(vpc.id);
    }
    vpcs.dedup();
    assert_eq!(vpcs.len(), 1, "{vpcs:?}");
    assert_eq!(st.vpc_list("p1").await.unwrap().len(), 1);
    assert_eq!(st.subnet_list("p1").await.unwrap().len(), 1);
    assert_eq!(st.security_group_list("p1").await.unwrap().len(), 1, "one default group");
    assert!(st.vpc_list("p2").await.unwrap().is_empty());
}
