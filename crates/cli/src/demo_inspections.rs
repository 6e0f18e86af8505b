//! A year of covert inspections in the demo city: one plan a month from January 2026 to the month
//! before today, each with its targets, team, visits and findings whose history was walked through
//! the state machine. The number of findings follows the speech: steady in spring, a lull in
//! May–June, a rise in July–August as attention slackens, then moderate again.
//!
//! Written inside the demo's one transaction, from its random generator: deterministic, and only
//! ever written once.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use rand::{
    Rng,
    rngs::StdRng,
    seq::{IndexedRandom, SliceRandom},
};
use sea_orm::DatabaseTransaction;
use xiaoneng_core::{
    inspection::{FindingAction, PlanState, Severity},
    org::{DepartmentCategory, Status},
};
use xiaoneng_server::inspections::{access::FindingViewer, findings, plans};
use xiaoneng_store::{
    accounts,
    entity::{finding, finding_category, person, window},
    inspections::{self, FindingInput, FindingVisibility, PlanInput, VisitInput},
    org::{self, PeopleFilter, Scope},
};

use crate::demo::Cast;

/// The first month the demo city's office ran covert inspections.
const FIRST_MONTH: (i32, u32) = (2026, 1);

/// Findings a month, before a little noise: what the videos found, as the speech tells it.
fn findings_expected(month: u32) -> i32 {
    match month {
        1 => 15,
        2 => 12,
        3 => 16,
        4 => 14,
        // The lull: the videos of May and June found little.
        5 => 5,
        6 => 4,
        // Attention slackened in the heat of summer.
        7 => 26,
        8 => 30,
        _ => 12,
    }
}

/// How often each category of the speech's taxonomy turns up; the first four are what the
/// videos showed most.
const CATEGORY_WEIGHTS: &[(&str, u32)] = &[
    ("ABSENT", 26),
    ("GAMING", 20),
    ("UNSKILLED", 16),
    ("RUDE", 14),
    ("LATE", 7),
    ("IMAGE", 6),
    ("BUCK", 5),
    ("FIRST_INQUIRY", 4),
    ("OVERDUE", 3),
];

/// The city's time zone. Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

