//! The public's judgement in numbers, as GB/T 39735-2020 names them: the satisfaction rate
//! (好评率: 非常满意, 满意 and 基本满意 over all counted ratings), the active-rating rate (主动评价率:
//! finished cases someone rated) and the unrated rate (未评率) reported apart rather than
//! counted as good, and for bad ratings the reply, rectification, callback and post-callback
//! satisfaction rates. Held, rejected and overturned ratings count nowhere. Rankings use the
//! Wilson lower bound of the satisfaction rate, so that 3 ratings do not top 3,000.

use serde::Serialize;
use utoipa::ToSchema;

/// What was counted for one department, window or staff member in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Counted ratings, and those of them at 基本满意 or better.
    pub ratings: u64,
    pub good: u64,
    pub bad: u64,
    /// Cases finished in the period, and those of them rated on any channel.
    pub cases: u64,
    pub rated_cases: u64,
    /// Bad ratings' tickets opened in the period, and how far they got.
    pub tickets: u64,
    pub replied: u64,
    pub rectified: u64,
    pub called_back: u64,
    pub callback_satisfied: u64,
}

/// The measures of a tally; a rate is `None` where there is nothing to divide by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Measures {
    pub ratings: u64,
    pub good: u64,
    pub bad: u64,
    /// 好评率.
    pub satisfaction_rate: Option<f64>,
    /// The 95% Wilson lower bound of the satisfaction rate: what rankings use.
    pub satisfaction_lower_bound: Option<f64>,
    pub cases: u64,
    pub rated_cases: u64,
    /// 主动评价率 and 未评率.
    pub active_rate: Option<f64>,
    pub unrated_rate: Option<f64>,
    pub tickets: u64,
    /// 差评回复率 (verified), 差评整改率 (rectified), 回访率 (called back), 回访整改满意率.
    pub reply_rate: Option<f64>,
    pub rectification_rate: Option<f64>,
    pub callback_rate: Option<f64>,
    pub callback_satisfaction: Option<f64>,
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The lower end of the 95% Wilson score interval of `good` in `n`.
pub fn wilson_lower(good: u64, n: u64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let (z, n, p) = (1.959_963_984_540_054_f64, n as f64, good as f64 / n as f64);
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - margin) / (1.0 + z2 / n)).max(0.0))
}

impl Tally {
    pub fn measures(&self) -> Measures {
        Measures {
            ratings: self.ratings,
            good: self.good,
            bad: self.bad,
            satisfaction_rate: rate(self.good, self.ratings),
            satisfaction_lower_bound: wilson_lower(self.good, self.ratings),
            cases: self.cases,
            rated_cases: self.rated_cases,
            active_rate: rate(self.rated_cases, self.cases),
            unrated_rate: rate(self.cases.saturating_sub(self.rated_cases), self.cases),
            tickets: self.tickets,
            reply_rate: rate(self.replied, self.tickets),
            rectification_rate: rate(self.rectified, self.tickets),
            callback_rate: rate(self.called_back, self.tickets),
            callback_satisfaction: rate(self.callback_satisfied, self.called_back),
        }
    }
}

/// Ranks by the lower bound, best first: 1, 2, 2, 4 for ties; those with no rating are unranked.
pub fn ranks(measures: &[Measures]) -> Vec<Option<u32>> {
    let key = |m: &Measures| m.satisfaction_lower_bound;
    measures
        .iter()
        .map(|m| key(m).map(|lb| 1 + measures.iter().filter(|o| key(o).is_some_and(|x| x > lb)).count() as u32))
        .collect()
}

/// A month's ranking may be published once the month is over (city time).
pub fn publishable(month_first: chrono::NaiveDate, today: chrono::NaiveDate) -> Result<(), crate::ValidationError> {
    let next = month_first.checked_add_months(chrono::Months::new(1));
    if next.is_some_and(|n| n <= today) {
        Ok(())
    } else {
        Err(crate::ValidationError::new(
            "month",
            "not_over",
            "月份结束后才能发布该月排名",
            "A month's ranking is published once the month is over",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_those_the_standard_names_and_unrated_is_apart() {
        let t = Tally {
            ratings: 200,
            good: 196,
            bad: 4,
            cases: 250,
            rated_cases: 180,
            tickets: 4,
            replied: 4,
            rectified: 3,
            called_back: 2,
            callback_satisfied: 1,
        };
        let m = t.measures();
        assert_eq!(m.satisfaction_rate, Some(0.98));
        assert_eq!((m.active_rate, m.unrated_rate), (Some(0.72), Some(0.28)));
        assert_eq!((m.reply_rate, m.rectification_rate, m.callback_rate), (Some(1.0), Some(0.75), Some(0.5)));
        assert_eq!(m.callback_satisfaction, Some(0.5));
        let none = Tally::default().measures();
        assert_eq!((none.satisfaction_rate, none.active_rate, none.callback_satisfaction), (None, None, None));
    }

    #[test]
    fn three_perfect_ratings_do_not_top_three_thousand_nearly_perfect_ones() {
        let small = Tally { ratings: 3, good: 3, ..Tally::default() }.measures();
        let large = Tally { ratings: 3000, good: 2970, ..Tally::default() }.measures();
        let empty = Tally::default().measures();
        // Wilson's bound for 3 of 3 is 0.4385; for 2970 of 3000 about 0.986.
        assert!((small.satisfaction_lower_bound.unwrap() - 0.4385).abs() < 1e-4);
        assert!(large.satisfaction_lower_bound.unwrap() > 0.985);
        assert_eq!(ranks(&[small, large, empty, large]), [Some(3), Some(1), None, Some(1)]);
        assert_eq!(wilson_lower(0, 10), Some(0.0));
    }

    #[test]
    fn a_month_is_published_once_it_is_over() {
        let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert!(publishable(d(11, 1), d(12, 1)).is_ok());
        assert!(publishable(d(11, 1), d(11, 30)).is_err());
        assert!(publishable(d(12, 1), d(12, 7)).is_err());
    }
}
