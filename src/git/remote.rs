//! Push and pull, by running the `git` program so the user's credential
//! helpers, SSH agent and `~/.ssh/config` work as in a shell (kollega's
//! libgit2 is built without network transports on purpose).
//!
//! Output is handed over line by line as it comes (progress lines, which
//! git ends with `\r`, too) and appended to a log file the caller names.
//! The child runs in a session of its own, without the terminal: a
//! password or passphrase prompt would otherwise draw over the UI, so git
//! and ssh get their secrets from a helper or an agent, or fail with a
//! message in the log. Pull is `--ff-only`: it never makes a merge.
//!
//! Nothing pushes by itself: a push runs only when the user asks (the
//! takeover's `--push`, a push action), never after a commit or on a
//! timer.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc;

use super::{GitError, git_command};

/// What to push; the default is a plain `git push` (the current branch to
/// its upstream, as `push.default` says).
#[derive(Debug, Clone, Default)]
pub(crate) struct PushSpec {
    pub(crate) remote: Option<String>,
    /// Branches and tags to push; needs `remote`.
    pub(crate) refspecs: Vec<String>,
    /// Record the remote branch as upstream (`-u`).
    pub(crate) set_upstream: bool,
}

/// Runs `git push` in `workdir`.
pub(crate) fn push(
    workdir: &Path,
    spec: &PushSpec,
    log: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<ExitStatus, GitError> {
    let mut args: Vec<OsString> = vec!["push".into(), "--progress".into()];
    if spec.set_upstream {
        args.push("--set-upstream".into());
    }
    if let Some(remote) = &spec.remote {
        // `--` keeps a remote or ref that starts with '-' from reading as
        // an option.
        args.push("--".into());
        args.push(remote.into());
        args.extend(spec.refspecs.iter().map(OsString::from));
    }
    run(workdir, &args, log, on_line)
}

/// Runs `git pull --ff-only` in `workdir`.
pub(crate) fn pull_ff_only(
    workdir: &Path,
    log: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<ExitStatus, GitError> {
    let args: Vec<OsString> = vec!["pull".into(), "--ff-only".into(), "--progress".into()];
    run(workdir, &args, log, on_line)
}

/// What a pipe reader sends: bytes of stream 0 (stdout) or 1 (stderr),
/// or the end of a stream.
enum Chunk {
    Bytes(usize, Vec<u8>),
    Done,
}

fn run(
    workdir: &Path,
    args: &[OsString],
    log_path: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<ExitStatus, GitError> {
    let mut log = open_log(log_path)?;
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let started = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let write_log = |log: &mut File, line: &str| {
        writeln!(log, "{line}").map_err(|source| GitError::Io {
            action: "write",
            path: log_path.to_path_buf(),
            source,
        })
    };
    write_log(&mut log, &format!("$ git {} ({started})", shown.join(" ")))?;

    let mut cmd = git_command(workdir);
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // No terminal prompt for a user name or password.
        .env("GIT_TERMINAL_PROMPT", "0");
    // SAFETY: setsid() is async-signal-safe and touches only the child,
    // between fork and exec; it detaches the child from the terminal so
    // ssh cannot open /dev/tty to ask for a passphrase.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|source| GitError::GitMissing { source })?;
    let (tx, rx) = mpsc::channel();
    let mut readers = Vec::new();
    let pipes: Vec<Box<dyn Read + Send>> = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (stream, pipe) in pipes.into_iter().enumerate() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(Chunk::Bytes(stream, buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = tx.send(Chunk::Done);
        }));
    }
    drop(tx);
    // Once git runs, a log that cannot be written only costs the log: the
    // caller still gets every line and the exit status.
    let mut emit = |text: &str| {
        if let Err(e) = write_log(&mut log, text) {
            tracing::warn!(error = %e, "git output not logged");
        }
        on_line(text);
    };
    // stdout and stderr interleave by arrival; each keeps its own partial
    // line so a line is never cut by the other stream.
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut open = readers.len();
    let mut partials: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    while open > 0 {
        match rx.recv() {
            Ok(Chunk::Bytes(stream, bytes)) => {
                let partial = &mut partials[stream];
                partial.extend_from_slice(&bytes);
                while let Some(end) = partial.iter().position(|&b| b == b'\n' || b == b'\r') {
                    let line: Vec<u8> = partial.drain(..=end).collect();
                    pending.push(line[..line.len() - 1].to_vec());
                }
            }
            Ok(Chunk::Done) => open -= 1,
            Err(_) => break,
        }
        for line in pending.drain(..).filter(|l| !l.is_empty()) {
            emit(&String::from_utf8_lossy(&line));
        }
    }
    for partial in partials.iter().filter(|p| !p.is_empty()) {
        emit(&String::from_utf8_lossy(partial));
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child
        .wait()
        .map_err(|source| GitError::GitMissing { source })?;
    if let Err(e) = write_log(&mut log, &format!("# {status}")) {
        tracing::warn!(error = %e, "git exit status not logged");
    }
    Ok(status)
}

/// The log, appended to and private to the user: remote URLs and
/// messages may name private repositories.
fn open_log(path: &Path) -> Result<File, GitError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| GitError::Io {
            action: "create",
            path: parent.to_path_buf(),
            source,
        })?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| GitError::Io {
            action: "open",
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::TestRepo;
    use super::*;

    /// A repository with a bare remote `origin` on the local disk (no
    /// network), `main` pushed and tracking it.
    fn with_remote() -> (TestRepo, std::path::PathBuf) {
        let repo = TestRepo::new();
        let remote = repo.home.join("remote.git");
        repo.git(&[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ]);
        repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
        repo.write("a.txt", "a\n");
        repo.commit_all("base");
        repo.git(&["push", "-q", "-u", "origin", "main"]);
        (repo, remote)
    }

    #[test]
    fn push_streams_output_to_the_callback_and_the_log() {
        let (repo, remote) = with_remote();
        repo.write("a.txt", "b\n");
        repo.commit_all("second");
        let log = repo.home.join("logs/git.log");
        let mut lines = Vec::new();
        let status = push(&repo.dir, &PushSpec::default(), &log, &mut |l| {
            lines.push(l.to_string())
        })
        .unwrap();
        assert!(status.success(), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("main -> main")),
            "{lines:?}"
        );
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(logged.starts_with("$ git push --progress"), "{logged}");
        assert!(logged.contains("main -> main"), "{logged}");
        let remote_head = repo.git(&["--git-dir", remote.to_str().unwrap(), "rev-parse", "main"]);
        assert_eq!(remote_head, repo.git(&["rev-parse", "HEAD"]));
    }

    #[test]
    fn pull_fast_forwards_and_refuses_to_merge() {
        let (repo, remote) = with_remote();
        let other = repo.home.join("other");
        repo.git(&[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ]);
        let in_other = |args: &[&str]| {
            let mut all = vec!["-C", other.to_str().unwrap()];
            all.extend_from_slice(args);
            repo.git(&all)
        };
        std::fs::write(other.join("b.txt"), "b\n").unwrap();
        in_other(&["add", "b.txt"]);
        in_other(&[
            "-c",
            "user.name=O",
            "-c",
            "user.email=o@example.com",
            "commit",
            "-q",
            "-m",
            "theirs",
        ]);
        in_other(&["push", "-q"]);
        let log = repo.home.join("pull.log");
        let status = pull_ff_only(&repo.dir, &log, &mut |_| {}).unwrap();
        assert!(status.success());
        assert_eq!(repo.read("b.txt"), "b\n");

        std::fs::write(other.join("c.txt"), "c\n").unwrap();
        in_other(&["add", "c.txt"]);
        in_other(&[
            "-c",
            "user.name=O",
            "-c",
            "user.email=o@example.com",
            "commit",
            "-q",
            "-m",
            "theirs 2",
        ]);
        in_other(&["push", "-q"]);
        repo.write("d.txt", "d\n");
        repo.commit_all("ours");
        let before = repo.git(&["rev-parse", "HEAD"]);
        let mut lines = Vec::new();
        let status = pull_ff_only(&repo.dir, &log, &mut |l| lines.push(l.to_string())).unwrap();
        assert!(!status.success());
        assert_eq!(repo.git(&["rev-parse", "HEAD"]), before);
        assert!(!lines.is_empty());
        assert!(
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("# exit status: 128")
        );
    }
}
