//! Accounts: password policy, hashing, lockout after failed logins, session lifetime.

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ValidationError;

labelled_enum! {
    /// Whether an account may log in.
    AccountStatus {
        Active = "active", "在用", "active";
        Disabled = "disabled", "已停用", "disabled";
    }
}

/// The office's password and session policy. Stored as a setting; defaults are the issue's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Minimum password length, in characters.
    #[schema(minimum = 8, maximum = 64)]
    pub min_length: u32,
    /// How many of the four classes (lower case, upper case, digit, symbol) a password needs.
    #[schema(minimum = 1, maximum = 4)]
    pub min_classes: u32,
    /// Days after which a password must be changed; 0 disables expiry.
    #[schema(minimum = 0, maximum = 365)]
    pub expiry_days: u32,
    /// Failed logins in a row that lock an account.
    #[schema(minimum = 3, maximum = 20)]
    pub lockout_threshold: u32,
    /// How long a lock lasts.
    #[schema(minimum = 1, maximum = 1440)]
    pub lockout_minutes: u32,
    /// A session ends after this many minutes without a request.
    #[schema(minimum = 5, maximum = 480)]
    pub idle_minutes: u32,
    /// A session ends this many hours after login, whatever happens.
    #[schema(minimum = 1, maximum = 24)]
    pub absolute_hours: u32,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            min_classes: 3,
            expiry_days: 90,
            lockout_threshold: 5,
            lockout_minutes: 15,
            idle_minutes: 30,
            absolute_hours: 12,
        }
    }
}

impl SecurityPolicy {
    /// A policy that would lock everyone out or let anything through is refused.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let bad = |field: &str, zh: &str, en: &str| Err(ValidationError::new(field, "out_of_range", zh, en));
        if !(8..=64).contains(&self.min_length) {
            return bad("min_length", "最小长度须在 8 到 64 之间", "min_length must be between 8 and 64");
        }
        if !(1..=4).contains(&self.min_classes) {
            return bad("min_classes", "字符类别数须在 1 到 4 之间", "min_classes must be between 1 and 4");
        }
        if self.expiry_days > 365 {
            return bad("expiry_days", "密码有效期不能超过 365 天", "expiry_days must be at most 365");
        }
        if !(3..=20).contains(&self.lockout_threshold) {
            return bad("lockout_threshold", "锁定阈值须在 3 到 20 之间", "lockout_threshold must be between 3 and 20");
        }
        if !(1..=1440).contains(&self.lockout_minutes) {
            return bad(
                "lockout_minutes",
                "锁定时长须在 1 到 1440 分钟之间",
                "lockout_minutes must be between 1 and 1440",
            );
        }
        if !(5..=480).contains(&self.idle_minutes) {
            return bad("idle_minutes", "空闲超时须在 5 到 480 分钟之间", "idle_minutes must be between 5 and 480");
        }
        if !(1..=24).contains(&self.absolute_hours) {
            return bad(
                "absolute_hours",
                "会话最长时间须在 1 到 24 小时之间",
                "absolute_hours must be between 1 and 24",
            );
        }
        Ok(())
    }

    /// Checks a new password against the policy.
    pub fn check_password(&self, username: &str, password: &str) -> Result<(), ValidationError> {
        let len = password.chars().count();
        if len < self.min_length as usize {
            return Err(ValidationError::new(
                "password",
                "password_too_short",
                format!("密码至少需要 {} 个字符", self.min_length),
                format!("The password needs at least {} characters", self.min_length),
            ));
        }
        if len > 128 {
            return Err(ValidationError::new(
                "password",
                "password_too_long",
                "密码不能超过 128 个字符",
                "The password may have at most 128 characters",
            ));
        }
        let classes = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if classes < self.min_classes as usize {
            return Err(ValidationError::new(
                "password",
                "password_too_simple",
                format!("密码须包含小写字母、大写字母、数字、符号中的至少 {} 类", self.min_classes),
                format!("The password needs at least {} of: lower case, upper case, digits, symbols", self.min_classes),
            ));
        }
        if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
            return Err(ValidationError::new(
                "password",
                "password_contains_username",
                "密码不能包含用户名",
                "The password must not contain the user name",
            ));
        }
        Ok(())
    }

    pub fn password_expired(&self, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.expiry_days > 0 && now - changed_at >= Duration::days(i64::from(self.expiry_days))
    }

    /// After a failed login: the new failure count, and the lock's end if this failure locks.
    pub fn after_failure(&self, failures_before: u32, now: DateTime<Utc>) -> (u32, Option<DateTime<Utc>>) {
        let failures = failures_before.saturating_add(1);
        if failures >= self.lockout_threshold {
            (0, Some(now + Duration::minutes(i64::from(self.lockout_minutes))))
        } else {
            (failures, None)
        }
    }

    pub fn session_state(
        &self,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> SessionState {
        if now - created_at >= Duration::hours(i64::from(self.absolute_hours)) {
            SessionState::Expired
        } else if now - last_seen_at >= Duration::minutes(i64::from(self.idle_minutes)) {
            SessionState::Idle
        } else {
            SessionState::Active
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    /// No request for longer than the idle limit.
    Idle,
    /// Older than the absolute limit.
    Expired,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Argon2id with a fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| HashError(e.to_string()))
}

/// False for a wrong password and for a stored hash that cannot be parsed.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn policy_defaults_refuse_weak_passwords() {
        let p = SecurityPolicy::default();
        assert_eq!(p.check_password("li", "short1A").unwrap_err().code, "password_too_short");
        assert_eq!(p.check_password("li", "alllowercase1").unwrap_err().code, "password_too_simple");
        assert_eq!(p.check_password("zhangwei", "Zhangwei#2026").unwrap_err().code, "password_contains_username");
        assert!(p.check_password("li", "Correct-horse1").is_ok());
        assert!(p.check_password("li", "中文密码abc123").is_ok());
    }

    #[test]
    fn fifth_failure_locks_for_fifteen_minutes() {
        let p = SecurityPolicy::default();
        let mut n = 0;
        for _ in 0..4 {
            let (next, lock) = p.after_failure(n, t0());
            assert!(lock.is_none());
            n = next;
        }
        let (next, lock) = p.after_failure(n, t0());
        assert_eq!(next, 0);
        assert_eq!(lock, Some(t0() + Duration::minutes(15)));
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let p = SecurityPolicy::default();
        let t = t0();
        assert_eq!(p.session_state(t, t, t + Duration::minutes(29)), SessionState::Active);
        assert_eq!(p.session_state(t, t, t + Duration::minutes(30)), SessionState::Idle);
        let late = t + Duration::hours(12);
        assert_eq!(p.session_state(t, late - Duration::minutes(1), late), SessionState::Expired);
    }

    #[test]
    fn expiry_after_ninety_days() {
        let p = SecurityPolicy::default();
        assert!(!p.password_expired(t0(), t0() + Duration::days(89)));
        assert!(p.password_expired(t0(), t0() + Duration::days(90)));
        let never = SecurityPolicy { expiry_days: 0, ..p };
        assert!(!never.password_expired(t0(), t0() + Duration::days(900)));
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_password("Correct-horse1").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse1", &h));
        assert!(!verify_password("correct-horse1", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
