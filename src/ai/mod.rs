//! Talking to models: the providers' wire formats, what their failures
//! mean, and (as the pieces land) the requests an `ask` job sends.
//!
//! - [`sse`]: server-sent events, decoded whatever the chunking.
//! - [`wire`]: the three streamed reply formats (OpenAI Responses,
//!   Anthropic Messages, Chat Completions) into one [`wire::Reply`].
//! - [`failure`]: an HTTP failure read into retry-after, backoff or stop,
//!   with what the user can do.

pub(crate) mod failure;
pub(crate) mod sse;
pub(crate) mod wire;
