//! Threads for background work. Sending emails, merging the store's
//! segments and the like are work whose callers can wait; pages answer a
//! waiting shopper. On Linux a thread's nice value is its own and the
//! threads it starts inherit it, so background work started here runs,
//! with everything it spawns, at a lower CPU priority than the threads
//! that answer requests: on a machine with few cores a burst of it (an
//! outbox draining, a merge of big segments) takes the idle cycles instead
//! of the pages' (BENCHMARKS.md).
//!
//! The store's writer is not such work: a webhook is answered once the
//! commit holding it is done, so its indexing and commits run at the
//! requests' priority and only its merges are lowered
//! ([`lower_threads_named`]). At nice 10 its commits waited for a core
//! behind every page, and the peak day's webhooks took 200 ms at p99.

use std::future::Future;

/// The nice value of background threads.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority (nice 10) on Linux.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    lower(rustix::thread::gettid());
}

#[cfg(target_os = "linux")]
fn lower(tid: rustix::process::Pid) {
    if let Err(e) = rustix::process::setpriority_process(Some(tid), BACKGROUND_NICE) {
        tracing::debug!(error = %crate::errors::chain(&e), "could not lower a background thread's priority");
    }
}

/// Lowers the CPU priority (nice 10) of this process's threads whose name
/// starts with `prefix` and that `started` (a call that starts them, such
/// as making tantivy's `IndexWriter`, whose merge threads are a pool it
/// starts itself) left behind, on Linux; elsewhere it only calls
/// `started`. Returns what `started` returned.
///
/// A new thread names itself once it runs, so this waits, up to a second,
/// until `expected` new threads carry the name; one that does not by then
/// keeps its priority (it is only slower to give way, nothing breaks).
pub fn lower_threads_named<T>(prefix: &str, expected: usize, started: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    {
        // Without /proc (hidden from the process, say) there is nothing
        // to find: no wait.
        let Some(before) = named_threads(prefix) else {
            return started();
        };
        let made = started();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        let mut lowered = std::collections::HashSet::new();
        loop {
            for tid in named_threads(prefix).unwrap_or_default() {
                if !before.contains(&tid)
                    && lowered.insert(tid)
                    && let Some(pid) = rustix::process::Pid::from_raw(tid)
                {
                    lower(pid);
                }
            }
            if lowered.len() >= expected || std::time::Instant::now() >= deadline {
                return made;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (prefix, expected);
        started()
    }
}

/// This process's threads whose name starts with `prefix`; `None` when
/// they cannot be listed.
#[cfg(target_os = "linux")]
fn named_threads(prefix: &str) -> Option<std::collections::HashSet<i32>> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let named = tasks
        .filter_map(Result::ok)
        .filter_map(|task| {
            let tid = task.file_name().to_str()?.parse::<i32>().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            name.starts_with(prefix).then_some(tid)
        })
        .collect();
    Some(named)
}

/// Runs `work` to its end on a thread of its own, with its own
/// single-threaded runtime, at the lower priority (its `spawn` and
/// `spawn_blocking` stay there too). The returned receiver resolves when
/// it has ended (an error if it panicked).
pub fn spawn<F>(name: &str, work: F) -> std::io::Result<tokio::sync::oneshot::Receiver<()>>
where
    F: Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(format!("{name}-blocking"))
        .build()?;
    let (done, ended) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            lower_priority();
            rt.block_on(work);
            let _ = done.send(());
        })?;
    Ok(ended)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn nice(tid: i32) -> i32 {
        let pid = rustix::process::Pid::from_raw(tid);
        rustix::process::getpriority_process(pid).expect("getpriority")
    }

    #[test]
    fn threads_started_with_the_name_are_lowered_and_no_other() {
        let caller = rustix::thread::gettid().as_raw_nonzero().get();
        let before = nice(caller);
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let stop_rx = std::sync::Arc::new(std::sync::Mutex::new(stop_rx));
        let spawn = |name: String| {
            let stop_rx = std::sync::Arc::clone(&stop_rx);
            let (tid_tx, tid_rx) = std::sync::mpsc::channel();
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    tid_tx
                        .send(rustix::thread::gettid().as_raw_nonzero().get())
                        .expect("send the thread id");
                    let _ = stop_rx.lock().expect("the stop lock").recv();
                })
                .expect("spawn a thread");
            (handle, tid_rx)
        };
        let (merges, other) = lower_threads_named("bgtest_merge_", 2, || {
            let merges = [
                spawn("bgtest_merge_0".into()),
                spawn("bgtest_merge_1".into()),
            ];
            (merges, spawn("bgtest_index".into()))
        });
        let merge_tids: Vec<i32> = merges
            .iter()
            .map(|(_, rx)| rx.recv().expect("a thread id"))
            .collect();
        let other_tid = other.1.recv().expect("a thread id");

        for tid in &merge_tids {
            assert_eq!(
                nice(*tid),
                BACKGROUND_NICE,
                "a merge thread keeps its priority"
            );
        }
        assert_eq!(
            nice(other_tid),
            before,
            "a thread of another name was lowered"
        );
        assert_eq!(nice(caller), before, "the caller was lowered");

        drop(stop_tx);
        for (handle, _) in merges {
            handle.join().expect("the thread ends");
        }
        other.0.join().expect("the thread ends");
    }
}