fn at(day: NaiveDate, minute_of_day: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(minute_of_day / 60, minute_of_day % 60, 0).unwrap_or_default();
    shanghai().from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// Working days as the office counts them: statutory holidays off, swapped weekends (调休) on.
fn is_working_day(d: NaiveDate) -> bool {
    xiaoneng_core::calendar::WorkCalendar::default().is_working_day(d)
}

/// The working day `n` working days after `d` (`n` = 0: `d` itself if it is one, else the next).
fn working_day_after(d: NaiveDate, n: u32) -> NaiveDate {
    let mut day = d;
    while !is_working_day(day) {
        day += Duration::days(1);
    }
    for _ in 0..n {
        day += Duration::days(1);
        while !is_working_day(day) {
            day += Duration::days(1);
        }
    }
    day
}

fn working_day_before(d: NaiveDate) -> NaiveDate {
    let mut day = d - Duration::days(1);
    while !is_working_day(day) {
        day -= Duration::days(1);
    }
    day
}

/// A moment in office hours, for the office's own steps.
fn office_time(rng: &mut StdRng) -> u32 {
    if rng.random_bool(0.5) { rng.random_range(9 * 60 + 20..11 * 60 + 40) } else { rng.random_range(14 * 60..17 * 60) }
}

/// "上午10时15分", "下午3时05分".
fn clock_phrase(minute_of_day: u32) -> String {
    let (h, m) = (minute_of_day / 60, minute_of_day % 60);
    if h < 12 {
        format!("上午{h}时{m:02}分")
    } else {
        format!("下午{}时{m:02}分", if h == 12 { 12 } else { h - 12 })
    }
}

/// Picks one of `items` by weight; `None` when nothing has weight.
fn pick_weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> Option<T> {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut r = rng.random_range(0..total);
    for (item, w) in items {
        if r < *w {
            return Some(*item);
        }
        r -= w;
    }
    None
}

/// A department that may be inspected, with what a visit needs to know about it.
struct Unit {
    id: i64,
    name: String,
    category: DepartmentCategory,
    windows: Vec<window::Model>,
    weight: u32,
}

/// Window templates ({t} the time, {w} the window number, {topic} what it handles) and office
/// templates ({o} the office visited), per category.
fn templates(code: &str, at_window: bool, morning: bool) -> &'static [&'static str] {
    match (code, at_window) {
        ("ABSENT", true) => &[
            "{t}，{w}窗口工作人员不在岗，群众等候约{wait}分钟无人接待，窗口未摆放“暂停服务”提示牌。",
            "{t}，{w}窗口只有桌牌无人值守，向邻近窗口询问，答复称该工作人员“出去办事了”，约{wait}分钟后仍未返回。",
            "{t}，暗访人员在{w}窗口排队办理{topic}，窗口工作人员离开座位约{wait}分钟，其间{n}名群众在窗口前等候。",
        ],
        ("ABSENT", false) => &[
            "{t}，{o}办公室无人，房门未锁，电脑处于开机状态，约{wait}分钟内无人返回。",
            "{t}，暗访组到{o}咨询{topic}，值班人员不在岗，{n}名办事群众在走廊等候约{wait}分钟无人接待。",
        ],
        ("GAMING", true) => &[
            "{t}，{w}窗口工作人员在业务电脑上玩扑克牌游戏，群众走到窗口前才切换页面。",
            "{t}，{w}窗口工作人员低头用手机微信聊天，对窗口前等候的群众视而不见，持续约{wait}分钟。",
            "{t}，{w}窗口工作人员用业务电脑浏览购物网站，窗口前有{n}名群众排队等候办理{topic}。",
        ],
        ("GAMING", false) => &[
            "{t}，{o}一名工作人员在办公电脑上玩“斗地主”网络游戏，暗访人员进门询问时仍未停止。",
            "{t}，{o}工作人员用手机观看网络视频，暗访人员咨询{topic}时答复“等一下”，约{wait}分钟后才接待。",
        ],
        ("IMAGE", true) => &[
            "{t}，{w}窗口工作人员未按规定着装、未佩戴工作牌，与邻座人员大声说笑。",
            "{t}，{w}窗口两名工作人员在窗口内嬉笑打闹，台面摆放零食和水杯，影响窗口形象。",
        ],
        ("IMAGE", false) => &[
            "{t}，{o}着制服的工作人员在办公区嬉笑打闹，群众进门后仍未停止。",
            "{t}，{o}工作人员着制服在办公室内吃零食、翘腿闲聊，不注意机关形象。",
        ],
        ("UNSKILLED", true) => &[
            "{t}，暗访人员到{w}窗口咨询{topic}所需材料，工作人员无法准确回答，翻查资料约{wait}分钟后仍答复不清。",
            "{t}，{w}窗口工作人员对{topic}的办理流程不熟悉，前后两次告知的材料清单不一致，未做到一次性告知。",
        ],
        ("UNSKILLED", false) => &[
            "{t}，暗访人员电话咨询{o}{topic}相关规定，接听人员称“不清楚，你去问别人”，未能解答。",
            "{t}，{o}工作人员对本岗位职责范围内的{topic}不熟悉，说不清办理依据和时限。",
        ],
        ("RUDE", true) => &[
            "{t}，群众在{w}窗口询问{topic}办理进度，工作人员语气生硬，称“说了多少遍了，自己看墙上的告示”。",
            "{t}，{w}窗口工作人员对老年群众的询问不耐烦，多次打断对方讲话，态度冷淡。",
            "{t}，暗访人员在{w}窗口递交{topic}材料，工作人员未使用文明用语，将材料直接推回窗口。",
        ],
        ("RUDE", false) => &[
            "{t}，暗访人员到{o}反映{topic}问题，接待人员未起身、未让座，态度冷漠，称“这事不归我们管”。",
            "{t}，{o}工作人员接听群众咨询{topic}的电话时语气生硬，未听完即挂断。",
        ],
        ("BUCK", true) => {
            &["{t}，群众在{w}窗口办理{topic}，工作人员称需到其他窗口办理，其他窗口又让其返回，往返{n}次仍未受理。"]
        }
        ("BUCK", false) => &["{t}，暗访人员到{o}咨询{topic}，被要求先到其他科室开具证明，科室之间相互推诿，未能办理。"],
        ("LATE", true) if morning => {
            &["{t}，已过上班时间，{w}窗口工作人员尚未到岗，群众等候约{wait}分钟后才开始办理。"]
        }
        ("LATE", true) => &["{t}，距下班时间尚有{wait}分钟，{w}窗口工作人员已关闭电脑离开窗口，群众被告知“明天再来”。"],
        ("LATE", false) if morning => &["{t}，已过上班时间，{o}工作人员尚未到岗，办公室无人接待。"],
        ("LATE", false) => &["{t}，距下班时间尚有{wait}分钟，{o}工作人员已提前离岗，办公室仅剩1人值守。"],
        ("FIRST_INQUIRY", true) => {
            &["{t}，暗访人员向{w}窗口工作人员询问{topic}应到哪里办理，工作人员答复“不知道”，未指引也未转交。"]
        }
        ("FIRST_INQUIRY", false) => {
            &["{t}，暗访人员到{o}询问{topic}，首问工作人员称“不是我负责的”，未告知承办人员和联系方式。"]
        }
        ("OVERDUE", true) => {
            &["{t}，暗访组抽查{w}窗口办件记录，{n}件{topic}超过承诺时限{over}个工作日未办结，也未告知申请人原因。"]
        }
        ("OVERDUE", false) => {
            &["{t}，暗访组抽查{o}办件记录，{n}件{topic}超过承诺时限{over}个工作日未办结，无延期说明。"]
        }
        (_, true) => &["{t}，暗访人员在{w}窗口办理{topic}时发现工作人员违反机关效能建设有关规定。"],
        (_, false) => &["{t}，暗访组在{o}发现工作人员违反机关效能建设有关规定。"],
    }
}

