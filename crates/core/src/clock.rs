//! Time is passed in, never read deep inside logic, so tests can move it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use std::sync::{Arc, Mutex};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in the city's time zone (Asia/Shanghai).
    fn today(&self) -> NaiveDate {
        city_day(self.now())
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_micros(Utc::now())
    }
}

/// A clock that only moves when told to. Used by tests and by tools that replay time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(truncate_micros(start))))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether the city's offices are open at an instant (08:30 to 18:00 city time, any day): when
/// reminders and notices go out, rather than at midnight.
pub fn office_hours(t: DateTime<Utc>) -> bool {
    let time = t.with_timezone(&Shanghai).time();
    let open = chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default();
    let close = chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default();
    (open..close).contains(&time)
}

/// The city's (Asia/Shanghai) calendar day of an instant: deadlines and periods count these.
pub fn city_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}

/// The instant a city day begins (00:00 in Asia/Shanghai).
pub fn city_midnight(d: NaiveDate) -> DateTime<Utc> {
    city_time(d, 0, 0)
}

/// An instant given as a city day and a time of day (Asia/Shanghai, which has kept UTC+8 since
/// 1991).
pub fn city_time(d: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = d.and_hms_opt(hour, minute, 0).unwrap_or_default();
    chrono::TimeZone::from_utc_datetime(&Utc, &(local - Duration::hours(8)))
}

/// PostgreSQL keeps microseconds and SQLite nanoseconds: values that are hashed or compared after
/// a round trip must be truncated first.
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.timestamp_subsec_nanos();
    t - Duration::nanoseconds(i64::from(nanos % 1_000))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn office_hours_are_the_citys_not_utcs() {
        let utc = |h, m| Utc.with_ymd_and_hms(2026, 11, 2, h, m, 0).single().unwrap();
        assert!(!office_hours(utc(0, 29))); // 08:29 in the city
        assert!(office_hours(utc(0, 30))); // 08:30
        assert!(office_hours(utc(9, 59))); // 17:59
        assert!(!office_hours(utc(10, 0))); // 18:00
        assert!(!office_hours(utc(16, 0))); // midnight
    }
}
