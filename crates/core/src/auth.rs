//! Accounts: password policy, hashing, lockout after failed logins, session lifetime.

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ValidationError, rbac::Role};

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
    /// The length of the windows in which failed logins are counted per address and overall.
    #[schema(minimum = 1, maximum = 1440)]
    pub failure_window_minutes: u32,
    /// Failed logins from one address within a window after which that address may not try
    /// again until the window ends (whatever the user names tried).
    #[schema(minimum = 5, maximum = 100000)]
    pub address_failure_limit: u32,
    /// Failed logins from everywhere within a window after which nobody may try again until the
    /// window ends: the brake on password spraying across accounts and addresses.
    #[schema(minimum = 5, maximum = 1000000)]
    pub global_failure_limit: u32,
    /// The roles whose holders must use a second factor (an authenticator app's code after the
    /// password). Anyone else may choose to. By default the three IT admins and the office's
    /// administrators: the accounts that can change who may do what, or see everything.
    pub second_factor_roles: Vec<Role>,
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
            failure_window_minutes: 15,
            address_failure_limit: 50,
            global_failure_limit: 500,
            second_factor_roles: vec![Role::OfficeAdmin, Role::SysAdmin, Role::SecAdmin, Role::AuditAdmin],
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
        if !(1..=1440).contains(&self.failure_window_minutes) {
            return bad(
                "failure_window_minutes",
                "失败计数窗口须在 1 到 1440 分钟之间",
                "failure_window_minutes must be between 1 and 1440",
            );
        }
        if !(5..=100_000).contains(&self.address_failure_limit) {
            return bad(
                "address_failure_limit",
                "单个地址的失败上限须在 5 到 100000 之间",
                "address_failure_limit must be between 5 and 100000",
            );
        }
        if !(5..=1_000_000).contains(&self.global_failure_limit) {
            return bad(
                "global_failure_limit",
                "全局失败上限须在 5 到 1000000 之间",
                "global_failure_limit must be between 5 and 1000000",
            );
        }
        if self.global_failure_limit < self.address_failure_limit {
            return bad(
                "global_failure_limit",
                "全局失败上限不能小于单个地址的失败上限",
                "global_failure_limit must not be below address_failure_limit",
            );
        }
        Ok(())
    }

    /// The policy as stored: the second factor's roles once each, in a fixed order.
    pub fn normalized(mut self) -> Self {
        self.second_factor_roles.sort();
        self.second_factor_roles.dedup();
        self
    }

    /// Whether an account holding `roles` must use a second factor.
    pub fn requires_second_factor(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.second_factor_roles.contains(r))
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

    /// After a failed login, given the account's failures in a row counting this one (the store
    /// counts them atomically): the end of the lock, when this failure locks the account.
    pub fn lock_after(&self, failures: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (failures >= self.lockout_threshold).then(|| now + Duration::minutes(i64::from(self.lockout_minutes)))
    }

    /// How many more failures the account takes before it locks.
    pub fn attempts_left(&self, failures: u32) -> u32 {
        self.lockout_threshold.saturating_sub(failures)
    }

    /// The window of failure counting that `now` falls in, `[start, end)`. Windows are aligned
    /// on the epoch, so every instance counts into the same one.
    pub fn failure_window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        aligned_window(now, i64::from(self.failure_window_minutes.max(1)))
    }

    /// Whether a login is refused before its password is looked at, given the failures counted in
    /// the current window from the caller's address and from everywhere.
    pub fn login_throttle(&self, address_failures: u64, all_failures: u64, now: DateTime<Utc>) -> Option<Throttle> {
        let scope = if all_failures >= u64::from(self.global_failure_limit) {
            ThrottleScope::Global
        } else if address_failures >= u64::from(self.address_failure_limit) {
            ThrottleScope::Address
        } else {
            return None;
        };
        Some(Throttle { scope, until: self.failure_window(now).1 })
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

/// Logins refused for a while, whoever tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub scope: ThrottleScope,
    /// When the window ends and tries are counted afresh.
    pub until: DateTime<Utc>,
}

impl Throttle {
    /// Whole seconds until the window ends, at least one (for `Retry-After`).
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        u64::try_from((self.until - now).num_seconds()).unwrap_or(0).max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// Too many failures from this address.
    Address,
    /// Too many failures from everywhere.
    Global,
}

