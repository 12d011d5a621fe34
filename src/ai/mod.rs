//! Talking to models: the providers' wire formats, what their failures
//! mean, and the `ask` job that turns a request into a stored patch.
//!
//! - [`sse`]: server-sent events, decoded whatever the chunking.
//! - [`wire`]: the three streamed reply formats (OpenAI Responses,
//!   Anthropic Messages, Chat Completions) into one [`wire::Reply`].
//! - [`client`]: one streamed call: endpoint and key from the environment,
//!   the request body, connect and idle timeouts.
//! - [`context`]: files, ranges and the workspace map within a token
//!   budget, secrets kept out; similar names for duplicate warnings.
//! - [`feedback`]: the follow-up that sends rejected hunks and their
//!   reasons back to the model.
//! - [`fix`]: what a failed build or test asks the model: its log's tail
//!   and the files its error lines name.
//! - [`failure`]: an HTTP failure read into retry-after, backoff or stop,
//!   with what the user can do.
//! - [`pricing`]: dollars per million tokens per model, bundled and
//!   editable.
//! - [`prompt`]: the versioned prompt files and what a follow-up says of
//!   an edit that did not apply.
//! - [`ask`]: the `ask` job kind: context, streamed call, retries,
//!   recovery rounds, the stored patch and what every call cost.
//! - [`usage`]: the session calls are recorded under, and the totals of
//!   `kollega usage`.

pub(crate) mod ask;
pub(crate) mod client;
pub(crate) mod context;
pub(crate) mod failure;
pub(crate) mod feedback;
pub(crate) mod fix;
pub(crate) mod pricing;
pub(crate) mod prompt;
pub(crate) mod sse;
pub(crate) mod usage;
pub(crate) mod wire;
