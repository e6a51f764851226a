//! HTTP integration tests: the real service on a free loopback port, driven over HTTP with
//! requests signed exactly as the official SDKs sign them.

mod attach;
mod auth;
mod catalog;
mod client;
mod cluster;
mod concurrency;
mod coverage;
mod crash;
mod create_v11;
mod datadir;
mod disk_full;
mod exhaustion;
mod faults;
mod hygiene;
mod jobs;
mod keypairs;
mod limits;
mod metadata;
mod networks;
mod passwords;
mod postgres;
mod process;
mod reinstall;
mod resize;
mod restart;
mod security;
mod servers;
mod shared_nodes;
mod small_disk;
mod store;
mod tags;
mod terraform;
mod volumes;
