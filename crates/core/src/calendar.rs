//! Working days: China's statutory holidays and the swapped working weekends (调休), from the
//! published arrangements (the `chinese_holiday` data, 2004 to 2026-12-25), plus overrides the
//! office keeps for days the data does not cover or gets wrong. Beyond both, Monday to Friday.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    /// Day → is it a working day. Wins over everything else.
    overrides: BTreeMap<NaiveDate, bool>,
}

fn published_range(d: NaiveDate) -> bool {
    let first = NaiveDate::from_ymd_opt(2004, 1, 1);
    let last = NaiveDate::from_ymd_opt(2026, 12, 25);
    matches!((first, last), (Some(f), Some(l)) if d >= f && d <= l)
}

impl WorkCalendar {
    pub fn new(overrides: impl IntoIterator<Item = (NaiveDate, bool)>) -> Self {
        Self { overrides: overrides.into_iter().collect() }
    }

    /// What the office's overrides are, as a SHA-256 in hex: changes whenever a day is entered,
    /// changed or removed (work computed from the calendar is computed again when it does).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (d, working) in &self.overrides {
            h.update(format!("{d}:{}\n", u8::from(*working)));
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if let Some(w) = self.overrides.get(&d) {
            return *w;
        }
        // The data's own function asserts its range: never call it outside.
        if published_range(d)
            && let (Ok(y), Ok(m), Ok(day)) = (u16::try_from(d.year()), u8::try_from(d.month()), u8::try_from(d.day()))
        {
            return chinese_holiday::chinese_holiday((y, m, day)).is_workday();
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Whether the published arrangements cover this day (else: overrides, then Monday–Friday).
    pub fn published(d: NaiveDate) -> bool {
        published_range(d)
    }

    /// Next year, from December on, while nobody knows its days: the published arrangements do
    /// not reach into it and the office has entered none of them. Until they are entered, its
    /// holidays (1 January, the Spring Festival) count as working days in every deadline.
    pub fn unknown_next_year(&self, today: NaiveDate) -> Option<i32> {
        let next = today.year() + 1;
        let first = NaiveDate::from_ymd_opt(next, 1, 1)?;
        let last = NaiveDate::from_ymd_opt(next, 12, 31)?;
        let entered = self.overrides.range(first..=last).next().is_some();
        (today.month() == 12 && !published_range(first) && !entered).then_some(next)
    }

    /// The days of `year` that differ from Monday-to-Friday — holidays on weekdays, working
    /// weekends — each with whether it is a working day and whether the office's override says so.
    pub fn exceptions(&self, year: i32) -> Vec<(NaiveDate, bool, bool)> {
        let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            return Vec::new();
        };
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter_map(|d| {
                let working = self.is_working_day(d);
                let weekday = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
                let office = self.overrides.contains_key(&d);
                (working != weekday || office).then_some((d, working, office))
            })
            .collect()
    }

