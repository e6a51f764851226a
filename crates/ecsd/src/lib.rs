//! ecsd: a Huawei Cloud ECS-compatible compute service.
//!
//! Requests come in through [`http`], which authenticates them and turns them into calls on
//! [`app`]; the application layer validates, checks the state gates, records the job and its
//! saga in one transaction and answers with a job id; [`sagas`] then do the work through a
//! compute driver, step by durable step.

pub mod accounts;
pub mod accounts_shared;
pub mod app;
pub mod audit;
pub mod auto_terminate;
pub mod caller;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod console_tickets;
pub mod context;
pub mod datadir;
pub mod faults;
pub mod faults_shared;
pub mod finished_jobs;
pub mod http;
pub mod iam;
pub mod images;
pub mod listener;
pub mod metered_driver;
pub mod metrics;
pub mod rate_limit;
pub mod sagas;
pub mod server;
pub mod shown_servers;
pub mod sim_records;
pub mod step_writes;
pub mod tls;

#[cfg(test)]
mod layers;
