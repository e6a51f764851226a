//! A server's port: what of it can change on its own. Its address, MAC and subnet are the
//! server's (`ServerNic`); its security groups are the server's list, so the server detail and
//! the port can never disagree.

use serde::{Deserialize, Serialize};

/// The mutable attributes of a port, keyed by the port id the server shows as
/// `OS-EXT-IPS:port_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    pub id: String,
    pub project_id: String,
    pub server_id: String,
    pub name: String,
    pub allowed_address_pairs: Vec<AddressPair>,
    pub extra_dhcp_opts: Vec<DhcpOpt>,
}

/// An address (or CIDR) the port may send from besides its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressPair {
    pub ip_address: String,
    pub mac_address: Option<String>,
}

/// A DHCP option of the port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpOpt {
    pub opt_name: String,
    pub opt_value: String,
}

impl Port {
    /// The port a new server gets: unnamed, no extra addresses or options.
    pub fn for_server(project_id: &str, server_id: &str, port_id: &str) -> Port {
        Port {
            id: port_id.to_string(),
            project_id: project_id.to_string(),
            server_id: server_id.to_string(),
            name: String::new(),
            allowed_address_pairs: vec![],
            extra_dhcp_opts: vec![],
        }
    }
}
