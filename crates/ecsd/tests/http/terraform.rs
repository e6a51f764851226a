//! A replay, request for request, of what the Huawei Cloud Terraform provider sends for
//! `huaweicloud_compute_instance`, `huaweicloud_compute_keypair` and the availability-zone,
//! flavor and image data sources, with the methods, paths, query strings and bodies the provider
//! and the Go library under it build, and checks of the fields the provider parses from each
//! answer.
//!
//! Each request names, in a comment, the provider (`terraform-provider-huaweicloud`) or library
//! (`chnsz/golangsdk`) file it comes from. A step whose answer the provider would reject is
//! recorded, and the test goes on where the later steps do not depend on it, so one run lists
//! every request the service does not yet answer as the provider needs; the test fails at the
//! end with that list.

use crate::client::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The failures of one replay, each naming its step and the file the request comes from.
struct Replay {
    failures: Vec<String>,
}

impl Replay {
    fn new() -> Self {
        Replay { failures: Vec::new() }
    }

    /// Records a failed check of `step` (without stopping the replay).
    fn check(&mut self, ok: bool, step: &str, detail: impl FnOnce() -> String) -> bool {
        if !ok {
            self.failures.push(format!("{step}: {}", detail()));
        }
        ok
    }

    /// Records whether `r` has one of the statuses the provider accepts for `step`.
    fn status(&mut self, r: &Resp, ok: &[u16], step: &str) -> bool {
        self.check(ok.contains(&r.status), step, || format!("status {} (wanted {ok:?}), body {}", r.status, r.body))
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} provider requests were not answered as the provider needs:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The provider's job wait (golangsdk `openstack/ecs/v1/cloudservers/results_job.go`,
/// `WaitForJobSuccess`): `GET /v1/{project_id}/jobs/{job_id}` until `SUCCESS`; `FAIL` is an
/// error. The library decodes each sub-job's `entities` as a map of strings, so any other value
/// there fails the whole wait. The provider polls every few seconds; the service's timings are
/// zero here, so this polls every 20 ms.
async fn wait_job(svc: &Svc, rp: &mut Replay, step: &str, job_id: &str) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = svc.get(&format!("/v1/{{p}}/jobs/{job_id}")).await;
        if !rp.status(&r, &[200], step) {
            return None;
        }
        let status = r.body["status"].as_str().unwrap_or_default().to_string();
        if status == "SUCCESS" {
            let subs = r.body["entities"]["sub_jobs"].as_array().cloned().unwrap_or_default();
            for sub in &subs {
                let entities = sub["entities"].as_object().cloned().unwrap_or_default();
                rp.check(entities.values().all(Value::is_string), step, || {
                    format!("a sub-job's entities hold a value that is not a string: {sub}")
                });
            }
            return Some(r.body);
        }
        if !rp.check(status != "FAIL", step, || format!("job failed: {}", r.body)) {
            return None;
        }
        if tokio::time::Instant::now() > deadline {
            rp.check(false, step, || format!("job still {status}"));
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The provider's server-state wait (`resource_huaweicloud_compute_instance.go`,
/// `waitForServerTargetState` / `ServerV1StateRefreshFunc`): `GET` the server until its status
/// is one of `target`; a 404 counts as `DELETED`.
async fn wait_server(svc: &Svc, rp: &mut Replay, step: &str, id: &str, target: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        // golangsdk openstack/ecs/v1/cloudservers/requests.go: Get (200 or 203).
        let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}")).await;
        let status = match r.status {
            404 => "DELETED".to_string(),
            200 | 203 => r.body["server"]["status"].as_str().unwrap_or_default().to_string(),
            _ => {
                rp.status(&r, &[200, 203, 404], step);
                return;
            }
        };
        if target.contains(&status.as_str()) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            rp.check(false, step, || format!("server still {status}, wanted {target:?}"));
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_default()
}

/// The provider's read of an instance (`resourceComputeInstanceRead` and
/// `compute_instance_networking.go`), with the checks of what it parses. Returns the server.
async fn read_instance(svc: &Svc, rp: &mut Replay, id: &str, image: &str, subnet: &str) -> Value {
    // golangsdk openstack/ecs/v1/cloudservers/requests.go: Get.
    let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}")).await;
    assert_eq!(r.status, 200, "read: GET the server: {}", r.body);
    let server = r.body["server"].clone();
    rp.check(str_of(&server, "status") == "ACTIVE", "read: server status", || server["status"].to_string());
    for field in ["name", "OS-EXT-AZ:availability_zone", "created", "updated"] {
        rp.check(server[field].is_string(), "read: server field", || format!("{field}: {}", server[field]));
    }
    rp.check(server["flavor"]["id"].is_string(), "read: flavor.id", || server["flavor"].to_string());
    rp.check(str_of(&server["image"], "id") == image, "read: image.id", || server["image"].to_string());
    rp.check(server["security_groups"].is_array(), "read: security_groups", || server.to_string());
    rp.check(server["tags"].is_array(), "read: tags (a list of \"key=value\")", || format!("{}", server["tags"]));