/// What an office visit asks about, by department category.
fn office_topics(category: DepartmentCategory) -> &'static [&'static str] {
    match category {
        DepartmentCategory::LawEnforcement => &["行政处罚案件办理进度", "投诉举报处理", "行政许可事项", "执法检查结果"],
        DepartmentCategory::EconomicService => &["项目申报", "企业扶持政策兑现", "专项资金拨付", "企业诉求办理"],
        _ => &["业务办理流程", "政策咨询", "办件进度查询"],
    }
}

/// Offices within a department a covert visit walks into, by department category.
fn rooms(category: DepartmentCategory) -> &'static [&'static str] {
    match category {
        DepartmentCategory::LawEnforcement => &["法规科", "执法监督科", "行政审批科", "综合科", "执法大队"],
        DepartmentCategory::EconomicService => &["综合科", "项目科", "产业发展科", "政策法规科"],
        _ => &["综合科", "业务科"],
    }
}

const WITHDRAW_REASONS: &[&str] = &[
    "核实后该工作人员经批准外出办理公务，有请假审批记录",
    "视频画面无法辨认当事人，证据不足",
    "与同一窗口当日已记录的问题重复",
    "核实后系业务系统故障导致暂停受理，非个人原因",
];

fn describe(rng: &mut StdRng, code: &str, unit: &Unit, window: Option<&window::Model>, minute_of_day: u32) -> String {
    let morning = minute_of_day < 12 * 60;
    let template =
        templates(code, window.is_some(), morning).choose(rng).copied().unwrap_or("{t}，发现违反效能规定的问题。");
    let topic = match window {
        Some(w) => w.name.split_once(' ').map_or(w.name.as_str(), |(_, what)| what).to_owned(),
        None => office_topics(unit.category).choose(rng).copied().unwrap_or("业务办理").to_owned(),
    };
    let room = rooms(unit.category).choose(rng).copied().unwrap_or("综合科");
    let wait = if code == "LATE" && !morning {
        17 * 60 + 30 - minute_of_day.min(17 * 60 + 29)
    } else {
        rng.random_range(2u32..=8) * 5
    };
    template
        .replace("{t}", &clock_phrase(minute_of_day))
        .replace("{w}", window.map_or("", |w| w.number.as_str()))
        .replace("{o}", &format!("{}{room}", unit.name))
        .replace("{topic}", &topic)
        .replace("{wait}", &wait.to_string())
        .replace("{n}", &rng.random_range(2u32..=6).to_string())
        .replace("{over}", &rng.random_range(2u32..=9).to_string())
}

/// The default severity, now and then a step lighter or heavier.
fn vary(rng: &mut StdRng, default: Severity) -> Severity {
    let ranks = [Severity::Minor, Severity::General, Severity::Serious];
    let i = ranks.iter().position(|s| *s == default).unwrap_or(1);
    let r: f64 = rng.random();
    let j = if r < 0.12 {
        i.saturating_sub(1)
    } else if r < 0.22 {
        (i + 1).min(ranks.len() - 1)
    } else {
        i
    };
    ranks[j]
}

