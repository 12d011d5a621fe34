//! A running job's progress as a number from 0 to 100.
//!
//! A kind sets it as it works, from any thread and without waiting on the
//! store; the runner writes it to the job's row with its next flush of log
//! lines when it grew. An import of a million files so costs a write per
//! flush (four a second), never one per file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// The progress of one attempt; clones share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress(Arc<AtomicU8>);

impl Progress {
    /// `done` of `total` steps. It never goes back: work counted twice
    /// (an entry looked at again) does not move the bar backwards.
    pub(crate) fn set(&self, done: u64, total: u64) {
        if total == 0 {
            return;
        }
        let percent = done.min(total).saturating_mul(100) / total;
        self.0.fetch_max(percent as u8, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_against_the_whole_and_never_goes_back() {
        let p = Progress::default();
        p.set(1, 0);
        assert_eq!(p.get(), 0);
        p.set(1, 3);
        assert_eq!(p.get(), 33);
        p.clone().set(2, 3);
        assert_eq!(p.get(), 66);
        p.set(1, 3);
        assert_eq!(p.get(), 66);
        p.set(9, 3);
        assert_eq!(p.get(), 100);
    }
}
