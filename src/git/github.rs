//! GitHub's REST API, as much of it as a takeover needs: create a private
//! repository for the authenticated user or for an organization.
//!
//! The entry points block: each builds a small tokio runtime around
//! reqwest's async client, so call them from a plain thread, never from
//! inside a runtime. The token travels in one request header marked
//! sensitive and nowhere else: not in an error, a log line, a URL or the
//! store. The API base URL comes from `KOLLEGA_GITHUB_API_URL` so tests can
//! point it at a local server and GitHub Enterprise users at
//! `https://HOST/api/v3`. Who counts the requests (`kollega metrics`) is
//! the caller's business: it hands the API a [`RequestObserver`].

use crate::error::Hint;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use serde::Deserialize;

/// Where the token is read from.
pub(crate) const TOKEN_ENV: &str = "GITHUB_TOKEN";
/// Overrides the API base URL (tests, GitHub Enterprise).
pub(crate) const API_URL_ENV: &str = "KOLLEGA_GITHUB_API_URL";
pub(crate) const DEFAULT_API_URL: &str = "https://api.github.com";

const API_VERSION: &str = "2022-11-28";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub(crate) enum GithubError {
    #[error("no GitHub token: {TOKEN_ENV} is not set")]
    NoToken,
    #[error("{value:?} is not a GitHub repository name: {why}")]
    BadName { value: String, why: &'static str },
    #[error("{API_URL_ENV}={url:?} is not an http(s) URL")]
    BadApiUrl { url: String },
    #[error("GitHub at {api} rejected the token (401 Bad credentials)")]
    BadCredentials { api: String },
    #[error("GitHub refused to create {repo} (403): {message}")]
    Forbidden { repo: String, message: String },
    #[error("GitHub has no organization {owner:?} that this token can see (404)")]
    OwnerNotFound { owner: String },
    #[error("a repository named {repo} already exists on GitHub (422)")]
    NameTaken { repo: String, url: String },
    #[error("GitHub answered {status} to {what}: {message}")]
    Rejected {
        what: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach GitHub at {api}: {message}")]
    Unreachable { api: String, message: String },
    #[error("GitHub's answer to {what} is not what its API documents: {message}")]
    BadResponse { what: String, message: String },
    #[error("cannot start the HTTP client: {message}")]
    Client { message: String },
}

impl Hint for GithubError {
    fn hint(&self) -> String {
        match self {
            GithubError::NoToken => format!(
                "set {TOKEN_ENV} to a token that may create repositories (classic: `repo` scope; fine-grained: Administration read and write)"
            ),
            GithubError::BadName { .. } => {
                "pass --github OWNER/NAME, e.g. --github acme/shop".into()
            }
            GithubError::BadApiUrl { .. } => format!(
                "set {API_URL_ENV} to https://HOST/api/v3 for GitHub Enterprise, or unset it for github.com"
            ),
            GithubError::BadCredentials { .. } => format!(
                "{TOKEN_ENV} is wrong, expired or revoked; create a new token and set it again"
            ),
            GithubError::Forbidden { .. } => {
                "the token lacks the permission to create repositories there (classic: `repo` scope; fine-grained: Administration read and write for that owner), or the organization forbids it".into()
            }
            GithubError::OwnerNotFound { .. } => {
                "check the owner's spelling, and that the token's owner is a member of the organization".into()
            }
            GithubError::NameTaken { url, .. } => format!(
                "to push to the existing repository pass --remote {url} --push instead of --github; or pick another name"
            ),
            GithubError::Rejected { .. } | GithubError::BadResponse { .. } => {
                "see GitHub's message; the local takeover is kept, run again to retry".into()
            }
            GithubError::Unreachable { .. } => format!(
                "check the network (and {API_URL_ENV} if set); the local takeover is kept, run again to retry"
            ),
            GithubError::Client { .. } => "run again; if it persists, report a bug".into(),
        }
    }
}

/// `OWNER/NAME` of a GitHub repository, checked against GitHub's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoName {
    pub owner: String,
    pub name: String,
}

impl RepoName {
    pub(crate) fn parse(value: &str) -> Result<RepoName, GithubError> {
        let bad = |why| GithubError::BadName {
            value: value.to_string(),
            why,
        };
        let Some((owner, name)) = value.split_once('/') else {
            return Err(bad("it is not OWNER/NAME"));
        };
        let owner_ok = !owner.is_empty()
            && owner.len() <= 39
            && !owner.starts_with('-')
            && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !owner_ok {
            return Err(bad(
                "the owner must be 1 to 39 letters, digits or '-', not starting with '-'",
            ));
        }
        let name = name.strip_suffix(".git").unwrap_or(name);
        let name_ok = !name.is_empty()
            && name.len() <= 100
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(bad(
                "the name must be 1 to 100 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(RepoName {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    pub(crate) fn full(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// A token that never prints.
struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// A repository GitHub created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CreatedRepo {
    pub full_name: String,
    pub html_url: String,
    pub clone_url: String,
    pub ssh_url: String,
}

/// One request to GitHub's API, as a [`RequestObserver`] is told of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RequestRecord {
    /// The HTTP status as digits (`"201"`), or `"error"` when no answer
    /// came.
    pub(crate) outcome: String,
    pub(crate) seconds: f64,
}

/// Told of every request a [`GithubApi`] makes, after it ended. It runs on
/// a blocking thread, so it may write to the store.
#[derive(Clone)]
pub(crate) struct RequestObserver(Arc<dyn Fn(RequestRecord) + Send + Sync>);

impl RequestObserver {
    pub(crate) fn new(observe: impl Fn(RequestRecord) + Send + Sync + 'static) -> RequestObserver {
        RequestObserver(Arc::new(observe))
    }
}

impl std::fmt::Debug for RequestObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestObserver")
    }
}

/// GitHub's API at one base URL with one token.
#[derive(Debug)]
pub(crate) struct GithubApi {
    base: String,
    token: Token,
    observer: Option<RequestObserver>,
}

#[derive(Deserialize)]
struct User {
    login: String,
}

/// GitHub's error body: `{"message", "errors": [{"message", "code", …}]}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

impl ErrorBody {
    fn parse(body: &str) -> ErrorBody {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// GitHub's message with the details it lists, on one line.
    fn text(&self) -> String {
        let details: Vec<String> = self
            .errors
            .iter()
            .filter_map(|e| {
                e.message.clone().or_else(|| {
                    Some(format!(
                        "{} {}",
                        e.field.as_deref().unwrap_or("?"),
                        e.code.as_deref()?
                    ))
                })
            })
            .collect();
        match (self.message.is_empty(), details.is_empty()) {
            (true, true) => "no message".into(),
            (false, true) => self.message.clone(),
            (true, false) => details.join("; "),
            (false, false) => format!("{} ({})", self.message, details.join("; ")),
        }
    }

    fn says_name_exists(&self) -> bool {
        self.errors.iter().any(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.contains("already exists"))
        }) || self.message.contains("already exists")
    }
}

