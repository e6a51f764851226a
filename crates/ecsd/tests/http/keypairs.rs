//! Nova-compatible key pairs.

use crate::client::*;
use serde_json::json;

/// A fixed public key and the fingerprint `ssh-keygen -l -E md5` prints for it.
const PUBLIC: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ/hCP1/rABe+TrCCkpKUlwu7im7clSJYz33ZJ46xpF fixture";
const FINGERPRINT: &str = "e2:c3:fd:e6:90:8f:7d:46:de:b2:8f:d8:66:01:46:b6";

#[tokio::test]
async fn generate_import_list_show_delete() {
    let svc = Svc::start().await;
    let gen = svc.keypair("gen-1").await;
    assert!(gen["private_key"].as_str().unwrap().starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    assert!(gen["public_key"].as_str().unwrap().starts_with("ssh-ed25519 "));
    assert_eq!(gen["user_id"], USER);
    assert_eq!(gen["type"], "ssh");
    let fp = gen["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 47);
    assert_eq!(fp.matches(':').count(), 15);

    let imp = svc
        .post("/v2.1/{p}/os-keypairs", json!({"keypair": {"name": "imported", "public_key": PUBLIC, "type": "ssh"}}))
        .await;
    assert_eq!(imp.status, 200, "{}", imp.body);
    assert_eq!(imp.body["keypair"]["fingerprint"], FINGERPRINT);
    assert!(imp.body["keypair"].get("private_key").is_none(), "no private key on import");

    let list = svc.get("/v2.1/{p}/os-keypairs").await.body;
    let names: Vec<&str> =
        list["keypairs"].as_array().unwrap().iter().map(|k| k["keypair"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["gen-1", "imported"]);
    let page = svc.get("/v2.1/{p}/os-keypairs?limit=1&marker=gen-1").await.body;
    assert_eq!(page["keypairs"][0]["keypair"]["name"], "imported");

    let show = svc.get("/v2.1/{p}/os-keypairs/imported").await.body["keypair"].clone();
    assert!(show["id"].is_i64());
    assert_eq!(show["deleted"], false);
    assert_eq!(show["public_key"], PUBLIC);
    assert!(show["created_at"].as_str().unwrap().contains('T'));

    let del = svc.call("DELETE", "/v2.1/{p}/os-keypairs/imported", None).await;
    assert_eq!(del.status, 204);
    let gone = svc.get("/v2.1/{p}/os-keypairs/imported").await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["itemNotFound"]["code"], 404);
    assert_eq!(svc.call("DELETE", "/v2.1/{p}/os-keypairs/imported", None).await.status, 404);
}

#[tokio::test]
async fn bad_key_pairs_are_refused_and_nothing_is_stored() {
    let svc = Svc::start().await;
    svc.keypair("dup").await;
    let r = svc.post("/v2.1/{p}/os-keypairs", json!({"keypair": {"name": "dup"}})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["conflictingRequest"]["code"], 409);
    for body in [
        json!({"keypair": {"name": "has space"}}),
        json!({"keypair": {"name": ""}}),
        json!({"keypair": {"name": "x".repeat(65)}}),
        json!({"keypair": {"name": "k", "public_key": "ssh-rsa notbase64!!"}}),
        json!({"keypair": {"name": "k", "public_key": "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHQ/hCP1/rABe+TrCCkpKUlwu7im7clSJYz33ZJ46xpF"}}),
        json!({"keypair": {"name": "k", "type": "x509"}}),
        json!({"nothing": {}}),
    ] {
        let r = svc.post("/v2.1/{p}/os-keypairs", body.clone()).await;
        assert_eq!(r.status, 400, "{body} -> {}", r.body);
        assert_eq!(r.body["badRequest"]["code"], 400, "{}", r.body);
    }
    let list = svc.get("/v2.1/{p}/os-keypairs").await.body;
    assert_eq!(list["keypairs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn key_pairs_of_another_project_do_not_exist() {
    let svc = Svc::start().await;
    svc.keypair("mine").await;
    let other = svc.as_other();
    assert_eq!(other.get("/v2.1/{p}/os-keypairs/mine").await.status, 404);
    assert_eq!(other.get("/v2.1/{p}/os-keypairs").await.body["keypairs"], json!([]));
    assert_eq!(other.call("DELETE", "/v2.1/{p}/os-keypairs/mine", None).await.status, 404);
    assert_eq!(svc.get("/v2.1/{p}/os-keypairs/mine").await.status, 200);
}
