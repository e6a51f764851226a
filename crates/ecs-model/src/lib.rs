//! The domain of ecsd: typed ids, servers, volumes, jobs, key pairs, images, flavors and
//! networks, the server state machine and the pure gate functions that decide whether an
//! operation is allowed, and the one domain error type.

pub mod error;
pub mod flavor;
pub mod gates;
pub mod ids;
pub mod image;
pub mod job;
pub mod keypair;
pub mod network;
pub mod port;
pub mod quota;
pub mod security_group;
pub mod server;
pub mod server_group;
pub mod state;
pub mod timefmt;
pub mod volume;

pub use error::Error;
pub use ids::{new_job_id, new_uuid};
