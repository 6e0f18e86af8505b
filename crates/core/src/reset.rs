//! Resetting a forgotten password without handing anyone a working password for another
//! person's account (decision 0025).
//!
//! The system admin asks for a reset and receives one half of a one-time code; the security admin
//! approves it and receives the other half. Only the two halves together, within a day of the
//! approval, let the account's user choose a new password — so neither IT admin alone can take an
//! account over, and every step is in the audit log.

use chrono::{DateTime, Duration, Utc};

use crate::{
    labels,
    workflow::{Decision, Refusal},
};

labelled_enum! {
    /// Where a reset stands.
    ResetState {
        Requested = "requested", "待审批", "awaiting approval";
        Approved = "approved", "已批准", "approved";
        Used = "used", "已使用", "used";
        Cancelled = "cancelled", "已取消", "cancelled";
    }
}

labelled_enum! {
    ResetAction {
        Approve = "approve", "批准", "approve";
        Use = "use", "使用", "use";
        Cancel = "cancel", "取消", "cancel";
    }
}

/// A request waits this long for approval.
pub const REQUEST_VALID: Duration = Duration::hours(72);
/// An approved code works this long.
pub const CODE_VALID: Duration = Duration::hours(24);
/// Wrong codes tried against one reset before it is cancelled.
pub const MAX_ATTEMPTS: i32 = 5;
/// Characters of each half: no 0/O, 1/I/L, so that a code read aloud or copied by hand survives.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in each half (31^10 ≈ 2^49.5 each).
pub const HALF_LEN: usize = 10;

/// Who acts on a reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetActor {
    /// `user:write`: asks for resets and may call them off.
    pub system_admin: bool,
    /// `role:grant`: approves them, and may call them off.
    pub security_admin: bool,
}

/// A reset as its rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetFacts {
    pub state: ResetState,
    pub requested_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

const WHAT: (&str, &str) = ("密码重置", "password reset");

impl ResetFacts {
    /// Past its time: a request not approved in [`REQUEST_VALID`], a code not used in
    /// [`CODE_VALID`].
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        match self.state {
            ResetState::Requested => now >= self.requested_at + REQUEST_VALID,
            ResetState::Approved => self.approved_at.is_none_or(|a| now >= a + CODE_VALID),
            ResetState::Used | ResetState::Cancelled => false,
        }
    }

    /// The state it is in as the user sees it: an expired request or code is as good as called off.
    pub fn effective(&self, now: DateTime<Utc>) -> ResetState {
        if self.expired(now) { ResetState::Cancelled } else { self.state }
    }

    /// Approve: the security admin, while the request waits. Use: whoever holds both halves,
    /// within a day of approval. Cancel: either admin, until it is used.
    pub fn decide(
        &self,
        action: ResetAction,
        who: ResetActor,
        now: DateTime<Utc>,
    ) -> Result<Decision<ResetState>, Refusal> {
        use ResetAction::*;
        use ResetState::*;
        let state = self.effective(now);
        let next = match (state, action) {
            (Requested, Approve) => Approved,
            (Approved, Use) => Used,
            (Requested | Approved, Cancel) => Cancelled,
            _ => return Err(Refusal::by_state(labels!(state), labels!(action), WHAT)),
        };
        let ok = match action {
            Approve => who.security_admin,
            Use => true,
            Cancel => who.system_admin || who.security_admin,
        };
        if !ok {
            return Err(Refusal::by_actor(state.code(), labels!(action), WHAT));
        }
        Ok(Decision::new(next, Vec::new()))
    }

    pub fn allowed_actions(&self, who: ResetActor, now: DateTime<Utc>) -> Vec<ResetAction> {
        [ResetAction::Approve, ResetAction::Cancel].into_iter().filter(|a| self.decide(*a, who, now).is_ok()).collect()
    }

    /// After a wrong code: whether this one used up the last attempt (the reset is then cancelled).
    pub fn exhausted_by_one_more(&self) -> bool {
        self.attempts + 1 >= MAX_ATTEMPTS
    }
}

/// A code as the user typed it: case, spaces and dashes do not matter.
pub fn normalize_code(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A half for display: in groups of five, `ABCDE-FGHJK`.
pub fn show_half(half: &str) -> String {
    let chars: Vec<char> = half.chars().collect();
    chars.chunks(5).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Splits what the user typed into the system admin's half and the security admin's.
pub fn split_code(typed: &str) -> Option<(String, String)> {
    let code = normalize_code(typed);
    (code.len() == 2 * HALF_LEN).then(|| (code[..HALF_LEN].to_owned(), code[HALF_LEN..].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap()
    }

    const SYS: ResetActor = ResetActor { system_admin: true, security_admin: false };
    const SEC: ResetActor = ResetActor { system_admin: false, security_admin: true };
    const USER: ResetActor = ResetActor { system_admin: false, security_admin: false };

    #[test]
    fn every_step_by_every_actor() {
        use ResetAction::*;
        use ResetState::*;
        let facts = |state| ResetFacts { state, requested_at: at(0), approved_at: Some(at(1)), attempts: 0 };
        let allowed: &[(ResetState, ResetAction, ResetActor)] = &[
            (Requested, Approve, SEC),
            (Requested, Cancel, SYS),
            (Requested, Cancel, SEC),
            (Approved, Use, USER),
            (Approved, Use, SYS),
            (Approved, Use, SEC),
            (Approved, Cancel, SYS),
            (Approved, Cancel, SEC),
        ];
        for &state in ResetState::ALL {
            for &action in ResetAction::ALL {
                for who in [SYS, SEC, USER] {
                    let ok = allowed.contains(&(state, action, who));
                    let got = facts(state).decide(action, who, at(2));
                    assert_eq!(got.is_ok(), ok, "{state:?} {action:?} {who:?}: {got:?}");
                }
            }
        }
        assert_eq!(facts(Requested).decide(Approve, SYS, at(2)).unwrap_err().reason(), "actor");
    }

    #[test]
    fn requests_and_codes_run_out() {
        let requested =
            ResetFacts { state: ResetState::Requested, requested_at: at(0), approved_at: None, attempts: 0 };
        assert!(requested.decide(ResetAction::Approve, SEC, at(71)).is_ok());
        assert_eq!(requested.decide(ResetAction::Approve, SEC, at(72)).unwrap_err().reason(), "state");
        let approved = ResetFacts { state: ResetState::Approved, approved_at: Some(at(10)), ..requested };
        assert!(approved.decide(ResetAction::Use, USER, at(33)).is_ok());
        assert!(approved.decide(ResetAction::Use, USER, at(34)).is_err());
        assert_eq!(approved.effective(at(34)), ResetState::Cancelled);
        assert!(!ResetFacts { attempts: 3, ..approved }.exhausted_by_one_more());
        assert!(ResetFacts { attempts: 4, ..approved }.exhausted_by_one_more());
    }

    #[test]
    fn codes_are_typed_loosely() {
        assert_eq!(show_half("ABCDEFGHJK"), "ABCDE-FGHJK");
        assert_eq!(split_code(" abcde-fghjk 23456-789ab "), Some(("ABCDEFGHJK".to_owned(), "23456789AB".to_owned())));
        assert_eq!(split_code("ABCDE"), None);
    }
}