    // resource_huaweicloud_compute_instance.go setImageInformation -> getImage: the image list
    // with the id, one result, every enterprise project (query in the library's key order).
    let q = format!("/v2/cloudimages?enterprise_project_id=all_granted_eps&id={image}&limit=1");
    let r = svc.get(&q).await;
    if rp.status(&r, &[200], "read: GET /v2/cloudimages?id=") {
        rp.check(r.body["images"][0]["id"] == image, "read: image by id", || r.body.to_string());
    }

    // compute_instance_networking.go getInstanceAddresses: for each fixed address, the port
    // (networking/v1/ports Get), whose network_id must be the subnet given as `network.uuid`.
    let addresses: Vec<Value> = server["addresses"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|a| a.as_array().cloned().unwrap_or_default())
        .collect();
    rp.check(!addresses.is_empty(), "read: addresses", || server["addresses"].to_string());
    for addr in addresses.iter().filter(|a| a["OS-EXT-IPS:type"] == "fixed") {
        let port_id = str_of(addr, "OS-EXT-IPS:port_id");
        rp.check(!port_id.is_empty(), "read: OS-EXT-IPS:port_id", || addr.to_string());
        let r = svc.get(&format!("/v1/{{p}}/ports/{port_id}")).await;
        if rp.status(&r, &[200], "read: GET /v1/{project_id}/ports/{port_id}") {
            let port = &r.body["port"];
            rp.check(str_of(port, "network_id") == subnet, "read: port.network_id is the subnet", || port.to_string());
            rp.check(port["fixed_ips"][0]["ip_address"] == addr["addr"], "read: port.fixed_ips", || port.to_string());
            rp.check(port["allowed_address_pairs"].is_array(), "read: port.allowed_address_pairs", || port.to_string());
        }
    }

    // resourceComputeInstanceRead: for each attached volume, the disk (evs/v2 cloudvolumes Get)
    // and the block device (ecs/v1/block_devices Get); both failures fail the read.
    let volumes = server["os-extended-volumes:volumes_attached"].as_array().cloned().unwrap_or_default();
    rp.check(!volumes.is_empty(), "read: os-extended-volumes:volumes_attached", || server.to_string());
    let mut boot_disks = 0;
    for v in &volumes {
        let vol = str_of(v, "id");
        let r = svc.get(&format!("/v2/{{p}}/cloudvolumes/{vol}")).await;
        if rp.status(&r, &[200], "read: GET /v2/{project_id}/cloudvolumes/{volume_id}") {
            let volume = &r.body["volume"];
            rp.check(volume["size"].is_u64(), "read: volume.size is an integer", || volume.to_string());
            rp.check(volume["volume_type"].is_string(), "read: volume.volume_type", || volume.to_string());
        }
        let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/block_device/{vol}")).await;
        if rp.status(&r, &[200], "read: GET /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}") {
            let att = &r.body["volumeAttachment"];
            rp.check(att["bootIndex"].is_i64(), "read: volumeAttachment.bootIndex is an integer", || att.to_string());
            boot_disks += usize::from(att["bootIndex"] == 0);
        }
    }
    if !volumes.is_empty() {
        rp.check(boot_disks <= 1, "read: one system disk (bootIndex 0)", || format!("{boot_disks}"));
    }
    server
}

