//! The route table: every method and path ecsd serves, in one place.

pub(super) mod admin;
pub(super) mod attach;
pub(super) mod auto_terminate;
pub(super) mod catalog;
pub(super) mod cloud_servers;
pub(super) mod consoles;
pub(super) mod create;
pub(super) mod evs;
pub(super) mod iam;
mod job_stream;
pub(super) mod jobs;
pub(super) mod keypairs;
pub(super) mod limits;
pub(super) mod metadata;
pub(super) mod networks;
pub(super) mod nics;
pub(super) mod nova;
pub(super) mod passwords;
pub(super) mod remote_console;
pub(super) mod resize;
pub(super) mod server_groups;
pub(super) mod servers;
pub(super) mod tags;
pub(super) mod traces;
pub(super) mod unsupported;
pub(super) mod volumes;
pub(super) mod zones;

use crate::context::App;
use axum::routing::{get, post};
use axum::Router;
use utoipa::openapi::OpenApi as Document;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Paths the Nova key-pair operations are also served under (`/v2` beside `/v2.1`), as the
/// SDKs of some versions call them; the document lists them through the same table.
pub(super) const NOVA_V2_ALIASES: [(&str, &str); 2] = [
    ("/v2/{project_id}/os-keypairs", "/v2.1/{project_id}/os-keypairs"),
    ("/v2/{project_id}/os-keypairs/{name}", "/v2.1/{project_id}/os-keypairs/{name}"),
];

