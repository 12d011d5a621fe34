//! The processes of a job: its program and everything the program started,
//! including processes that left its process group or session (`setsid`,
//! a daemon that double-forks).
//!
//! A process that runs jobs is a child subreaper (`PR_SET_CHILD_SUBREAPER`),
//! so an orphan of a job becomes this process's child rather than init's
//! and stays in reach. Each job's processes inherit a marker variable
//! ([`MARKER`]) whose value is the job's own; a job's processes are the
//! descendants of its program, the descendants of this process that carry
//! its marker, and everything below those. The orphans this process adopts
//! are reaped here, by pid, never with a wait on any child: the other
//! programs kollega starts (git) are waited for by their own callers.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

/// The variable every process of a job inherits; its value tells one
/// job's processes from another's.
pub(crate) const MARKER: &str = "KOLLEGA_JOB_TREE";

/// The programs of running jobs: their runner waits for them, the reaper
/// must not. Held while a program is spawned, so that the reaper never sees
/// a program between its fork and its registration.
static PROGRAMS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// How often the reaper looks for adopted orphans that ended.
const REAP_EVERY: Duration = Duration::from_secs(1);

/// Makes this process the subreaper of the jobs it starts and starts the
/// reaper of the orphans it adopts; once per process.
pub(crate) fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: only sets an attribute of this process.
        let set = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        if set != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "cannot become the subreaper of jobs; a process a job detached may outlive it"
            );
        }
        let reaper = std::thread::Builder::new()
            .name("kollega-job-reaper".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(REAP_EVERY);
                    reap_orphans();
                }
            });
        if let Err(e) = reaper {
            tracing::warn!(error = %e, "cannot start the reaper of job processes");
        }
    });
}

/// A marker value no other job of any process has.
pub(crate) fn new_marker() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// The list of programs, locked: spawn a program and [`Programs::add`] it
/// while holding it.
pub(crate) struct Programs(MutexGuard<'static, Vec<libc::pid_t>>);

impl Programs {
    pub(crate) fn lock() -> Programs {
        Programs(PROGRAMS.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn add(&mut self, pid: libc::pid_t) {
        self.0.push(pid);
    }
}

/// The program `pid` was waited for by its runner.
pub(crate) fn program_ended(pid: libc::pid_t) {
    Programs::lock().0.retain(|&p| p != pid);
}

/// One row of the process table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proc {
    pid: libc::pid_t,
    ppid: libc::pid_t,
    session: libc::pid_t,
    zombie: bool,
}

/// `/proc/PID/stat`: `pid (comm) state ppid pgrp session …`; the command
/// name may hold spaces and parentheses, so the fields are read after the
/// last `)`.
fn parse_stat(pid: libc::pid_t, text: &str) -> Option<Proc> {
    let (_, rest) = text.rsplit_once(") ")?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let _pgrp = fields.next()?;
    let session = fields.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        session,
        zombie: matches!(state, "Z" | "X"),
    })
}

/// Every process this process can see; one that ends while it is read is
/// left out.
fn table() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let entry = entry.ok()?;
        let pid: libc::pid_t = entry.file_name().to_str()?.parse().ok()?;
        let text = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        parse_stat(pid, &text)
    })
    .collect()
}

/// Whether `pid` carries `MARKER=marker` in its environment.
fn carries(pid: libc::pid_t, marker: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let wanted = format!("{MARKER}={marker}");
    environ
        .split(|&b| b == 0)
        .any(|entry| entry == wanted.as_bytes())
}

/// The live processes of the job whose program is `program` and whose
/// marker is `marker`, the program itself left out.
pub(crate) fn members(program: libc::pid_t, marker: &str) -> Vec<libc::pid_t> {
    members_in(
        &table(),
        std::process::id() as libc::pid_t,
        program,
        |pid| carries(pid, marker),
    )
}

fn members_in(
    procs: &[Proc],
    me: libc::pid_t,
    program: libc::pid_t,
    marked: impl Fn(libc::pid_t) -> bool,
) -> Vec<libc::pid_t> {
    let mut children: HashMap<libc::pid_t, Vec<&Proc>> = HashMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(me, false)];
    while let Some((pid, in_job)) = stack.pop() {
        for child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if !seen.insert(child.pid) {
                continue;
            }
            let ours = in_job || child.pid == program || (!child.zombie && marked(child.pid));
            if ours && child.pid != program && !child.zombie {
                found.push(child.pid);
            }
            stack.push((child.pid, ours));
        }
    }
    found
}

/// Sends `signal` to the job's process group and to each of its processes
/// outside it; returns how many of those there were.
pub(crate) fn signal(pgid: libc::pid_t, marker: &str, signal: libc::c_int) -> usize {
    // SAFETY: signals the process group the runner created for this job.
    unsafe {
        libc::killpg(pgid, signal);
    }
    let members = members(pgid, marker);
    for &pid in &members {
        // SAFETY: a descendant of this process that belongs to the job.
        unsafe {
            libc::kill(pid, signal);
        }
    }
    members.len()
}

/// Kills every process of the job, again while it still forks new ones
/// (a few rounds), and reaps those this process adopted.
pub(crate) fn kill(pgid: libc::pid_t, marker: &str) {
    for _ in 0..5 {
        if signal(pgid, marker, libc::SIGKILL) == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    reap_orphans();
}

/// Waits for the ended orphans this process adopted: zombie children in
/// another session (only a job's processes leave this one) that no runner
/// waits for.
pub(crate) fn reap_orphans() {
    let programs = Programs::lock();
    let me = std::process::id() as libc::pid_t;
    // SAFETY: reads this process's session id.
    let session = unsafe { libc::getsid(0) };
    for p in table() {
        if p.ppid == me && p.zombie && p.session != session && !programs.0.contains(&p.pid) {
            // SAFETY: waits for one ended child of ours that nothing else
            // waits for; WNOHANG never blocks.
            unsafe {
                libc::waitpid(p.pid, std::ptr::null_mut(), libc::WNOHANG);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, ppid: i32) -> Proc {
        Proc {
            pid,
            ppid,
            session: pid,
            zombie: false,
        }
    }

    #[test]
    fn a_stat_line_is_read_after_the_last_parenthesis() {
        let got = parse_stat(42, "42 (a (b) c) S 7 42 40 0 -1").unwrap();
        assert_eq!((got.ppid, got.session, got.zombie), (7, 40, false));
        assert!(parse_stat(1, "1 (x) Z 0 1 1 0").unwrap().zombie);
        assert_eq!(parse_stat(1, "garbage"), None);
    }

    #[test]
    fn members_are_the_programs_descendants_and_the_marked_orphans() {
        // 1 is this process; 10 the program with child 11 and grandchild
        // 12; 20 an orphan of the job adopted by 1 with a child 21; 30 a
        // git child of 1; 40 another job's orphan.
        let procs = [
            p(10, 1),
            p(11, 10),
            p(12, 11),
            p(20, 1),
            p(21, 20),
            p(30, 1),
            p(40, 1),
            p(99, 500),
        ];
        let mut got = members_in(&procs, 1, 10, |pid| pid == 20);
        got.sort_unstable();
        assert_eq!(got, vec![11, 12, 20, 21]);
    }
}