/// `huaweicloud_compute_instance`: create (pay-per-use, with metadata, tags and a security
/// group by name), read, update of name, metadata, security groups, password and tags, delete.
#[tokio::test]
async fn compute_instance_lifecycle() {
    let svc = Svc::start().await;
    let mut rp = Replay::new();
    // Setup the configuration refers to: a key pair, and the project's subnet.
    svc.keypair("tf-key").await;
    let (_, subnet) = svc.network().await;
    let image_name =
        svc.get(&format!("/v2/images/{IMAGE_PLAIN}")).await.body["name"].as_str().unwrap_or_default().to_string();

    // resource_huaweicloud_compute_instance.go getImageIDFromConfig -> getImage (image_name):
    // ims/v2 cloudimages List with name, limit 1 and every enterprise project.
    let r = svc.get(&format!("/v2/cloudimages?enterprise_project_id=all_granted_eps&limit=1&name={image_name}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let image = r.body["images"][0]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(image, IMAGE_PLAIN, "image by name");

    // resource_huaweicloud_compute_instance.go getVpcID: networking/v1 subnets Get.
    let r = svc.get(&format!("/v1/{{p}}/subnets/{subnet}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vpc = r.body["subnet"]["vpc_id"].as_str().unwrap_or_default().to_string();
    assert!(!vpc.is_empty(), "subnet.vpc_id: {}", r.body);

    // resource_huaweicloud_compute_instance.go buildInstanceSecGroupIds (security_groups by
    // name): networking/v1 security groups List, every enterprise project.
    let r = svc.get("/v1/{p}/security-groups?enterprise_project_id=all_granted_eps").await;
    let mut default_sg = None;
    if rp.status(&r, &[200], "create: GET /v1/{project_id}/security-groups") {
        let groups = r.body["security_groups"].as_array().cloned().unwrap_or_default();
        default_sg = groups.iter().find(|g| g["name"] == "default").and_then(|g| g["id"].as_str()).map(String::from);
        rp.check(default_sg.is_some(), "create: a security group named default", || r.body.to_string());
    }

    // golangsdk openstack/ecs/v1/cloudservers/requests.go Create (OkCodes 200) with the body
    // the provider's CreateOpts give: user_data is always sent (empty when not configured), and
    // metadata carries op_svc_userid (the provider's user id).
    let mut server = json!({
        "imageRef": image, "flavorRef": "s6.small.1", "name": "tf-web", "user_data": "",
        "key_name": "tf-key", "vpcid": vpc, "nics": [{"subnet_id": subnet}],
        "root_volume": {"volumetype": "SSD"},
        "metadata": {"op_svc_userid": USER},
        "server_tags": [{"key": "env", "value": "test"}],
    });
    if let Some(sg) = &default_sg {
        server["security_groups"] = json!([{"id": sg}]);
    }
    let r = svc.post("/v1.1/{p}/cloudservers", json!({"server": server})).await;
    let created = rp.status(&r, &[200], "create: POST /v1.1/{project_id}/cloudservers");
    let r = if created {
        r
    } else {
        // The same body on the /v1 path, so that the rest of the replay can run.
        svc.post("/v1/{p}/cloudservers", json!({"server": server})).await
    };
    assert_eq!(r.status, 200, "create: {}", r.body);
    let job_id = r.body["job_id"].as_str().unwrap_or_default().to_string();
    rp.check(r.body["serverIds"].is_array(), "create: serverIds", || r.body.to_string());
    // results_job.go GetJobEntity: the server id is sub_jobs[0].entities.server_id.
    let job = wait_job(&svc, &mut rp, "create: job", &job_id).await.expect("the create job succeeds");
    let id = job["entities"]["sub_jobs"][0]["entities"]["server_id"].as_str().unwrap_or_default().to_string();
    assert!(!id.is_empty(), "create: entities.sub_jobs[0].entities.server_id: {job}");

    // resource_huaweicloud_compute_instance.go create: UpdateMetadata with the configured
    // metadata (golangsdk requests.go: POST .../metadata, default OkCodes 200/201/202).
    let r = svc
        .post(&format!("/v1/{{p}}/cloudservers/{id}/metadata"), json!({"metadata": {"role": "web", "tier": "1"}}))
        .await;
    rp.status(&r, &[200, 201, 202], "create: POST /v1/{project_id}/cloudservers/{server_id}/metadata");

    let s = read_instance(&svc, &mut rp, &id, &image, &subnet).await;
    rp.check(s["metadata"]["role"] == "web", "read: metadata after create", || s["metadata"].to_string());
    rp.check(
        s["tags"].as_array().is_some_and(|t| t.contains(&json!("env=test"))),
        "read: server_tags became tags",
        || s["tags"].to_string(),
    );

    // Update name/description/user_data: golangsdk requests.go Update (OkCodes 200); the
    // provider sends the description (possibly empty) and user_data (empty) every time.
    let r = svc
        .call(
            "PUT",
            &format!("/v1/{{p}}/cloudservers/{id}"),
            Some(json!({"server": {"name": "tf-web-2", "description": "", "user_data": ""}})),
        )
        .await;
    rp.status(&r, &[200], "update: PUT /v1/{project_id}/cloudservers/{server_id}");

    // Update metadata (updateInstanceMetaData): delete the removed key, then post the rest.
    let r = svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{id}/metadata/tier"), None).await;
    rp.status(&r, &[200, 202, 204], "update: DELETE /v1/{project_id}/cloudservers/{server_id}/metadata/{key}");
    let r = svc.post(&format!("/v1/{{p}}/cloudservers/{id}/metadata"), json!({"metadata": {"role": "api"}})).await;
    rp.status(&r, &[200, 201, 202], "update: POST /v1/{project_id}/cloudservers/{server_id}/metadata");

    // Update security groups: compute/v2 extensions secgroups RemoveServer / AddServer, the
    // Nova server action with the group's id in `name` (OkCodes 200/201/202).
    let r = svc.post("/v1/{p}/security-groups", json!({"security_group": {"name": "tf-sg-2"}})).await;
    let new_sg = r.body["security_group"]["id"].as_str().map(String::from);
    rp.check(new_sg.is_some(), "update: setup POST /v1/{project_id}/security-groups", || {
        format!("{} {}", r.status, r.body)
    });
    if let (Some(old), Some(new)) = (&default_sg, &new_sg) {
        let path = format!("/v2.1/{{p}}/servers/{id}/action");
        let r = svc.post(&path, json!({"removeSecurityGroup": {"name": old}})).await;
        rp.status(
            &r,
            &[200, 201, 202],
            "update: POST /v2.1/{project_id}/servers/{server_id}/action removeSecurityGroup",
        );
        let r = svc.post(&path, json!({"addSecurityGroup": {"name": new}})).await;
        rp.status(&r, &[200, 201, 202], "update: POST /v2.1/{project_id}/servers/{server_id}/action addSecurityGroup");
    }

    // Update admin_pass: golangsdk requests.go ChangeAdminPassword (OkCodes 204).
    let r = svc
        .call(
            "PUT",
            &format!("/v1/{{p}}/cloudservers/{id}/os-reset-password"),
            Some(json!({"reset-password": {"new_password": "Tf@Passw0rd-2024"}})),
        )
        .await;
    rp.status(&r, &[204], "update: PUT /v1/{project_id}/cloudservers/{server_id}/os-reset-password");

    // Update tags: utils.UpdateResourceTags -> golangsdk common/tags: delete the old tags, then
    // create the new ones, through the resource's tags/action (OkCodes 204).
    let path = format!("/v1/{{p}}/cloudservers/{id}/tags/action");
    let r = svc.post(&path, json!({"action": "delete", "tags": [{"key": "env", "value": "test"}]})).await;
    rp.status(&r, &[204], "update: POST /v1/{project_id}/cloudservers/{server_id}/tags/action delete");
    let r = svc.post(&path, json!({"action": "create", "tags": [{"key": "env", "value": "prod"}]})).await;
    rp.status(&r, &[204], "update: POST /v1/{project_id}/cloudservers/{server_id}/tags/action create");

    // The update ends with a read.
    let s = read_instance(&svc, &mut rp, &id, &image, &subnet).await;
    rp.check(s["name"] == "tf-web-2", "read after update: name", || s["name"].to_string());
    rp.check(
        s["metadata"]["role"] == "api" && s["metadata"].get("tier").is_none(),
        "read after update: metadata",
        || s["metadata"].to_string(),
    );
    if let Some(new) = &new_sg {
        let ids: Vec<&str> =
            s["security_groups"].as_array().into_iter().flatten().filter_map(|g| g["id"].as_str()).collect();
        rp.check(ids == [new.as_str()], "read after update: security_groups[].id", || s["security_groups"].to_string());
    }
    rp.check(s["tags"].as_array().is_some_and(|t| t == &[json!("env=prod")]), "read after update: tags", || {
        s["tags"].to_string()
    });

    // Delete: golangsdk requests.go Delete (OkCodes 200); delete_eip_on_termination defaults
    // to true, delete_disks_on_termination to false (omitted). Then the job, then the server
    // until it is gone.
    let r = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}], "delete_publicip": true})).await;
    assert_eq!(r.status, 200, "delete: {}", r.body);
    let job_id = r.body["job_id"].as_str().unwrap_or_default().to_string();
    wait_job(&svc, &mut rp, "delete: job", &job_id).await;
    wait_server(&svc, &mut rp, "delete: server gone", &id, &["DELETED", "SOFT_DELETED"]).await;
    rp.finish();
}

