//! The types of the state the nodes of one database share (see the last section of
//! [`crate::Store`]).

/// What the methods of shared state say on a store that is not shared.
pub const NOT_SHARED: &str = "this store is not shared between nodes";

/// Which of the simulated driver's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimKind {
    Disk,
    Vm,
}

impl SimKind {
    /// The value of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SimKind::Disk => "disk",
            SimKind::Vm => "vm",
        }
    }
}

/// A fault in force, as the store keeps it: its spec stays ecsd's JSON; the columns are what
/// the store itself needs (whose it is, how often it may fire, how often it has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFault {
    pub id: String,
    /// The project it targets (the admin API only removes a project's own faults).
    pub project_id: Option<String>,
    /// The fault's spec (JSON).
    pub spec: String,
    /// How many times it may fire in all; `None`: until removed.
    pub times: Option<u32>,
    /// How many times it has fired, on every node together.
    pub hits: u32,
}
