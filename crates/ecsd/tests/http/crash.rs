//! The crash test: a few hundred concurrent jobs (and scheduled deletions), the process SIGKILLed
//! at random points, and after every restart the invariants checked over the API and in the
//! database.
//!
//! One round also fills the disk under the service (a small filesystem the test mounts, where it may)
//! while the jobs run, and kills the process while the disk is still full.
//!
//! The seed is printed; `ECSD_CRASH_SEED=<seed>` replays a run.

use crate::client::*;
use crate::process::{kill, start_with};
use crate::small_disk::SmallDisk;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

const SERVERS: i64 = 60;
const ROUNDS: usize = 5;
/// The round in which the disk fills up.
const FULL_ROUND: usize = 2;
/// Volumes of the disk service that attaches and detaches move between the servers.
const POOL: i64 = 20;
const REBUILD_STEPS: &[&str] = &["stop_server", "create_disk", "inject", "swap_disk", "boot"];

#[derive(Debug, Clone)]
struct Accepted {
    job: String,
    op: &'static str,
    server: String,
    old_disk: String,
}

fn pick_op(rng: &mut StdRng) -> &'static str {
    match rng.gen_range(0..100) {
        0..=24 => "reinstall",
        // NICs added and deleted (each plugged and unplugged, and given back on the way).
        25..=29 => "addnic",
        30..=41 => "changeos",
        42..=53 => "stop",
        54..=65 => "start",
        66..=74 => "reboot",
        // Volumes of a pool attached and detached (hot-plugged into running VMs).
        75..=81 => "attach",
        82..=87 => "detach",
        88..=91 => "delnic",
        92..=95 => "terminate",
        _ => "delete",
    }
}

async fn request(svc: &Svc, op: &str, id: &str, user: &str, image: &str, volume: &str) -> Resp {
    match op {
        "attach" => {
            svc.post(
                &format!("/v1/{{p}}/cloudservers/{id}/attachvolume"),
                json!({"volumeAttachment": {"volumeId": volume}}),
            )
            .await
        }
        "detach" => {
            // One of the server's data disks, if it has one (else the pool's: refused).
            let bd = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/block_device")).await.body;
            let data = bd["volumeAttachments"]
                .as_array()
                .and_then(|a| a.iter().find(|d| d["bootIndex"] == -1))
                .and_then(|d| d["volumeId"].as_str())
                .unwrap_or(volume)
                .to_string();
            svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{id}/detachvolume/{data}"), None).await
        }
        "reinstall" => {
            svc.post(
                &format!("/v1/{{p}}/cloudservers/{id}/reinstallos"),
                json!({"os-reinstall": {"keyname": "k", "userid": user, "mode": "withStopServer"}}),
            )
            .await
        }
        "changeos" => {
            svc.post(
                &format!("/v1/{{p}}/cloudservers/{id}/changeos"),
                json!({"os-change": {"adminpass": "!QAZxsw2", "imageid": image, "mode": "withStopServer"}}),
            )
            .await
        }
        "stop" | "start" | "reboot" => {
            let key = match op {
                "stop" => "os-stop",
                "start" => "os-start",
                _ => "reboot",
            };
            svc.post("/v1/{p}/cloudservers/action", json!({key: {"servers": [{"id": id}], "type": "HARD"}})).await
        }
        // A scheduled deletion a second or two ahead: the scheduler deletes the server, before
        // the kill or after the restart. (Two seconds, cut to whole seconds: one could leave a
        // few milliseconds, gone by the time a loaded machine reads the request.)
        "terminate" => {
            let at = time::OffsetDateTime::now_utc() + Duration::from_secs(2);
            let at = at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"));
            svc.post(
                &format!("/v1/{{p}}/cloudservers/{id}/actions/update-auto-terminate-time"),
                json!({"auto_terminate_time": at.unwrap()}),
            )
            .await
        }
        "addnic" => {
            let subnet = svc.get("/v1/{p}/subnets").await.body["subnets"][0]["id"].clone();
            svc.post(&format!("/v1/{{p}}/cloudservers/{id}/nics"), json!({"nics": [{"subnet_id": subnet}]})).await
        }
        "delnic" => {
            // The server's last added NIC, or (none) a port that is not one: refused.
            let s = svc.get(&format!("/v1/{{p}}/cloudservers/{id}")).await.body;
            let port = s["server"]["addresses"]
                .as_object()
                .and_then(|a| {
                    let added: Vec<Value> = a
                        .values()
                        .flat_map(|l| l.as_array().cloned().unwrap_or_default())
                        .filter(|a| a["primary"] == false)
                        .collect();
                    added.last().cloned()
                })
                .map(|a| a["OS-EXT-IPS:port_id"].clone())
                .unwrap_or_else(|| json!("6a6b4b4e-0e3a-4c38-9b64-000000000000"));
            svc.post(&format!("/v1/{{p}}/cloudservers/{id}/nics/delete"), json!({"nics": [{"id": port}]})).await
        }
        _ => svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await,
    }
}

