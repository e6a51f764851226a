//! Store scans on a few threads of their own, rather than on tokio's blocking pool.
//!
//! Scans (lists, the saga log at start-up) are CPU-bound, so more of them at once than there
//! are cores gain nothing, while every thread that ever ran one keeps its allocator's pages and
//! every reader connection its page cache. On the blocking pool, 64 concurrent server lists
//! grew it to its 16 threads and held 60-80 MiB more (docs/benchmarks.md, run M3); a semaphore
//! in front of it did not bound the threads, because a scan that got the permit found the
//! thread that had just released it not idle yet, and the pool started another. A fixed set
//! of threads bounds both. The scans wait for a thread in order, as tasks, not as threads.

use crate::StoreError;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// The scan threads. They end when this is dropped (with the store), once their scan is done.
pub(crate) struct Scans {
    jobs: mpsc::Sender<Job>,
}

impl Scans {
    /// Starts `threads` scan threads.
    pub(crate) fn start(threads: usize) -> std::io::Result<Scans> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("ecsd-sqlite-scan-{i}")).spawn(move || loop {
                // One thread waits in `recv`, the others for the lock: the same order.
                let next = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                let Ok(job) = next else { return };
                // A scan that panics answers nobody (its caller gets an error) and the thread
                // goes on with the next one.
                let _ = catch_unwind(AssertUnwindSafe(job));
            })?;
        }
        Ok(Scans { jobs })
    }

    /// Runs `f` on a scan thread and waits for its result.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // The caller may have stopped waiting: then the result is dropped.
                let _ = tx.send(f());
            }))
            .map_err(|_| StoreError::Backend("the store's scan threads have stopped".into()))?;
        rx.await.map_err(|_| StoreError::Backend("a store scan ended without an answer (it panicked)".into()))
    }
}

/// How many scan threads: two per core, so that a core does not sit idle while the other
/// scan of its pair waits for the disk.
pub(crate) fn scan_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_scans_run_at_once_than_there_are_threads_and_a_panic_costs_only_its_own() {
        let scans = Arc::new(Scans::start(2).unwrap());
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..12 {
            let (scans, running, most) = (scans.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                scans
                    .run(move || {
                        use std::sync::atomic::Ordering::SeqCst;
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        running.fetch_sub(1, SeqCst);
                        if i == 3 {
                            panic!("scan {i} fails");
                        }
                        i
                    })
                    .await
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2, "two threads, both used");
        assert!(answers[3].is_err(), "{:?}", answers[3]);
        let ok: Vec<usize> = answers.into_iter().filter_map(Result::ok).collect();
        assert_eq!(ok, [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
        // Both threads are still there after the panic.
        assert_eq!(scans.run(|| 42).await.unwrap(), 42);
    }
}
