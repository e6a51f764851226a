//! A NIC's attachment settings (`PUT .../os-interface/{port_id}`): Huawei lets only
//! `delete_on_termination` change, whether the NIC's port is deleted when the NIC is detached
//! or its server deleted. In ecsd a port exists only on its server, so it is always deleted
//! with the NIC: `true` is what every NIC has, and `false` is refused, saying why.

use super::server_of;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::{gates, Error};
use ecs_types::nics::UpdateInterfaceBody;
use ecs_types::Code;

/// `PUT /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}`.
pub async fn update(
    app: &App,
    caller: &Caller,
    server_id: &str,
    port_id: &str,
    body: UpdateInterfaceBody,
) -> Result<(), Error> {
    let keep_port = match body.interface_attachment.and_then(|a| a.delete_on_termination) {
        Some(delete) => !delete,
        None => return Err(Error::invalid("interface_attachment.delete_on_termination is required.")),
    };
    let row = server_of(app, &caller.project_id, server_id).await?;
    let s = &row.server;
    if s.nic(port_id).is_none() {
        return Err(Error::invalid(format!("NIC {port_id} is not a NIC of server {server_id}.")));
    }
    gates::update_allowed(s)?;
    if keep_port {
        // Inferred wording; Huawei keeps such a port as a free VPC port, which ecsd has no room for.
        return Err(Error::new(
            Code::Ecs0000,
            format!(
                "delete_on_termination false is not supported: a port exists only on its server here, so NIC \
                 {port_id} is always deleted with it (delete_on_termination true)."
            ),
        ));
    }
    Ok(())
}
