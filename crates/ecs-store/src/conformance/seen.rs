//! What a read of a server saw, and whether it changed since: every write to what a detail
//! is made of counts, and writes to other servers do not.

use super::networks::group;
use super::servers::volume;
use super::{create, Backend};
use crate::{AlsoRead, Seen, Store};
use ecs_model::security_group::egress_rules;

const SHOWN: AlsoRead<'static> =
    AlsoRead { keypair: None, image: None, own_image: false, group_names: true, seen: true };

async fn seen(st: &dyn Store, id: &str) -> Seen {
    st.server_get_with("p1", id, SHOWN).await.unwrap().seen.expect("the read says what it saw")
}

/// Asserts that `seen` is unchanged before `write` and changed after it, and returns what a
/// read sees then.
async fn changed_by<F: std::future::Future<Output = ()>>(st: &dyn Store, id: &str, what: &str, write: F) -> Seen {
    let before = seen(st, id).await;
    assert!(st.unchanged_since(&before), "nothing was written yet: {what}");
    write.await;
    assert!(!st.unchanged_since(&before), "{what} changes what the server's detail is made of");
    seen(st, id).await
}

pub(super) async fn a_read_is_unchanged_until_what_it_was_made_of_is_written(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b"]).await;
    let (a, other) = (made[0].id.clone(), made[1].id.clone());
    let first = st.server_get_with("p1", &a, SHOWN).await.unwrap();
    let Some(first) = first.seen else {
        // A store that other nodes write to cannot tell, and must not pretend to.
        assert!(st.cluster().is_some(), "only a store other processes write to gives no Seen");
        assert!(!st.unchanged_since(&Seen::default()));
        return;
    };
    assert!(st.unchanged_since(&first));

    // Writes to another server, and reads, change nothing of this one.
    let o = st.server_only("p1", &other).await.unwrap().unwrap();
    st.server_update(o).await.unwrap();
    st.volume_put(volume("p1", Some(&other), Some(-1), false)).await.unwrap();
    st.server_get("p1", &a).await.unwrap();
    assert!(st.unchanged_since(&first), "writes to another server");
    // A read that asks for more than a detail is made of is not one to keep.
    let with_image = AlsoRead { own_image: true, ..SHOWN };
    assert_eq!(st.server_get_with("p1", &a, with_image).await.unwrap().seen, None);

    let st = &*st;
    changed_by(st, &a, "the server's own update", async {
        let s = st.server_only("p1", &a).await.unwrap().unwrap();
        st.server_update(s).await.unwrap();
    })
    .await;
    let mut data = volume("p1", Some(&a), Some(-1), false);
    changed_by(st, &a, "a new volume of the server", async { st.volume_put(data.clone()).await.unwrap() }).await;
    data.size_gb += 10;
    changed_by(st, &a, "its volume's change", async { st.volume_put(data.clone()).await.unwrap() }).await;
    let mut moved = volume("p1", Some(&other), Some(-1), false);
    st.volume_put(moved.clone()).await.unwrap();
    moved.server_id = Some(a.clone());
    changed_by(st, &a, "a volume moved to it from another server", async {
        st.volume_put(moved.clone()).await.unwrap()
    })
    .await;
    moved.server_id = None;
    moved.boot_index = None;
    changed_by(st, &a, "its volume detached", async { st.volume_put(moved.clone()).await.unwrap() }).await;
    let mut loose = volume("p1", None, None, false);
    st.volume_put(loose.clone()).await.unwrap();
    loose.server_id = Some(a.clone());
    loose.boot_index = Some(-1);
    changed_by(st, &a, "a loose volume attached to it", async { st.volume_put(loose.clone()).await.unwrap() }).await;
    changed_by(st, &a, "its volume deleted", async { st.volume_delete(&data.id).await.unwrap() }).await;
    // A group that a server names may come to exist after the read: any new group counts.
    let web = group("p1", "web");
    changed_by(st, &a, "a new security group", async {
        st.security_group_insert(web.clone(), egress_rules("p1", &web.id, 0)).await.unwrap()
    })
    .await;
    let last = changed_by(st, &a, "a change of its groups", async {
        let mut s = st.server_only("p1", &a).await.unwrap().unwrap();
        s.security_groups.push(web.id.clone());
        st.server_update_security_groups(s).await.unwrap();
    })
    .await;
    st.server_delete("p1", &a).await.unwrap();
    assert!(!st.unchanged_since(&last), "the server deleted");
}

/// The ids of a list's page are the page `server_list` gives, in its order, with its count,
/// for every filter on columns; a filter on the bodies (tags) gives none.
pub(super) async fn a_lists_ids_are_its_page(b: &dyn Backend) {
    use crate::ServerFilter;
    let st = b.open().await;
    let made = create(&*st, "p1", &["web-1", "web-2", "db-1", "web-3", "db-2"]).await;
    let mut stopped = st.server_only("p1", &made[1].id).await.unwrap().unwrap();
    stopped.vm_state = ecs_model::state::VmState::Stopped;
    st.server_update(stopped).await.unwrap();
    let filters = [
        ServerFilter { limit: 2, page: 1, ..Default::default() },
        ServerFilter { limit: 2, page: 3, ..Default::default() },
        ServerFilter { limit: 10, page: 1, name: Some("web".into()), ..Default::default() },
        ServerFilter { limit: 10, page: 1, status: Some("SHUTOFF".into()), ..Default::default() },
        ServerFilter { limit: 2, page: 1, marker: Some(made[3].id.clone()), ..Default::default() },
        ServerFilter {
            limit: 10,
            page: 1,
            server_ids: Some(vec![made[0].id.clone(), made[4].id.clone()]),
            ..Default::default()
        },
        ServerFilter { limit: 10, page: 1, ..Default::default() },
    ];
    for f in &filters {
        let page = st.server_list("p1", f).await.unwrap();
        let want = (page.count, page.servers.iter().map(|r| r.server.id.clone()).collect::<Vec<_>>());
        match st.server_list_ids("p1", f).await.unwrap() {
            Some(got) => assert_eq!(got, want, "{f:?}"),
            None => assert!(
                st.cluster().is_some() || !f.membership_is_fixed(),
                "only a store that keeps nothing, or a list whose matches a write may change, lists no ids: {f:?}"
            ),
        }
    }
    // A filter on what a write changes (a rename, a stop) or on the bodies gives no ids: the
    // page and the details read after it could disagree on which servers match.
    for f in [
        ServerFilter { limit: 10, page: 1, tags: vec!["k".into()], ..Default::default() },
        ServerFilter { limit: 10, page: 1, name: Some("web".into()), ..Default::default() },
        ServerFilter { limit: 10, page: 1, status: Some("SHUTOFF".into()), ..Default::default() },
    ] {
        assert!(!f.membership_is_fixed());
        assert_eq!(st.server_list_ids("p1", &f).await.unwrap(), None, "{f:?}");
    }
    let unfiltered = ServerFilter { limit: 2, page: 1, ..Default::default() };
    assert_eq!(st.server_list_ids("p1", &unfiltered).await.unwrap().is_some(), st.cluster().is_none());
}
