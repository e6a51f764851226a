//! `ecsctl api METHOD PATH`: any signed request, for what no verb covers (the admin API's
//! fault injection, tags, volumes...).

use crate::error::Error;
use crate::output;
use crate::Ctx;
use serde_json::Value;

pub async fn run(ctx: &Ctx, method: &str, path: &str, data: Option<&str>) -> Result<(), Error> {
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Error::Usage(format!("{method:?} is not an HTTP method")))?;
    if !path.starts_with('/') {
        return Err(Error::Usage(format!("the path {path:?} must start with /")));
    }
    let body = match data {
        None => None,
        Some(d) => {
            let text = match d.strip_prefix('@') {
                Some(file) => {
                    std::fs::read_to_string(file).map_err(|e| Error::Usage(format!("cannot read {file}: {e}")))?
                }
                None => d.to_string(),
            };
            Some(serde_json::from_str::<Value>(&text).map_err(|e| Error::Usage(format!("--data is not JSON: {e}")))?)
        }
    };
    let answer = ctx.client.send(method, path, body.as_ref()).await?;
    // An empty answer (202, 204) prints nothing: there is no JSON to give.
    if !answer.body.is_null() {
        output::json(&answer.body);
    }
    Ok(())
}
