//! Exit codes: a refusal (1, with the Huawei code on stderr), usage (2), a failed job (3), an
//! endpoint that does not answer (4), a wait that gave up (5).

use crate::harness::{ecsctl, run, Svc, AK, PROJECT};
use crate::proxy;

#[test]
fn refusals_exit_1_with_the_error_code() {
    let svc = Svc::start();
    svc.run(&["servers", "show", "0b6f9e4e-1c8c-4b9a-9d0a-2f0c5e2d1a11"]).fails(1, "Ecs.0114");
    svc.run(&["servers", "stop", "0b6f9e4e-1c8c-4b9a-9d0a-2f0c5e2d1a11", "--wait"]).fails(1, "Ecs.");
    svc.run(&["servers", "show", "nobody"]).fails(1, "no server named");
    // An unknown job is a 400 on the job API, as on Huawei Cloud, and on the event stream too.
    svc.run(&["jobs", "show", "ff000000000000000000000000000000"]).fails(1, "Common.0011");
    svc.run(&["jobs", "watch", "ff000000000000000000000000000000"]).fails(1, "Common.0011");

    // A wrong secret key: the gateway's 401 and its code.
    let mut c = svc.command(&["servers", "list"]);
    c.env("HUAWEICLOUD_SDK_SK", "not-the-secret");
    let out = run(c);
    out.fails(1, "HTTP 401 APIGW.0301");
}

#[test]
fn usage_errors_exit_2() {
    let svc = Svc::start();
    svc.run(&["servers", "frobnicate"]).fails(2, "unrecognized subcommand");
    svc.run(&["servers", "create", "--name", "x"]).fails(2, "--image");
    svc.run(&["servers", "create", "--name", "x", "--image", "i", "--key-name", "k", "--admin-pass", "p"])
        .fails(2, "cannot be used with");
    let mut c = svc.command(&["servers", "list"]);
    c.env_remove("HUAWEICLOUD_SDK_AK");
    run(c).fails(2, "HUAWEICLOUD_SDK_AK");
    svc.run(&["servers", "list", "--endpoint", "ftp://127.0.0.1:1"]).fails(2, "http://");
}

#[test]
fn a_failed_job_exits_3_with_its_code_and_reason() {
    let svc = Svc::start();
    let image = svc.image(false);
    svc.keypair("f1");
    let id = svc.server("doomed", &image, "f1");
    let fault = r#"{"operation":"reinstallOs","step":"create_disk","action":"fail","error_code":"Ecs.0101","message":"disk backend unavailable","times":1}"#;
    svc.run(&["api", "POST", "/ecsd-admin/v1/faults", "--data", fault]).json();

    let out = svc.run(&["servers", "reinstall", &id, "--key-name", "f1", "--wait", "-o", "json"]);
    out.fails(3, "Ecs.0101");
    assert!(out.stderr.contains("create_disk: failed"), "{out:#?}");
    assert!(out.stderr.contains("undo_"), "the saga is undone: {out:#?}");
    // JSON mode still prints the failed job, for the script to read.
    let job: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0101");
    assert_eq!(svc.show(&id)["status"], "ACTIVE", "back on its old disk, running");
}

#[test]
fn an_unreachable_endpoint_or_a_5xx_exits_4() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = ecsctl(&["servers", "list", "--endpoint", &format!("http://127.0.0.1:{port}")]);
    c.env("HUAWEICLOUD_SDK_AK", AK).env("HUAWEICLOUD_SDK_SK", "x").env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT);
    run(c).fails(4, "cannot reach");

    let mut c = ecsctl(&["flavors", "list", "--endpoint", &proxy::unavailable(), "--ak", AK, "--sk", "x"]);
    c.args(["--project", PROJECT]);
    run(c).fails(4, "HTTP 503 APIGW.0201: Backend unavailable.");
}

#[test]
fn a_wait_that_gives_up_exits_5() {
    let svc = Svc::start();
    let image = svc.image(false);
    svc.keypair("h");
    let id = svc.server("slow", &image, "h");
    svc.run(&["api", "POST", "/ecsd-admin/v1/faults", "--data", r#"{"operation":"stopServer","action":"hang"}"#])
        .json();
    let out = svc.run(&["servers", "stop", &id, "--wait", "--timeout", "1"]);
    out.fails(5, "gave up waiting");
    svc.run(&["api", "DELETE", "/ecsd-admin/v1/faults"]).ok();
    // The job carries on in the service once released, and can be watched to its end.
    let job =
        out.stderr.split("waiting for job ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let done = svc.run(&["jobs", "watch", &job, "-o", "json"]).json();
    assert_eq!(done["status"], "SUCCESS", "{done}");
}

#[test]
fn https_with_a_self_signed_certificate_needs_insecure() {
    let svc = Svc::start_with(true);
    let https = svc.tls_endpoint.clone().unwrap();
    let list = svc.run(&["servers", "list", "--endpoint", &https, "--insecure", "-o", "json"]).json();
    assert!(list["servers"].is_array(), "{list}");
    // Without --insecure the certificate is checked, and nothing trusts it.
    svc.run(&["servers", "list", "--endpoint", &https]).fails(4, "certificate");
}