/// Where a finding ends up: the steps it has been through, in order. Older months are done
/// with; in the latest, the later a finding the likelier the office is still at it.
fn path_to(rng: &mut StdRng, latest_month: bool, late_in_month: bool) -> &'static [FindingAction] {
    use FindingAction::*;
    let r: f64 = rng.random();
    if latest_month {
        let (draft, confirmed) = if late_in_month { (0.50, 0.80) } else { (0.15, 0.40) };
        match r {
            r if r < draft => &[],
            r if r < confirmed => &[Confirm],
            r if r < 0.95 => &[Confirm, Notify],
            _ => &[Withdraw],
        }
    } else if r < 0.07 {
        &[Withdraw]
    } else {
        &[Confirm, Notify]
    }
}

/// Seeds the year's covert inspections; returns (plans, findings).
pub async fn seed(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    dept_ids: &HashMap<&str, i64>,
    window_ids: &HashMap<&str, Vec<i64>>,
    now: DateTime<Utc>,
    rng: &mut StdRng,
    made: &mut Vec<finding::Model>,
) -> anyhow::Result<(usize, usize)> {
    let office = accounts::find_by_username(tx, "xnb_admin").await?.context("the demo office admin account")?.id;
    let inspector = accounts::find_by_username(tx, "inspector").await?.context("the demo inspector account")?.id;

    // The focus departments, in a fixed order (a HashMap's order is not).
    let mut units = Vec::new();
    let mut codes: Vec<(&str, i64)> = dept_ids.iter().map(|(c, id)| (*c, *id)).collect();
    codes.sort_by_key(|(_, id)| *id);
    for (code, id) in codes {
        let d = org::get_department(tx, &Scope::All, id).await?;
        if !d.is_focus || d.status != Status::Active {
            continue;
        }
        let mut windows = Vec::new();
        for w in window_ids.get(code).map(Vec::as_slice).unwrap_or_default() {
            windows.push(org::get_window(tx, &Scope::All, *w).await?);
        }
        let weight = match (d.category, windows.is_empty()) {
            (DepartmentCategory::WindowService, false) => 6,
            (DepartmentCategory::LawEnforcement, false) => 5,
            (DepartmentCategory::LawEnforcement, true) => 3,
            (DepartmentCategory::EconomicService, false) => 2,
            _ => 1,
        };
        units.push(Unit { id, name: d.name, category: d.category, windows, weight });
    }
    if units.is_empty() {
        return Ok((0, 0));
    }

    let categories: Vec<(finding_category::Model, u32)> = inspections::list_categories(tx, false)
        .await?
        .into_iter()
        .filter_map(|c| CATEGORY_WEIGHTS.iter().find(|(code, _)| *code == c.code).map(|(_, w)| (c, *w)))
        .collect();
    let category_choice: Vec<(usize, u32)> = categories.iter().enumerate().map(|(i, (_, w))| (i, *w)).collect();

    let mut people: HashMap<i64, Vec<person::Model>> = HashMap::new();
    let today = now.with_timezone(&shanghai()).date_naive();
    let last = if today.month() == 1 { (today.year() - 1, 12) } else { (today.year(), today.month() - 1) };
    let (mut plans, mut findings) = (0usize, 0usize);
    let (mut year, mut month) = FIRST_MONTH;
    while (year, month) <= last {
        let start = NaiveDate::from_ymd_opt(year, month, 1).context("month start")?;
        let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
        let end = NaiveDate::from_ymd_opt(next.0, next.1, 1).context("month end")? - Duration::days(1);
        let latest = (year, month) == last;
        findings += seed_month(
            tx,
            cast,
            Month { year, month, start, end, latest },
            &units,
            &categories,
            &category_choice,
            &mut people,
            (office, inspector),
            now,
            rng,
            made,
        )
        .await?;
        plans += 1;
        (year, month) = next;
    }
    seed_current_month(tx, cast, &units, (office, inspector), today, now, rng).await?;
    Ok((plans + 1, findings))
}

