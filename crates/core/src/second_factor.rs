//! The second factor (decision 0029): time-based one-time codes from an authenticator app
//! (TOTP, RFC 6238, over HOTP's HMAC-SHA1 and dynamic truncation, RFC 4226), and one-time
//! recovery codes for a lost phone.
//!
//! Six digits, a thirty-second step, the step before and after accepted for clocks that drift;
//! a step once accepted for an account is never accepted again (the store keeps the last one),
//! so a code seen over a shoulder is worth nothing once used. Secrets are twenty random bytes,
//! shown as base32 (RFC 4648, no padding) and in an `otpauth://` URI for the QR code.
//!
//! Pure: randomness and time come in as parameters.

use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::labels;
use crate::workflow::{Decision, Refusal};

/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Seconds a code stands for.
pub const STEP_SECS: i64 = 30;
/// Steps before and after the current one that are accepted too (a phone's clock a little off).
pub const SKEW_STEPS: i64 = 1;
/// Bytes of a secret: 160 bits, the length of HMAC-SHA1's output (RFC 4226 §4, R6).
pub const SECRET_LEN: usize = 20;
/// The issuer shown in the authenticator app.
pub const ISSUER: &str = "Xiaoneng";
/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code: 31^10 ≈ 2^49.5, from the alphabet without 0/O, 1/I/L.
pub const RECOVERY_LEN: usize = 10;
pub use crate::reset::CODE_ALPHABET as RECOVERY_ALPHABET;
/// How long a login waits for its second step after the right password.
pub const CHALLENGE_VALID: Duration = Duration::minutes(5);

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// A TOTP secret. Its `Debug` shows nothing of it, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// A secret from random bytes (the server draws [`SECRET_LEN`] of them).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// A secret as stored or typed: base32, case, spaces and padding not mattering. `None` for
    /// anything else, or for an empty secret.
    pub fn from_base32(s: &str) -> Option<Self> {
        base32_decode(s).filter(|b| !b.is_empty()).map(Secret)
    }

    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The code for `step` (a count of [`STEP_SECS`] since the epoch), `digits` long.
    pub fn code_at_step(&self, step: i64, digits: u32) -> Option<String> {
        let counter = u64::try_from(step).ok()?;
        hotp(&self.0, counter, digits).map(|c| format!("{c:0width$}", width = digits as usize))
    }

    /// The six-digit code shown at `at`.
    pub fn code_at(&self, at: DateTime<Utc>) -> Option<String> {
        self.code_at_step(step_of(at), DIGITS)
    }

    /// Checks a typed code at `now`: the step it was accepted for, if it is the code of the
    /// current step or one beside it, and that step is later than `last_step`, the last one
    /// accepted for the account (a code is good once).
    pub fn verify(&self, typed: &str, now: DateTime<Utc>, last_step: Option<i64>) -> Option<i64> {
        let typed = normalize_totp(typed)?;
        let now_step = step_of(now);
        let mut accepted = None;
        // Every candidate is compared, in constant time, whichever matches.
        for step in now_step - SKEW_STEPS..=now_step + SKEW_STEPS {
            let Some(expected) = self.code_at_step(step, DIGITS) else { continue };
            let fresh = last_step.is_none_or(|last| step > last);
            if constant_time_eq(expected.as_bytes(), typed.as_bytes()) && fresh && accepted.is_none() {
                accepted = Some(step);
            }
        }
        accepted
    }
}

/// HOTP (RFC 4226): HMAC-SHA1 of the counter, dynamically truncated to `digits` decimal digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(secret).ok()?;
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash.get(19)? & 0x0f);
    let b = hash.get(offset..offset + 4)?;
    let binary = (u32::from(b[0] & 0x7f) << 24) | (u32::from(b[1]) << 16) | (u32::from(b[2]) << 8) | u32::from(b[3]);
    Some(binary % 10u32.checked_pow(digits)?)
}

/// The TOTP step `at` falls in.
pub fn step_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECS)
}

/// A typed TOTP code without its spaces: six digits, or `None`.
pub fn normalize_totp(typed: &str) -> Option<String> {
    let s: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (s.len() == DIGITS as usize && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The URI an authenticator app reads from the QR code:
/// `otpauth://totp/Xiaoneng:<user>?secret=…&issuer=Xiaoneng&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(username: &str, secret: &Secret) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encode(username),
        secret.to_base32()
    )
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 (RFC 4648 §6) without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Base32 as people type it: upper or lower case, spaces, dashes and trailing `=` ignored.
/// `None` for a character outside the alphabet, or trailing bits that are not zero.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').chars().filter(|c| !c.is_whitespace() && *c != '-') {
        let v = BASE32.iter().position(|&a| char::from(a) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(v).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
        buffer &= (1 << bits) - 1;
    }
    (buffer == 0).then_some(out)
}