impl GithubApi {
    /// The API at `base` (default github.com's) with `token`, both as read
    /// from the environment by the caller.
    pub(crate) fn new(base: Option<&str>, token: Option<&str>) -> Result<GithubApi, GithubError> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(GithubError::NoToken)?;
        let base = base
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .unwrap_or(DEFAULT_API_URL)
            .trim_end_matches('/')
            .to_string();
        let parsed =
            reqwest::Url::parse(&base).map_err(|_| GithubError::BadApiUrl { url: base.clone() })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(GithubError::BadApiUrl { url: base });
        }
        Ok(GithubApi {
            base,
            token: Token(token.to_string()),
            observer: None,
        })
    }

    /// Tells `observer` of every request from now on.
    pub(crate) fn observed_by(mut self, observer: RequestObserver) -> GithubApi {
        self.observer = Some(observer);
        self
    }

    /// The https URL a user would clone `repo` from on this GitHub, for
    /// advice: `https://github.com/O/N.git`, or `https://HOST/O/N.git` for
    /// an Enterprise API at `https://HOST/api/v3`.
    pub(crate) fn web_clone_url(&self, repo: &RepoName) -> String {
        let web = if self.base == DEFAULT_API_URL {
            "https://github.com".to_string()
        } else {
            self.base
                .strip_suffix("/api/v3")
                .unwrap_or(&self.base)
                .to_string()
        };
        format!("{web}/{}.git", repo.full())
    }

    /// The host of the web URLs, whose https remotes take the token.
    pub(crate) fn web_host(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.web_clone_url(&RepoName {
            owner: "o".into(),
            name: "n".into(),
        }))
        .ok()?;
        url.host_str().map(str::to_string)
    }

    /// The token, for a `git push` credential helper's environment only.
    pub(crate) fn token_for_git(&self) -> &str {
        &self.token.0
    }

    /// Creates the private repository `repo`: under the authenticated user
    /// when `repo.owner` is its login, else under that organization.
    pub(crate) fn create_private_repo(
        &self,
        repo: &RepoName,
        description: &str,
    ) -> Result<CreatedRepo, GithubError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| GithubError::Client {
                message: e.to_string(),
            })?;
        runtime.block_on(self.create(repo, description))
    }

    fn client(&self) -> Result<reqwest::Client, GithubError> {
        let mut headers = HeaderMap::new();
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", self.token.0)).map_err(|_| {
                GithubError::Client {
                    message: format!("{TOKEN_ENV} holds characters a header cannot carry"),
                }
            })?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "X-GitHub-Api-Version",
            HeaderValue::from_static(API_VERSION),
        );
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("kollega/", env!("CARGO_PKG_VERSION"))),
        );
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // A redirect to another host would carry the token along.
            .redirect(reqwest::redirect::Policy::none());
        if self.is_loopback() {
            // A local stand-in must not be reached through a proxy.
            builder = builder.no_proxy();
        }
        builder.build().map_err(|e| GithubError::Client {
            message: e.to_string(),
        })
    }

    fn is_loopback(&self) -> bool {
        reqwest::Url::parse(&self.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
    }

    async fn create(&self, repo: &RepoName, description: &str) -> Result<CreatedRepo, GithubError> {
        let client = self.client()?;
        let (status, body) = self
            .send(client.get(format!("{}/user", self.base)), "GET /user")
            .await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(GithubError::BadCredentials {
                api: self.base.clone(),
            });
        }
        if !status.is_success() {
            return Err(GithubError::Rejected {
                what: "GET /user".into(),
                status: status.as_u16(),
                message: ErrorBody::parse(&body).text(),
            });
        }
        let user: User = serde_json::from_str(&body).map_err(|e| GithubError::BadResponse {
            what: "GET /user".into(),
            message: e.to_string(),
        })?;
        let personal = user.login.eq_ignore_ascii_case(&repo.owner);
        let (path, what) = if personal {
            ("/user/repos".to_string(), "POST /user/repos".to_string())
        } else {
            let path = format!("/orgs/{}/repos", repo.owner);
            let what = format!("POST {path}");
            (path, what)
        };
        let request = client
            .post(format!("{}{path}", self.base))
            .json(&serde_json::json!({
                "name": repo.name,
                "private": true,
                "description": description,
            }));
        let (status, body) = self.send(request, &what).await?;
        tracing::info!(repo = %repo.full(), status = status.as_u16(), "GitHub create repository");
        match status {
            s if s.is_success() => {
                serde_json::from_str(&body).map_err(|e| GithubError::BadResponse {
                    what,
                    message: e.to_string(),
                })
            }
            StatusCode::UNAUTHORIZED => Err(GithubError::BadCredentials {
                api: self.base.clone(),
            }),
            StatusCode::FORBIDDEN => Err(GithubError::Forbidden {
                repo: repo.full(),
                message: ErrorBody::parse(&body).text(),
            }),
            StatusCode::NOT_FOUND if !personal => Err(GithubError::OwnerNotFound {
                owner: repo.owner.clone(),
            }),
            StatusCode::UNPROCESSABLE_ENTITY if ErrorBody::parse(&body).says_name_exists() => {
                Err(GithubError::NameTaken {
                    repo: repo.full(),
                    url: self.web_clone_url(repo),
                })
            }
            s => Err(GithubError::Rejected {
                what,
                status: s.as_u16(),
                message: ErrorBody::parse(&body).text(),
            }),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<(StatusCode, String), GithubError> {
        let unreachable = |e: reqwest::Error| GithubError::Unreachable {
            api: self.base.clone(),
            // reqwest names the URL, never the headers; strip the URL's
            // query anyway so nothing but the endpoint is repeated.
            message: e.without_url().to_string(),
        };
        let started = std::time::Instant::now();
        let answer = async {
            let response = request.send().await.map_err(unreachable)?;
            let status = response.status();
            let body = response.text().await.map_err(unreachable)?;
            Ok::<_, GithubError>((status, body))
        }
        .await;
        if let Some(RequestObserver(observe)) = self.observer.clone() {
            let record = RequestRecord {
                outcome: match &answer {
                    Ok((status, _)) => status.as_u16().to_string(),
                    Err(_) => "error".to_string(),
                },
                seconds: started.elapsed().as_secs_f64(),
            };
            if let Err(e) = tokio::task::spawn_blocking(move || observe(record)).await {
                tracing::warn!(error = %e, "the GitHub request observer failed");
            }
        }
        let (status, body) = answer?;
        tracing::debug!(what, status = status.as_u16(), "GitHub answered");
        Ok((status, body))
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A stand-in for GitHub's API: a hand-rolled HTTP/1.1 server on
    //! 127.0.0.1 that records every request and answers from a script.

    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// One request as the server read it.
    #[derive(Debug, Clone)]
    pub(crate) struct Request {
        pub method: String,
        pub path: String,
        /// Header names lowercased.
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    impl Request {
        pub(crate) fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    type Answer = dyn Fn(&Request) -> (u16, String) + Send + Sync;

    pub(crate) struct FakeGithub {
        pub url: String,
        pub requests: Arc<Mutex<Vec<Request>>>,
    }

    impl FakeGithub {
        /// Serves until the test process ends; `answer` maps each request to
        /// a status and a JSON body.
        pub(crate) fn start(
            answer: impl Fn(&Request) -> (u16, String) + Send + Sync + 'static,
        ) -> FakeGithub {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let requests = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&requests);
            let answer: Arc<Answer> = Arc::new(answer);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let Some(request) = read_request(&mut stream) else {
                        continue;
                    };
                    let (status, body) = answer(&request);
                    seen.lock().unwrap().push(request);
                    let response = format!(
                        "HTTP/1.1 {status} {}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        reason(status),
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes());
                    let _ = stream.flush();
                }
            });
            FakeGithub { url, requests }
        }

        pub(crate) fn requests(&self) -> Vec<Request> {
            self.requests.lock().unwrap().clone()
        }
    }

    fn reason(status: u16) -> &'static str {
        match status {
            200 => "OK",
            201 => "Created",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            422 => "Unprocessable Entity",
            _ => "Whatever",
        }
    }

    /// Reads one HTTP/1.1 request with a `content-length` body.
    pub(crate) fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let mut parts = line.split_whitespace();
        let method = parts.next()?.to_string();
        let path = parts.next()?.to_string();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some(Request {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeGithub;
    use super::*;

    const TOKEN: &str = "ghp_FAKEtokenFAKEtokenFAKEtokenFAKE0123";

    fn created(owner: &str, name: &str) -> String {
        serde_json::json!({
            "full_name": format!("{owner}/{name}"),
            "html_url": format!("https://github.example/{owner}/{name}"),
            "clone_url": format!("https://github.example/{owner}/{name}.git"),
            "ssh_url": format!("git@github.example:{owner}/{name}.git"),
            "private": true,
        })
        .to_string()
    }

    fn github_as(login: &'static str, post: (u16, String)) -> FakeGithub {
        FakeGithub::start(move |r| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/user") => (200, format!("{{\"login\":\"{login}\"}}")),
            ("POST", _) => post.clone(),
            _ => (404, "{\"message\":\"Not Found\"}".into()),
        })
    }

    fn api(server: &FakeGithub) -> GithubApi {
        GithubApi::new(Some(&server.url), Some(TOKEN)).unwrap()
    }

    #[test]
    fn repository_of_the_token_owner_is_created_under_user_repos() {
        let server = github_as("octo", (201, created("octo", "shop")));
        let repo = RepoName::parse("Octo/shop").unwrap();
        let made = api(&server)
            .create_private_repo(&repo, "taken over")
            .unwrap();
        assert_eq!(made.clone_url, "https://github.example/octo/shop.git");
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let post = &requests[1];
        assert_eq!(
            (post.method.as_str(), post.path.as_str()),
            ("POST", "/user/repos")
        );
        let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "shop", "private": true, "description": "taken over"})
        );
        for request in &requests {
            assert_eq!(
                request.header("authorization"),
                Some(format!("Bearer {TOKEN}").as_str())
            );
            assert_eq!(
                request.header("accept"),
                Some("application/vnd.github+json")
            );
            assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
            assert!(
                request
                    .header("user-agent")
                    .is_some_and(|u| u.starts_with("kollega/"))
            );
        }
    }

    #[test]
    fn repository_of_another_owner_is_created_under_its_organization() {
        let server = github_as("octo", (201, created("acme", "shop")));
        let repo = RepoName::parse("acme/shop").unwrap();
        api(&server).create_private_repo(&repo, "d").unwrap();
        assert_eq!(server.requests()[1].path, "/orgs/acme/repos");
    }

    #[test]
    fn the_observer_is_told_of_every_request_and_its_outcome() {
        let server = github_as("octo", (201, created("octo", "shop")));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let api = api(&server).observed_by(RequestObserver::new(move |r| {
            log.lock().unwrap().push(r);
        }));
        api.create_private_repo(&RepoName::parse("octo/shop").unwrap(), "d")
            .unwrap();
        let seen = seen.lock().unwrap();
        let outcomes: Vec<&str> = seen.iter().map(|r| r.outcome.as_str()).collect();
        assert_eq!(outcomes, ["200", "201"]);
        assert!(seen.iter().all(|r| r.seconds >= 0.0));
    }

    #[test]
    fn existing_name_is_reported_with_the_url_to_use_instead() {
        let body = r#"{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name","message":"name already exists on this account"}],"documentation_url":"https://docs.github.com/rest"}"#;
        let server = github_as("octo", (422, body.into()));
        let repo = RepoName::parse("octo/shop").unwrap();
        let err = api(&server).create_private_repo(&repo, "d").unwrap_err();
        assert!(matches!(err, GithubError::NameTaken { .. }), "{err:?}");
        assert!(
            err.to_string().contains("octo/shop already exists"),
            "{err}"
        );
        assert!(err.hint().contains("--remote"), "{}", err.hint());
        assert!(!format!("{err} {} {err:?}", err.hint()).contains(TOKEN));
    }

    #[test]
    fn bad_credentials_are_reported_without_the_token() {
        let server = FakeGithub::start(|_| {
            (
                401,
                r#"{"message":"Bad credentials","documentation_url":"x"}"#.into(),
            )
        });
        let repo = RepoName::parse("octo/shop").unwrap();
        let err = api(&server).create_private_repo(&repo, "d").unwrap_err();
        assert!(matches!(err, GithubError::BadCredentials { .. }), "{err:?}");
        assert_eq!(server.requests().len(), 1, "nothing is posted after a 401");
        assert!(!format!("{err} {} {err:?}", err.hint()).contains(TOKEN));
    }

    #[test]
    fn forbidden_and_unknown_organization_are_told_apart() {
        let server = github_as(
            "octo",
            (
                403,
                r#"{"message":"Resource not accessible by personal access token"}"#.into(),
            ),
        );
        let err = api(&server)
            .create_private_repo(&RepoName::parse("acme/shop").unwrap(), "d")
            .unwrap_err();
        assert!(
            matches!(&err, GithubError::Forbidden { message, .. } if message.contains("not accessible")),
            "{err:?}"
        );
        let server = github_as("octo", (404, r#"{"message":"Not Found"}"#.into()));
        let err = api(&server)
            .create_private_repo(&RepoName::parse("nosuchorg/shop").unwrap(), "d")
            .unwrap_err();
        assert!(matches!(err, GithubError::OwnerNotFound { .. }), "{err:?}");
    }

    #[test]
    fn other_statuses_carry_githubs_message() {
        let server = github_as(
            "octo",
            (
                422,
                r#"{"message":"Validation Failed","errors":[{"field":"name","code":"invalid"}]}"#
                    .into(),
            ),
        );
        let err = api(&server)
            .create_private_repo(&RepoName::parse("octo/shop").unwrap(), "d")
            .unwrap_err();
        assert!(
            matches!(&err, GithubError::Rejected { status: 422, message, .. } if message == "Validation Failed (name invalid)"),
            "{err:?}"
        );
    }

    #[test]
    fn missing_token_and_bad_names_are_refused_before_any_request() {
        assert!(matches!(
            GithubApi::new(None, None),
            Err(GithubError::NoToken)
        ));
        assert!(matches!(
            GithubApi::new(None, Some("  ")),
            Err(GithubError::NoToken)
        ));
        assert!(matches!(
            GithubApi::new(Some("ftp://x"), Some("t")),
            Err(GithubError::BadApiUrl { .. })
        ));
        for bad in [
            "shop",
            "/shop",
            "acme/",
            "ac me/shop",
            "acme/sh op",
            "acme/..",
            "-a/b",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            RepoName::parse("acme/shop.git").unwrap().full(),
            "acme/shop"
        );
    }

    #[test]
    fn enterprise_base_gives_enterprise_clone_urls() {
        let api = GithubApi::new(Some("https://git.acme.test/api/v3/"), Some("t")).unwrap();
        let repo = RepoName::parse("team/shop").unwrap();
        assert_eq!(
            api.web_clone_url(&repo),
            "https://git.acme.test/team/shop.git"
        );
        let public = GithubApi::new(None, Some("t")).unwrap();
        assert_eq!(
            public.web_clone_url(&repo),
            "https://github.com/team/shop.git"
        );
        assert_eq!(public.web_host().as_deref(), Some("github.com"));
        assert!(!format!("{public:?}").contains("\"t\""));
    }
}