/// This month's plan, active, with visits from today to the month's end and nothing recorded
/// yet: what a demo inspector opens the recording page to.
async fn seed_current_month(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    units: &[Unit],
    (office, inspector): (i64, i64),
    today: NaiveDate,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let start = today.with_day(1).context("month start")?;
    let next = if today.month() == 12 { (today.year() + 1, 1) } else { (today.year(), today.month() + 1) };
    let end = NaiveDate::from_ymd_opt(next.0, next.1, 1).context("month end")? - Duration::days(1);
    let mut left: Vec<(usize, u32)> = units.iter().enumerate().map(|(i, u)| (i, u.weight)).collect();
    let mut chosen = Vec::new();
    while chosen.len() < 4.min(units.len()) {
        let Some(i) = pick_weighted(rng, &left) else { break };
        chosen.push(i);
        left.retain(|(j, _)| *j != i);
    }
    let targets: Vec<(i64, Option<i64>)> =
        chosen.iter().map(|&i| (units[i].id, units[i].windows.first().map(|w| w.id))).collect();
    let input = PlanInput {
        title: format!("{}年{}月机关效能暗访", today.year(), today.month()),
        period_start: start,
        period_end: end,
        notes: "本月暗访进行中：请暗访组按日程到窗口暗访，发现问题当场记录。".into(),
        targets: targets.clone(),
    };
    let boss = cast.user(tx, office).await?;
    let plan = plans::create_plan(tx, cast.act(&boss, now), input, PlanState::Active, &[inspector, office]).await?;
    // Today, then the working days left in the month, one target each.
    let mut days = vec![today];
    days.extend(today.iter_days().skip(1).take_while(|d| *d <= end).filter(|d| is_working_day(*d)).take(4));
    for (n, day) in days.into_iter().enumerate() {
        let (department_id, window_id) = targets[n % targets.len()];
        let visit = inspections::VisitInput { department_id, window_id, scheduled_on: day, notes: String::new() };
        plans::schedule_visit(tx, cast.act(&boss, now), &plan, visit).await?;
    }
    Ok(())
}

struct Month {
    year: i32,
    month: u32,
    start: NaiveDate,
    end: NaiveDate,
    latest: bool,
}