    /// The day that is `n` working days after `from` (`from` itself not counted): the last day
    /// of a period of `n` working days that starts the day after `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        // Bounded: a year has far more than n working days for any n a rule uses.
        let mut guard = 0u32;
        while left > 0 && guard < 3660 {
            d += Duration::days(1);
            guard += 1;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| self.is_working_day(*d)).count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_years_exceptions_are_the_holidays_and_working_weekends() {
        let cal = WorkCalendar::new([(NaiveDate::from_ymd_opt(2027, 2, 8).expect("day"), false)]);
        let y2026 = cal.exceptions(2026);
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("day");
        // 2026: National Day, a Thursday, off; Saturday 2026-10-10 worked (调休).
        assert!(y2026.contains(&(day(10, 1), false, false)));
        assert!(y2026.contains(&(day(10, 10), true, false)));
        assert!(!y2026.iter().any(|(d, _, _)| *d == day(10, 12)));
        // 2027, beyond the data: only the office's own day.
        assert_eq!(cal.exceptions(2027), vec![(NaiveDate::from_ymd_opt(2027, 2, 8).expect("day"), false, true)]);
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn published_holidays_and_swapped_weekends() {
        let c = WorkCalendar::default();
        // 2025 Spring Festival: Sunday 26 Jan and Saturday 8 Feb were working days.
        assert!(c.is_working_day(day(2025, 1, 26)));
        assert!(c.is_working_day(day(2025, 2, 8)));
        assert!(!c.is_working_day(day(2025, 1, 29)));
        // 2025 National Day: 1–8 Oct off, Sunday 28 Sep and Saturday 11 Oct worked.
        assert!(!c.is_working_day(day(2025, 10, 8)));
        assert!(c.is_working_day(day(2025, 9, 28)));
        assert!(c.is_working_day(day(2025, 10, 11)));
        // 2026 Spring Festival: 15–23 Feb off, Saturdays 14 and 28 Feb worked.
        assert!(c.is_working_day(day(2026, 2, 14)));
        assert!(!c.is_working_day(day(2026, 2, 23)));
        assert!(c.is_working_day(day(2026, 2, 28)));
        // 2026 National Day: 1–7 Oct off, Sunday 20 Sep and Saturday 10 Oct worked.
        assert!(!c.is_working_day(day(2026, 10, 7)));
        assert!(c.is_working_day(day(2026, 9, 20)));
        assert!(c.is_working_day(day(2026, 10, 10)));
        // An ordinary weekend and weekday.
        assert!(!c.is_working_day(day(2026, 11, 28)));
        assert!(c.is_working_day(day(2026, 11, 30)));
    }

    #[test]
    fn beyond_the_data_weekdays_and_overrides() {
        let c = WorkCalendar::new([(day(2027, 1, 1), false), (day(2027, 1, 2), true)]);
        // From December, a next year nobody has entered is flagged; once the office enters a day
        // of it, it is not.
        let dec = day(2026, 12, 1);
        let nothing = WorkCalendar::default();
        assert_eq!(nothing.unknown_next_year(day(2026, 11, 30)), None);
        assert_eq!(nothing.unknown_next_year(dec), Some(2027));
        assert_eq!(nothing.unknown_next_year(day(2025, 12, 10)), None, "2026 is published");
        assert_eq!(c.unknown_next_year(dec), None, "the office entered 1 January 2027");
        // 2026-12-26 onward is past the published data: no panic, weekdays.
        assert!(!c.is_working_day(day(2026, 12, 26)));
        assert!(c.is_working_day(day(2026, 12, 28)));
        assert!(!c.is_working_day(day(2027, 1, 1)), "the office's override");
        assert!(c.is_working_day(day(2027, 1, 2)), "a swapped Saturday from the office");
        assert!(!c.is_working_day(day(2003, 12, 27)));
    }

    #[test]
    fn counting_working_days_skips_holidays() {
        let c = WorkCalendar::default();
        // Notified Monday 2026-11-02: five working days end Monday 9 Nov.
        assert_eq!(c.add_working_days(day(2026, 11, 2), 5), day(2026, 11, 9));
        // Notified Tuesday 2026-09-29: the 30th, then the holiday week, then the worked Saturday.
        assert_eq!(c.add_working_days(day(2026, 9, 29), 2), day(2026, 10, 8));
        assert_eq!(c.add_working_days(day(2026, 9, 29), 3), day(2026, 10, 9));
        assert_eq!(c.add_working_days(day(2026, 9, 29), 4), day(2026, 10, 10));
        // Across the end of the data.
        assert_eq!(c.add_working_days(day(2026, 12, 24), 3), day(2026, 12, 29));
        assert_eq!(c.add_working_days(day(2026, 11, 2), 0), day(2026, 11, 2));
        assert_eq!(c.working_days_between(day(2026, 9, 29), day(2026, 10, 10)), 4);
        assert_eq!(c.working_days_between(day(2026, 11, 2), day(2026, 11, 2)), 0);
        assert_eq!(c.working_days_between(day(2026, 11, 9), day(2026, 11, 2)), 0);
    }
}
