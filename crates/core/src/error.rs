//! A rule broken by input: which field, a stable code, and the message in both languages.

use serde::Serialize;

/// One field that failed validation. Messages are written next to the rule that produces them so
/// the Chinese and English texts cannot drift apart from the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {code}")]
pub struct ValidationError {
    pub field: String,
    pub code: &'static str,
    #[serde(skip)]
    pub zh: String,
    #[serde(skip)]
    pub en: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { field: field.into(), code, zh: zh.into(), en: en.into() }
    }

    pub fn message(&self, english: bool) -> &str {
        if english { &self.en } else { &self.zh }
    }
}
