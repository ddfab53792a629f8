//! Threads for background work. Writing orders (indexing, commits,
//! merges) and sending emails are work whose callers can wait a little;
//! pages answer a waiting shopper. On Linux a thread's nice value is its
//! own and the threads it starts inherit it, so background work started
//! here runs, with everything it spawns, at a lower CPU priority than the
//! threads that answer requests: on a machine with few cores a burst of
//! it (an outbox draining, a flood of webhooks) takes the idle cycles
//! instead of the pages' (BENCHMARKS.md).

use std::future::Future;

/// Lowers the calling thread's CPU priority (nice 10) on Linux.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
        tracing::debug!(error = %crate::errors::chain(&e), "could not lower a background thread's priority");
    }
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
