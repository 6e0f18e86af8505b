//! The demo city's bulletins and what followed them: one bulletin a month for the last three
//! months, each with its orders answered on time, late, returned and resubmitted, or not at all;
//! a leader's instructions; a draft for this month; and a "look back" campaign with some
//! self-checks in. Every step goes through the command the API's handler uses, at the moment the
//! story has it happen, and the newest bulletin is always published before today, so that on
//! any day the office sees orders overdue, returned, awaiting review and accepted.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::DatabaseTransaction;
use xiaoneng_core::{
    calendar::WorkCalendar,
    campaign::{CampaignAction, ParticipantKind},
    clock::city_day,
    rbac::Role,
    rectification::{BulletinScope, Deadline, FollowUp, InstructionTarget, OrderAction},
    scope::Scope,
};
use xiaoneng_server::{
    campaigns as camp_cmd, jobs,
    rectification::{bulletins, instructions, orders},
};
use xiaoneng_store::{
    accounts,
    campaigns::{self, AnswerInput, CampaignInput},
    entity::{finding, order},
    inspections, org,
    rectification::{self as rect, BulletinInput, NewInstruction, ReportInput},
};

use xiaoneng_server::auth::CurrentUser;

use crate::demo::Cast;

/// 09:30 city time on a day.
fn morning(d: NaiveDate) -> DateTime<Utc> {
    let local = d.and_hms_opt(9, 30, 0).unwrap_or_default();
    Utc.from_utc_datetime(&(local - Duration::hours(8)))
}

const CAUSES: &[&str] = &[
    "个别窗口工作人员纪律观念淡薄，对效能建设要求认识不足；科室日常管理不严，考勤和在岗巡查流于形式。",
    "部门对窗口服务的监督检查不到位，首问负责、一次性告知等制度落实不严，业务培训针对性不强。",
    "分管领导对窗口作风问题重视不够，发现问题后未及时纠正，责任传导层层递减。",
];
const MEASURES: &[&str] = &[
    "一是召开全体干部职工会议观看暗访录像，逐条对照查摆；二是实行窗口AB岗和离岗登记制度；三是由纪检组每周不定时巡查，结果与绩效挂钩。",
    "一是修订窗口服务规范和考勤办法；二是组织业务轮训两期，确保窗口人员熟悉政策、解答准确；三是设立科长值班岗，现场督导。",
    "一是对涉及人员进行约谈，责令作出书面检查；二是开展“作风建设月”活动；三是将整改情况在局内通报。",
];
const RESULTS: &[&str] = &[
    "整改以来，窗口在岗率明显提高，未再发现脱岗、玩手机等现象；群众满意度评价较上月提升。",
    "已完成全部整改事项，制度已印发执行，相关人员已作出深刻检查。",
];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from.choose(rng).copied().unwrap_or_default()
}

struct Actors {
    office: i64,
    leader: i64,
}

/// Who signs for a department: its head and liaison (or those of the bureau above it). A
/// department of the demo without a head account gets one, so that every report is signed by
/// someone who may sign it.
struct Signers {
    password_hash: String,
    now: DateTime<Utc>,
}

impl Signers {
    async fn of(&self, tx: &DatabaseTransaction, dept: i64) -> anyhow::Result<(i64, i64)> {
        let head = match rect::department_users(tx, dept, &[Role::DeptHead]).await?.first() {
            Some(h) => *h,
            None => {
                let d = org::get_department(tx, &org::Scope::All, dept).await?;
                let u = accounts::create_user(
                    tx,
                    accounts::NewUser {
                        username: format!("head_{}", d.code.to_lowercase().replace('-', "_")),
                        display_name: format!("{}负责人", d.name),
                        password_hash: self.password_hash.clone(),
                        person_id: None,
                        department_id: Some(dept),
                        must_change_password: false,
                    },
                    self.now,
                )
                .await?;
                accounts::set_roles(tx, u.id, &[Role::DeptHead], None, self.now).await?;
                u.id
            }
        };
        let liaison = rect::department_users(tx, dept, &[Role::DeptLiaison]).await?.first().copied().unwrap_or(head);
        Ok((head, liaison))
    }
}

