//! Regulation watch: pages and feeds (`kollega watch add URL --every 6h`)
//! fetched by a `watch` job when their period is up (enqueued by
//! `jobs::routine`), asked conditionally (ETag, Last-Modified). What is
//! kept is the content as text lines, so versions compare line by line:
//! an RSS or Atom feed as one line per item (date, title, link), a page
//! as its text (scripts, styles and tags dropped, one line per block),
//! anything else as it came. A content that differs from the newest
//! stored is a new version; `kollega watch diff` shows two versions as a
//! unified diff. A failed fetch is retried by the jobs engine with its
//! backoff, recorded on the watch with its cause, and the job is dead after
//! its last try. A page is read in the charset its `Content-Type` names,
//! and kept lossily when its bytes are not valid in it (`charset`).
//!
//! A watch with summaries on (`--summarize`) gets, for each new version
//! after its first, a `watch-summary` job (`summary`): the AI summary of
//! the change, asked apart from the fetch so each is retried on its own.

use std::sync::LazyLock;

use quick_xml::Reader;
use quick_xml::events::Event;
use regex::Regex;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::MeetingsError;
use super::import::{self, Raw};
use crate::ai::ask::{self, Env, say};
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::runner::Clock;
use crate::jobs::{JobError, JobKind};
use crate::store::meetings::watches;

mod charset;
mod summary;

pub(crate) use charset::decode;
pub(crate) use summary::{SummaryJob, SummaryPayload};

/// The job kind's name.
pub(crate) const WATCH: &str = "watch";

/// `watch`: one fetch of watch `watch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WatchPayload {
    pub watch: i64,
}

impl JobPayload for WatchPayload {
    fn kind() -> JobKind {
        JobKind::Other(WATCH.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let watch: Option<i64> = f.get("watch")?;
        Ok(WatchPayload {
            watch: watch.ok_or_else(|| f.problem("watch", "is missing"))?,
        })
    }
}

/// One item of a feed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Item {
    title: String,
    link: String,
    date: String,
}

/// `name`'s local part, lowercased: `atom:entry` is `entry`.
fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase()
}

/// An Atom `<link href>` as the item's link, unless it has one.
fn take_href(e: &quick_xml::events::BytesStart<'_>, item: &mut Option<Item>) {
    if let Some(it) = item.as_mut()
        && it.link.is_empty()
        && let Ok(Some(href)) = e.try_get_attribute("href")
        && let Ok(value) = href.normalized_value(quick_xml::XmlVersion::Implicit1_0)
    {
        it.link = value.into_owned();
    }
}

/// An RSS or Atom feed as lines: its title, then one line per item. `None`
/// when `text` is not a feed.
fn feed(text: &str) -> Option<String> {
    let mut reader = Reader::from_str(text);
    // Untrimmed: text around an entity (`a &amp; b`) keeps its spaces;
    // lines are collapsed at the end.
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut title = String::new();
    let mut items: Vec<Item> = Vec::new();
    let mut item: Option<Item> = None;
    let mut is_feed = false;
    loop {
        let event = reader.read_event().ok()?;
        let text_of = |s: &str, item: &mut Option<Item>, title: &mut String, path: &[String]| {
            let field = path.last().map(String::as_str).unwrap_or_default();
            match item {
                Some(it) => match field {
                    "title" => it.title.push_str(s),
                    "link" => it.link.push_str(s),
                    "pubdate" | "updated" | "published" | "date" => it.date.push_str(s),
                    _ => {}
                },
                None if field == "title" && path.len() <= 3 => title.push_str(s),
                None => {}
            }
        };
        match event {
            Event::Start(e) => {
                let name = local(e.local_name().as_ref());
                if path.is_empty() {
                    is_feed = matches!(name.as_str(), "rss" | "feed" | "rdf");
                    if !is_feed {
                        return None;
                    }
                }
                if matches!(name.as_str(), "item" | "entry") {
                    item = Some(Item::default());
                }
                if name == "link" {
                    take_href(&e, &mut item);
                }
                path.push(name);
            }
            Event::Empty(e) => {
                let name = local(e.local_name().as_ref());
                if name == "link" {
                    take_href(&e, &mut item);
                }
            }
            Event::End(e) => {
                let name = local(e.local_name().as_ref());
                if matches!(name.as_str(), "item" | "entry")
                    && let Some(it) = item.take()
                {
                    items.push(it);
                }
                path.pop();
            }
            Event::Text(t) => {
                let raw = t.into_inner();
                let s = quick_xml::escape::unescape(&raw).unwrap_or(raw.clone());
                text_of(&s, &mut item, &mut title, &path);
            }
            Event::CData(t) => text_of(&t.into_inner(), &mut item, &mut title, &path),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match r.into_inner().as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        _ => String::new(),
                    },
                };
                text_of(&resolved, &mut item, &mut title, &path);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !is_feed {
        return None;
    }
    let mut out = format!("# {}\n", one_line(&title));
    for it in items {
        let mut line = format!("- {}", one_line(&it.title));
        if !it.date.trim().is_empty() {
            line = format!("- {} | {}", one_line(&it.date), one_line(&it.title));
        }
        if !it.link.trim().is_empty() {
            line.push_str(&format!(" <{}>", it.link.trim()));
        }
        out.push_str(&line);
        out.push('\n');
    }
    Some(out)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

static SCRIPTS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->").ok()
});
static BLOCKS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|section|article|header|footer|title)\s*>").ok()
});
static TAGS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?s)<[^>]*>").ok());