/// A new recovery code, `draw(n)` giving a uniform random index below `n`.
pub fn new_recovery_code(mut draw: impl FnMut(usize) -> usize) -> String {
    (0..RECOVERY_LEN)
        .map(|_| char::from(RECOVERY_ALPHABET[draw(RECOVERY_ALPHABET.len()) % RECOVERY_ALPHABET.len()]))
        .collect()
}

/// A recovery code for display: `ABCDE-FGHJK`.
pub fn show_recovery_code(code: &str) -> String {
    crate::reset::show_half(code)
}

/// A typed recovery code without its case, spaces and dashes; `None` when it cannot be one.
pub fn normalize_recovery_code(typed: &str) -> Option<String> {
    let code = crate::reset::normalize_code(typed);
    (code.len() == RECOVERY_LEN && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

/// What is kept of a recovery code: its SHA-256, bound to the account. A random code of ~50 bits
/// needs no slow hash; binding it to the account keeps one account's codes from opening another.
pub fn recovery_code_hash(user_id: i64, normalized: &str) -> String {
    hex::encode(Sha256::digest(format!("recovery:{user_id}:{normalized}").as_bytes()))
}

/// What a second step typed is taken for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// Six digits from the app.
    Totp(String),
    /// A recovery code, normalised.
    Recovery(String),
}

impl Typed {
    pub fn parse(typed: &str) -> Option<Self> {
        normalize_totp(typed).map(Typed::Totp).or_else(|| normalize_recovery_code(typed).map(Typed::Recovery))
    }
}

labelled_enum! {
    /// Where an enrolment stands. An account has at most one `active` factor; every enrolment
    /// is a row of its own and is never deleted.
    FactorState {
        Pending = "pending", "待确认", "awaiting confirmation";
        Active = "active", "已启用", "active";
        Replaced = "replaced", "已更换", "replaced";
        Abandoned = "abandoned", "已放弃", "abandoned";
        Disabled = "disabled", "已停用", "disabled";
        Reset = "reset", "已重置", "reset";
    }
}

labelled_enum! {
    FactorAction {
        Confirm = "confirm", "确认启用", "confirm";
        Disable = "disable", "停用", "disable";
        Reset = "reset", "重置", "reset";
    }
}

/// Who acts on an account's second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorActor {
    /// The account's own user.
    Owner {
        /// The security policy requires a second factor of one of their roles.
        required: bool,
    },
    /// The security admin, on another person's account.
    SecurityAdmin,
    /// The security admin, on their own account: not allowed, so that a stolen admin session
    /// cannot shed the factor that protects it.
    SecurityAdminSelf,
}

const WHAT: (&str, &str) = ("两步验证", "two-step verification");

/// The state machine of one enrolment. Confirm: the owner, while pending. Disable: the owner,
/// while active, unless the policy requires a factor of them. Reset: the security admin, on
/// another account's pending or active factor.
pub fn decide(state: FactorState, action: FactorAction, who: FactorActor) -> Result<Decision<FactorState>, Refusal> {
    use FactorAction as A;
    use FactorState::*;
    let next = match (state, action) {
        (Pending, A::Confirm) => Active,
        (Active, A::Disable) => Disabled,
        (Pending | Active, A::Reset) => Reset,
        _ => return Err(Refusal::by_state(labels!(state), labels!(action), WHAT)),
    };
    let ok = match (action, who) {
        (A::Confirm, FactorActor::Owner { .. }) => true,
        (A::Disable, FactorActor::Owner { required }) => !required,
        (A::Reset, FactorActor::SecurityAdmin) => true,
        _ => false,
    };
    if !ok {
        return Err(Refusal::by_actor(state.code(), labels!(action), WHAT));
    }
    Ok(Decision::new(next, Vec::new()))
}

