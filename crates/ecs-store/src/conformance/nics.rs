//! NICs added to a server and removed again: their addresses and ports.

use super::{create, Backend};
use crate::{Begin, NicRef, NicRelease, StoreError};
use ecs_model::server::{Server, ServerNic};

/// `s` with one more NIC on its subnet, asking for `ip` (empty: the next free one).
fn with_nic(s: &Server, ip: &str) -> (Server, NicRef) {
    let mut s = s.clone();
    let port_id = ecs_model::new_uuid();
    s.extra_nics.push(ServerNic {
        vpc_id: s.network.vpc_id.clone(),
        subnet_id: s.network.subnet_id.clone(),
        ip: ip.into(),
        mac: "fa:16:3e:aa:bb:cc".into(),
        port_id: port_id.clone(),
    });
    let r = NicRef { server_id: s.id.clone(), port_id };
    (s, r)
}

fn release(s: &Server, nic: &ServerNic) -> NicRelease {
    NicRelease {
        project_id: s.project_id.clone(),
        server_id: s.id.clone(),
        port_id: nic.port_id.clone(),
        subnet_id: nic.subnet_id.clone(),
        ip: nic.ip.clone(),
    }
}

pub(super) async fn an_added_nic_gets_an_address_and_a_port_and_gives_both_back(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b"]).await;
    let subnet = made[0].network.subnet_id.clone();
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 2);

    // The next free address, written into the server with its port.
    let (s, r) = with_nic(&made[0], "");
    st.begin(Begin { update_servers: vec![s], attach_nics: vec![r.clone()], ..Default::default() }).await.unwrap();
    let s = st.server_only("p1", &made[0].id).await.unwrap().unwrap();
    assert_eq!(s.extra_nics.len(), 1);
    assert_eq!(s.extra_nics[0].ip, "192.168.0.4");
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 3);
    let port = st.port_get("p1", &r.port_id).await.unwrap().expect("the added NIC's port");
    assert_eq!(port.server_id, s.id);
    assert_eq!(st.port_list("p1").await.unwrap().len(), 3);

    // An address another NIC holds is refused, and nothing of the request stays.
    let (taken, r2) = with_nic(&s, "192.168.0.3");
    let e = st.begin(Begin { update_servers: vec![taken], attach_nics: vec![r2.clone()], ..Default::default() }).await;
    assert!(matches!(e, Err(StoreError::AddressInUse(ref ip)) if ip == "192.168.0.3"), "{e:?}");
    assert_eq!(st.port_get("p1", &r2.port_id).await.unwrap(), None);
    assert_eq!(st.server_only("p1", &s.id).await.unwrap().unwrap().extra_nics.len(), 1);
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 3);

    // A lost compare-and-swap writes no address or port either.
    let (stale, r3) = with_nic(&made[0], "");
    let e = st.begin(Begin { update_servers: vec![stale], attach_nics: vec![r3.clone()], ..Default::default() }).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(st.port_get("p1", &r3.port_id).await.unwrap(), None);
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 3);

    // Released: the port and the address go (twice is harmless), and the address is reused.
    let mut gone = s.clone();
    let nic = gone.extra_nics.remove(0);
    let rel = release(&s, &nic);
    st.begin(Begin { update_servers: vec![gone], release_nics: vec![rel.clone()], ..Default::default() })
        .await
        .unwrap();
    st.begin(Begin { release_nics: vec![rel], ..Default::default() }).await.unwrap();
    assert_eq!(st.port_get("p1", &nic.port_id).await.unwrap(), None);
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 2);
    let s = st.server_only("p1", &s.id).await.unwrap().unwrap();
    assert!(s.extra_nics.is_empty());
    let (again, r4) = with_nic(&s, "192.168.0.4");
    st.begin(Begin { update_servers: vec![again], attach_nics: vec![r4], ..Default::default() }).await.unwrap();

    // Deleting the server frees every address and port it had.
    st.server_delete("p1", &s.id).await.unwrap();
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 1);
    assert_eq!(st.port_list("p1").await.unwrap().len(), 1);
}

pub(super) async fn a_primary_nic_takes_a_new_address_and_gives_the_old_back(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b"]).await;
    let subnet = made[0].network.subnet_id.clone();
    let old = made[0].network.ip.clone();
    let readdress = |s: &Server| crate::Readdress { server_id: s.id.clone(), old_ip: old.clone() };

    // Another NIC's address is refused; the server keeps its own, and nothing is given up.
    let mut taken = made[0].clone();
    taken.network.ip = made[1].network.ip.clone();
    let e =
        st.begin(Begin { readdress: vec![readdress(&taken)], update_servers: vec![taken], ..Default::default() }).await;
    assert!(matches!(e, Err(StoreError::AddressInUse(_))), "{e:?}");
    assert_eq!(st.server_only("p1", &made[0].id).await.unwrap().unwrap().network.ip, old);
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 2);

    // A chosen address: taken, written into the server, the old one free.
    let mut s = made[0].clone();
    s.network.ip = "192.168.9.9".into();
    st.begin(Begin { readdress: vec![readdress(&s)], update_servers: vec![s], ..Default::default() }).await.unwrap();
    let s = st.server_only("p1", &made[0].id).await.unwrap().unwrap();
    assert_eq!(s.network.ip, "192.168.9.9");
    assert_eq!(st.subnet_used(&subnet).await.unwrap(), 2, "one address each, still");
    let mut c = crate::conformance::server("p1", &subnet, "c");
    c.network.ip = old.clone();
    let e = st.begin(Begin { insert_servers: vec![c], ..Default::default() }).await;
    assert!(e.is_ok(), "the old address is free again: {e:?}");
}
