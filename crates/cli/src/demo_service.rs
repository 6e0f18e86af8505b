//! The demo city's service commitments: the items its window departments promise, and the cases
//! the city's approval system pushed over the last two months — pushed through the same command
//! as the intake API, each push at the moment the system would have sent it. On whatever day the
//! city is made, most cases were done on time, some late, and some are still open: fresh ones,
//! ones past their yellow-card share, and ones overdue with a red card.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::{Rng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::DatabaseTransaction;
use xiaoneng_core::service::ClientKind;
use xiaoneng_core::{
    calendar::WorkCalendar,
    clock::{city_day, city_time},
    org::Status,
    service::{ItemSpec, ServicePolicy},
};
use xiaoneng_server::service::{CasePush, add_client, add_system, record_item, record_new_pushes, record_push};
use xiaoneng_store::{accounts, calendar, settings};

use crate::demo::Cast;

/// (window that handles it, department, item code, name, promised working days, legal working
/// days, share completed late)
const ITEMS: &[(&str, &str, &str, &str, u32, u32, f64)] = &[
    ("A01", "SJ-DJ", "SC-001", "有限责任公司设立登记", 1, 3, 0.02),
    ("A02", "SJ-DJ", "SC-002", "企业变更登记", 1, 3, 0.05),
    ("A03", "SJ-DJ", "SC-003", "个体工商户注册登记", 0, 3, 0.03),
    ("A04", "SJ-DJ", "SC-004", "食品经营许可证核发", 7, 20, 0.12),
    ("B01", "SWJ", "SW-001", "增值税专用发票最高开票限额审批", 5, 20, 0.05),
    ("B02", "SWJ", "SW-002", "发票领用", 0, 5, 0.02),
    ("C02", "RS", "RS-001", "失业保险金申领", 5, 20, 0.08),
    ("C03", "RS", "RS-002", "职工基本养老保险待遇核定", 10, 20, 0.15),
    ("C05", "YB", "YB-001", "异地就医备案", 1, 5, 0.03),
    ("D01", "BDC", "BDC-001", "不动产首次登记", 5, 30, 0.25),
    ("D02", "BDC", "BDC-002", "不动产转移登记", 3, 30, 0.18),
    ("D03", "BDC", "BDC-003", "抵押权登记", 2, 30, 0.1),
    ("D05", "GJJ", "GJJ-001", "住房公积金提取", 1, 3, 0.02),
    ("D04", "GJJ", "GJJ-002", "住房公积金贷款审批", 10, 15, 0.1),
    ("E01", "SP", "SP-001", "企业投资项目核准", 10, 20, 0.2),
    ("E02", "SP", "SP-002", "建设工程规划许可证核发", 8, 20, 0.15),
    ("E04", "ZJ", "ZJ-001", "建筑工程施工许可证核发", 5, 15, 0.1),
    ("E05", "FG", "FG-001", "企业投资项目备案", 1, 3, 0.0),
    ("F01", "MZ", "MZ-001", "结婚登记", 0, 0, 0.0),
    ("F02", "MZ", "MZ-002", "社会团体成立登记", 20, 60, 0.1),
    ("F03", "GGZY", "GGZY-001", "进场交易项目登记", 1, 3, 0.05),
    ("G01", "GA-CRJ", "GA-001", "普通护照签发", 7, 15, 0.03),
    ("G02", "GA-CRJ", "GA-002", "往来港澳通行证签发", 7, 15, 0.05),
    ("H01", "GA-CGS", "GA-101", "机动车注册登记", 0, 2, 0.02),
    ("H02", "GA-CGS", "GA-102", "机动车驾驶证补领", 0, 1, 0.0),
];

/// Departments whose applicants are mostly enterprises.
const FOR_ENTERPRISES: &[&str] = &["SJ-DJ", "SWJ", "SP", "ZJ", "FG", "GGZY"];

/// A window of the demo city and the staff who serve at it.
pub struct Counter {
    /// The window's number (A01).
    pub number: &'static str,
    pub code: String,
    pub staff: Vec<String>,
}

/// One push the approval system makes, at `at`.
struct Push {
    at: DateTime<Utc>,
    number: String,
    body: CasePush,
}

