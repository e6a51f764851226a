//! `ecsctl servers ...`: the ECS server API (`/v1/{project_id}/cloudservers...`), the Nova
//! lock/unlock action, and reinstall / change OS (`/v1` without Cloud-Init, `/v2` with it).

use super::{image, server_id, started, user_data};
use crate::client::enc;
use crate::error::Error;
use crate::output::{self, cell, Format};
use crate::{Ctx, Login, OsArgs, ServersCmd};
use serde_json::{json, Value};

pub async fn run(ctx: &Ctx, cmd: ServersCmd) -> Result<(), Error> {
    match cmd {
        ServersCmd::List { name, status } => list(ctx, name, status).await,
        ServersCmd::Show { server } => show(ctx, &server).await,
        ServersCmd::Create { name, image, flavor, login, count, user_data, vpc, subnet, volume_type, wait } => {
            let spec = CreateSpec { name, image, flavor, login, count, user_data, vpc, subnet, volume_type };
            let answer = ctx.client.post("/v1/{p}/cloudservers", &create_body(ctx, spec).await?).await?;
            started(ctx, &answer, wait.wait).await
        }
        ServersCmd::Delete { servers, delete_volumes, wait } => {
            let refs = refs(ctx, &servers).await?;
            let body = json!({"servers": refs, "delete_volume": delete_volumes, "delete_publicip": true});
            started(ctx, &ctx.client.post("/v1/{p}/cloudservers/delete", &body).await?, wait.wait).await
        }
        ServersCmd::Start { servers, wait } => {
            let body = json!({"os-start": {"servers": refs(ctx, &servers).await?}});
            started(ctx, &ctx.client.post("/v1/{p}/cloudservers/action", &body).await?, wait.wait).await
        }
        ServersCmd::Stop { servers, force, wait } => power(ctx, "os-stop", &servers, force, wait.wait).await,
        ServersCmd::Reboot { servers, force, wait } => power(ctx, "reboot", &servers, force, wait.wait).await,
        ServersCmd::Lock { server } => lock(ctx, &server, "lock").await,
        ServersCmd::Unlock { server } => lock(ctx, &server, "unlock").await,
        ServersCmd::Reinstall { server, os } => reinstall(ctx, &server, None, os).await,
        ServersCmd::ChangeOs { server, image, os } => reinstall(ctx, &server, Some(&image), os).await,
    }
}

async fn list(ctx: &Ctx, name: Option<String>, status: Option<String>) -> Result<(), Error> {
    let mut query = vec!["limit=1000".to_string()];
    if let Some(n) = name {
        query.push(format!("name={}", enc(&n)));
    }
    if let Some(s) = status {
        query.push(format!("status={}", enc(&s)));
    }
    let body = ctx.client.get(&format!("/v1/{{p}}/cloudservers/detail?{}", query.join("&"))).await?;
    if ctx.format == Format::Json {
        output::json(&body);
        return Ok(());
    }
    let rows = body["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            vec![
                cell(&s["id"]),
                cell(&s["name"]),
                cell(&s["status"]),
                cell(&s["flavor"]["id"]),
                cell(&s["image"]["id"]),
                cell(&s["key_name"]),
                addresses(s),
            ]
        })
        .collect();
    output::rows(&["ID", "NAME", "STATUS", "FLAVOR", "IMAGE", "KEY", "ADDRESSES"], rows);
    Ok(())
}

async fn show(ctx: &Ctx, server: &str) -> Result<(), Error> {
    let id = server_id(ctx, server).await?;
    let body = ctx.client.get(&format!("/v1/{{p}}/cloudservers/{}", enc(&id))).await?;
    if ctx.format == Format::Json {
        output::json(&body);
        return Ok(());
    }
    let s = &body["server"];
    let volumes: Vec<String> = s["os-extended-volumes:volumes_attached"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| if v["bootIndex"] == "0" { format!("{} (system)", cell(&v["id"])) } else { cell(&v["id"]) })
        .collect();
    output::fields(vec![
        ("id", cell(&s["id"])),
        ("name", cell(&s["name"])),
        ("status", cell(&s["status"])),
        ("task_state", cell(&s["OS-EXT-STS:task_state"])),
        ("locked", cell(&s["locked"])),
        (
            "flavor",
            format!(
                "{} ({} vCPUs, {} MB)",
                cell(&s["flavor"]["id"]),
                cell(&s["flavor"]["vcpus"]),
                cell(&s["flavor"]["ram"])
            ),
        ),
        ("image", cell(&s["image"]["id"])),
        ("key_name", cell(&s["key_name"])),
        ("addresses", addresses(s)),
        ("volumes", volumes.join(", ")),
        ("availability_zone", cell(&s["OS-EXT-AZ:availability_zone"])),
        ("created", cell(&s["created"])),
        ("updated", cell(&s["updated"])),
    ]);
    Ok(())
}

/// Every fixed address of a server, comma-separated.
fn addresses(s: &Value) -> String {
    let mut out = Vec::new();
    for addrs in s["addresses"].as_object().into_iter().flat_map(|m| m.values()) {
        for a in addrs.as_array().into_iter().flatten() {
            out.push(cell(&a["addr"]));
        }
    }
    out.join(", ")
}

