//! The per-order-number lock after repeated failed lookups.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::FailureSpec;

/// Failed lookups per order number in a fixed window; at `max` the number
/// is locked until the window ends.
#[derive(Debug)]
pub struct OrderLock {
    spec: FailureSpec,
    counts: Mutex<HashMap<u64, (u32, Instant)>>,
}

impl OrderLock {
    pub fn new(spec: FailureSpec) -> OrderLock {
        OrderLock {
            spec,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (u32, Instant)>> {
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still usable.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether lookups of `number` are refused right now.
    pub fn is_locked(&self, number: u64, now: Instant) -> bool {
        match self.counts().get(&number) {
            Some((n, start)) => {
                *n >= self.spec.max && now.duration_since(*start) < self.spec.window
            }
            None => false,
        }
    }

    /// Counts one failed lookup of `number`.
    pub fn record_failure(&self, number: u64, now: Instant) {
        let mut counts = self.counts();
        let entry = counts.entry(number).or_insert((0, now));
        if now.duration_since(entry.1) >= self.spec.window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    pub(super) fn prune(&self, now: Instant) {
        let window = self.spec.window;
        self.counts()
            .retain(|_, (_, start)| now.duration_since(*start) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_order_lock_trips_and_expires() {
        let lock = OrderLock::new(FailureSpec {
            max: 3,
            window: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        for _ in 0..2 {
            lock.record_failure(1001, t0);
        }
        assert!(!lock.is_locked(1001, t0));
        lock.record_failure(1001, t0);
        assert!(lock.is_locked(1001, t0));
        assert!(!lock.is_locked(1002, t0), "other numbers are not affected");
        let later = t0 + Duration::from_secs(61);
        assert!(!lock.is_locked(1001, later));
        lock.prune(later);
        assert!(lock.counts().is_empty());
    }
}
