//! `images list/show`, `flavors list`, `api`, and `completion`.

use crate::harness::Svc;

#[test]
fn images_and_flavors() {
    let svc = Svc::start();
    let images = svc.run(&["images", "list", "-o", "json"]).json();
    let all = images["images"].as_array().unwrap();
    assert!(all.len() >= 2, "{images}");
    let first = &all[0];
    let name = first["name"].as_str().unwrap();
    let by_name = svc.run(&["images", "show", name, "-o", "json"]).json();
    assert_eq!(by_name["id"], first["id"]);
    let by_id = svc.run(&["images", "show", first["id"].as_str().unwrap()]).ok().to_string();
    assert!(by_id.contains(name), "{by_id}");
    let table = svc.run(&["images", "list"]).ok().to_string();
    assert!(table.contains("CLOUD-INIT") && table.contains(name), "{table}");
    svc.run(&["images", "show", "no such image"]).fails(1, "no image");
    let ubuntu = svc.run(&["images", "list", "--platform", "Ubuntu", "-o", "json"]).json();
    assert!(ubuntu["images"].as_array().unwrap().iter().all(|i| i["__platform"] == "Ubuntu"), "{ubuntu}");

    let flavors = svc.run(&["flavors", "list", "-o", "json"]).json();
    let f = &flavors["flavors"][0];
    let table = svc.run(&["flavors", "list"]).ok().to_string();
    assert!(table.contains(f["id"].as_str().unwrap()) && table.contains("VCPUS"), "{table}");
}

#[test]
fn any_signed_request_and_completions() {
    let svc = Svc::start();
    let vpcs = svc.run(&["api", "GET", "/v1/{p}/vpcs"]).json();
    assert!(vpcs["vpcs"][0]["id"].is_string(), "{vpcs}");
    let fault = svc
        .run(&[
            "api",
            "POST",
            "/ecsd-admin/v1/faults",
            "--data",
            r#"{"operation":"stopServer","action":"delay","delay_ms":1}"#,
        ])
        .json();
    assert!(fault["id"].is_string(), "{fault}");
    svc.run(&["api", "DELETE", "/ecsd-admin/v1/faults"]).ok();
    svc.run(&["api", "GET", "/v1/{p}/cloudservers/detail", "--data", "not json"]).fails(2, "not JSON");

    for shell in ["bash", "zsh", "fish"] {
        let script = svc.run(&["completion", shell]).ok().to_string();
        assert!(script.contains("ecsctl") && script.contains("reinstall"), "{shell}: {script}");
    }
}
