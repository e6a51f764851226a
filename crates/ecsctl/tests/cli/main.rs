//! The `ecsctl` binary against a live ecsd: one test binary, one module per kind of command.

mod catalog;
mod errors;
mod harness;
mod keypairs;
mod os;
mod proxy;
mod servers;
