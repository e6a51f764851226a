//! A hook through which the process embedding a store measures its commits (the store itself
//! exports no metrics): how long each write transaction took, and how many requests it held.

use std::sync::OnceLock;
use std::time::Duration;

/// Called after each commit with its duration and the number of writes it held.
pub type CommitObserver = fn(Duration, usize);

static OBSERVER: OnceLock<CommitObserver> = OnceLock::new();

/// Sets the observer (once per process; later calls are ignored).
pub fn set_commit_observer(f: CommitObserver) {
    let _ = OBSERVER.set(f);
}

/// Tells the observer, if there is one, of a commit.
pub(crate) fn committed(took: Duration, writes: usize) {
    if let Some(f) = OBSERVER.get() {
        f(took, writes);
    }
}
