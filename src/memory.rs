//! How the process asks the system for memory.

/// Bytes the allocator takes from the system beyond what a request
/// needs, each time its heap grows.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TOP_PAD: libc::c_int = 16 << 20;

/// Lets glibc's allocator grow its heaps 16 MiB at a time instead of
/// 128 KiB. An apply of a large patch fills megabytes of text on two
/// threads: each growth of a thread's heap is a system call that holds
/// the process's memory map while the other thread's page faults wait on
/// it, and the small steps made them many (see docs/performance.md, "AI
/// patches"). What is reserved and never touched costs no memory. Call
/// it first, before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a parameter of the allocator; it is
        // called before any other thread exists.
        let set = unsafe { libc::mallopt(libc::M_TOP_PAD, TOP_PAD) };
        if set == 0 {
            tracing::debug!("the allocator's top pad could not be set");
        }
    }
}
