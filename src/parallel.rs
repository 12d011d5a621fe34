//! Two pieces of work at once: the one piece of threading the patch
//! parser and the apply share.

/// Runs `here` on this thread and `there` on a scoped thread at the same
/// time; both results. A panic in `there` goes on in this thread, as it
/// would have had both run here.
pub(crate) fn join<A, B, RA, RB>(here: A, there: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB + Send,
    RB: Send,
{
    std::thread::scope(|s| {
        let other = s.spawn(there);
        let mine = here();
        let theirs = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (mine, theirs)
    })
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn both_run_and_a_panic_over_there_comes_back_here() {
        let data = [1, 2, 3, 4];
        let (front, back) = data.split_at(2);
        assert_eq!(
            join(|| front.iter().sum::<i32>(), || back.iter().sum::<i32>()),
            (3, 7)
        );
        let caught = std::panic::catch_unwind(|| join(|| 1, || -> i32 { panic!("over there") }));
        let panic = caught.unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"over there"));
    }
}
