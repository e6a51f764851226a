//! Reinstall and change OS with `--wait`: the steps shown live (under a pseudo-terminal, and
//! line by line without one) and what the server shows afterwards.

use crate::harness::{run, Svc};
use crate::proxy;
use std::process::Command;

const REINSTALL_STEPS: [&str; 7] =
    ["stop_server", "new_disk_id", "create_disk", "inject", "swap_disk", "boot", "delete_old_disk"];

#[test]
fn reinstall_with_a_new_key_pair_line_by_line() {
    let svc = Svc::start();
    let image = svc.image(false);
    svc.keypair("old");
    svc.keypair("new");
    let id = svc.server("box", &image, "old");
    let boot = system_disk(&svc.show(&id));

    let out = svc.run(&["servers", "reinstall", &id, "--key-name", "new", "--wait"]);
    assert!(out.ok().contains("reinstallOs: SUCCESS"), "{out:#?}");
    // No terminal: one line per step event, in order.
    for step in REINSTALL_STEPS {
        assert!(out.stderr.contains(&format!("{step}: started")), "{step}: {out:#?}");
        assert!(out.stderr.contains(&format!("{step}: succeeded")), "{step}: {out:#?}");
    }
    let first = out.stderr.find("stop_server: started").unwrap();
    let last = out.stderr.find("delete_old_disk: succeeded").unwrap();
    assert!(first < last, "{}", out.stderr);
    // The job's own end comes last, after its last step.
    assert!(out.stderr.trim_end().ends_with("job: SUCCESS"), "{}", out.stderr);

    let s = svc.show(&id);
    assert_eq!(s["key_name"], "new", "{s}");
    assert_eq!(s["status"], "ACTIVE", "{s}");
    assert_ne!(system_disk(&s), boot, "a new system disk");
}

#[test]
fn reinstall_under_a_terminal_shows_a_progress_bar() {
    let svc = Svc::start();
    let image = svc.image(false);
    svc.keypair("k1");
    svc.keypair("k2");
    let id = svc.server("tty", &image, "k1");

    // `script` gives the command a pseudo-terminal as stdout and stderr, and copies what is
    // drawn there to its own stdout.
    let cmd = format!("{} servers reinstall {id} --key-name k2 --wait", env!("CARGO_BIN_EXE_ecsctl"));
    let mut script = Command::new("/usr/bin/script");
    script.args(["-qfec", &cmd, "/dev/null"]).envs(svc.env()).env("NO_PROXY", "*").stdin(std::process::Stdio::null());
    let out = run(script);
    assert_eq!(out.code, 0, "{out:#?}");
    for step in REINSTALL_STEPS {
        assert!(out.stdout.contains(&format!("ok    {step}")), "{step}: {out:#?}");
    }
    // The bar itself: its counter of finished steps, redrawn in place.
    assert!(out.stdout.contains("steps done]"), "{out:#?}");
    assert!(out.stdout.contains("\u{1b}["), "terminal control sequences: {out:#?}");
    assert!(out.stdout.contains("reinstallOs: SUCCESS"), "{out:#?}");
    assert_eq!(svc.show(&id)["key_name"], "k2");
}

#[test]
fn change_os_with_a_password_and_user_data() {
    let svc = Svc::start();
    let plain = svc.image(false);
    let cloud = svc.image(true);
    svc.keypair("ck");
    let id = svc.server("chg", &plain, "ck");
    let dir = tempfile::tempdir().unwrap();
    let ud = dir.path().join("user-data");
    std::fs::write(&ud, "#cloud-config\nhostname: chg\n").unwrap();

    let job = svc
        .run(&[
            "servers",
            "change-os",
            "chg",
            "--image",
            &cloud,
            "--admin-pass",
            "Change-Pass-42",
            "--user-data",
            ud.to_str().unwrap(),
            "--wait",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "changeOs", "{job}");
    let s = svc.show(&id);
    assert_eq!(s["image"]["id"], cloud.as_str(), "{s}");
    assert_eq!(s["status"], "ACTIVE");
    // A password login: the key pair is gone.
    assert!(s["key_name"].as_str().unwrap_or_default().is_empty(), "{s}");

    // A stopped server stays stopped without --no-stop's refusal being needed.
    svc.run(&["servers", "stop", &id, "--wait"]).ok();
    let again = svc.run(&["servers", "reinstall", &id, "--key-name", "ck", "--no-stop", "--wait", "-o", "json"]).json();
    assert_eq!(again["status"], "SUCCESS", "{again}");
    assert_eq!(svc.show(&id)["key_name"], "ck");
}

#[test]
fn without_an_event_stream_the_job_api_is_polled() {
    let svc = Svc::start();
    let image = svc.image(false);
    let endpoint = proxy::without_events(svc.endpoint.trim_start_matches("http://"));
    let mut c = svc.command(&[
        "servers",
        "create",
        "--name",
        "polled",
        "--image",
        &image,
        "--admin-pass",
        "Polled-Pass-1",
        "--count",
        "2",
        "--wait",
    ]);
    c.env("ECSD_ENDPOINT", &endpoint);
    let out = run(c);
    assert!(out.ok().contains("createServer: SUCCESS"), "{out:#?}");
    // Status changes only (the job API has no steps), each sub-job marked with its server.
    assert!(!out.stderr.contains("create_disk"), "{out:#?}");
    assert!(out.stderr.contains("[server ") && out.stderr.contains("sub-job: SUCCESS"), "{out:#?}");
    assert!(out.stderr.trim_end().ends_with("job: SUCCESS"), "{out:#?}");
    let mut c = svc.command(&["jobs", "steps", "x"]);
    c.env("ECSD_ENDPOINT", &endpoint);
    run(c).fails(1, "HTTP 404 APIGW.0101");
}

fn system_disk(s: &serde_json::Value) -> String {
    s["os-extended-volumes:volumes_attached"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["bootIndex"] == "0")
        .map(|v| v["id"].as_str().unwrap().to_string())
        .unwrap()
}