/// `huaweicloud_compute_keypair` (`huaweicloud/resource_huaweicloud_compute_keypair.go`, over
/// golangsdk `openstack/compute/v2/extensions/keypairs`): create (generated, then imported),
/// read, delete, and the read after delete that finds it gone.
#[tokio::test]
async fn compute_keypair_lifecycle() {
    let svc = Svc::start().await;
    let mut rp = Replay::new();
    // keypairs Create: an empty public_key is left out, and the service generates the key.
    let r = svc.post("/v2.1/{p}/os-keypairs", json!({"keypair": {"name": "tf-kp"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let kp = &r.body["keypair"];
    assert_eq!(kp["name"], "tf-kp");
    rp.check(str_of(kp, "private_key").contains("PRIVATE KEY"), "create: private_key", || kp.to_string());
    rp.check(str_of(kp, "public_key").starts_with("ssh-"), "create: public_key", || kp.to_string());
    rp.check(!str_of(kp, "fingerprint").is_empty(), "create: fingerprint", || kp.to_string());
    let public_key = str_of(kp, "public_key").to_string();

    // Read: keypairs Get.
    let r = svc.get("/v2.1/{p}/os-keypairs/tf-kp").await;
    assert_eq!(r.status, 200, "{}", r.body);
    rp.check(r.body["keypair"]["public_key"] == public_key.as_str(), "read: public_key", || r.body.to_string());
    rp.check(r.body["keypair"]["fingerprint"] == kp["fingerprint"], "read: fingerprint", || r.body.to_string());

    // An imported key: public_key given, no private key back.
    let r =
        svc.post("/v2.1/{p}/os-keypairs", json!({"keypair": {"name": "tf-kp-import", "public_key": public_key}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    rp.check(r.body["keypair"]["public_key"] == public_key.as_str(), "import: public_key", || r.body.to_string());

    // Delete: keypairs Delete, whose default OkCodes for DELETE are 202 and 204.
    for name in ["tf-kp", "tf-kp-import"] {
        let r = svc.call("DELETE", &format!("/v2.1/{{p}}/os-keypairs/{name}"), None).await;
        rp.status(&r, &[202, 204], "delete: DELETE /v2.1/{project_id}/os-keypairs/{name}");
        // The next refresh reads it: CheckDeleted takes a 404 for gone.
        let r = svc.get(&format!("/v2.1/{{p}}/os-keypairs/{name}")).await;
        rp.status(&r, &[404], "read after delete: GET /v2.1/{project_id}/os-keypairs/{name}");
    }
    rp.finish();
}

/// `huaweicloud_availability_zones` (`huaweicloud/data_source_huaweicloud_availability_zones.go`,
/// compute/v2 extensions availabilityzones) and `huaweicloud_compute_availability_zones`
/// (`huaweicloud/services/ecs/data_source_huaweicloud_compute_availability_zones.go`).
#[tokio::test]
async fn availability_zone_data_sources() {
    let svc = Svc::start().await;
    let mut rp = Replay::new();
    // Nova: the zones whose zoneState.available matches `state` (default "available").
    let r = svc.get("/v2.1/{p}/os-availability-zone").await;
    if rp.status(&r, &[200], "GET /v2.1/{project_id}/os-availability-zone") {
        let zones = r.body["availabilityZoneInfo"].as_array().cloned().unwrap_or_default();
        rp.check(!zones.is_empty(), "availabilityZoneInfo", || r.body.to_string());
        for z in &zones {
            rp.check(
                z["zoneName"].is_string() && z["zoneState"]["available"].is_boolean(),
                "zoneName/zoneState.available",
                || z.to_string(),
            );
        }
    }
    // ECS: every field the data source copies.
    let r = svc.get("/v1/{p}/availability-zones").await;
    if rp.status(&r, &[200], "GET /v1/{project_id}/availability-zones") {
        let zones = r.body["availability_zones"].as_array().cloned().unwrap_or_default();
        rp.check(!zones.is_empty(), "availability_zones", || r.body.to_string());
        for z in &zones {
            let strings = ["availability_zone_id", "type", "mode", "alias", "public_border_group"];
            rp.check(strings.iter().all(|f| z[*f].is_string()), "availability_zones[] string fields", || z.to_string());
            rp.check(z["category"].is_i64(), "availability_zones[].category is an integer", || z.to_string());
            rp.check(z["az_group_ids"].is_array(), "availability_zones[].az_group_ids", || z.to_string());
        }
    }
    rp.finish();
}

/// `huaweicloud_compute_flavors` (`huaweicloud/services/ecs/data_source_huaweicloud_compute_flavors.go`,
/// golangsdk `openstack/ecs/v1/flavors`): the list, without and with `availability_zone`.
#[tokio::test]
async fn flavors_data_source() {
    let svc = Svc::start().await;
    let mut rp = Replay::new();
    let zone = svc.show(&svc.server("tf-az-probe", IMAGE_PLAIN, None).await).await["OS-EXT-AZ:availability_zone"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for path in
        ["/v1/{p}/cloudservers/flavors".to_string(), format!("/v1/{{p}}/cloudservers/flavors?availability_zone={zone}")]
    {
        let r = svc.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let flavors = r.body["flavors"].as_array().cloned().unwrap_or_default();
        rp.check(!flavors.is_empty(), &path, || r.body.to_string());
        for f in &flavors {
            // vcpus is a string the provider converts; ram is an integer (MiB).
            rp.check(str_of(f, "vcpus").parse::<u32>().is_ok(), "flavors[].vcpus is a numeric string", || {
                f.to_string()
            });
            rp.check(f["ram"].is_i64(), "flavors[].ram is an integer", || f.to_string());
            rp.check(f["id"].is_string(), "flavors[].id", || f.to_string());
            let specs = &f["os_extra_specs"];
            rp.check(
                specs["ecs:performancetype"].is_string() && specs["ecs:generation"].is_string(),
                "flavors[].os_extra_specs",
                || f.to_string(),
            );
        }
    }
    rp.finish();
}

/// `huaweicloud_images_image` (`huaweicloud/services/ims/data_source_huaweicloud_images_image.go`,
/// golangsdk `openstack/ims/v2/cloudimages`): active images by name, every enterprise project.
#[tokio::test]
async fn image_data_source() {
    let svc = Svc::start().await;
    let mut rp = Replay::new();
    let name =
        svc.get(&format!("/v2/images/{IMAGE_PLAIN}")).await.body["name"].as_str().unwrap_or_default().to_string();
    let r = svc.get(&format!("/v2/cloudimages?enterprise_project_id=all_granted_eps&name={name}&status=active")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let images = r.body["images"].as_array().cloned().unwrap_or_default();
    assert_eq!(images.len(), 1, "one image of that name: {}", r.body);
    let i = &images[0];
    assert_eq!(i["id"], IMAGE_PLAIN);
    rp.check(i["status"] == "active", "images[].status", || i.to_string());
    for f in ["name", "__platform", "__os_version", "__imagetype", "visibility", "disk_format", "container_format"] {
        rp.check(i[f].is_string(), "images[] string field", || format!("{f}: {i}"));
    }
    rp.check(str_of(i, "__image_size").parse::<u64>().is_ok(), "images[].__image_size is a numeric string", || {
        i.to_string()
    });
    rp.check(i["min_disk"].is_i64() && i["min_ram"].is_i64(), "images[].min_disk/min_ram are integers", || {
        i.to_string()
    });
    for f in ["created_at", "updated_at"] {
        let t = str_of(i, f);
        rp.check(
            t.len() >= 20 && t.ends_with('Z') && t.as_bytes().get(10) == Some(&b'T'),
            "images[] RFC 3339 time",
            || format!("{f}: {t}"),
        );
    }
    rp.finish();
}
