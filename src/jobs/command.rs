//! Running a program as a job: its own session and process group, output
//! into the job's log as it comes, stopped on cancel or timeout by
//! signalling the whole group.
//!
//! The child gets no terminal (a new session, stdin from /dev/null), so a
//! password prompt can never draw over the UI and a hangup of the user's
//! terminal does not reach it. It is killed if the thread that started it
//! dies with its process (`PR_SET_PDEATHSIG`), so a runner killed with
//! kill -9 does not leave the command running beside the retry that the
//! next runner starts.
//!
//! Stopping sends SIGTERM to the job's processes (its group, and those that
//! left it: `tree`), waits `grace`, then sends SIGKILL. The job ends when
//! its program ends: whatever it left running is killed a moment later,
//! even when it still holds the output pipes.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::log::LogWriter;
use super::queue::Stream;
use super::tree;

/// How long the pipes may stay open after the program ended, for the last
/// output of processes that are ending too.
const DRAIN: Duration = Duration::from_millis(250);

/// Why a job is asked to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// A person cancelled it (`jobs cancel`, the pane).
    Cancelled,
    /// The runner lost the job's lease; another runner holds it now.
    Lost,
    /// The runner is shutting down.
    Shutdown,
    /// The runner is shutting down and hands its jobs to a worker, which
    /// runs them again from the start.
    Handover,
}

/// A cancellation token that sync and async code can both wait on.
#[derive(Clone, Default)]
pub(crate) struct StopToken {
    inner: Arc<(Mutex<Option<StopReason>>, Condvar)>,
}

impl StopToken {
    pub(crate) fn stop(&self, reason: StopReason) {
        let (lock, cvar) = &*self.inner;
        let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(reason);
        }
        cvar.notify_all();
    }

    pub(crate) fn reason(&self) -> Option<StopReason> {
        let (lock, _) = &*self.inner;
        lock.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits up to `timeout` for a stop; returns the reason if one came.
    pub(crate) fn wait(&self, timeout: Duration) -> Option<StopReason> {
        let (lock, cvar) = &*self.inner;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cvar
            .wait_timeout_while(guard, timeout, |r| r.is_none())
            .unwrap_or_else(|e| e.into_inner());
        guard.clone()
    }
}

/// What to run and where.
#[derive(Debug, Clone)]
pub(crate) struct CommandSpec {
    /// The program and its arguments; a single word with spaces or shell
    /// characters runs through `/bin/sh -c`.
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// Where a foreground run copies the output besides the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tee {
    None,
    /// To this process's stdout and stderr (`kollega run`).
    Stdio,
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exit {
    /// The exit code, or 128 + the signal that ended it.
    pub code: i32,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stopped: Option<StopReason>,
    /// The last lines of stderr (at most 4 KiB), to classify errors.
    pub stderr_tail: String,
}

/// Why the program did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpawnError {
    NotFound(String),
    NotExecutable(String),
    NoDirectory(PathBuf),
    Other(String),
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpawnError::NotFound(p) => write!(
                f,
                "command not found: {p} (not in PATH or not there); check the name, or install it"
            ),
            SpawnError::NotExecutable(p) => {
                write!(f, "{p} is not executable; check its mode (chmod +x)")
            }
            SpawnError::NoDirectory(d) => {
                write!(f, "the working directory {} does not exist", d.display())
            }
            SpawnError::Other(e) => write!(f, "the command could not start: {e}"),
        }
    }
}

/// Whether a single argument is a shell command line rather than a program.
pub(crate) fn needs_shell(word: &str) -> bool {
    word.chars().any(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '~' | '"' | '\''
            )
    })
}

