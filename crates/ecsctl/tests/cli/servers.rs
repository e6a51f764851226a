//! `servers create/list/show/stop/start/reboot/lock/unlock/delete`, checked against what the
//! API shows afterwards.

use crate::harness::Svc;

#[test]
fn a_server_through_its_whole_life() {
    let svc = Svc::start();
    let image = svc.image(false);
    svc.keypair("life");
    let id = svc.server("web-1", &image, "life");

    let s = svc.show(&id);
    assert_eq!(s["status"], "ACTIVE", "{s}");
    assert_eq!(s["key_name"], "life");
    assert_eq!(s["image"]["id"], image.as_str());

    // The table names it; a name is as good as an id.
    let table = svc.run(&["servers", "list"]).ok().to_string();
    assert!(table.contains("web-1") && table.contains(&id) && table.contains("ACTIVE"), "{table}");
    let by_name = svc.run(&["servers", "show", "web-1", "-o", "json"]).json();
    assert_eq!(by_name["server"]["id"], id.as_str());
    let list = svc.run(&["servers", "list", "--status", "ACTIVE", "-o", "json"]).json();
    assert_eq!(list["servers"].as_array().unwrap().len(), 1, "{list}");

    let stop = svc.run(&["servers", "stop", &id, "--wait", "-o", "json"]).json();
    assert_eq!(stop["status"], "SUCCESS", "{stop}");
    assert_eq!(svc.show(&id)["status"], "SHUTOFF");
    let start = svc.run(&["servers", "start", "web-1", "--wait"]);
    assert!(start.ok().contains("SUCCESS"), "{start:#?}");
    assert_eq!(svc.show(&id)["status"], "ACTIVE");
    let reboot = svc.run(&["servers", "reboot", &id, "--force", "--wait", "-o", "json"]).json();
    assert_eq!(reboot["status"], "SUCCESS", "{reboot}");
    assert_eq!(reboot["job_type"], "rebootServer", "{reboot}");

    svc.run(&["servers", "lock", &id]).ok();
    assert_eq!(svc.show(&id)["locked"], true);
    svc.run(&["servers", "unlock", &id]).ok();
    assert_eq!(svc.show(&id)["locked"], false);

    let del = svc.run(&["servers", "delete", &id, "--wait", "-o", "json"]).json();
    assert_eq!(del["status"], "SUCCESS", "{del}");
    svc.run(&["servers", "show", &id]).fails(1, "Ecs.0114");
}

#[test]
fn create_without_wait_answers_the_job_and_the_servers() {
    let svc = Svc::start();
    let image = svc.image(true);
    let answer = svc
        .run(&[
            "servers",
            "create",
            "--name",
            "batch",
            "--image",
            &image,
            "--admin-pass",
            "Secret-Pass-123",
            "--count",
            "2",
            "-o",
            "json",
        ])
        .json();
    let job = answer["job_id"].as_str().unwrap();
    assert_eq!(answer["serverIds"].as_array().unwrap().len(), 2, "{answer}");
    // `jobs watch` follows what was started elsewhere; both servers end up ACTIVE.
    let watch = svc.run(&["jobs", "watch", job, "-o", "json"]);
    let watched = watch.json();
    // Each sub-job's steps are marked with its server.
    for id in answer["serverIds"].as_array().unwrap() {
        let mark = format!("[server {}] create_disk: started", &id.as_str().unwrap()[..8]);
        assert!(watch.stderr.contains(&mark), "{mark}: {watch:#?}");
    }
    assert_eq!(watched["status"], "SUCCESS", "{watched}");
    assert_eq!(watched["entities"]["sub_jobs"].as_array().unwrap().len(), 2, "{watched}");
    for id in answer["serverIds"].as_array().unwrap() {
        assert_eq!(svc.show(id.as_str().unwrap())["status"], "ACTIVE");
    }
    // A batch's servers are named NAME-0001, NAME-0002.
    let names = svc.run(&["servers", "list", "--name", "batch", "-o", "json"]).json();
    let mut names: Vec<&str> =
        names["servers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["batch-0001", "batch-0002"]);
    svc.run(&["servers", "show", "batch"]).fails(1, "no server named");

    let shown = svc.run(&["jobs", "show", job]).ok().to_string();
    assert!(shown.contains("createServer") && shown.contains("SUCCESS"), "{shown}");
    let steps = svc.run(&["jobs", "steps", job, "-o", "json"]).json();
    let sub_steps: Vec<&str> =
        steps["sub_jobs"][0]["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(sub_steps.contains(&"boot"), "{steps}");
    let table = svc.run(&["jobs", "steps", job]).ok().to_string();
    assert!(table.contains("create_disk") && table.contains("SUCCESS"), "{table}");

    // Without --wait a delete answers its job at once; the servers go all the same.
    let ids: Vec<&str> = answer["serverIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let mut args = vec!["servers", "delete"];
    args.extend(&ids);
    let del = svc.run(&args);
    assert!(del.ok().contains("job_id"), "{del:#?}");
}
