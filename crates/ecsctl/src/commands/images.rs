//! `ecsctl images ...`: the image service's list (`GET /v2/cloudimages`).

use super::image;
use crate::client::enc;
use crate::error::Error;
use crate::output::{self, cell, Format};
use crate::{Ctx, ImagesCmd};

pub async fn run(ctx: &Ctx, cmd: ImagesCmd) -> Result<(), Error> {
    match cmd {
        ImagesCmd::List { name, platform } => {
            let mut query = Vec::new();
            if let Some(n) = name {
                query.push(format!("name={}", enc(&n)));
            }
            if let Some(p) = platform {
                query.push(format!("__platform={}", enc(&p)));
            }
            let path = if query.is_empty() {
                "/v2/cloudimages".to_string()
            } else {
                format!("/v2/cloudimages?{}", query.join("&"))
            };
            let body = ctx.client.get(&path).await?;
            if ctx.format == Format::Json {
                output::json(&body);
                return Ok(());
            }
            let rows = body["images"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| {
                    vec![
                        cell(&i["id"]),
                        cell(&i["name"]),
                        cell(&i["__platform"]),
                        cell(&i["__is_config_init"]),
                        cell(&i["min_disk"]),
                        cell(&i["status"]),
                    ]
                })
                .collect();
            output::rows(&["ID", "NAME", "PLATFORM", "CLOUD-INIT", "MIN_DISK", "STATUS"], rows);
            Ok(())
        }
        ImagesCmd::Show { image: wanted } => {
            let i = image(ctx, &wanted).await?;
            if ctx.format == Format::Json {
                output::json(&i);
                return Ok(());
            }
            output::fields(vec![
                ("id", cell(&i["id"])),
                ("name", cell(&i["name"])),
                ("platform", cell(&i["__platform"])),
                ("os_version", cell(&i["__os_version"])),
                ("os_type", cell(&i["__os_type"])),
                ("cloud_init", cell(&i["__is_config_init"])),
                ("min_disk", cell(&i["min_disk"])),
                ("min_ram", cell(&i["min_ram"])),
                ("status", cell(&i["status"])),
                ("description", cell(&i["__description"])),
            ]);
            Ok(())
        }
    }
}