/// Runs `spec` to its end, writing its output to `log` (and `tee`).
/// Blocking; call it from a thread that may wait as long as the program.
pub(crate) fn run(
    spec: &CommandSpec,
    log: &LogWriter,
    tee: Tee,
    stop: &StopToken,
) -> Result<Exit, SpawnError> {
    let Some(program) = spec.argv.first() else {
        return Err(SpawnError::Other("the command is empty".into()));
    };
    if !spec.cwd.is_dir() {
        return Err(SpawnError::NoDirectory(spec.cwd.clone()));
    }
    let mut cmd = if spec.argv.len() == 1 && needs_shell(program) {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(program);
        c
    } else {
        let mut c = Command::new(program);
        c.args(&spec.argv[1..]);
        c
    };
    tree::become_subreaper();
    let marker = tree::new_marker();
    cmd.current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(tree::MARKER, &marker)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid and prctl are async-signal-safe and affect only the
    // child between fork and exec. setsid makes the child the leader of a
    // new session and process group (pgid = pid), without a terminal;
    // PDEATHSIG kills it when the thread that forked it ends, i.e. when
    // this runner dies before it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let mut child = {
        let mut programs = tree::Programs::lock();
        let child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SpawnError::NotFound(program.clone()),
            std::io::ErrorKind::PermissionDenied => SpawnError::NotExecutable(program.clone()),
            _ => SpawnError::Other(e.to_string()),
        })?;
        programs.add(child.id() as libc::pid_t);
        child
    };
    let pgid = child.id() as libc::pid_t;

    // Readers: one thread per pipe, each says when its pipe closed.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let stderr_tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    // Whether the readers still write into the log; cleared when the job
    // ends, whoever still holds a pipe.
    let open = Arc::new(Mutex::new(true));
    let mut readers = 0;
    if let Some(out) = child.stdout.take() {
        readers += 1;
        let to = Output {
            stream: Stream::Stdout,
            log: log.clone(),
            tee,
            tail: None,
            open: open.clone(),
        };
        spawn_reader(out, to, done_tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        readers += 1;
        let to = Output {
            stream: Stream::Stderr,
            log: log.clone(),
            tee,
            tail: Some(stderr_tail.clone()),
            open: open.clone(),
        };
        spawn_reader(err, to, done_tx.clone());
    }
    drop(done_tx);

    // The watchdog stops the group on a stop request or the timeout.
    let exited = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let exited = exited.clone();
        let timed_out = timed_out.clone();
        let deadline = spec.timeout.map(|t| Instant::now() + t);
        let grace = spec.grace;
        let log = log.clone();
        let watched = marker.clone();
        let watch = move || {
            let job = Job {
                pgid,
                marker: &watched,
            };
            watchdog(&job, &stop, &exited, &timed_out, deadline, grace, &log);
        };
        let started = std::thread::Builder::new()
            .name("kollega-job-watch".into())
            .spawn(watch);
        if let Err(e) = started {
            tree::kill(pgid, &marker);
            let _ = child.wait();
            tree::program_ended(pgid);
            return Err(SpawnError::Other(e.to_string()));
        }
    }

    let status = child.wait();
    tree::program_ended(pgid);
    exited.store(true, Ordering::SeqCst);
    // The job ends with its program. The pipes get a moment to drain; what
    // the program left running is then ended, and a pipe still held open
    // (a process that could not be killed) is no longer read.
    let closed = drain(&done_rx, readers, DRAIN);
    // Orphans of the job that already ended are no longer processes of it.
    tree::reap_orphans();
    let left = tree::members(pgid, &marker);
    let group_left = {
        // SAFETY: signal 0 only asks whether the group has a process.
        unsafe { libc::killpg(pgid, 0) == 0 }
    };
    if !left.is_empty() || group_left {
        if closed < readers {
            log.info("the command exited but left processes holding its output; ending them");
        } else {
            log.info("the command exited but left processes running; ending them");
        }
        tree::kill(pgid, &marker);
        drain(&done_rx, readers - closed, DRAIN);
    }
    *open.lock().unwrap_or_else(|e| e.into_inner()) = false;
    log.end_streams();
    let status = status.map_err(|e| SpawnError::Other(e.to_string()))?;
    let signal = status.signal();
    let code = status.code().unwrap_or_else(|| 128 + signal.unwrap_or(0));
    let tail = stderr_tail
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(Exit {
        code,
        signal,
        timed_out: timed_out.load(Ordering::SeqCst),
        stopped: stop.reason(),
        stderr_tail: String::from_utf8_lossy(&tail).into_owned(),
    })
}

/// Waits up to `limit` for `readers` pipes to close; returns how many did.
fn drain(done: &mpsc::Receiver<()>, readers: usize, limit: Duration) -> usize {
    let until = Instant::now() + limit;
    let mut closed = 0;
    while closed < readers {
        match done.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(()) => closed += 1,
            Err(_) => break,
        }
    }
    closed
}

/// Where a pipe reader puts what it reads.
struct Output {
    stream: Stream,
    log: LogWriter,
    tee: Tee,
    tail: Option<Arc<Mutex<Vec<u8>>>>,
    /// Cleared when the job ended: what comes later is not the job's.
    open: Arc<Mutex<bool>>,
}

fn spawn_reader(mut pipe: impl Read + Send + 'static, to: Output, done: mpsc::Sender<()>) {
    let Output {
        stream,
        log,
        tee,
        tail,
        open,
    } = to;
    let body = move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut tee_ok = tee == Tee::Stdio;
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let chunk = &buf[..n];
            let open = open.lock().unwrap_or_else(|e| e.into_inner());
            if !*open {
                break;
            }
            if tee_ok {
                let written = match stream {
                    Stream::Stderr => std::io::stderr().lock().write_all(chunk),
                    _ => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(chunk).and_then(|()| out.flush())
                    }
                };
                // A closed reader (`| head`) stops the copy, not the job.
                tee_ok = written.is_ok();
            }
            log.write(stream, chunk);
            if let Some(tail) = &tail {
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                tail.extend_from_slice(chunk);
                let excess = tail.len().saturating_sub(4096);
                tail.drain(..excess);
            }
        }
        let _ = done.send(());
    };
    if let Err(e) = std::thread::Builder::new()
        .name("kollega-job-pipe".into())
        .spawn(body)
    {
        tracing::error!(error = %e, "cannot start a pipe reader; the job's output is lost");
    }
}

