//! Availability zones: each project's region has three, `<region>a`, `<region>b` and
//! `<region>c`, all available.

use crate::caller::Caller;
use crate::context::App;

/// The zones of the caller's region, first the one new servers go to by default.
pub fn of(app: &App, caller: &Caller) -> Vec<String> {
    let region = app.accounts.get(&caller.ak).map(|a| a.project_name.clone()).unwrap_or_default();
    ["a", "b", "c"].iter().map(|s| format!("{region}{s}")).collect()
}
