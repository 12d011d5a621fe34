//! Answers asked of a model as JSON and checked against a schema, for
//! briefs and modules alike: the JSON object found in an answer, checks
//! of its texts, and the ask itself, with ONE repair request.
//!
//! [`ask_fitting`] calls the model, reads the answer with the caller's
//! reader (serde with `deny_unknown_fields`, then the caller's checks),
//! and when it does not fit sends it back once with every problem named
//! (`prompts/meetings/repair.v1.md`, recorded as `meetings/repair.v1`).
//! A second answer that does not fit is [`Unfit::Schema`] with its
//! problems, for the caller to fail its job with. Every call goes through
//! [`MeetingModel`], so both are recorded and costed with the meeting.

use super::model::MeetingModel;
use crate::ai::ask;
use crate::ai::client::Message;
use crate::jobs::JobError;
use crate::jobs::kinds::JobContext;

const REPAIR: &str = include_str!("../../prompts/meetings/repair.v1.md");
/// The repair request's prompt version.
pub(crate) const REPAIR_VERSION: &str = "meetings/repair.v1";

/// Answers sent back with their problems before the ask fails.
pub(crate) const REPAIRS: usize = 1;

/// The JSON object of an answer: the answer itself, or what a code fence
/// or a sentence around it holds.
pub(crate) fn json_of(answer: &str) -> &str {
    let text = answer.trim();
    match (text.find('{'), text.rfind('}')) {
        (Some(start), Some(end)) if start < end => &text[start..=end],
        _ => text,
    }
}

/// Reads `answer` as a `T` (serde's error as the one problem), then lets
/// `check` add the problems of its fields.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    answer: &str,
    check: impl FnOnce(&T, &mut Vec<String>),
) -> Result<T, Vec<String>> {
    let value: T = serde_json::from_str(json_of(answer)).map_err(|e| vec![e.to_string()])?;
    let mut problems = Vec::new();
    check(&value, &mut problems);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems)
    }
}

/// Adds a problem when the text at `at` is empty or longer than `max`
/// characters.
pub(crate) fn check_text(problems: &mut Vec<String>, at: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        problems.push(format!("{at} is empty"));
    } else if text.chars().count() > max {
        problems.push(format!("{at} is longer than {max} characters"));
    }
}

/// Adds a problem when the list `name` holds more than `max` items.
pub(crate) fn check_count(problems: &mut Vec<String>, name: &str, len: usize, max: usize) {
    if len > max {
        problems.push(format!("{name} has {len} items; at most {max}"));
    }
}

/// What a repair request says of `problems`.
pub(crate) fn repair(problems: &[String]) -> String {
    let list: Vec<String> = problems.iter().map(|p| format!("- {p}")).collect();
    REPAIR.replace("{{problems}}", &list.join("\n"))
}

/// Why [`ask_fitting`] has no answer.
#[derive(Debug)]
pub(crate) enum Unfit {
    /// A call failed (transient or not, as the model said).
    Call(JobError),
    /// The answer still did not fit after the repair request: its problems.
    Schema(Vec<String>),
}

/// An answer that fits, and how many repair requests it took.
#[derive(Debug)]
pub(crate) struct Fitted<T> {
    pub value: T,
    pub repairs: usize,
}

/// Asks `prompt` under `instructions` (recorded as `version`), reading the
/// answer with `read`; an answer that does not fit goes back once with its
/// problems, said in the job's log.
pub(crate) async fn ask_fitting<T>(
    ctx: &JobContext,
    model: &mut MeetingModel<'_>,
    instructions: &str,
    prompt: String,
    version: &'static str,
    read: impl Fn(&str) -> Result<T, Vec<String>>,
) -> Result<Fitted<T>, Unfit> {
    let mut history: Vec<Message> = Vec::new();
    let mut asking = prompt;
    let mut asking_version = version;
    let mut repairs = 0;
    loop {
        let reply = model
            .call(instructions, &history, &asking, asking_version)
            .await
            .map_err(Unfit::Call)?;
        match read(&reply.text) {
            Ok(value) => return Ok(Fitted { value, repairs }),
            Err(problems) if repairs < REPAIRS => {
                repairs += 1;
                ask::say(
                    ctx,
                    &format!(
                        "the answer does not fit the schema ({}); asking once more",
                        problems.join("; ")
                    ),
                );
                history.push(Message {
                    assistant: false,
                    text: std::mem::take(&mut asking),
                });
                history.push(Message {
                    assistant: true,
                    text: reply.text,
                });
                asking = repair(&problems);
                asking_version = REPAIR_VERSION;
            }
            Err(problems) => return Err(Unfit::Schema(problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_object_is_found_inside_a_fence_or_a_sentence() {
        assert_eq!(json_of("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(json_of("Here it is: {\"a\": {}} done"), "{\"a\": {}}");
        assert_eq!(json_of("no object"), "no object");
    }

    #[test]
    fn parse_names_every_problem_and_serde_errors_come_alone() {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct A {
            text: String,
        }
        let check = |a: &A, p: &mut Vec<String>| check_text(p, "text", &a.text, 5);
        let long = parse::<A>("{\"text\": \"too long\"}", check).err().unwrap();
        assert_eq!(long, vec!["text is longer than 5 characters".to_string()]);
        let unknown = parse::<A>("{\"text\": \"ok\", \"more\": 1}", |_, _| {})
            .err()
            .unwrap();
        assert!(unknown[0].contains("unknown field `more`"), "{unknown:?}");
        assert!(parse::<A>("{\"text\": \"ok\"}", check).is_ok());
        let empty = parse::<A>("{\"text\": \" \"}", check).err().unwrap();
        assert_eq!(empty, vec!["text is empty".to_string()]);
    }

    #[test]
    fn a_repair_request_lists_the_problems() {
        let text = repair(&["summary is empty".into(), "x".into()]);
        assert!(text.contains("- summary is empty\n- x"), "{text}");
        assert!(!text.contains("{{problems}}"));
    }
}