/// The processes a watchdog stops: the program's group and the job's
/// processes outside it.
struct Job<'a> {
    pgid: libc::pid_t,
    marker: &'a str,
}

fn watchdog(
    job: &Job<'_>,
    stop: &StopToken,
    exited: &AtomicBool,
    timed_out: &AtomicBool,
    deadline: Option<Instant>,
    grace: Duration,
    log: &LogWriter,
) {
    let tick = Duration::from_millis(50);
    loop {
        if exited.load(Ordering::SeqCst) {
            return;
        }
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(tick),
            None => tick,
        };
        if let Some(reason) = stop.wait(wait) {
            if exited.load(Ordering::SeqCst) {
                return;
            }
            let why = match reason {
                StopReason::Cancelled => "cancelled",
                StopReason::Lost => "its lease went to another runner",
                StopReason::Shutdown => "kollega is stopping",
                StopReason::Handover => "kollega is stopping and hands it to a worker",
            };
            log.info(&format!("stopping the command: {why}"));
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            timed_out.store(true, Ordering::SeqCst);
            log.info("stopping the command: it reached its timeout");
            break;
        }
    }
    tree::signal(job.pgid, job.marker, libc::SIGTERM);
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if exited.load(Ordering::SeqCst) {
            // The program is gone; `run` ends what it left.
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    log.info(&format!(
        "the command did not end within {} s of SIGTERM; sending SIGKILL",
        grace.as_secs_f32()
    ));
    tree::kill(job.pgid, job.marker);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(argv: &[&str], dir: &std::path::Path) -> CommandSpec {
        CommandSpec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: dir.to_path_buf(),
            env: vec![("KOLLEGA_TEST".into(), "yes".into())],
            timeout: None,
            grace: Duration::from_millis(500),
        }
    }

    fn lines(log: &LogWriter) -> Vec<String> {
        log.flush().lines.into_iter().map(|(_, _, l)| l).collect()
    }

    #[test]
    fn output_environment_and_exit_code_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::tail_only("test".into());
        let exit = run(
            &spec(
                &["echo $KOLLEGA_TEST; pwd; echo oops >&2; exit 3"],
                dir.path(),
            ),
            &log,
            Tee::None,
            &StopToken::default(),
        )
        .unwrap();
        assert_eq!(exit.code, 3);
        assert_eq!(exit.stderr_tail, "oops\n");
        let mut got = lines(&log);
        got.sort();
        let cwd = dir.path().canonicalize().unwrap().display().to_string();
        let mut want = vec!["yes".to_string(), cwd, "oops".to_string()];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_missing_program_or_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::tail_only("test".into());
        let stop = StopToken::default();
        assert_eq!(
            run(
                &spec(&["no-such-program-kollega"], dir.path()),
                &log,
                Tee::None,
                &stop
            ),
            Err(SpawnError::NotFound("no-such-program-kollega".into()))
        );
        let gone = dir.path().join("gone");
        assert_eq!(
            run(&spec(&["true"], &gone), &log, Tee::None, &stop),
            Err(SpawnError::NoDirectory(gone))
        );
    }

    #[test]
    fn cancel_ends_the_whole_process_tree() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // A shell that starts two grandchildren which ignore nothing.
        let script = format!(
            "sleep 60 & echo $! >> {p}; (sleep 61 & echo $! >> {p}; wait) & echo started; wait",
            p = pids.display()
        );
        let log = LogWriter::tail_only("test".into());
        let stop = StopToken::default();
        let stopper = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stopper.stop(StopReason::Cancelled);
        });
        let exit = run(&spec(&[&script], dir.path()), &log, Tee::None, &stop).unwrap();
        assert_eq!(exit.stopped, Some(StopReason::Cancelled));
        assert_eq!(exit.signal, Some(libc::SIGTERM));
        let text = std::fs::read_to_string(&pids).unwrap();
        let pids: Vec<i32> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(pids.len(), 2);
        std::thread::sleep(Duration::from_millis(100));
        for pid in pids {
            // Gone, or a zombie waiting for init to reap it.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
            assert!(
                matches!(state, None | Some('Z' | 'X')),
                "process {pid} survived the cancel: {stat}"
            );
        }
    }

    #[test]
    fn a_command_that_ignores_sigterm_is_killed_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::tail_only("test".into());
        let mut s = spec(&["trap '' TERM; echo ready; sleep 30"], dir.path());
        s.timeout = Some(Duration::from_millis(300));
        s.grace = Duration::from_millis(300);
        let started = Instant::now();
        let exit = run(&s, &log, Tee::None, &StopToken::default()).unwrap();
        assert!(exit.timed_out);
        assert_eq!(exit.signal, Some(libc::SIGKILL));
        assert!(started.elapsed() < Duration::from_secs(10));
        let text = lines(&log).join("\n");
        assert!(text.contains("timeout"), "{text}");
        assert!(text.contains("SIGKILL"), "{text}");
    }
}
