//! What a call cost: the bundled price table (`pricing.toml` beside this
//! file), overridden entry by entry by the user's `pricing.toml` in the
//! config directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::wire::Usage;
use crate::config::toml_message;
use crate::error::Hint;

const BUNDLED: &str = include_str!("pricing.toml");

/// Dollars per million tokens of one model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Price {
    pub(crate) input: f64,
    pub(crate) cached_input: f64,
    pub(crate) output: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default)]
    models: BTreeMap<String, Price>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Pricing {
    models: BTreeMap<String, Price>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PricingError {
    #[error("cannot read the price table {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the price table {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Hint for PricingError {
    fn hint(&self) -> String {
        "fix the file (each model: [models.\"NAME\"] with input, cached_input and output in dollars per million tokens) or move it aside".into()
    }
}

impl Pricing {
    /// The bundled table with the user's file at `user` (if it exists)
    /// laid over it.
    pub(crate) fn load(user: &Path) -> Result<Pricing, PricingError> {
        let mut pricing = Pricing::bundled();
        let text = match std::fs::read_to_string(user) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(pricing),
            Err(source) => {
                return Err(PricingError::Read {
                    path: user.to_path_buf(),
                    source,
                });
            }
        };
        let table = parse(&text).map_err(|message| PricingError::Parse {
            path: user.to_path_buf(),
            message,
        })?;
        pricing.models.extend(table.models);
        Ok(pricing)
    }

    pub(crate) fn bundled() -> Pricing {
        // The bundled table is a constant checked by a test; a damaged
        // build would show no prices rather than fail.
        let models = parse(BUNDLED).map(|t| t.models).unwrap_or_default();
        Pricing { models }
    }

    /// The price of `model`: its own entry, or the longest entry its name
    /// starts with.
    pub(crate) fn price(&self, model: &str) -> Option<Price> {
        if let Some(price) = self.models.get(model) {
            return Some(*price);
        }
        self.models
            .iter()
            .filter(|(name, _)| {
                model
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with(['-', '@', ':']))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| *price)
    }

    /// What `usage` of `model` cost in dollars; `None` when the model has
    /// no price.
    pub(crate) fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        let price = self.price(model)?;
        let fresh = usage.input.saturating_sub(usage.cached) as f64;
        let total = fresh * price.input
            + usage.cached as f64 * price.cached_input
            + usage.output as f64 * price.output;
        Some(total / 1_000_000.0)
    }
}

fn parse(text: &str) -> Result<Table, String> {
    let table: Table = toml::from_str(text).map_err(|e| toml_message(text, &e))?;
    for (name, price) in &table.models {
        let fields = [price.input, price.cached_input, price.output];
        if fields.iter().any(|p| !p.is_finite() || *p < 0.0) {
            return Err(format!(
                "model {name:?}: prices must be zero or more dollars"
            ));
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_parses_and_prices_dated_model_names() {
        let table = parse(BUNDLED).unwrap();
        assert!(table.models.len() >= 8);
        let pricing = Pricing::bundled();
        let sonnet = pricing.price("claude-sonnet-4-5-20250929").unwrap();
        assert_eq!(sonnet.output, 15.0);
        // The longest matching entry wins: gpt-5-mini is not gpt-5.
        assert_eq!(pricing.price("gpt-5-mini-2025-08-07").unwrap().output, 2.0);
        assert_eq!(pricing.price("gpt-5x"), None);
        assert_eq!(pricing.price("mystery-model"), None);
    }

    #[test]
    fn cached_tokens_are_priced_apart_and_unknown_models_have_no_cost() {
        let pricing = Pricing::bundled();
        let usage = Usage {
            input: 1_000_000,
            output: 100_000,
            cached: 400_000,
        };
        // 600k fresh × 3 + 400k cached × 0.3 + 100k out × 15, per million.
        let cost = pricing.cost("claude-sonnet-4-5", &usage).unwrap();
        assert!((cost - (1.8 + 0.12 + 1.5)).abs() < 1e-9, "{cost}");
        assert_eq!(pricing.cost("mystery-model", &usage), None);
    }

    #[test]
    fn the_users_table_overrides_entries_and_bad_files_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pricing.toml");
        assert!(Pricing::load(&path).unwrap().price("gpt-5").is_some());
        std::fs::write(
            &path,
            "[models.\"gpt-5\"]\ninput = 1.0\ncached_input = 0.1\noutput = 9.0\n\n[models.\"my-llm\"]\ninput = 0\ncached_input = 0\noutput = 0\n",
        )
        .unwrap();
        let pricing = Pricing::load(&path).unwrap();
        assert_eq!(pricing.price("gpt-5").unwrap().output, 9.0);
        assert_eq!(pricing.price("my-llm").unwrap().input, 0.0);
        assert!(pricing.price("claude-opus-4-1").is_some());
        std::fs::write(
            &path,
            "[models.\"x\"]\ninput = 1\ncached_input = 1\noutptu = 2\n",
        )
        .unwrap();
        let err = Pricing::load(&path).unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("outptu"), "{err}");
        std::fs::write(
            &path,
            "[models.\"x\"]\ninput = -1\ncached_input = 1\noutput = 2\n",
        )
        .unwrap();
        let err = Pricing::load(&path).unwrap_err().to_string();
        assert!(err.contains("zero or more"), "{err}");
    }
}