/// Seeds it all; returns (bulletins, orders, campaigns).
pub async fn seed(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    dept_ids: &std::collections::HashMap<&str, i64>,
    password_hash: &str,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<(usize, usize, usize)> {
    let who = |name: &'static str| async move {
        anyhow::Ok(accounts::find_by_username(tx, name).await?.with_context(|| format!("demo account {name}"))?.id)
    };
    let actors = Actors { office: who("xnb_admin").await?, leader: who("city_leader").await? };
    let signers = Signers { password_hash: password_hash.to_owned(), now };
    // The demo's market regulator and police chief (sj_head, ga_head) get orders still to
    // answer: one returned, one overdue.
    let showcase_heads = [who("sj_head").await?, who("ga_head").await?];
    let mut showcased: std::collections::HashMap<i64, u32> = Default::default();
    let office = cast.user(tx, actors.office).await?;
    let leader = cast.user(tx, actors.leader).await?;
    let calendar = xiaoneng_store::calendar::work_calendar(tx).await?;
    let today = city_day(now);

    let mut bulletins = 0;
    let mut orders = 0;
    // The last three full months, oldest first; the newest is public.
    let mut months = Vec::new();
    let mut m = (today.year(), today.month());
    // On the first working day of a month last month cannot be published yet: the newest
    // bulletin is then the month before's.
    let mut yesterday = today - Duration::days(1);
    while !calendar.is_working_day(yesterday) {
        yesterday -= Duration::days(1);
    }
    if yesterday.year() * 12 + i32::try_from(yesterday.month()).unwrap_or(0)
        < today.year() * 12 + i32::try_from(today.month()).unwrap_or(0)
    {
        m = (yesterday.year(), yesterday.month());
    }
    for _ in 0..3 {
        m = if m.1 == 1 { (m.0 - 1, 12) } else { (m.0, m.1 - 1) };
        months.push(m);
    }
    months.reverse();
    for (i, (year, month)) in months.iter().copied().enumerate() {
        let newest = i == months.len() - 1;
        let start = NaiveDate::from_ymd_opt(year, month, 1).context("month")?;
        let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
        let end = NaiveDate::from_ymd_opt(next.0, next.1, 1).context("month")? - Duration::days(1);
        // Published on the office's fifth working day of the next month — the newest, whatever
        // today is, by the last working day before today.
        let mut published_on = calendar.add_working_days(end, 5);
        if published_on >= today {
            if !newest {
                continue;
            }
            published_on = yesterday;
            if published_on <= end {
                continue;
            }
        }
        let at = morning(published_on);
        let findings: Vec<_> =
            month_findings(tx, start, end).await?.into_iter().filter(|f| f.updated_at < at).collect();
        if findings.is_empty() {
            continue;
        }
        let deadline = if newest {
            Deadline::WorkingDays { days: 10 }
        } else {
            // "Before the 20th", as the speech asked (or ten working days, published after it).
            let the_20th = NaiveDate::from_ymd_opt(next.0, next.1, 20).context("the 20th")?;
            if the_20th > published_on { Deadline::Date { date: the_20th } } else { Deadline::WorkingDays { days: 10 } }
        };
        let input = BulletinInput {
            scope: if newest { BulletinScope::Public } else { BulletinScope::Internal },
            title: format!("关于{year}年{month}月机关效能暗访情况的通报"),
            body: format!(
                "各部门：\n{year}年{month}月，市效能办组织对全市重点执法管理部门、经济服务部门和窗口单位开展了暗访，共发现问题{}个。现将有关情况通报如下。\n从暗访情况看，多数单位工作人员精神饱满、服务规范，但仍有少数窗口存在工作时间脱岗离岗、上网聊天玩游戏、业务不熟解答不了群众咨询等问题，损害了机关形象。\n各部门一把手要切实履行效能建设第一责任人职责，对照问题认真分析、举一反三、严肃整改。",
                findings.len()
            ),
            period_start: start,
            period_end: end,
            mask_names: true,
            corrects_id: None,
            requirement: "请有关部门认真分析原因，逐项落实整改，将整改情况（原因分析、整改措施、整改结果、责任人处理情况）书面报送市效能办。".into(),
            deadline,
            finding_ids: findings.iter().map(|f| f.id).collect(),
        };
        let draft = bulletins::compose(tx, cast.act(&office, at - Duration::hours(20)), None, input).await?;
        let (published, issued) = bulletins::publish(tx, cast.act(&office, at), &draft).await?;
        bulletins += 1;
        orders += issued.len();
        for (k, o) in issued.iter().enumerate() {
            let (head, liaison) = signers.of(tx, o.department_id).await?;
            let n = showcased.entry(head).or_default();
            let showcase = showcase_heads.contains(&head) && *n < 2;
            let fate = if showcase {
                *n += 1;
                if *n == 1 { Fate::Returned } else { Fate::Nothing }
            } else if newest {
                // This month's: in every state an office sees at once.
                match k % 5 {
                    0 => Fate::AcceptedOnTime,
                    1 => Fate::Returned,
                    2 => Fate::Submitted,
                    3 => Fate::Drafted,
                    _ => Fate::Nothing,
                }
            } else if k + 1 == issued.len() {
                // Each older bulletin leaves one order unanswered: overdue.
                Fate::Nothing
            } else {
                match k % 4 {
                    1 => Fate::AcceptedLate,
                    2 => Fate::ReturnedThenAccepted,
                    _ => Fate::AcceptedOnTime,
                }
            };
            let people = (cast.user(tx, head).await?, cast.user(tx, liaison).await?, office.clone(), leader.clone());
            answer(tx, cast, o, fate, &calendar, now, &people, rng).await?;
        }
        if newest {
            let new = NewInstruction {
                target_kind: InstructionTarget::Bulletin,
                target_id: published.id,
                text: "暗访发现的问题要一查到底，各部门一把手要亲自抓整改，效能办要跟踪督办，整改不到位的要追究责任。"
                    .into(),
                follow_up: Some(FollowUp { department_id: None, due: calendar.add_working_days(published_on, 15) }),
            };
            let when = (at + Duration::hours(6)).min(now - Duration::minutes(30));
            instructions::write(tx, cast.act(&leader, when), &Scope::All, new).await?;
        }
    }
    // Whatever is past its deadline now is on record as overdue, and today's reminders are out.
    jobs::mark_overdue(tx, cast.algo(), now).await?;
    jobs::send_reminders(tx, cast.algo(), now).await?;

    // A draft for this month, waiting for the office.
    let start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).context("month")?;
    bulletins::compose(
        tx,
        cast.act(&office, now - Duration::hours(3)),
        None,
        BulletinInput {
            scope: BulletinScope::Internal,
            title: format!("关于{}年{}月机关效能暗访情况的通报（草稿）", today.year(), today.month()),
            body: "各部门：\n（本月暗访情况汇总中）".into(),
            period_start: start,
            period_end: today,
            mask_names: true,
            corrects_id: None,
            requirement: "请有关部门认真分析原因，逐项落实整改，按期书面报送整改情况。".into(),
            deadline: Deadline::WorkingDays { days: 10 },
            finding_ids: Vec::new(),
        },
    )
    .await?;

    let campaigns = seed_campaign(tx, cast, dept_ids, today, now, &signers, &office).await?;
    Ok((bulletins, orders, campaigns))
}

