//! The audit log's hash chain. Each entry's hash covers its own content and the previous entry's
//! hash, so an edited, deleted, inserted or reordered entry breaks every hash after it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sm3::Sm3;
use utoipa::ToSchema;

/// The hash of the (empty) chain before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgo {
    #[default]
    Sha256,
    /// GB/T 32905, the national standard.
    Sm3,
}

impl HashAlgo {
    pub fn code(self) -> &'static str {
        match self {
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sm3 => "sm3",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(HashAlgo::Sha256),
            "sm3" => Some(HashAlgo::Sm3),
            _ => None,
        }
    }

    pub fn hex(self, data: &[u8]) -> String {
        match self {
            HashAlgo::Sha256 => hex::encode(Sha256::digest(data)),
            HashAlgo::Sm3 => hex::encode(Sm3::digest(data)),
        }
    }
}

/// What an audit entry says. Serialised in this field order to compute the hash, so the order is
/// part of the on-disk format: never reorder, only append fields with a new format version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditContent<'a> {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor: &'a str,
    pub ip: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub outcome: &'a str,
    /// The detail as stored: JSON text, hashed byte for byte.
    pub detail: &'a str,
}

impl AuditContent<'_> {
    pub fn hash(&self, algo: HashAlgo, prev_hash: &str) -> String {
        // serde_json writes struct fields in declaration order, so this is canonical.
        let body = serde_json::to_vec(self).unwrap_or_default();
        let mut data = Vec::with_capacity(body.len() + prev_hash.len() + 1);
        data.extend_from_slice(prev_hash.as_bytes());
        data.push(b'\n');
        data.extend_from_slice(&body);
        algo.hex(&data)
    }
}

/// Where a chain breaks, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    /// In English.
    pub reason: String,
    /// In Chinese.
    pub reason_zh: String,
}

impl ChainBreak {
    fn new(seq: i64, reason: impl Into<String>, reason_zh: impl Into<String>) -> Self {
        Self { seq, reason: reason.into(), reason_zh: reason_zh.into() }
    }
}

/// Walks entries in order, carrying the previous hash. Feed it every entry, then call `finish`
/// with the chain head's recorded state.
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: String,
    expected_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev_hash: GENESIS.to_owned(), expected_seq: 1 }
    }
}

impl ChainVerifier {
    pub fn check(
        &mut self,
        content: &AuditContent<'_>,
        algo: HashAlgo,
        stored_prev: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        let seq = content.seq;
        if seq != self.expected_seq {
            let n = self.expected_seq;
            return Err(ChainBreak::new(
                seq,
                format!("expected entry {n} here (an entry is missing or out of order)"),
                format!("此处应为第 {n} 条记录（有记录缺失或顺序被改动）"),
            ));
        }
        if stored_prev != self.prev_hash {
            return Err(ChainBreak::new(
                seq,
                "previous-hash link does not match the entry before it",
                "与前一条记录的哈希链接不符",
            ));
        }
        if content.hash(algo, stored_prev) != stored_hash {
            return Err(ChainBreak::new(
                seq,
                "content does not match its hash (the entry was altered)",
                "内容与其哈希值不符（记录被篡改）",
            ));
        }
        self.prev_hash = stored_hash.to_owned();
        self.expected_seq += 1;
        Ok(())
    }

    /// The recorded head must name the last entry seen: otherwise entries were cut off the end.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if head_seq != last || head_hash != self.prev_hash {
            return Err(ChainBreak::new(
                head_seq.max(last + 1),
                format!("chain head records entry {head_seq} but the log ends at {last}"),
                format!("链头记录到第 {head_seq} 条，但日志止于第 {last} 条（末尾记录被删除）"),
            ));
        }
        Ok(last)
    }
}

/// Repeats of one caller's refusal or failed login (the same action, actor and address) are
/// rolled up per window of this many minutes: the first is recorded at once, the others counted
/// beside the chain, and one summary entry appended when the window has closed (decision 0023).
pub const ROLLUP_MINUTES: i64 = 10;

