//! Which rows of the tables a server's detail is made of were written, and when: for answers
//! kept rendered, checked without reading the database again.
//!
//! Every write to this store goes through the one writer connection, and no other process
//! opens the database while the service runs, so the writer sees every change. SQLite tells it
//! of each row it inserts, updates or deletes (the update hook, which also fires for rows that
//! triggers write); those rows are noted as the batch runs and published once its `COMMIT`
//! has returned, before any of its requests is answered. Each publication takes the next
//! number of a sequence.
//!
//! A read takes the sequence's number before it starts ([`Changes::now`]) and notes the row ids
//! it read. Its rows are unchanged while none of them was published with a higher number:
//! - a write published before the read took its number was committed before the read began,
//!   so the read saw it;
//! - one committed after the read began is published after it took its number, with a higher
//!   one;
//! - one committed in between (after the read began, published before its number was taken)
//!   cannot happen: the number is taken before the read starts.
//!
//! Rows whose writes the hook cannot place are covered wholesale: a new security group (a
//! server may name a group that did not exist when it was read) publishes a floor that every
//! earlier read falls below. Volumes that come to a server (a new one, or one attached) are
//! noted on the server itself, by the schema's `volumes_touch_server` triggers. A rolled-back
//! write is published all the same: that only makes a kept answer be rendered again.

use crate::seen::{Seen, Table};
use rusqlite::hooks::Action;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most rows remembered with the number of their last write; beyond it they are forgotten
/// at once, and a floor makes every read from before then count as changed.
///
/// The table keeps its size once it has filled (24 bytes a row, and the hash table's spare
/// slots: about 3 MiB at 65,536 rows, 13 MiB at 262,144, the bound before; the RSS after the
/// benchmark's write phases runs close to its 300 MiB limit, see docs/benchmarks.md, run R1). Under a write load of N of these rows a second, a kept
/// answer lasts at most 65,536 / N seconds before it is rendered again: some 8 s under a
/// thousand reinstalls a second, each writing about eight of these rows.
const MAX_ROWS: usize = 1 << 16;

#[derive(Default)]
struct Published {
    /// The number of the last publication.
    seq: u64,
    /// Reads that started before this publication count as changed.
    floor: u64,
    last: HashMap<(Table, i64), u64, foldhash::fast::RandomState>,
}

/// What the writer's batch wrote so far, not yet published.
#[derive(Default)]
struct Pending {
    rows: Vec<(Table, i64)>,
    everything: bool,
}

/// The published writes, shared by the writer and the readers.
#[derive(Default)]
pub(crate) struct Changes {
    published: Mutex<Published>,
    pending: Arc<Mutex<Pending>>,
}

impl Changes {
    /// Asks SQLite to tell of every row the writer connection `conn` writes.
    pub(crate) fn watch(&self, conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
        let pending = self.pending.clone();
        conn.update_hook(Some(move |action: Action, _db: &str, table: &str, rowid: i64| {
            let Some(t) = Table::named(table) else { return };
            if let Ok(mut p) = pending.lock() {
                if t == Table::SecurityGroups && action == Action::SQLITE_INSERT {
                    p.everything = true;
                } else {
                    p.rows.push((t, rowid));
                }
            }
        }))
    }

    /// Publishes what the writer wrote since the last call; the writer calls it after each
    /// batch's `COMMIT` (or `ROLLBACK`), before it answers the batch's requests.
    pub(crate) fn publish(&self) {
        let Pending { rows, everything } = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => Pending { rows: Vec::new(), everything: true },
        };
        if rows.is_empty() && !everything {
            return;
        }
        let Ok(mut p) = self.published.lock() else { return };
        p.seq += 1;
        let seq = p.seq;
        if everything || p.last.len() + rows.len() > MAX_ROWS {
            p.floor = seq;
            p.last.clear();
        } else {
            p.last.extend(rows.into_iter().map(|r| (r, seq)));
        }
    }

    /// The number a read takes before it starts.
    pub(crate) fn now(&self) -> u64 {
        self.published.lock().map(|p| p.seq).unwrap_or(0)
    }

    /// Whether none of `seen`'s rows has been published since its read started.
    pub(crate) fn unchanged_since(&self, seen: &Seen) -> bool {
        let Ok(p) = self.published.lock() else { return false };
        seen.at >= p.floor && seen.rows.iter().all(|r| p.last.get(r).is_none_or(|&n| n <= seen.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(c: &Changes, rows: impl IntoIterator<Item = i64>) {
        c.pending.lock().unwrap().rows.extend(rows.into_iter().map(|r| (Table::Servers, r)));
        c.publish();
    }

    fn seen(c: &Changes, row: i64) -> Seen {
        Seen { at: c.now(), rows: vec![(Table::Servers, row)] }
    }

    #[test]
    fn a_read_is_changed_by_a_write_of_its_row_only() {
        let c = Changes::default();
        let read = seen(&c, 7);
        written(&c, [8]);
        assert!(c.unchanged_since(&read), "another row was written");
        written(&c, [7]);
        assert!(!c.unchanged_since(&read), "its row was written");
        assert!(c.unchanged_since(&seen(&c, 7)), "a read after the write");
    }

    #[test]
    fn past_the_rows_it_can_hold_every_earlier_read_counts_as_changed() {
        let c = Changes::default();
        let before = seen(&c, 1);
        written(&c, 100..100 + MAX_ROWS as i64 / 2);
        assert!(c.unchanged_since(&before));
        written(&c, 200_000..200_000 + MAX_ROWS as i64 / 2 + 1);
        assert!(!c.unchanged_since(&before), "row 1 was never written, but the rows were forgotten");
        let after = seen(&c, 1);
        written(&c, [2]);
        assert!(c.unchanged_since(&after), "a read after the floor is told apart again");
        assert!(c.published.lock().unwrap().last.len() <= MAX_ROWS);
    }
}
