//! Fuzz target: every request body type of the ECS and key-pair APIs must reject, never panic
//! on, arbitrary bytes.

#![no_main]

use ecs_types::keypair::CreateKeypairBody;
use ecs_types::requests::{
    ChangeOsBody, CreateServersBody, DeleteServersBody, ReinstallBody, ServersActionBody, UpdateServerBody,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<ReinstallBody>(data);
    let _ = serde_json::from_slice::<ChangeOsBody>(data);
    let _ = serde_json::from_slice::<CreateServersBody>(data);
    let _ = serde_json::from_slice::<DeleteServersBody>(data);
    let _ = serde_json::from_slice::<ServersActionBody>(data);
    let _ = serde_json::from_slice::<UpdateServerBody>(data);
    let _ = serde_json::from_slice::<CreateKeypairBody>(data);
});
