//! The network steps, after the local result is complete: `origin` set,
//! a GitHub repository created, the branch and the tag pushed. They never
//! undo the local result; their failure is reported beside it.

use std::path::Path;

use super::error::{TakeoverError, git_err};
use super::local::open_repo;
use super::outside::Outside;
use super::plan::Plan;
use super::{GithubOutcome, TakeoverReport};
use crate::git::GitError;
use crate::git::github::GithubApi;
use crate::git::remote::{NETWORK_ENV, PushSpec, push_args, verdict};
use crate::git::repo::Repo;
use crate::store::takeovers::TakeoverRow;
use crate::store::{self, Store};

/// The network steps, after the local result is complete: origin, GitHub,
/// push. A failure is written into the report; the local result stands.
pub(super) fn finish_remote(
    store: &mut Store,
    outside: &Outside,
    plan: &Plan,
    mut report: TakeoverReport,
) -> TakeoverReport {
    let row = store::takeovers::last_finished(&store.conn, &plan.name)
        .ok()
        .flatten();
    if let Err(e) = remote_steps(store, outside, plan, &mut report, row.as_ref()) {
        tracing::warn!(error = %e, "network step failed; the local takeover stands");
        if plan.push {
            report.push_error = Some(e.to_string());
        }
        report.remote_failure = Some(e);
    }
    report.remote = origin_url(&plan.repo_path).map(|url| redact(&url));
    report
}

fn origin_url(path: &Path) -> Option<String> {
    let repo = open_repo(path).ok().flatten()?;
    let origin = repo.git().find_remote("origin").ok()?;
    origin.url().ok().map(str::to_string)
}

fn remote_steps(
    store: &mut Store,
    outside: &Outside,
    plan: &Plan,
    report: &mut TakeoverReport,
    row: Option<&TakeoverRow>,
) -> Result<(), TakeoverError> {
    let path = plan.repo_path.as_path();
    if let Some(url) = &plan.remote {
        set_origin(path, url)?;
        if let Some(row) = row {
            store::takeovers::set_remote(&store.conn, row.id, Some(&redact(url)), None)?;
        }
    }
    let mut github_push = None;
    if let Some((name, api)) = &plan.github {
        let full = name.full();
        let mut outcome = GithubOutcome {
            repository: full.clone(),
            created: false,
            url: None,
            error: None,
        };
        // An earlier run created it and set origin: push there again.
        let recorded = row
            .filter(|r| r.github_repo.as_deref() == Some(full.as_str()))
            .and_then(|r| r.remote_url.clone())
            .and_then(|recorded| origin_url(path).filter(|url| redact(url) == recorded));
        let url = match recorded {
            Some(url) => url,
            None => {
                let description = format!("Taken over with kollega: {}", plan.name);
                let created = match api.create_private_repo(name, &description) {
                    Ok(created) => created,
                    Err(e) => {
                        outcome.error = Some(e.to_string());
                        report.github = Some(outcome);
                        return Err(e.into());
                    }
                };
                outcome.created = true;
                outcome.url = Some(created.html_url.clone());
                // https first: the token works there, SSH keys may not.
                let url = if created.clone_url.is_empty() {
                    created.ssh_url
                } else {
                    created.clone_url
                };
                report.github = Some(outcome.clone());
                set_origin(path, &url)?;
                if let Some(row) = row {
                    store::takeovers::set_remote(
                        &store.conn,
                        row.id,
                        Some(&redact(&url)),
                        Some(&full),
                    )?;
                }
                url
            }
        };
        report.github = Some(outcome);
        github_push = Some((url, api));
    }
    if plan.push {
        push(outside, path, &report.branch, &report.tag, github_push)?;
        report.pushed = true;
    }
    Ok(())
}

/// `url` without the user and password it may carry
/// (`https://user:secret@host/…` → `https://***@host/…`), for reports,
/// logs and the store.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn set_origin(path: &Path, url: &str) -> Result<(), TakeoverError> {
    let repo = Repo::open_here(path)?;
    let repo = repo.git();
    let result = if repo.find_remote("origin").is_ok() {
        repo.remote_set_url("origin", url)
    } else {
        repo.remote("origin", url).map(|_| ())
    };
    result.map_err(git_err(format!("set origin to {}", redact(url)), path))?;
    tracing::info!(url = %redact(url), "origin set");
    Ok(())
}