/// Counting findings of a month, in the order they happened.
async fn month_findings(
    tx: &DatabaseTransaction,
    start: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<Vec<finding::Model>> {
    let f = inspections::FindingFilter {
        from: Some(morning(start) - Duration::hours(10)),
        to: Some(morning(end + Duration::days(1)) - Duration::hours(10)),
        sort: Some("occurred_at".into()),
        ..Default::default()
    };
    let vis = inspections::FindingVisibility { all: true, ..Default::default() };
    let rows = inspections::list_findings(tx, &vis, &f, xiaoneng_store::PageReq { page: 1, page_size: 200 }).await?;
    Ok(rows.items.into_iter().filter(|f| f.state.counts()).collect())
}

#[derive(Clone, Copy)]
enum Fate {
    AcceptedOnTime,
    AcceptedLate,
    ReturnedThenAccepted,
    Returned,
    Submitted,
    Drafted,
    Nothing,
}

/// Takes an order through its fate as the department and the office would, each step through
/// the order's commands at its moment (never after `now`); overdue is recorded as the days pass.
#[allow(clippy::too_many_arguments)]
async fn answer(
    tx: &DatabaseTransaction,
    cast: &Cast,
    o: &order::Model,
    fate: Fate,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
    (head, liaison, office, leader): &(CurrentUser, CurrentUser, CurrentUser, CurrentUser),
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let issued = city_day(o.issued_at);
    let today = city_day(now);
    let report = |rng: &mut StdRng| ReportInput {
        cause: pick(rng, CAUSES).into(),
        measures: pick(rng, MEASURES).into(),
        results: pick(rng, RESULTS).into(),
        responsible: "对当事人进行诫勉谈话，责令作出书面检查；科室负责人作出检讨，取消本年度评优资格。".into(),
    };
    // The moment for a step meant for day `d`: after the order was issued, before now.
    let past = |d: NaiveDate, hour: i64| {
        (morning(d.min(today)) + Duration::hours(hour))
            .max(o.issued_at + Duration::minutes(30))
            .min(now - Duration::minutes(10))
    };
    let draft = |o: order::Model, when: DateTime<Utc>, rng: &mut StdRng| {
        let input = report(rng);
        async move {
            jobs::mark_overdue(tx, cast.algo(), when).await?;
            orders::draft_report(tx, cast.act(liaison, when), &o, input).await?;
            anyhow::Ok(rect::get_order(tx, &Scope::All, o.id).await?)
        }
    };
    let step = |o: order::Model,
                who: &'static str,
                action: OrderAction,
                comment: &'static str,
                when: DateTime<Utc>,
                resubmit_by| async move {
        let user = if who == "head" { head } else { office };
        jobs::mark_overdue(tx, cast.algo(), when).await?;
        let (o, r) = orders::step_report(tx, cast.act(user, when), &o, action, comment, resubmit_by).await?;
        anyhow::Ok((o, r))
    };
    match fate {
        Fate::Nothing => {}
        Fate::Drafted => {
            draft(o.clone(), past(calendar.add_working_days(issued, 3), 0), rng).await?;
        }
        Fate::Submitted | Fate::AcceptedOnTime | Fate::AcceptedLate => {
            let on = match fate {
                Fate::AcceptedLate => o.deadline + Duration::days(rng.random_range(2..6)),
                _ => calendar.add_working_days(issued, rng.random_range(4..8)).min(o.deadline),
            };
            let o = draft(o.clone(), past(on, -1), rng).await?;
            let (o, _) = step(o, "head", OrderAction::SubmitReport, "", past(on, 1), None).await?;
            if !matches!(fate, Fate::Submitted) {
                let review = past(calendar.add_working_days(on, 2), 2);
                step(o, "office", OrderAction::Accept, "整改措施具体，同意。", review, None).await?;
            }
        }
        Fate::Returned | Fate::ReturnedThenAccepted => {
            let mut on = calendar.add_working_days(issued, 5).min(o.deadline);
            if matches!(fate, Fate::Returned) {
                // Still being revised today: submitted (late, on an older order) four working
                // days ago and returned two days later, however old the order is.
                let mut recent = today;
                let mut back = 0;
                while back < 4 {
                    recent -= Duration::days(1);
                    back += u32::from(calendar.is_working_day(recent));
                }
                on = on.max(recent);
            }
            let o = draft(o.clone(), past(on, -1), rng).await?;
            let (o, _) = step(o, "head", OrderAction::SubmitReport, "", past(on, 1), None).await?;
            let back = calendar.add_working_days(on, 2);
            let back_at = past(back, 2);
            let again = calendar.add_working_days(city_day(back_at), 5);
            let due = again;
            let comment = "原因分析不够深入，未写明对责任人的处理情况，请补充后重新报送。";
            let (o, _) = step(o, "office", OrderAction::Return, comment, back_at, Some(due)).await?;
            if matches!(fate, Fate::ReturnedThenAccepted) {
                let resubmit = calendar.add_working_days(back, 3);
                let o = draft(o, past(resubmit, -1), rng).await?;
                let (o, _) = step(o, "head", OrderAction::SubmitReport, "", past(resubmit, 1), None).await?;
                let review = past(calendar.add_working_days(resubmit, 1), 2);
                let (_, r2) = step(o, "office", OrderAction::Accept, "补充完善，同意。", review, None).await?;
                if rng.random_bool(0.5) && review + Duration::hours(30) < now {
                    let new = NewInstruction {
                        target_kind: InstructionTarget::Report,
                        target_id: r2.id,
                        text: "整改态度端正，措施有力，要防止反弹，长效机制要落实。".into(),
                        follow_up: None,
                    };
                    instructions::write(tx, cast.act(leader, review + Duration::hours(30)), &Scope::All, new).await?;
                }
            }
        }
    }
    Ok(())
}

/// A "look back" campaign, open, with the five checks and five looks, some answers in.
async fn seed_campaign(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    dept_ids: &std::collections::HashMap<&str, i64>,
    today: NaiveDate,
    now: DateTime<Utc>,
    signers: &Signers,
    office: &CurrentUser,
) -> anyhow::Result<usize> {
    let items = [
        ("查思想观念，看服务意识是否牢固", "是否存在“门难进、脸难看、话难听、事难办”的现象"),
        ("查工作作风，看是否推诿扯皮", "首问负责、一次性告知是否落实；有无推诿、刁难、吃拿卡要"),
        ("查制度落实，看承诺是否兑现", "服务承诺制、岗位责任制、首问负责制、责任追究制执行情况"),
        ("查办事效率，看是否按时办结", "有无超时办理、拖拉延误，办件按时办结率"),
        ("查工作纪律，看窗口形象是否良好", "有无脱岗离岗、上班上网游戏聊天玩牌、着装不整、嬉笑打闹"),
    ];
    let mut participants = Vec::new();
    for code in ["SJ", "GA", "ZW-ZX", "RS", "CG", "SWJ"] {
        if let Some(id) = dept_ids.get(code) {
            participants.push((ParticipantKind::Department, *id, None));
        }
    }
    for code in ["SJ", "GA"] {
        if let Some(id) = dept_ids.get(code) {
            participants.push((ParticipantKind::Leadership, *id, None));
        }
    }
    let start = today - Duration::days(10);
    let opened = morning(start);
    let k = camp_cmd::compose(
        tx,
        cast.act(office, opened - Duration::days(1)),
        None,
        CampaignInput {
            title: format!("{}年机关效能“回头看”活动", today.year()),
            description: "对照暗访录像反映的问题，领导班子和机关干部认真开展一次“五查五看”，逐项自查，如实填报发现的问题、整改措施和完成时限。".into(),
            period_start: start,
            period_end: today + Duration::days(10),
            items: items.iter().map(|(t, g)| ((*t).to_owned(), (*g).to_owned())).collect(),
            participants,
        },
    )
    .await?;
    let k = camp_cmd::step_campaign(tx, cast.act(office, opened), &k, CampaignAction::Open).await?;
    let items = campaigns::items_of(tx, k.id).await?;
    let parts = campaigns::participants_of(tx, k.id, None).await?;
    for (i, p) in parts.iter().enumerate() {
        // Half have answered and submitted; the market regulator's liaison is halfway.
        let answered = match i % 4 {
            0 => 2,
            1 | 2 => items.len(),
            _ => 0,
        };
        if answered == 0 {
            continue;
        }
        let answers: Vec<AnswerInput> = items
            .iter()
            .take(answered)
            .enumerate()
            .map(|(j, it)| AnswerInput {
                item_id: it.id,
                found: if j == 4 {
                    "个别窗口人员工作时间使用手机，着装不统一。".into()
                } else {
                    "无".into()
                },
                measures: if j == 4 {
                    "重申工作纪律，窗口统一着装，科室负责人每日巡查。".into()
                } else {
                    String::new()
                },
                due: (j == 4).then(|| today + Duration::days(20)),
            })
            .collect();
        let at = now - Duration::days(2);
        let (head, liaison) = signers.of(tx, p.department_id).await?;
        let (liaison, head) = (cast.user(tx, liaison).await?, cast.user(tx, head).await?);
        camp_cmd::answer(tx, cast.act(&liaison, at), p, answers).await?;
        if answered == items.len() {
            let p = campaigns::get_participant(tx, None, p.id).await?;
            camp_cmd::submit_self_check(tx, cast.act(&head, at + Duration::hours(2)), &p).await?;
        }
    }
    Ok(1)
}