/// One month: the plan, its team and visits, the findings, and the plan closed. Returns the
/// number of findings.
#[allow(clippy::too_many_arguments)]
async fn seed_month(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    m: Month,
    units: &[Unit],
    categories: &[(finding_category::Model, u32)],
    category_choice: &[(usize, u32)],
    people: &mut HashMap<i64, Vec<person::Model>>,
    (office, inspector): (i64, i64),
    now: DateTime<Utc>,
    rng: &mut StdRng,
    made: &mut Vec<finding::Model>,
) -> anyhow::Result<usize> {
    let not_after = |t: DateTime<Utc>| t.min(now - Duration::minutes(1));

    // 4–6 focus departments, window and law-enforcement departments first.
    let k = rng.random_range(4..=6usize).min(units.len());
    let mut left: Vec<(usize, u32)> = units.iter().enumerate().map(|(i, u)| (i, u.weight)).collect();
    let mut chosen = Vec::new();
    while chosen.len() < k {
        let Some(i) = pick_weighted(rng, &left) else { break };
        chosen.push(i);
        left.retain(|(j, _)| *j != i);
    }
    chosen.sort_unstable();
    let mut targets = Vec::new();
    for &i in &chosen {
        let u = &units[i];
        if u.windows.is_empty() || u.category != DepartmentCategory::WindowService {
            targets.push((u.id, None));
        }
        targets.extend(u.windows.iter().map(|w| (u.id, Some(w.id))));
    }

    let seasonal = match m.month {
        1 => "年初首月，",
        2 => "春节前后，",
        5 => "“五一”节后，",
        7 | 8 => "盛夏时节，重点关注作风松懈、纪律松弛苗头，",
        10 => "国庆节后，",
        _ => "",
    };
    let notes = format!(
        "{seasonal}按照年度机关效能建设工作安排，以办事群众身份对窗口服务单位和执法管理部门开展暗访，重点检查工作纪律、服务态度和办事效率。"
    );
    let title = format!("{}年{}月机关效能暗访", m.year, m.month);
    let created = at(working_day_before(m.start), 10 * 60 + rng.random_range(0..60));
    let input = || PlanInput {
        title: title.clone(),
        period_start: m.start,
        period_end: m.end,
        notes: notes.clone(),
        targets: targets.clone(),
    };
    let boss = cast.user(tx, office).await?;
    let team = [inspector, office];
    let plan = plans::create_plan(tx, cast.act(&boss, created), input(), PlanState::Active, &team).await?;
    // The team as the findings' pages see them, once the plan exists.
    let mut viewers = HashMap::new();
    for id in team {
        viewers.insert(id, FindingViewer::of(tx, cast.user(tx, id).await?).await?);
    }

    // Visits on working days of the month: every chosen department once, then some again.
    let days: Vec<NaiveDate> = m.start.iter_days().take_while(|d| *d <= m.end).filter(|d| is_working_day(*d)).collect();
    let n = rng.random_range(chosen.len().max(4)..=10).min(days.len());
    let mut who: Vec<usize> = chosen.clone();
    let weights: Vec<(usize, u32)> = chosen.iter().map(|&i| (i, units[i].weight)).collect();
    while who.len() < n {
        who.extend(pick_weighted(rng, &weights));
    }
    let mut picked: Vec<NaiveDate> = days.choose_multiple(rng, n).copied().collect();
    picked.sort_unstable();
    who.shuffle(rng);
    let mut visits = Vec::new();
    for (day, &i) in picked.into_iter().zip(&who) {
        let u = &units[i];
        let window = match (u.windows.choose(rng), targets.contains(&(u.id, None))) {
            (Some(w), false) => Some(w),
            (Some(w), true) if rng.random_bool(0.6) => Some(w),
            _ => None,
        };
        let notes = match window {
            Some(w) => format!("以办事群众身份到{}{}窗口（{}）暗访", w.hall, w.number, w.name),
            None => format!("随机进入{}办公区域，检查在岗情况和工作纪律", u.name),
        };
        let visit = VisitInput { department_id: u.id, window_id: window.map(|w| w.id), scheduled_on: day, notes };
        let v = plans::schedule_visit(tx, cast.act(&boss, created + Duration::minutes(1)), &plan, visit).await?;
        // Morning or afternoon: the team goes once and stays a while.
        let morning = rng.random_bool(0.6);
        visits.push((v, u, window.cloned(), morning));
    }

    // The month's findings, spread over its visits (window visits find more).
    let total = (findings_expected(m.month) + rng.random_range(-1..=1)).max(0);
    let visit_weights: Vec<(usize, u32)> =
        visits.iter().enumerate().map(|(i, (_, _, w, _))| (i, if w.is_some() { 3 } else { 2 })).collect();
    let mut per_visit = vec![0u32; visits.len()];
    for _ in 0..total {
        if categories.is_empty() {
            break;
        }
        if let Some(i) = pick_weighted(rng, &visit_weights) {
            per_visit[i] += 1;
        }
    }

    let mut count = 0usize;
    for ((v, u, window, morning), how_many) in visits.iter().zip(per_visit) {
        let staff = match people.get(&u.id) {
            Some(p) => p.clone(),
            None => {
                let f = PeopleFilter {
                    department_id: Some(u.id),
                    exact_department: true,
                    status: Some(Status::Active.code().into()),
                    ..Default::default()
                };
                let p = org::export_people(tx, &Scope::All, &f, 1000).await?;
                people.insert(u.id, p.clone());
                p
            }
        };
        let mut moments: Vec<u32> = (0..how_many)
            .map(|_| {
                if *morning {
                    rng.random_range(9 * 60..11 * 60 + 50)
                } else {
                    rng.random_range(13 * 60 + 30..17 * 60 + 30)
                }
            })
            .collect();
        moments.sort_unstable();
        for mut minute in moments {
            let Some(ci) = pick_weighted(rng, category_choice) else { continue };
            let cat = &categories[ci].0;
            if cat.code == "LATE" {
                minute = if *morning {
                    rng.random_range(9 * 60 + 5..9 * 60 + 40)
                } else {
                    rng.random_range(17 * 60..17 * 60 + 25)
                };
            }
            let occurred = at(v.scheduled_on, minute);
            let person = choose_person(rng, &staff, window.as_ref().map(|w| w.id));
            let description = describe(rng, &cat.code, u, window.as_ref(), minute);
            let recorder = if rng.random_bool(0.75) { inspector } else { office };
            let recorded = not_after(occurred + Duration::minutes(rng.random_range(40..=180)));
            let input = FindingInput {
                visit: Some(inspections::get_visit(tx, v.id).await?),
                department_id: u.id,
                window_id: window.as_ref().map(|w| w.id),
                person_id: person.map(|p| p.id),
                post_id: person.and_then(|p| p.post_id),
                category_id: cat.id,
                severity: Some(vary(rng, cat.default_severity)),
                occurred_at: occurred,
                description,
            };
            let viewer = &viewers[&recorder];
            let f = findings::record_finding(tx, cast.act(&viewer.user, recorded), viewer, input).await?;
            made.push(f.clone());
            let steps = path_to(rng, m.latest, v.scheduled_on.day() > 15);
            walk(tx, cast, &viewers, rng, f, steps, (office, recorder), minute, &not_after).await?;
            count += 1;
        }
    }

    let closed_on = working_day_after(m.end + Duration::days(1), rng.random_range(0..=1));
    let closed = not_after(at(closed_on, 16 * 60 + rng.random_range(0..60)));
    let plan = inspections::get_plan(tx, None, plan.id).await?;
    plans::update_plan(tx, cast.act(&boss, closed), &plan, input(), PlanState::Closed, &team).await?;
    Ok(count)
}

