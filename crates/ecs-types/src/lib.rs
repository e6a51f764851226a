//! Wire types of the Huawei Cloud ECS, IMS, VPC and Nova key-pair APIs, and the error-code table.
//!
//! Everything here is plain serde data, with its OpenAPI schema derived alongside (`utoipa`): no
//! I/O, no async, no database. Field names and JSON types follow the wire contract exactly; where
//! the contract is inferred rather than documented the field carries an `[inferred]` note.

pub mod cloud_server;
pub mod codes;
pub mod create;
pub mod cts;
pub mod errors;
pub mod flavor;
pub mod iam;
pub mod image;
pub mod job;
pub mod job_events;
pub mod keypair;
pub mod limits;
pub mod metadata;
pub mod network;
pub mod nics;
pub mod nova;
pub mod passwords;
pub mod ports;
pub mod queries;
pub mod requests;
pub mod security_groups;
pub mod server;
pub mod server_groups;
pub mod tags;
pub mod volumes;
pub mod zones;

pub use codes::Code;