/// `git push origin <branch> <tag>`, as `git::remote` says a push is,
/// with the output captured. For a GitHub https remote the token reaches
/// git through a credential helper's environment, never its arguments.
pub(super) fn push(
    outside: &Outside,
    path: &Path,
    branch: &str,
    tag: &str,
    github: Option<(String, &GithubApi)>,
) -> Result<(), TakeoverError> {
    let mut cmd = outside.git(path);
    cmd.envs(NETWORK_ENV.iter().copied());
    let mut token: Option<&str> = None;
    if let Some((url, api)) = &github
        && let Some(host) = api.web_host()
        && url.starts_with(&format!("https://{host}/"))
    {
        cmd.arg("-c")
            .arg(format!("credential.https://{host}.helper="));
        cmd.arg("-c").arg(format!(
            "credential.https://{host}.helper=!f() {{ test \"$1\" = get && echo username=x-access-token && echo \"password=$KOLLEGA_GIT_TOKEN\"; }}; f"
        ));
        cmd.env("KOLLEGA_GIT_TOKEN", api.token_for_git());
        token = Some(api.token_for_git());
    }
    // Full refspecs: a branch and a tag of the same name cannot be taken
    // for each other.
    let spec = PushSpec {
        remote: Some("origin".into()),
        refspecs: vec![
            format!("refs/heads/{branch}:refs/heads/{branch}"),
            format!("refs/tags/{tag}:refs/tags/{tag}"),
        ],
        set_upstream: false,
    };
    cmd.args(push_args(&spec, false));
    let output = cmd
        .output()
        .map_err(|source| GitError::GitMissing { source })?;
    if output.status.success() {
        tracing::info!(%branch, %tag, "pushed");
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    if let Some(token) = token {
        text = text.replace(token, "***");
    }
    Err(TakeoverError::Push {
        remote: origin_url(path)
            .map(|url| redact(&url))
            .unwrap_or_else(|| "origin".into()),
        repo: path.to_path_buf(),
        branch: branch.to_string(),
        tag: tag.to_string(),
        output: verdict(&text)
            .said
            .unwrap_or_else(|| format!("git exited with {}", output.status)),
    })
}

#[cfg(test)]
mod tests {
    //! Pushes go to a bare repository on the local disk and GitHub is a
    //! local HTTP server; the token must appear nowhere kollega writes.

    use std::path::{Path, PathBuf};

    use super::super::fixture::*;
    use super::super::{TakeoverRequest, TakeoverStatus};
    use super::*;
    use crate::error::Hint;
    use crate::git::github::fake::FakeGithub;
    use crate::git::github::{self, GithubError};
    use crate::store::workspaces::StorageType;

    #[test]
    fn remote_and_push_send_branch_and_tag() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let bare = env.bare("origin.git");
        let url = format!("file://{}", bare.display());
        let mut request = env.request(&src, &repo);
        request.remote = Some(url.clone());
        request.push = true;
        let report = env.run(&request).unwrap();
        assert!(report.pushed, "{:?}", report.push_error);
        assert!(report.remote_failure.is_none());
        assert_eq!(report.remote.as_deref(), Some(url.as_str()));
        let refs = env.git(&bare, &["show-ref"]);
        assert!(
            refs.contains(&format!("refs/heads/{}", report.branch)),
            "{refs}"
        );
        assert!(
            refs.contains(&format!("refs/tags/{}", report.tag)),
            "{refs}"
        );
    }

    #[test]
    fn failed_push_keeps_the_local_result_and_says_why() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.remote = Some(format!("file://{}", env.path("nowhere.git").display()));
        request.push = true;
        let report = env.run(&request).unwrap();
        assert!(!report.pushed);
        let why = report.push_error.clone().unwrap();
        assert!(why.contains("git push to file://"), "{why}");
        let failure = report.remote_failure.as_ref().unwrap();
        assert!(matches!(failure, TakeoverError::Push { .. }), "{failure:?}");
        assert!(failure.hint().contains("push origin"), "{}", failure.hint());
        assert_eq!(env.baselines(&repo).len(), 1);
        let ws = store::workspaces::find(&env.store.conn, "app")
            .unwrap()
            .unwrap();
        assert_eq!(ws.storage_type, StorageType::Git);

        // --push with no remote at all is refused up front.
        let mut env = Env::new();
        let src = env.app();
        let mut request = env.request(&src, &env.path("repo"));
        request.push = true;
        let err = env.run(&request).unwrap_err();
        assert!(err.to_string().contains("has no origin"), "{err}");
    }

    /// The app and a request to take it over into `repo` with `--github
    /// octo/shop`, against `server` with a token (none without a server).
    fn github_request(env: &mut Env, server: Option<&FakeGithub>) -> (PathBuf, TakeoverRequest) {
        if let Some(server) = server {
            env.outside
                .vars
                .insert(github::TOKEN_ENV.into(), TOKEN.into());
            env.outside
                .vars
                .insert(github::API_URL_ENV.into(), server.url.clone());
        }
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.github = Some("octo/shop".into());
        (repo, request)
    }

    fn assert_no_token(env: &Env, repo: &Path, report: &TakeoverReport) {
        let json = serde_json::to_string(report).unwrap();
        assert!(!json.contains(TOKEN), "token in the report");
        if let Some(e) = &report.remote_failure {
            let text = format!("{e} {} {e:?}", e.hint());
            assert!(!text.contains(TOKEN), "token in {text}");
        }
        assert!(!contains(&env.data_bytes(), TOKEN), "token in the store");
        let config = std::fs::read(repo.join(".git/config")).unwrap();
        assert!(!contains(&config, TOKEN), "token in .git/config");
        assert!(
            !contains(&env.all_objects(repo), TOKEN),
            "token in an object"
        );
    }

    #[test]
    fn github_repository_is_created_private_and_pushed_to() {
        let mut env = Env::new();
        let bare = env.bare("github-shop.git");
        let clone_url = format!("file://{}", bare.display());
        let answer_url = clone_url.clone();
        let server = FakeGithub::start(move |r| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/user") => (200, r#"{"login":"octo"}"#.into()),
            ("POST", "/user/repos") => (
                201,
                serde_json::json!({
                    "full_name": "octo/shop",
                    "html_url": "https://github.example/octo/shop",
                    "clone_url": answer_url,
                    "ssh_url": "git@github.example:octo/shop.git",
                })
                .to_string(),
            ),
            _ => (404, r#"{"message":"Not Found"}"#.into()),
        });
        let (repo, request) = github_request(&mut env, Some(&server));
        let report = env.run(&request).unwrap();
        assert!(report.pushed, "{:?}", report.push_error);
        let github = report.github.clone().unwrap();
        assert!(github.created && github.error.is_none(), "{github:?}");
        assert_eq!(report.remote.as_deref(), Some(clone_url.as_str()));
        let refs = env.git(&bare, &["show-ref"]);
        assert!(
            refs.contains(&report.branch) && refs.contains(&report.tag),
            "{refs}"
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let body: serde_json::Value = serde_json::from_str(&requests[1].body).unwrap();
        assert_eq!(body["name"], "shop");
        assert_eq!(body["private"], true);
        assert_no_token(&env, &repo, &report);

        // Run again: the repository is not created twice, the push repeats.
        let again = env.run(&request).unwrap();
        assert_eq!(again.status, TakeoverStatus::AlreadyTakenOver);
        assert!(again.pushed);
        assert!(!again.github.unwrap().created);
        assert_eq!(server.requests().len(), 2, "no second POST");
    }

    #[test]
    fn github_name_taken_keeps_the_local_result_and_suggests_remote() {
        let mut env = Env::new();
        let server = FakeGithub::start(|r| {
            match r.method.as_str() {
            "GET" => (200, r#"{"login":"octo"}"#.into()),
            _ => (
                422,
                r#"{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name","message":"name already exists on this account"}]}"#.into(),
            ),
        }
        });
        let (repo, request) = github_request(&mut env, Some(&server));
        let report = env.run(&request).unwrap();
        assert!(!report.pushed);
        let failure = report.remote_failure.as_ref().unwrap();
        assert!(
            matches!(
                failure,
                TakeoverError::Github(GithubError::NameTaken { .. })
            ),
            "{failure:?}"
        );
        assert!(
            failure
                .hint()
                .contains("--remote https://github.com/octo/shop.git")
                || failure.hint().contains("--remote"),
            "{}",
            failure.hint()
        );
        let github = report.github.clone().unwrap();
        assert!(!github.created);
        assert!(github.error.unwrap().contains("already exists"));
        assert_eq!(report.remote, None);
        assert_eq!(env.baselines(&repo).len(), 1);
        assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
        assert_no_token(&env, &repo, &report);
    }

    #[test]
    fn github_bad_credentials_keep_the_local_result_and_never_show_the_token() {
        let mut env = Env::new();
        let server = FakeGithub::start(|_| (401, r#"{"message":"Bad credentials"}"#.into()));
        let (repo, request) = github_request(&mut env, Some(&server));
        let report = env.run(&request).unwrap();
        assert!(!report.pushed);
        assert!(matches!(
            report.remote_failure,
            Some(TakeoverError::Github(GithubError::BadCredentials { .. }))
        ));
        assert_eq!(
            store::workspaces::find(&env.store.conn, "app")
                .unwrap()
                .unwrap()
                .storage_type,
            StorageType::Git
        );
        assert_eq!(
            server.requests()[0].header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_no_token(&env, &repo, &report);
    }

    #[test]
    fn github_without_a_token_is_refused_before_anything_is_written() {
        let mut env = Env::new();
        let (repo, request) = github_request(&mut env, None);
        let err = env.run(&request).unwrap_err();
        assert!(
            matches!(err, TakeoverError::Github(GithubError::NoToken)),
            "{err:?}"
        );
        assert!(!repo.exists());
        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
    }

    #[test]
    fn credentials_in_remote_urls_are_never_repeated() {
        assert_eq!(
            redact("https://me:s3cret@github.com/acme/shop.git"),
            "https://***@github.com/acme/shop.git"
        );
        assert_eq!(
            redact("https://github.com/acme/shop.git"),
            "https://github.com/acme/shop.git"
        );
        assert_eq!(
            redact("git@github.com:acme/shop.git"),
            "git@github.com:acme/shop.git"
        );
        assert_eq!(redact("file:///tmp/a@b/x.git"), "file:///tmp/a@b/x.git");
    }
}
