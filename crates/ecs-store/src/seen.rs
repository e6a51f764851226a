//! What a read saw, so that an answer rendered from it can be kept and checked later, without
//! reading again, for whether anything it was made of may have changed since.

/// The rows of one read and the moment, in the store's sequence of commits, it started.
///
/// Only a store that sees every write made to it can tell ([`crate::Store::unchanged_since`]):
/// the SQLite store, which one process opens and whose writes all go through its one writer.
/// A store that other nodes write to cannot, and gives no `Seen`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// The number of commits published when the read started.
    pub(crate) at: u64,
    /// The rows read, as the store names them (a table and a row id).
    pub(crate) rows: Vec<(Table, i64)>,
}

/// The tables whose rows a server's detail is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Table {
    Servers,
    Volumes,
    SecurityGroups,
}

impl Table {
    pub(crate) fn named(name: &str) -> Option<Table> {
        match name {
            "servers" => Some(Table::Servers),
            "volumes" => Some(Table::Volumes),
            "security_groups" => Some(Table::SecurityGroups),
            _ => None,
        }
    }
}