/// Someone of the department: at a window, who sits there (else any window staff); elsewhere,
/// anyone but the leadership.
fn choose_person<'a>(rng: &mut StdRng, staff: &'a [person::Model], window: Option<i64>) -> Option<&'a person::Model> {
    let pool: Vec<&person::Model> = match window {
        Some(w) => {
            let at_window: Vec<_> = staff.iter().filter(|p| p.window_id == Some(w)).collect();
            if at_window.is_empty() { staff.iter().filter(|p| p.window_id.is_some()).collect() } else { at_window }
        }
        None => staff.iter().filter(|p| !p.is_head && !p.is_leader_in_charge && p.window_id.is_none()).collect(),
    };
    let pool = if pool.is_empty() { staff.iter().collect() } else { pool };
    pool.choose(rng).copied()
}

/// Takes a fresh draft through `steps`, each through the finding's own command, at plausible
/// times: the office reviews within days, notifies a few days later; the team withdraws its own.
#[allow(clippy::too_many_arguments)]
async fn walk(
    tx: &DatabaseTransaction,
    cast: &Cast,
    viewers: &HashMap<i64, FindingViewer>,
    rng: &mut StdRng,
    mut f: finding::Model,
    steps: &[FindingAction],
    (office, recorder): (i64, i64),
    minute: u32,
    not_after: &impl Fn(DateTime<Utc>) -> DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut day = f.created_at.with_timezone(&shanghai()).date_naive();
    let mut last = f.created_at;
    let all = FindingVisibility { all: true, ..Default::default() };
    for &action in steps {
        let (by, reason) = match action {
            FindingAction::Withdraw => {
                let lunch = (11 * 60 + 30..12 * 60).contains(&minute) || (13 * 60 + 30..14 * 60).contains(&minute);
                let reason = if lunch && rng.random_bool(0.7) {
                    "核实后非工作时间（午休交接时段）"
                } else {
                    WITHDRAW_REASONS.choose(rng).copied().unwrap_or("核实后情况不属实")
                };
                (recorder, reason)
            }
            FindingAction::Confirm => (office, "经审看暗访视频资料，情况属实"),
            FindingAction::Notify => (office, "书面通知被查单位"),
            _ => (office, ""),
        };
        let wait = match action {
            FindingAction::Notify => rng.random_range(1..=4),
            _ => rng.random_range(1..=2),
        };
        day = working_day_after(day, wait);
        let when = not_after(at(day, office_time(rng)).max(last + Duration::minutes(5)));
        let viewer = &viewers[&by];
        let access = viewer.access_one(tx, &f).await?;
        findings::step_finding(tx, cast.act(&viewer.user, when), access, &f, action, reason).await?;
        f = inspections::get_finding(tx, &all, f.id).await?;
        last = when;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default();
        assert!(!is_working_day(d(10, 1)) && !is_working_day(d(10, 3)) && is_working_day(d(10, 8)));
        assert_eq!(working_day_after(d(9, 30), 1), d(10, 8));
        assert_eq!(working_day_before(d(1, 1)), NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default());
        assert_eq!(clock_phrase(10 * 60 + 15), "上午10时15分");
        assert_eq!(clock_phrase(15 * 60 + 5), "下午3时05分");
    }
}