/// A scheduled deletion (no job): the server is gone within a while, or, for a request the
/// kill cut off (`maybe`), it shows no deadline because none was recorded.
async fn wait_terminated(svc: &Svc, id: &str, maybe: bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}")).await;
        if r.status == 404 || (maybe && r.body["server"]["auto_terminate_time"] == "") {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "server {id} was not deleted at its time: {}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every volume idle and on one server at most, and every running VM with exactly the data
/// disks its server's volume rows name.
async fn check_volumes(svc: &Svc, data: &std::path::Path) {
    let list = svc.get("/v2/{p}/cloudvolumes/detail?limit=1000").await.body;
    let mut attached: HashMap<String, BTreeSet<String>> = HashMap::new();
    for v in list["volumes"].as_array().unwrap() {
        let id = v["id"].as_str().unwrap().to_string();
        let status = v["status"].as_str().unwrap();
        assert!(["available", "in-use"].contains(&status), "volume {id} left {status}");
        let on = v["attachments"].as_array().unwrap();
        assert!(on.len() <= 1, "volume {id} is on {} servers", on.len());
        if let (Some(a), false) = (on.first(), v["bootable"] == "true") {
            attached.entry(a["server_id"].as_str().unwrap().to_string()).or_default().insert(id);
        }
    }
    let sim = crate::store::sim_state(data).await;
    for (server, vm) in sim.vms.iter().filter(|(_, vm)| vm.running) {
        let plugged: BTreeSet<String> = vm.data_disks.iter().cloned().collect();
        assert_eq!(plugged, attached.remove(server).unwrap_or_default(), "the VM of {server} and its volume rows");
    }
}

/// Every server idle with exactly one system disk; returns id → system disk.
async fn check_servers(svc: &Svc) -> HashMap<String, String> {
    let list = svc.get("/v1/{p}/cloudservers/detail?limit=1000").await.body;
    let mut out = HashMap::new();
    for s in list["servers"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap().to_string();
        assert!(s["OS-EXT-STS:task_state"].is_null(), "server {id} left in {}", s["OS-EXT-STS:task_state"]);
        assert!(["ACTIVE", "SHUTOFF"].contains(&s["status"].as_str().unwrap()), "server {id} is {}", s["status"]);
        let boot: Vec<&Value> = s["os-extended-volumes:volumes_attached"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["bootIndex"] == "0")
            .collect();
        assert_eq!(boot.len(), 1, "server {id} has {} system disks", boot.len());
        out.insert(id, boot[0]["id"].as_str().unwrap().to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_never_loses_a_server_or_a_disk() {
    let seed: u64 = std::env::var("ECSD_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("crash test seed: {seed} (replay with ECSD_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The data directory is the mount point, so the service's log (beside it) is not on it.
    let fs = SmallDisk::mount(&data, &dir.path().join("disk.img"), 64);
    // Some reinstalls also fail on purpose (at a step chosen by the seed), so that both the
    // forward and the unwinding paths are interrupted by the kills.
    let cfg = dir.path().join("ecsd.toml");
    let step = REBUILD_STEPS[rng.gen_range(0..REBUILD_STEPS.len())];
    std::fs::write(&cfg, format!("[[faults]]\noperation = \"reinstallOs\"\nstep = \"{step}\"\naction = \"fail\"\nerror_code = \"Ecs.0101\"\ntimes = 4\n")).unwrap();
    let creds = SDK_ENV;
    let args = ["--config", cfg.to_str().unwrap(), "--sim-step-ms", "25"];

    let (mut child, banner) = start_with(&data, &creds, &args);
    let mut svc = Arc::new(Svc::remote(&banner["endpoint"], AK, SK, PROJECT));
    let kp = svc.keypair("k").await;
    let user = kp["user_id"].as_str().unwrap().to_string();
    let body = svc.create_body("n", IMAGE_PLAIN, Some("k"), SERVERS).await;
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let pool = svc
        .post(
            "/v2/{p}/cloudvolumes",
            json!({"volume": {"availability_zone": "cn-north-4a", "size": 10, "volume_type": "SSD", "count": POOL}}),
        )
        .await;
    svc.job_ok(pool.body["job_id"].as_str().unwrap()).await;
    let pool: Vec<String> =
        pool.body["volume_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    let mut disks = check_servers(&svc).await;
    let mut total_jobs = 0;
    let mut resumed = 0;

    let refused_full = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for round in 0..ROUNDS {
        let fill = round == FULL_ROUND && fs.is_some();
        let mut tasks = vec![];
        // Requests answered so far this round: the kill waits for three quarters of them, so
        // that on a loaded machine a round is not cut off before most requests were even read
        // (the rest are still in flight when the process dies).
        let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sent = disks.len();
        for (id, old) in disks.clone() {
            let op = pick_op(&mut rng);
            let image = if rng.gen_bool(0.5) { IMAGE_OTHER_PLAIN } else { IMAGE_PLAIN };
            let volume = pool[rng.gen_range(0..pool.len())].clone();
            let (svc, user, answered, refused_full) =
                (svc.clone(), user.clone(), answered.clone(), refused_full.clone());
            tasks.push(tokio::spawn(async move {
                let r = request(&svc, op, &id, &user, image, &volume).await;
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match r.status {
                    204 => Some(Accepted { job: String::new(), op, server: id, old_disk: old }),
                    0 if op == "terminate" => {
                        Some(Accepted { job: String::new(), op: "maybe-terminate", server: id, old_disk: old })
                    }
                    200 => {
                        Some(Accepted { job: r.body["job_id"].as_str().unwrap().into(), op, server: id, old_disk: old })
                    }
                    // Cut off by the kill: never answered, so nothing is owed.
                    0 => None,
                    // The disk is full: refused, and said so.
                    500 if fill => {
                        r.assert_error(500, "Common.0001");
                        let msg = r.body["error"]["message"].as_str().unwrap_or_default();
                        assert!(msg.contains("storage is full"), "{}", r.body);
                        refused_full.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        None
                    }
                    // A NIC request the server cannot take (no added NIC to delete, all its NIC
                    // slots taken, or the server gone before the lookup): refused, changing nothing.
                    400 | 404 if matches!(op, "addnic" | "delnic") && r.body["error"]["code"] != "Ecs.0100" => {
                        let code = r.body["error"]["code"].as_str().unwrap_or_default().to_string();
                        assert!(["Ecs.0005", "Ecs.0114"].contains(&code.as_str()), "{op}: {}", r.body);
                        None
                    }
                    // A volume another server has (or is taking), a server without a data disk
                    // to detach, or a server busy with the same volume's other half.
                    _ if op == "attach" || op == "detach" => {
                        assert_eq!(r.status, 400, "{op}: {}", r.body);
                        let code = r.body["error"]["code"].as_str().unwrap_or_default();
                        assert!(["Ecs.0005", "Ecs.0100"].contains(&code), "{op}: {}", r.body);
                        None
                    }
                    // A reboot of a stopped server: refused by the gate.
                    _ => {
                        r.assert_error(400, "Ecs.0100");
                        None
                    }
                }
            }));
        }
        // In the full round the disk fills up once a tenth of the requests were answered, so
        // that jobs already running and requests still arriving meet it, and the process is
        // killed while it is still full.
        if fill {
            let waited = std::time::Instant::now();
            while answered.load(std::sync::atomic::Ordering::SeqCst) < sent / 10
                && waited.elapsed() < Duration::from_secs(5)
            {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            fs.as_ref().unwrap().fill();
            // The jobs meet the full disk and wait; the requests still arriving are refused.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // Kill while the jobs run.
        let waited = std::time::Instant::now();
        while answered.load(std::sync::atomic::Ordering::SeqCst) < sent / 2 && waited.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let pause = rng.gen_range(0..150);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        kill(&mut child);
        let mut accepted = vec![];
        for t in tasks {
            // Requests cut off by the kill were never answered: they may or may not have been
            // recorded, and either is fine; answered ones must finish.
            if let Some(a) = t.await.expect("request task") {
                accepted.push(a);
            }
        }
        if fill {
            fs.as_ref().unwrap().free();
            println!("round {round}: the disk filled up under the jobs; freed after the kill");
        }
        total_jobs += accepted.len();
        println!(
            "round {round}: {} jobs accepted, killed {pause} ms after three quarters of the answers",
            accepted.len()
        );

        let (c, banner) = start_with(&data, &creds, &args);
        child = c;
        svc = Arc::new(Svc::remote(&banner["endpoint"], AK, SK, PROJECT));
        let mut unfinished = 0;
        for a in accepted.iter().filter(|a| !a.job.is_empty()) {
            let st = svc.get(&format!("/v1/{{p}}/jobs/{}", a.job)).await.body["status"].clone();
            unfinished += usize::from(st != "SUCCESS" && st != "FAIL");
        }
        resumed += unfinished;
        println!("round {round}: {unfinished} of them were still unfinished when the process died");
        for a in &accepted {
            if a.job.is_empty() {
                wait_terminated(&svc, &a.server, a.op == "maybe-terminate").await;
                continue;
            }
            let j = svc.wait_job(&a.job).await;
            let status = j["status"].as_str().unwrap();
            let now = svc.get(&format!("/v1/{{p}}/cloudservers/{}", a.server)).await;
            match (a.op, status) {
                ("delete", "SUCCESS") => now.assert_error(404, "Ecs.0114"),
                ("reinstall" | "changeos", "SUCCESS") => {
                    assert_ne!(Svc::boot_volume(&now.body["server"]), a.old_disk, "{a:?} succeeded on a new disk")
                }
                ("reinstall" | "changeos", "FAIL") => {
                    assert_eq!(j["error_code"], "Ecs.0101", "{j}");
                    assert_eq!(Svc::boot_volume(&now.body["server"]), a.old_disk, "{a:?} failed on its old disk");
                }
                (_, "SUCCESS") => {}
                (op, st) => panic!("{op} job {} ended {st}: {j}", a.job),
            }
        }
        disks = check_servers(&svc).await;
        check_volumes(&svc, &data).await;
        assert!(!disks.is_empty());
    }
    println!("{total_jobs} jobs across {ROUNDS} kills; {refused_full:?} requests refused for a full disk");
    assert!(total_jobs >= 150, "a few hundred jobs ran: {total_jobs}");
    assert!(resumed > 0, "the kills interrupted running jobs");
    kill(&mut child);

    // In the database: no saga left unfinished, and driver disks and volume rows agree.
    let store = crate::store::open_left_behind(&data).await;
    let unfinished: Vec<(String, String, usize)> =
        store.unfinished().await.unwrap().into_iter().map(|r| (r.id, r.kind, r.events.len())).collect();
    assert!(unfinished.is_empty(), "every saga finished: {unfinished:?}");
    let volumes: BTreeSet<String> = store.volume_list().await.unwrap().into_iter().map(|v| v.id).collect();
    let files: BTreeSet<String> = crate::store::sim_state(&data).await.disks.into_keys().collect();
    assert_eq!(volumes, files, "no orphaned or missing disk");
    assert_eq!(volumes.len(), disks.len() + POOL as usize, "one system disk per server and the pool, none left over");
    // Every port is a NIC of a live server, every NIC has its port, and no address is
    // allocated twice or left allocated.
    let mut nics = BTreeSet::new();
    let mut ips = BTreeSet::new();
    let mut subnet = String::new();
    for id in disks.keys() {
        let s = store.server_only(PROJECT, id).await.unwrap().expect("a live server");
        for n in s.nics() {
            assert!(ips.insert(n.ip.clone()), "address {} allocated twice", n.ip);
            nics.insert(n.port_id.clone());
            subnet = n.subnet_id.clone();
        }
    }
    let ports: BTreeSet<String> = store.port_list(PROJECT).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(ports, nics, "ports and the NICs of live servers");
    assert_eq!(store.subnet_used(&subnet).await.unwrap(), ips.len() as i64, "allocated addresses and NICs");
    drop(store);
    drop(fs);
}