/// Every method and path ecsd serves and the document that describes them, from one list:
/// each handler's `#[utoipa::path]` gives its method and path to the router and its operation
/// to the document, so nothing can be routed without being documented or the other way round.
/// Handlers of one path go in one `routes!`.
///
/// Paths follow the SDKs' `resource_path`s exactly; `{project_id}` is checked against the
/// caller by the authentication layer before any handler runs.
pub fn table() -> (Router<App>, Document) {
    let (router, mut doc) = OpenApiRouter::with_openapi(super::openapi::ApiDoc::openapi())
        // ECS
        .routes(routes!(jobs::show))
        .routes(routes!(jobs::events))
        .routes(routes!(servers::create))
        .routes(routes!(servers::list))
        .routes(routes!(catalog::flavors))
        .routes(routes!(catalog::flavor_capacity))
        .routes(routes!(catalog::sell_policies))
        .routes(routes!(servers::delete))
        .routes(routes!(servers::action))
        .routes(routes!(servers::show, servers::update))
        .routes(routes!(servers::reinstall_v1))
        .routes(routes!(servers::reinstall_v2))
        .routes(routes!(servers::changeos_v1))
        .routes(routes!(servers::changeos_v2))
        .routes(routes!(resize::resize_v11))
        .routes(routes!(resize::resize_v1))
        .routes(routes!(resize::resize_flavors))
        // ECS: metadata, tags, names and passwords
        .routes(routes!(metadata::update))
        .routes(routes!(metadata::delete))
        .routes(routes!(tags::batch))
        .routes(routes!(tags::show))
        .routes(routes!(tags::project))
        .routes(routes!(tags::query))
        .routes(routes!(passwords::rename))
        .routes(routes!(passwords::reset))
        .routes(routes!(passwords::batch_reset))
        .routes(routes!(passwords::show_windows, passwords::delete_windows))
        .routes(routes!(passwords::reset_flag))
        // Create (v1.1), charging mode, the v1.1 list, zones, limits and disks
        .routes(routes!(create::create_v11))
        .routes(routes!(create::change_charge_mode))
        .routes(routes!(cloud_servers::list))
        .routes(routes!(zones::list))
        .routes(routes!(zones::nova_list))
        .routes(routes!(limits::show))
        .routes(routes!(volumes::block_devices))
        .routes(routes!(volumes::block_device, attach::update_block_device))
        .routes(routes!(volumes::attachments))
        .routes(routes!(volumes::appendable))
        .routes(routes!(attach::attach_volume))
        .routes(routes!(attach::detach_volume))
        // EVS
        .routes(routes!(volumes::show, evs::delete_volume))
        .routes(routes!(volumes::list_detail))
        .routes(routes!(volumes::list, evs::create_volume_v2))
        .routes(routes!(evs::create_volume))
        // Nova-compatible
        .routes(routes!(keypairs::create, keypairs::list))
        .routes(routes!(keypairs::show, keypairs::delete))
        .routes(routes!(servers::nova_action))
        .routes(routes!(nova::list, nova::create))
        .routes(routes!(nova::list_detail))
        .routes(routes!(nova::show, nova::delete))
        .routes(routes!(nova::extra_specs))
        .routes(routes!(nova::versions))
        .routes(routes!(nova::version))
        // IMS
        .routes(routes!(catalog::images))
        .routes(routes!(catalog::image))
        // VPC
        .routes(routes!(catalog::vpcs))
        .routes(routes!(catalog::vpc))
        .routes(routes!(catalog::subnets))
        .routes(routes!(catalog::subnet))
        // Networks: ports, security groups and rules, a server's interfaces and groups
        .routes(routes!(networks::show_port, networks::update_port))
        .routes(routes!(networks::list_ports))
        .routes(routes!(networks::list_groups, networks::create_group))
        .routes(routes!(networks::show_group, networks::delete_group))
        .routes(routes!(networks::list_rules, networks::create_rule))
        .routes(routes!(networks::show_rule, networks::delete_rule))
        .routes(routes!(networks::interfaces))
        .routes(routes!(networks::nova_interfaces, nics::nova_attach))
        .routes(routes!(networks::nova_interface))
        .routes(routes!(networks::nova_security_groups))
        // NICs after the create, and the console
        .routes(routes!(nics::add))
        .routes(routes!(nics::delete))
        .routes(routes!(nics::attachable))
        .routes(routes!(nics::change_network_interface))
        .routes(routes!(nics::update_interface))
        .routes(routes!(nics::virtual_ip))
        .routes(routes!(consoles::console_output))
        .routes(routes!(consoles::crash_dump))
        .routes(routes!(remote_console::open))
        // IAM
        .routes(routes!(iam::issue_token))
        .routes(routes!(iam::projects))
        // CTS: the audit trail
        .routes(routes!(traces::list))
        // ecsd's own admin API
        .routes(routes!(admin::list, admin::create, admin::clear))
        .routes(routes!(admin::remove))
        // ECS: server groups, batch resize and scheduled deletion
        .routes(routes!(server_groups::create, server_groups::list))
        .routes(routes!(server_groups::show, server_groups::delete))
        .routes(routes!(server_groups::action))
        .routes(routes!(server_groups::add_members))
        .routes(routes!(server_groups::remove_members))
        .routes(routes!(resize::batch))
        .routes(routes!(auto_terminate::update))
        // This API's OpenAPI document (unauthenticated)
        .routes(routes!(super::openapi::serve))
        .split_for_parts();
    let [(keypairs_v2, _), (keypair_v2, _)] = NOVA_V2_ALIASES;
    let router = router
        .route(keypairs_v2, post(keypairs::create).get(keypairs::list))
        .route(keypair_v2, get(keypairs::show).delete(keypairs::delete))
        // A console URL (not part of the API document: a WebSocket a browser opens).
        .route(&format!("{}/{{token}}", crate::app::remote_console::CONSOLE_PATH), get(remote_console::connect))
        // The web console's embedded files (public: the page signs its own calls to the API).
        .route("/console", get(super::web_console::redirect))
        .route(super::web_console::PREFIX, get(super::web_console::index))
        .route(&format!("{}{{file}}", super::web_console::PREFIX), get(super::web_console::file));
    // The SDK operations ecsd answers as unsupported (one table, routed and documented from it).
    let router = unsupported::route(router);
    unsupported::document(&mut doc);
    super::openapi::complete(&mut doc);
    (router, doc)
}
