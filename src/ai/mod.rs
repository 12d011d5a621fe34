//! Talking to models: the providers' wire formats, what their failures
//! mean, and (as the pieces land) the requests an `ask` job sends.
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

pub(crate) mod client;
pub(crate) mod context;
pub(crate) mod failure;
pub(crate) mod feedback;
pub(crate) mod fix;
pub(crate) mod pricing;
pub(crate) mod sse;
pub(crate) mod wire;