/// Seeds it all, with `months` of history at a real city's volume before today; returns (items,
/// cases, the numbers of the cases the story tells of).
pub async fn seed(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    dept_ids: &std::collections::HashMap<&str, i64>,
    counters: &[Counter],
    months: u32,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<(usize, usize, std::collections::HashSet<String>)> {
    let office = accounts::find_by_username(tx, "xnb_admin").await?.context("demo account xnb_admin")?.id;
    let office = cast.user(tx, office).await?;
    // The items and the system are set up two months before the first case.
    let set_up = now - Duration::days(75);
    for (_, dept, code, name, promised, legal, _) in ITEMS {
        let spec = ItemSpec::parse(code, name, i64::from(*promised), i64::from(*legal))
            .map_err(|e| anyhow::anyhow!("demo item {code}: {e:?}"))?;
        record_item(tx, &cast.act(&office, set_up), None, dept_ids[dept], spec, Status::Active).await?;
    }
    let (system, _key) = add_system(tx, &cast.act(&office, set_up), "市一体化政务服务平台".into(), None).await?;
    // Each window rates its visits on a counter device (一次一评).
    for c in counters {
        let name = format!("{} 窗口评价器", c.number);
        let window =
            xiaoneng_store::org::window_by_code(tx, &c.code).await?.with_context(|| format!("window {}", c.code))?;
        add_client(tx, &cast.act(&office, set_up), ClientKind::Device, name, None, Some(window.id)).await?;
    }

    let cal = calendar::work_calendar(tx).await?;
    let policy: ServicePolicy = settings::get(tx, settings::SERVICE_POLICY).await?;
    let today = city_day(now);
    let mut pushes = Vec::new();
    let mut serial = 0u32;
    for (window, dept, code, _, promised, _, late_share) in ITEMS {
        let counter = counters.iter().find(|c| c.number == *window).with_context(|| format!("demo window {window}"))?;
        let enterprise = FOR_ENTERPRISES.contains(dept);
        let mut case = |accepted: DateTime<Utc>, rng: &mut StdRng| {
            serial += 1;
            let body = accepted_push(code, counter, enterprise, accepted, rng);
            (format!("BJ{}{serial:05}", city_day(accepted).format("%Y%m%d")), body)
        };
        // Done: a case or two on most working days of the last eight weeks, most within the promise.
        for back in (3..40).rev() {
            let day = working_days_back(&cal, today, back);
            for _ in 0..rng.random_range(0..=1) + usize::from(rng.random_bool(0.2)) {
                let accepted = at_time(day, rng.random_range(9 * 60..16 * 60 + 30)).min(now - Duration::hours(2));
                let late = rng.random_bool(*late_share);
                let took = if late {
                    promised + rng.random_range(1..=3)
                } else if rng.random_bool(0.8) {
                    // Most well inside the promise, the rest near its end.
                    rng.random_range(0..=promised * 3 / 5)
                } else {
                    rng.random_range(promised * 3 / 5..=*promised)
                };
                let done = at_time(cal.add_working_days(day, took), rng.random_range(10 * 60..17 * 60))
                    .max(accepted + Duration::minutes(20));
                let (number, body) = case(accepted, rng);
                pushes.push(Push { at: accepted + Duration::minutes(2), number: number.clone(), body: body.clone() });
                if done < now - Duration::minutes(30) {
                    let body = CasePush {
                        stage: "办结".into(),
                        stage_at: Some(done.to_rfc3339()),
                        completed_at: Some(done.to_rfc3339()),
                        ..body
                    };
                    pushes.push(Push { at: done + Duration::minutes(1), number, body });
                }
            }
        }
        if *promised == 0 {
            continue;
        }
        // Still open: one just in, one past its yellow-card share, one past its deadline.
        let yellow = policy.yellow_after(*promised).unwrap_or(*promised);
        let mut open = vec![(0, "受理")];
        if yellow < *promised {
            open.push((yellow, "审查"));
        }
        open.push((promised + 2, "审查"));
        for (back, stage) in open {
            let mut day = working_days_back(&cal, today, back);
            // Before the hall opens, the case just in came in on the last working day.
            if back == 0 && at_time(day, 9 * 60) > now - Duration::hours(1) {
                day = working_days_back(&cal, today, 1);
            }
            let accepted = at_time(day, rng.random_range(9 * 60..11 * 60)).min(now - Duration::hours(1));
            let (number, body) = case(accepted, rng);
            pushes.push(Push { at: accepted + Duration::minutes(2), number: number.clone(), body: body.clone() });
            // The system reports the stage it reached; that push also carries the cards now due.
            if back > 0 {
                let body =
                    CasePush { stage: stage.into(), stage_at: Some((now - Duration::hours(1)).to_rfc3339()), ..body };
                pushes.push(Push { at: now - Duration::minutes(50), number, body });
            }
        }
    }
    // In the order the system sent them.
    pushes.sort_by_key(|p| p.at);
    let mut cases = history(tx, cast.algo(), &system, counters, &cal, months, now, rng).await?;
    for p in &pushes {
        let (created, _) = record_push(tx, cast.algo(), &system, &p.number, &p.body, p.at)
            .await
            .map_err(|e| anyhow::anyhow!("demo case {}: {e:?}", p.number))?;
        cases += usize::from(created);
    }
    Ok((ITEMS.len(), cases, pushes.into_iter().map(|p| p.number).collect()))
}

/// The push of a case as the system reports it accepted at the counter: by one of the window's
/// staff, for an enterprise or a person as the department's applicants mostly are.
fn accepted_push(
    code: &str,
    counter: &Counter,
    enterprise: bool,
    accepted: DateTime<Utc>,
    rng: &mut StdRng,
) -> CasePush {
    CasePush {
        item_code: code.to_owned(),
        window_code: Some(counter.code.clone()),
        staff_no: counter.staff.choose(rng).cloned(),
        applicant_type: if rng.random_bool(if enterprise { 0.85 } else { 0.1 }) { "enterprise" } else { "person" }
            .to_owned(),
        accepted_at: accepted.to_rfc3339(),
        stage: "受理".into(),
        stage_at: Some(accepted.to_rfc3339()),
        completed_at: None,
    }
}

/// A case's day at the counter, pushed once when done: how many of them an item has on a working
/// day (the quick ones are the busy ones).
fn daily_volume(promised: u32) -> u32 {
    match promised {
        0 => 80,
        1..=3 => 50,
        4..=7 => 25,
        _ => 10,
    }
}

/// `months` of cases before the last three working days, at each item's daily volume, each
/// pushed once by the approval system when it was done, a working day's worth at a time.
#[allow(clippy::too_many_arguments)]
async fn history(
    tx: &DatabaseTransaction,
    algo: xiaoneng_store::HashAlgo,
    system: &xiaoneng_store::entity::api_client::Model,
    counters: &[Counter],
    cal: &WorkCalendar,
    months: u32,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<usize> {
    let today = city_day(now);
    let Some(first) = today.checked_sub_months(chrono::Months::new(months)) else { return Ok(0) };
    let last = working_days_back(cal, today, 3);
    let mut made = 0;
    let mut day = first;
    while day < last && months > 0 {
        if day.day() == 1 {
            crate::demo::refresh_statistics(tx).await?;
        }
        if cal.is_working_day(day) {
            let mut pushes = Vec::new();
            for (i, (window, dept, code, _, promised, _, late_share)) in ITEMS.iter().enumerate() {
                let counter =
                    counters.iter().find(|c| c.number == *window).with_context(|| format!("demo window {window}"))?;
                let enterprise = FOR_ENTERPRISES.contains(dept);
                let n = daily_volume(*promised);
                for k in 0..rng.random_range(n * 3 / 4..=n * 5 / 4) {
                    let accepted = at_time(day, rng.random_range(9 * 60..16 * 60 + 30));
                    let took = if rng.random_bool(*late_share) {
                        promised + rng.random_range(1..=3)
                    } else {
                        rng.random_range(0..=*promised)
                    };
                    let done = at_time(cal.add_working_days(day, took), rng.random_range(9 * 60..17 * 60 + 30))
                        .max(accepted + Duration::minutes(rng.random_range(8..40)));
                    if done > now - Duration::hours(1) {
                        continue;
                    }
                    let body = CasePush {
                        stage: "办结".into(),
                        stage_at: Some(done.to_rfc3339()),
                        completed_at: Some(done.to_rfc3339()),
                        ..accepted_push(code, counter, enterprise, accepted, rng)
                    };
                    let number = format!("BJ{}{}", day.format("%Y%m%d"), 100_000 + i * 1_000 + k as usize);
                    pushes.push((number, body, done + Duration::minutes(1)));
                }
            }
            pushes.sort_by_key(|p| p.2);
            for chunk in pushes.chunks(500) {
                made += record_new_pushes(tx, algo, system, chunk)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo history of {day}: {e:?}"))?
                    .len();
            }
        }
        day += Duration::days(1);
    }
    Ok(made)
}

/// The working day `n` working days before `today` (0: today if it is one, else the last one).
pub(crate) fn working_days_back(cal: &WorkCalendar, today: NaiveDate, n: u32) -> NaiveDate {
    let mut d = today;
    while !cal.is_working_day(d) {
        d -= Duration::days(1);
    }
    for _ in 0..n {
        d -= Duration::days(1);
        while !cal.is_working_day(d) {
            d -= Duration::days(1);
        }
    }
    d
}

/// A city time on `day`, `minutes` after midnight.
pub(crate) fn at_time(day: NaiveDate, minutes: u32) -> DateTime<Utc> {
    city_time(day, minutes / 60, minutes % 60)
}