/// `[{"id": ...}]` of the servers named on the command line.
async fn refs(ctx: &Ctx, servers: &[String]) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for s in servers {
        out.push(json!({"id": server_id(ctx, s).await?}));
    }
    Ok(out)
}

async fn power(ctx: &Ctx, action: &str, servers: &[String], force: bool, wait: bool) -> Result<(), Error> {
    let kind = if force { "HARD" } else { "SOFT" };
    let body = json!({action: {"servers": refs(ctx, servers).await?, "type": kind}});
    started(ctx, &ctx.client.post("/v1/{p}/cloudservers/action", &body).await?, wait).await
}

/// Nova's `{"lock": null}` / `{"unlock": null}`; answered 202 without a body.
async fn lock(ctx: &Ctx, server: &str, action: &str) -> Result<(), Error> {
    let id = server_id(ctx, server).await?;
    ctx.client.post(&format!("/v2.1/{{p}}/servers/{}/action", enc(&id)), &json!({action: null})).await?;
    if ctx.format == Format::Table {
        println!("server {id}: {action}ed");
    }
    Ok(())
}

struct CreateSpec {
    name: String,
    image: String,
    flavor: Option<String>,
    login: Login,
    count: u32,
    user_data: Option<std::path::PathBuf>,
    vpc: Option<String>,
    subnet: Option<String>,
    volume_type: String,
}

/// The `/v1` create body, with what was not given looked up: the image by name, the smallest
/// flavor, the first VPC and its first subnet.
async fn create_body(ctx: &Ctx, c: CreateSpec) -> Result<Value, Error> {
    let image_id = cell(&image(ctx, &c.image).await?["id"]);
    let flavor = match c.flavor {
        Some(f) => f,
        None => smallest_flavor(ctx).await?,
    };
    let vpc = match c.vpc {
        Some(v) => v,
        None => first_id(ctx, "/v1/{p}/vpcs", "vpcs").await?,
    };
    let subnet = match c.subnet {
        Some(s) => s,
        None => first_id(ctx, &format!("/v1/{{p}}/subnets?vpc_id={}", enc(&vpc)), "subnets").await?,
    };
    let mut server = json!({
        "name": c.name, "imageRef": image_id, "flavorRef": flavor, "vpcid": vpc,
        "nics": [{"subnet_id": subnet}], "root_volume": {"volumetype": c.volume_type}, "count": c.count,
    });
    if let Some(k) = c.login.key_name {
        server["key_name"] = json!(k);
    }
    if let Some(p) = c.login.admin_pass {
        server["adminPass"] = json!(p);
    }
    if let Some(f) = c.user_data {
        server["user_data"] = json!(user_data(&f)?);
    }
    Ok(json!({"server": server}))
}

/// The flavor with the fewest vCPUs, then the least memory.
async fn smallest_flavor(ctx: &Ctx) -> Result<String, Error> {
    let list = ctx.client.get("/v1/{p}/cloudservers/flavors").await?;
    let num = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(i64::MAX);
    list["flavors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["OS-FLV-DISABLED:disabled"] != true)
        .min_by_key(|f| (num(&f["vcpus"]), num(&f["ram"])))
        .map(|f| cell(&f["id"]))
        .ok_or_else(|| Error::NotFound("the endpoint lists no flavor".into()))
}

async fn first_id(ctx: &Ctx, path: &str, key: &str) -> Result<String, Error> {
    let list = ctx.client.get(path).await?;
    list[key][0]["id"].as_str().map(str::to_string).ok_or_else(|| Error::NotFound(format!("the project has no {key}")))
}

/// Reinstall (`image` None) or change OS. The `/v2` API (through Cloud-Init) when the image
/// has Cloud-Init or user data is given, `/v1` otherwise, as the Huawei documentation asks.
async fn reinstall(ctx: &Ctx, server: &str, target: Option<&str>, os: OsArgs) -> Result<(), Error> {
    let id = server_id(ctx, server).await?;
    let image = match target {
        Some(t) => image(ctx, t).await?,
        None => {
            let s = ctx.client.get(&format!("/v1/{{p}}/cloudservers/{}", enc(&id))).await?;
            image(ctx, &cell(&s["server"]["image"]["id"])).await?
        }
    };
    let cloud_init = image["__is_config_init"] == "true" || os.user_data.is_some();
    let mut o = json!({});
    if let Some(k) = &os.login.key_name {
        // The API wants the key pair's owner beside its name.
        let kp = ctx.client.get(&format!("/v2.1/{{p}}/os-keypairs/{}", enc(k))).await?;
        o["keyname"] = json!(k);
        o["userid"] = kp["keypair"]["user_id"].clone();
    }
    if let Some(p) = &os.login.admin_pass {
        o["adminpass"] = json!(p);
    }
    if let Some(f) = &os.user_data {
        o["metadata"] = json!({"user_data": user_data(f)?});
    }
    if !os.no_stop {
        o["mode"] = json!("withStopServer");
    }
    let version = if cloud_init { "v2" } else { "v1" };
    let (path, key) = match target {
        None => ("reinstallos", "os-reinstall"),
        Some(_) => {
            o["imageid"] = image["id"].clone();
            ("changeos", "os-change")
        }
    };
    let answer =
        ctx.client.post(&format!("/{version}/{{p}}/cloudservers/{}/{path}", enc(&id)), &json!({key: o})).await?;
    started(ctx, &answer, os.wait.wait).await
}