/// An HTML page as its text, one line per block.
fn page(html: &str) -> String {
    let strip = |re: &LazyLock<Option<Regex>>, text: &str, with: &str| -> String {
        match re.as_ref() {
            Some(re) => re.replace_all(text, with).into_owned(),
            None => text.to_string(),
        }
    };
    let text = strip(&SCRIPTS, html, "");
    let text = strip(&BLOCKS, &text, "\n");
    let text = strip(&TAGS, &text, "");
    let text = quick_xml::escape::unescape(&text)
        .map(|t| t.into_owned())
        .unwrap_or_else(|_| {
            text.replace("&nbsp;", " ")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        });
    let mut out = String::new();
    for line in text.lines().map(one_line).filter(|l| !l.is_empty()) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// What is kept of a fetched body: a feed's items, a page's text, or the
/// text as it came.
pub(crate) fn content(body: &str) -> String {
    let head = body
        .trim_start()
        .get(..512)
        .unwrap_or(body.trim_start())
        .to_ascii_lowercase();
    if (head.starts_with("<?xml") || head.starts_with("<rss") || head.starts_with("<feed"))
        && let Some(items) = feed(body)
    {
        return items;
    }
    if head.contains("<html") || head.starts_with("<!doctype") {
        return page(body);
    }
    let mut out = body.replace("\r\n", "\n");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The hex SHA-256 of `content`.
fn hash(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Checks a URL to watch: http or https.
pub(crate) fn url_of(url: &str) -> Result<String, MeetingsError> {
    let url = url.trim();
    let bad = |reason: &str| MeetingsError::Fetch {
        url: url.to_string(),
        reason: reason.into(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("watch an http or https address"));
    }
    Ok(url.to_string())
}

/// Two versions' contents as a unified diff (`old` first), empty when
/// they are equal.
pub(crate) fn diff(old: &str, new: &str, name: &str) -> String {
    if old == new {
        return String::new();
    }
    crate::patch::texts::diff_texts(old, new, name).to_unified()
}

/// Whether summaries can be asked of the provider `[ai]` names: `Err`
/// with what is missing (its key) and what to do.
pub(crate) fn summaries_possible(ai: &crate::config::AiConfig, env: &Env) -> Result<(), String> {
    ask::endpoint_for(ai, None, None, env)
        .map(|_| ())
        .map_err(|e| e.message)
}

/// The `watch` kind.
pub(crate) struct WatchJob {
    clock: Clock,
    /// Where the provider's key is read, to know whether a summary can
    /// be asked.
    env: Env,
}

impl WatchJob {
    /// Keys from the process's environment.
    pub(crate) fn new() -> WatchJob {
        WatchJob::with(std::sync::Arc::new(|name| std::env::var(name).ok()))
    }

    pub(crate) fn with(env: Env) -> WatchJob {
        WatchJob {
            clock: Clock::System,
            env,
        }
    }
}

impl Kind for WatchJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(WATCH.into())
    }

    /// A site's passing trouble is retried with the engine's backoff.
    fn max_attempts(&self) -> u32 {
        4
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let (clock, env) = (self.clock, self.env.clone());
        Box::pin(async move { fetch_once(ctx, clock, env).await })
    }
}

async fn fetch_once(ctx: JobContext, clock: Clock, env: Env) -> Result<Value, JobError> {
    let id = WatchPayload::of(&ctx.job)?.watch;
    let Some(watch) = ctx
        .db
        .call(move |store| Ok(watches::get(&store.conn, id)?))
        .await
        .map_err(JobError::from_store)?
    else {
        say(&ctx, &format!("watch {id} was removed: nothing to fetch"));
        return Ok(json!({ "watch": id, "removed": true }));
    };
    let fetched = import::fetch_bytes(
        &watch.url,
        watch.etag.as_deref(),
        watch.last_modified.as_deref(),
    )
    .await;
    let now = clock.now();
    match fetched {
        Err(e) => {
            let why = match e {
                MeetingsError::Fetch { reason, .. } => reason,
                other => other.to_string(),
            };
            let logged = why.clone();
            ctx.db
                .call(move |store| Ok(watches::fetched(&store.conn, id, None, Some(&logged), now)?))
                .await
                .map_err(JobError::from_store)?;
            Err(JobError::transient(format!(
                "cannot fetch watch {id} ({}): {why}; tried {} of {} times (`kollega jobs retry {}` tries again)",
                import::shown_url(&watch.url),
                ctx.job.attempt,
                ctx.job.max_attempts,
                ctx.job.id
            )))
        }
        Ok(Raw::NotModified) => {
            ctx.db
                .call(move |store| Ok(watches::fetched(&store.conn, id, None, None, now)?))
                .await
                .map_err(JobError::from_store)?;
            say(&ctx, &format!("watch {id}: not modified"));
            Ok(json!({ "watch": id, "changed": false }))
        }
        Ok(Raw::Body {
            bytes,
            content_type,
            etag,
            last_modified,
        }) => {
            let kept = content(&decode(&bytes, content_type.as_deref()));
            let digest = hash(&kept);
            let lines = kept.lines().count();
            // A change to summarize needs a version before it, and a
            // provider to ask; without one the log says so and no job waits.
            let summarize = watch.summarize && watch.versions > 0;
            let can_ask = summarize
                .then(|| summaries_possible(&ctx.config.ai, &env))
                .transpose();
            if let Err(why) = &can_ask {
                say(
                    &ctx,
                    &format!("watch {id}: no summary of this change is asked: {why}"),
                );
            }
            let ask_summary = matches!(can_ask, Ok(Some(())));
            let (version, summary_job) = ctx
                .db
                .call(move |store| {
                    let tx = store.conn.transaction()?;
                    let v = watches::add_version(&tx, id, &kept, &digest, now)?;
                    watches::fetched(
                        &tx,
                        id,
                        Some((etag.as_deref(), last_modified.as_deref())),
                        None,
                        now,
                    )?;
                    let job = match v {
                        Some(version) if ask_summary => {
                            let payload = SummaryPayload {
                                watch: id,
                                version,
                                provider: None,
                                model: None,
                            };
                            Some(crate::store::jobs::enqueue_in(
                                &tx,
                                &payload.job(None),
                                now,
                            )?)
                        }
                        _ => None,
                    };
                    tx.commit()?;
                    Ok((v, job))
                })
                .await
                .map_err(JobError::from_store)?;
            match (version, summary_job) {
                (Some(v), Some(job)) => say(
                    &ctx,
                    &format!(
                        "watch {id}: new version {v} ({lines} lines); job {job} summarizes the change"
                    ),
                ),
                (Some(v), None) => say(
                    &ctx,
                    &format!("watch {id}: new version {v} ({lines} lines)"),
                ),
                (None, _) => say(&ctx, &format!("watch {id}: unchanged")),
            }
            Ok(json!({
                "watch": id,
                "changed": version.is_some(),
                "version": version,
                "summaryJob": summary_job,
            }))
        }
    }
}

#[cfg(test)]
mod tests;