impl ThrottleScope {
    pub fn code(self) -> &'static str {
        match self {
            ThrottleScope::Address => "address",
            ThrottleScope::Global => "global",
        }
    }
}

/// The window of `minutes` that `t` falls in, `[start, end)`, aligned on the epoch.
pub fn aligned_window(t: DateTime<Utc>, minutes: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let len = minutes.max(1) * 60;
    let start = t.timestamp().div_euclid(len) * len;
    let start = DateTime::from_timestamp(start, 0).unwrap_or(t);
    (start, start + Duration::seconds(len))
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
        for n in 1..5 {
            assert_eq!(p.lock_after(n, t0()), None);
            assert_eq!(p.attempts_left(n), 5 - n);
        }
        assert_eq!(p.lock_after(5, t0()), Some(t0() + Duration::minutes(15)));
        // Failures counted past the threshold (racing requests) lock too, never unlock.
        assert_eq!(p.lock_after(9, t0()), Some(t0() + Duration::minutes(15)));
        assert_eq!(p.attempts_left(9), 0);
    }

    #[test]
    fn logins_are_throttled_per_address_and_overall_until_the_window_ends() {
        let p = SecurityPolicy::default();
        let now = t0() + Duration::minutes(20) + Duration::seconds(30);
        let (start, end) = p.failure_window(now);
        assert_eq!((start, end), (t0() + Duration::minutes(15), t0() + Duration::minutes(30)));
        assert_eq!(p.login_throttle(49, 499, now), None);
        let t = p.login_throttle(50, 60, now).unwrap();
        assert_eq!((t.scope, t.until), (ThrottleScope::Address, end));
        assert_eq!(t.retry_after_secs(now), 9 * 60 + 30);
        assert_eq!(p.login_throttle(0, 500, now).unwrap().scope, ThrottleScope::Global);
        assert_eq!(t.retry_after_secs(end), 1);
    }

    #[test]
    fn login_limits_are_validated() {
        let ok = SecurityPolicy::default();
        assert!(ok.validate().is_ok());
        let e = SecurityPolicy { address_failure_limit: 2, ..ok.clone() }.validate().unwrap_err();
        assert_eq!(e.field, "address_failure_limit");
        let e = SecurityPolicy { global_failure_limit: 20, ..ok.clone() }.validate().unwrap_err();
        assert_eq!(e.field, "global_failure_limit");
        let e = SecurityPolicy { failure_window_minutes: 0, ..ok }.validate().unwrap_err();
        assert_eq!(e.field, "failure_window_minutes");
        // A policy stored before these settings existed reads with their defaults.
        let old: SecurityPolicy = serde_json::from_str(r#"{"min_length": 10}"#).unwrap();
        assert_eq!((old.min_length, old.address_failure_limit), (10, 50));
    }

    #[test]
    fn a_second_factor_is_required_of_the_admins_by_default() {
        let p = SecurityPolicy::default();
        for r in [Role::SysAdmin, Role::SecAdmin, Role::AuditAdmin, Role::OfficeAdmin] {
            assert!(p.requires_second_factor(&[r]), "{r}");
        }
        assert!(!p.requires_second_factor(&[Role::Staff, Role::Inspector]));
        assert!(!p.requires_second_factor(&[]));
        // A policy stored before the setting existed requires it of them too.
        let old: SecurityPolicy = serde_json::from_str(r#"{"min_length": 10}"#).unwrap();
        assert!(old.requires_second_factor(&[Role::SecAdmin]));
        let none: SecurityPolicy = serde_json::from_str(r#"{"second_factor_roles": []}"#).unwrap();
        assert!(!none.requires_second_factor(&[Role::SecAdmin]));
        let p = SecurityPolicy { second_factor_roles: vec![Role::Staff, Role::OfficeAdmin, Role::Staff], ..p };
        assert_eq!(p.normalized().second_factor_roles, vec![Role::OfficeAdmin, Role::Staff]);
        assert!(serde_json::from_str::<SecurityPolicy>(r#"{"second_factor_roles": ["root"]}"#).is_err());
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