/// The roll-up window an event at `at` falls in, `[start, end)`.
pub fn rollup_window(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    crate::auth::aligned_window(at, ROLLUP_MINUTES)
}

/// At most this many distinct targets are named in a summary.
pub const ROLLUP_TARGETS: usize = 20;

/// What a summary entry says about the repeats it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollupSummary {
    /// The entry recorded at once, whose repeats these are.
    pub first_seq: i64,
    /// How many more times the caller did the same within the window.
    pub repeats: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// The last repeat.
    pub last_at: DateTime<Utc>,
    /// The distinct targets of the first and its repeats (at most [`ROLLUP_TARGETS`]).
    pub targets: Vec<String>,
}

impl RollupSummary {
    /// The summary entry's detail: `{"rollup": {...}}`.
    pub fn detail(&self) -> serde_json::Value {
        serde_json::json!({ "rollup": self })
    }
}

/// Adds a target to a roll-up's list, keeping it short and without duplicates.
pub fn note_target(targets: &mut Vec<String>, target: &str) {
    if targets.len() < ROLLUP_TARGETS && !targets.iter().any(|t| t == target) {
        targets.push(target.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rollup_windows_are_ten_minutes_on_the_clock() {
        let t = Utc.with_ymd_and_hms(2026, 11, 2, 1, 7, 59).single().unwrap_or_default();
        let (s, e) = rollup_window(t);
        assert_eq!(s, Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).single().unwrap_or_default());
        assert_eq!(e, Utc.with_ymd_and_hms(2026, 11, 2, 1, 10, 0).single().unwrap_or_default());
        assert_eq!(rollup_window(e).0, e);
        let mut targets = vec![];
        for i in 0..30 {
            note_target(&mut targets, &format!("/api/v1/x/{}", i % 25));
            note_target(&mut targets, "/api/v1/x/0");
        }
        assert_eq!(targets.len(), ROLLUP_TARGETS);
    }

    #[test]
    fn national_and_international_vectors() {
        assert_eq!(HashAlgo::Sm3.hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(HashAlgo::Sha256.hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    fn entry(seq: i64, detail: &str) -> AuditContent<'_> {
        AuditContent {
            seq,
            at: Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).single().unwrap_or_default(),
            actor_user_id: Some(1),
            actor: "admin",
            ip: "127.0.0.1",
            action: "department.create",
            target_type: "department",
            target_id: "1",
            outcome: "ok",
            detail,
        }
    }

    #[test]
    fn verifier_finds_alteration_gap_and_truncation() {
        for algo in [HashAlgo::Sha256, HashAlgo::Sm3] {
            let d = r#"{"name":"市场监管局"}"#;
            let mut chain = vec![];
            let mut prev = GENESIS.to_string();
            for seq in 1..=3 {
                let h = entry(seq, d).hash(algo, &prev);
                chain.push((seq, prev.clone(), h.clone()));
                prev = h;
            }
            let run = |skip: Option<i64>, tamper: Option<i64>| {
                let mut v = ChainVerifier::default();
                let altered = r#"{"name": "市场监管局"}"#;
                for (seq, p, h) in &chain {
                    if Some(*seq) == skip {
                        continue;
                    }
                    let detail = if Some(*seq) == tamper { altered } else { d };
                    v.check(&entry(*seq, detail), algo, p, h)?;
                }
                v.finish(3, &chain[2].2)
            };
            assert_eq!(run(None, None), Ok(3));
            assert_eq!(run(Some(2), None).unwrap_err().seq, 3);
            assert_eq!(run(None, Some(2)).unwrap_err().seq, 2);
            let mut v = ChainVerifier::default();
            for (seq, p, h) in &chain[..2] {
                v.check(&entry(*seq, d), algo, p, h).unwrap();
            }
            assert_eq!(v.finish(3, &chain[2].2).unwrap_err().seq, 3);
        }
    }
}
