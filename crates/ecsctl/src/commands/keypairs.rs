//! `ecsctl keypairs ...`: the Nova key-pair API (`/v2.1/{project_id}/os-keypairs`).

use crate::client::enc;
use crate::error::Error;
use crate::output::{self, cell, Format};
use crate::{Ctx, KeypairsCmd};
use serde_json::json;
use std::io::Write;
use std::path::Path;

pub async fn run(ctx: &Ctx, cmd: KeypairsCmd) -> Result<(), Error> {
    match cmd {
        KeypairsCmd::List => {
            let body = ctx.client.get("/v2.1/{p}/os-keypairs").await?;
            if ctx.format == Format::Json {
                output::json(&body);
                return Ok(());
            }
            let rows = body["keypairs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| &k["keypair"])
                .map(|k| vec![cell(&k["name"]), cell(&k["type"]), cell(&k["fingerprint"])])
                .collect();
            output::rows(&["NAME", "TYPE", "FINGERPRINT"], rows);
            Ok(())
        }
        KeypairsCmd::Show { name } => {
            let body = ctx.client.get(&format!("/v2.1/{{p}}/os-keypairs/{}", enc(&name))).await?;
            if ctx.format == Format::Json {
                output::json(&body);
                return Ok(());
            }
            let k = &body["keypair"];
            output::fields(vec![
                ("name", cell(&k["name"])),
                ("type", cell(&k["type"])),
                ("fingerprint", cell(&k["fingerprint"])),
                ("user_id", cell(&k["user_id"])),
                ("created_at", cell(&k["created_at"])),
                ("public_key", cell(&k["public_key"]).trim().to_string()),
            ]);
            Ok(())
        }
        KeypairsCmd::Create { name, private_key_file } => {
            // Opened before the key is made: a file that cannot be written must not cost the
            // only copy of the private key.
            let mut file = private_key_file.as_deref().map(new_secret_file).transpose()?;
            let body = ctx.client.post("/v2.1/{p}/os-keypairs", &json!({"keypair": {"name": name}})).await?;
            let k = &body["keypair"];
            let private = cell(&k["private_key"]);
            if let (Some(f), Some(path)) = (file.as_mut(), private_key_file.as_deref()) {
                f.write_all(private.as_bytes())
                    .map_err(|e| Error::Other(anyhow::anyhow!("writing {}: {e}", path.display())))?;
            }
            match (ctx.format, &private_key_file) {
                (Format::Json, _) => output::json(&body),
                (Format::Table, Some(path)) => {
                    println!(
                        "key pair {} ({}); private key written to {}",
                        cell(&k["name"]),
                        cell(&k["fingerprint"]),
                        path.display()
                    )
                }
                (Format::Table, None) => {
                    eprintln!(
                        "key pair {} ({}); its private key, shown this once:",
                        cell(&k["name"]),
                        cell(&k["fingerprint"])
                    );
                    print!("{private}");
                }
            }
            Ok(())
        }
        KeypairsCmd::Import { name, public_key_file } => {
            let key = std::fs::read_to_string(&public_key_file)
                .map_err(|e| Error::Usage(format!("cannot read {}: {e}", public_key_file.display())))?;
            let body = json!({"keypair": {"name": name, "public_key": key.trim()}});
            let answer = ctx.client.post("/v2.1/{p}/os-keypairs", &body).await?;
            match ctx.format {
                Format::Json => output::json(&answer),
                Format::Table => {
                    let k = &answer["keypair"];
                    println!("key pair {} imported ({})", cell(&k["name"]), cell(&k["fingerprint"]));
                }
            }
            Ok(())
        }
        KeypairsCmd::Delete { name } => {
            ctx.client.delete(&format!("/v2.1/{{p}}/os-keypairs/{}", enc(&name))).await?;
            if ctx.format == Format::Table {
                println!("key pair {name} deleted");
            }
            Ok(())
        }
    }
}

/// A new file only its owner can read; an existing one is left alone.
fn new_secret_file(path: &Path) -> Result<std::fs::File, Error> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| Error::Usage(format!("--private-key-file {}: {e}", path.display())))
}
