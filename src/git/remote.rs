//! What a push and a pull are: the arguments and environment of the `git`
//! program, and how to read its answer. kollega runs the git program for
//! the network, so the user's credential helpers, SSH agent and
//! `~/.ssh/config` work as in a shell (its libgit2 is built without network
//! transports on purpose). Who runs it is the caller's business: a job
//! (`jobs::kinds`, in a session of its own, cancellable) or the takeover.
//!
//! Pull is `--ff-only`: it never makes a merge. Nothing pushes by itself: a
//! push runs only when the user asks (the takeover's `--push`, a push
//! action), never after a commit or on a timer.

/// What to push; the default is a plain `git push` (the current branch to
/// its upstream, as `push.default` says).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PushSpec {
    pub(crate) remote: Option<String>,
    /// Branches and tags to push; needs `remote`.
    #[serde(default)]
    pub(crate) refspecs: Vec<String>,
    /// Record the remote branch as upstream (`-u`).
    #[serde(default)]
    pub(crate) set_upstream: bool,
}

/// The arguments of `git push` after `git`. `progress` asks for progress
/// lines although stderr is not a terminal (a job's log shows them).
pub(crate) fn push_args(spec: &PushSpec, progress: bool) -> Vec<String> {
    let mut args = vec!["push".to_string()];
    if progress {
        args.push("--progress".into());
    }
    if spec.set_upstream {
        args.push("--set-upstream".into());
    }
    if let Some(remote) = &spec.remote {
        // `--` keeps a remote or ref that starts with '-' from reading as
        // an option.
        args.push("--".into());
        args.push(remote.clone());
        args.extend(spec.refspecs.iter().cloned());
    }
    args
}

/// The arguments of `git pull --ff-only` after `git`.
pub(crate) fn pull_args(progress: bool) -> Vec<String> {
    let mut args = vec!["pull".to_string(), "--ff-only".to_string()];
    if progress {
        args.push("--progress".into());
    }
    args
}

/// The environment of every git that talks to a remote: no prompt for a
/// user name or password (there is no terminal to answer it).
pub(crate) const NETWORK_ENV: &[(&str, &str)] = &[("GIT_TERMINAL_PROMPT", "0")];

/// Answers of git that trying again will not change.
const PERMANENT: &[&str] = &[
    "Authentication failed",
    "Permission denied",
    "Repository not found",
    "could not read Username",
    "does not appear to be a git repository",
    "[rejected]",
    "Not possible to fast-forward",
    "not a git repository",
    "has no upstream branch",
    "no tracking information",
];

/// What a failed push or pull said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Trying again will not help (bad credentials, a rejected push, no
    /// such remote); otherwise the failure may pass (a dropped connection,
    /// a busy server).
    pub(crate) permanent: bool,
    /// git's own verdict (its `fatal:` or `error:` line), else its last
    /// line; `None` when it said nothing.
    pub(crate) said: Option<String>,
}

/// Reads git's output (stderr, with stdout after it) of a failed run.
pub(crate) fn verdict(output: &str) -> Verdict {
    let lines: Vec<&str> = output
        .lines()
        .flat_map(|l| l.split('\r'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let said = lines
        .iter()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or(lines.last())
        .map(|l| l.to_string());
    Verdict {
        permanent: PERMANENT.iter().any(|m| output.contains(m)),
        said,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::TestRepo;
    use super::super::git_command;
    use super::*;

    /// Runs `git ARGS` in `dir` as a job would: no prompt; returns whether
    /// it succeeded and what it said.
    fn run(dir: &std::path::Path, args: &[String]) -> (bool, String) {
        let out = git_command(dir)
            .args(args)
            .envs(NETWORK_ENV.iter().copied())
            .output()
            .unwrap();
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        (out.status.success(), text)
    }

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
    fn push_sends_the_branch_to_its_upstream() {
        let (repo, remote) = with_remote();
        repo.write("a.txt", "b\n");
        repo.commit_all("second");
        let args = push_args(&PushSpec::default(), true);
        assert_eq!(args, ["push", "--progress"]);
        let (ok, said) = run(&repo.dir, &args);
        assert!(ok, "{said}");
        assert!(said.contains("main -> main"), "{said}");
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
        // Another clone commits `file` and pushes it.
        let theirs = |file: &str| {
            std::fs::write(other.join(file), "theirs\n").unwrap();
            for args in [
                &["add", file][..],
                &[
                    "-c",
                    "user.name=O",
                    "-c",
                    "user.email=o@example.com",
                    "commit",
                    "-q",
                    "-m",
                    file,
                ],
                &["push", "-q"],
            ] {
                let mut all = vec!["-C", other.to_str().unwrap()];
                all.extend_from_slice(args);
                repo.git(&all);
            }
        };
        theirs("b.txt");
        let (ok, said) = run(&repo.dir, &pull_args(true));
        assert!(ok, "{said}");
        assert_eq!(repo.read("b.txt"), "theirs\n");

        theirs("c.txt");
        repo.write("d.txt", "d\n");
        repo.commit_all("ours");
        let before = repo.git(&["rev-parse", "HEAD"]);
        let (ok, said) = run(&repo.dir, &pull_args(true));
        assert!(!ok);
        assert_eq!(repo.git(&["rev-parse", "HEAD"]), before);
        let verdict = verdict(&said);
        assert!(verdict.permanent, "{said}");
        assert!(
            verdict
                .said
                .as_deref()
                .is_some_and(|s| s.starts_with("fatal:")),
            "{verdict:?}"
        );
    }

    #[test]
    fn push_arguments_keep_remote_and_refs_from_reading_as_options() {
        let spec = PushSpec {
            remote: Some("-origin".into()),
            refspecs: vec!["main".into(), "refs/tags/v1:refs/tags/v1".into()],
            set_upstream: true,
        };
        assert_eq!(
            push_args(&spec, false),
            [
                "push",
                "--set-upstream",
                "--",
                "-origin",
                "main",
                "refs/tags/v1:refs/tags/v1"
            ]
        );
        assert_eq!(pull_args(false), ["pull", "--ff-only"]);
    }

    #[test]
    fn a_dropped_connection_may_pass_and_a_rejection_will_not() {
        let dropped = verdict(
            "remote: Counting\rremote: Counting objects: 100%\nfatal: the remote end hung up unexpectedly\n",
        );
        assert!(!dropped.permanent);
        assert_eq!(
            dropped.said.as_deref(),
            Some("fatal: the remote end hung up unexpectedly")
        );
        let rejected = verdict(
            " ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to 'origin'\n",
        );
        assert!(rejected.permanent);
        assert_eq!(
            rejected.said.as_deref(),
            Some("error: failed to push some refs to 'origin'")
        );
        assert_eq!(verdict("").said, None);
    }
}