/// Whether a session must enrol before it may do anything else: the policy requires a factor
/// of the account's roles, or the security admin reset it (the user enrols again), and none is
/// active.
pub fn enrolment_required(required_by_policy: bool, reset_pending: bool, active: bool) -> bool {
    (required_by_policy || reset_pending) && !active
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA1 seed is the ASCII string "12345678901234567890".
    const RFC_SEED: &[u8] = b"12345678901234567890";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn rfc4226_appendix_d() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SEED, counter as u64, 6), Some(*code), "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1() {
        let secret = Secret::from_bytes(RFC_SEED);
        for (time, code) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(secret.code_at_step(step_of(at(time)), 8).as_deref(), Some(code), "T = {time}");
        }
    }

    #[test]
    fn codes_are_accepted_one_step_either_side_and_once() {
        let secret = Secret::from_bytes(RFC_SEED);
        let now = at(1_111_111_111);
        let step = step_of(now);
        let code = |s: i64| secret.code_at_step(s, 6).unwrap();
        assert_eq!(secret.verify(&code(step), now, None), Some(step));
        assert_eq!(secret.verify(&code(step - 1), now, None), Some(step - 1));
        assert_eq!(secret.verify(&code(step + 1), now, None), Some(step + 1));
        assert_eq!(secret.verify(&code(step - 2), now, None), None);
        assert_eq!(secret.verify(&code(step + 2), now, None), None);
        // Replay: the step used, or an earlier one, is never accepted again.
        assert_eq!(secret.verify(&code(step), now, Some(step)), None);
        assert_eq!(secret.verify(&code(step - 1), now, Some(step - 1)), None);
        assert_eq!(secret.verify(&code(step + 1), now, Some(step)), Some(step + 1));
        // Spaces are forgiven; anything but six digits is not a code.
        let spaced = format!("{} {}", &code(step)[..3], &code(step)[3..]);
        assert_eq!(secret.verify(&spaced, now, None), Some(step));
        assert_eq!(secret.verify("12345", now, None), None);
        assert_eq!(secret.verify("abcdef", now, None), None);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("mzxw 6ytb-oi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZXW1"), None);
        let secret = Secret::from_bytes(RFC_SEED);
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(Secret::from_base32(&secret.to_base32()), Some(secret.clone()));
        assert_eq!(format!("{secret:?}"), "Secret(…)");
    }

    #[test]
    fn the_uri_names_issuer_user_and_parameters() {
        let secret = Secret::from_bytes(RFC_SEED);
        assert_eq!(
            otpauth_uri("wang.fang", &secret),
            "otpauth://totp/Xiaoneng:wang.fang?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Xiaoneng&algorithm=SHA1&digits=6&period=30"
        );
        assert!(otpauth_uri("a b:c", &secret).starts_with("otpauth://totp/Xiaoneng:a%20b%3Ac?"));
    }

    #[test]
    fn recovery_codes_are_typed_loosely_and_hashed_per_account() {
        let mut n = 0;
        let code = new_recovery_code(|len| {
            n += 7;
            n % len
        });
        assert_eq!(code.len(), RECOVERY_LEN);
        let shown = show_recovery_code(&code);
        assert_eq!(shown.len(), RECOVERY_LEN + 1);
        assert_eq!(normalize_recovery_code(&shown.to_lowercase()), Some(code.clone()));
        assert_eq!(normalize_recovery_code("ABCDE-FGHJ0"), None, "0 is not in the alphabet");
        assert_ne!(recovery_code_hash(1, &code), recovery_code_hash(2, &code));
        assert_eq!(Typed::parse(" 123 456 "), Some(Typed::Totp("123456".into())));
        assert_eq!(Typed::parse(&shown), Some(Typed::Recovery(code)));
        assert_eq!(Typed::parse("1234"), None);
    }

    #[test]
    fn every_step_by_every_actor() {
        use FactorAction as A;
        use FactorState::*;
        let owner = FactorActor::Owner { required: false };
        let bound = FactorActor::Owner { required: true };
        let allowed: &[(FactorState, FactorAction, FactorActor)] = &[
            (Pending, A::Confirm, owner),
            (Pending, A::Confirm, bound),
            (Active, A::Disable, owner),
            (Pending, A::Reset, FactorActor::SecurityAdmin),
            (Active, A::Reset, FactorActor::SecurityAdmin),
        ];
        for &state in FactorState::ALL {
            for &action in FactorAction::ALL {
                for who in [owner, bound, FactorActor::SecurityAdmin, FactorActor::SecurityAdminSelf] {
                    let ok = allowed.contains(&(state, action, who));
                    let got = decide(state, action, who);
                    assert_eq!(got.is_ok(), ok, "{state:?} {action:?} {who:?}: {got:?}");
                }
            }
        }
        assert_eq!(decide(Active, A::Disable, bound).unwrap_err().reason(), "actor");
        assert_eq!(decide(Active, A::Reset, FactorActor::SecurityAdminSelf).unwrap_err().reason(), "actor");
    }

    #[test]
    fn enrolment_is_required_by_policy_or_after_a_reset() {
        assert!(enrolment_required(true, false, false));
        assert!(enrolment_required(false, true, false));
        assert!(!enrolment_required(true, true, true));
        assert!(!enrolment_required(false, false, false));
    }
}
