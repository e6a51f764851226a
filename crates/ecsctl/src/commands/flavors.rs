//! `ecsctl flavors list`: `GET /v1/{project_id}/cloudservers/flavors`.

use crate::error::Error;
use crate::output::{self, cell, Format};
use crate::{Ctx, FlavorsCmd};

pub async fn run(ctx: &Ctx, cmd: FlavorsCmd) -> Result<(), Error> {
    let FlavorsCmd::List = cmd;
    let body = ctx.client.get("/v1/{p}/cloudservers/flavors").await?;
    if ctx.format == Format::Json {
        output::json(&body);
        return Ok(());
    }
    let rows = body["flavors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| vec![cell(&f["id"]), cell(&f["name"]), cell(&f["vcpus"]), cell(&f["ram"]), cell(&f["disk"])])
        .collect();
    output::rows(&["ID", "NAME", "VCPUS", "RAM_MB", "DISK_GB"], rows);
    Ok(())
}
