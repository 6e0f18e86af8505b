//! The demo city's ratings and tickets: most finished cases rated on the QR page or the web a
//! while after they were done, mostly satisfied, a small share bad; a few ratings naming no case,
//! held for the office; and the tickets the bad ones opened, at every stage on whatever day the
//! city is made — closed, called back unsatisfied and reopened, rectifying, verifying, one overdue,
//! one appealed, one overturned — with two complaints from the public. All through the same
//! commands as the API, each at the moment it would have happened.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use xiaoneng_core::{
    rating::RatingChannel,
    rbac::Role,
    ticket::{ComplaintAbout, TicketAbout, TicketActor, TicketSource, TicketStep},
};
use xiaoneng_server::{
    ratings::{Rater, RatingBody, Target, record},
    tickets::{Opening, open, take_step},
};
use xiaoneng_store::{
    entity::{service_case, ticket},
    personal::Vault,
    rectification as rect,
};

use crate::demo::Cast;

const GOOD_COMMENTS: &[&str] = &["办事很快，一次办好", "工作人员很耐心", "材料一次性告知，很清楚", "", "", ""];
const BAD: &[(&str, &str)] = &[
    ("long_wait", "排队一个多小时，叫号屏坏了没人管"),
    ("attitude", "工作人员态度生硬，问两句就不耐烦"),
    ("many_visits", "材料没有一次说清楚，跑了三趟"),
    ("unclear_guidance", "网上说的材料和窗口要的不一样"),
];

/// Seeds it all; returns (ratings, tickets).
pub async fn seed(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    vault: &Vault,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<(usize, usize)> {
    let cases = service_case::Entity::find()
        .filter(service_case::Column::CompletedAt.is_not_null())
        .order_by_asc(service_case::Column::CompletedAt)
        .all(tx)
        .await?;
    let mut ratings = 0;
    let mut gave = Vec::new();
    for c in cases {
        let Some(done) = c.completed_at else { continue };
        if !rng.random_bool(0.7) {
            continue;
        }
        let at = done + Duration::minutes(rng.random_range(3..600));
        if at > now - Duration::minutes(10) {
            continue;
        }
        let roll: f64 = rng.random();
        let (level, reasons, comment) = if roll < 0.025 {
            let (r, text) = BAD.choose(rng).copied().unwrap_or(BAD[0]);
            let level = if rng.random_bool(0.5) { "dissatisfied" } else { "very_dissatisfied" };
            (level, vec![r.to_owned()], text.to_owned())
        } else {
            let level = if roll < 0.7 {
                "very_satisfied"
            } else if roll < 0.95 {
                "satisfied"
            } else {
                "basic"
            };
            let reasons = if level == "basic" { vec![] } else { vec!["efficient".to_owned()] };
            (level, reasons, (*GOOD_COMMENTS.choose(rng).unwrap_or(&"")).to_owned())
        };
        let phone = (level.contains("dissatisfied") || rng.random_bool(0.1))
            .then(|| format!("139{:08}", rng.random_range(0..100_000_000u32)));
        let channel = if rng.random_bool(0.8) { RatingChannel::Qr } else { RatingChannel::Web };
        let rater = Rater {
            channel,
            device: None,
            ip: format!("10.{}.{}.{}", rng.random_range(0..255), rng.random_range(0..255), rng.random_range(1..255)),
        };
        let body = RatingBody { level: level.into(), reasons, comment, phone };
        let target = Target::of_case(c);
        let m = record(tx, cast.algo(), vault, &rater, &target, &body, at)
            .await
            .map_err(|e| anyhow::anyhow!("demo rating: {e:?}"))?;
        gave.push(m);
        ratings += 1;
    }
    // A few from the windows' own codes, naming no case: held for the office.
    let windows: Vec<(i64, i64)> = gave.iter().filter_map(|r| r.window_id.map(|w| (w, r.department_id))).collect();
    for back in 1..=3 {
        let Some(&(window_id, department_id)) = windows.choose(rng) else { break };
        let target = Target { case: None, department_id, window_id: Some(window_id), person_id: None };
        let body = RatingBody { level: "very_satisfied".into(), ..RatingBody::default() };
        let rater = Rater { channel: RatingChannel::Qr, device: None, ip: format!("172.16.0.{back}") };
        record(tx, cast.algo(), vault, &rater, &target, &body, now - Duration::hours(back * 5))
            .await
            .map_err(|e| anyhow::anyhow!("demo held rating: {e:?}"))?;
        ratings += 1;
    }

    // Two complaints from the public, one about a window, one about a department.
    for (about, text, hours) in [
        (ComplaintAbout::Window, "窗口人员上班时间玩手机，让群众干等", 30),
        (ComplaintAbout::Department, "部门咨询电话一直无人接听", 4),
    ] {
        let Some(r) = gave.choose(rng) else { break };
        let on = TicketAbout {
            department_id: r.department_id,
            window_id: (about == ComplaintAbout::Window).then_some(r.window_id).flatten(),
            person_id: None,
        };
        let opening = Opening {
            source: TicketSource::Complaint,
            rating_id: None,
            about: Some(about),
            on,
            case_id: None,
            content: text.into(),
            phone: None,
            address_key: None,
            photo: None,
        };
        open(tx, cast.algo(), "public", opening, now - Duration::hours(hours)).await?;
    }

    // The bad ratings' tickets, oldest first, taken to a stage that fits their age.
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::Source.eq(TicketSource::BadRating))
        .order_by_asc(ticket::Column::OpenedAt)
        .all(tx)
        .await?;
    let office_id = xiaoneng_store::accounts::find_by_username(tx, "xnb_admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo account xnb_admin"))?
        .id;
    let office = cast.user(tx, office_id).await?;
    // The newest three stay verifying (the oldest of them soon overdue); the others, old enough,
    // go through each kind of story in turn.
    let keep = tickets.len().saturating_sub(3);
    let older: Vec<ticket::Model> =
        tickets.into_iter().take(keep).filter(|t| now - t.opened_at >= Duration::days(2)).collect();
    let mut j = 0;
    for t in older {
        // Only a department with an account to act for it moves its tickets.
        let people = rect::department_users(tx, t.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
        let Some(&head) = people.first() else { continue };
        let head = cast.user(tx, head).await?;
        j += 1;
        let verify = || (TicketStep::Verify { note: "经核实情况属实，已约谈当事工作人员".into() }, false);
        let rectify = || (TicketStep::Rectify { note: "对窗口人员批评教育，增设引导员，纳入月度考核".into() }, false);
        let call = |satisfied| (TicketStep::CallBack { satisfied, note: "电话回访".into() }, false);
        let plan: Vec<(TicketStep, bool)> = match (j - 1) % 6 {
            0 => vec![verify(), rectify(), call(true)],
            1 => vec![(TicketStep::Appeal { reason: "评价人当天并未到本窗口办事，系误评".into() }, false)],
            2 => vec![verify()],
            3 => vec![
                (
                    TicketStep::Appeal {
                        reason: "监控显示评价人与工作人员发生纠纷后恶意差评".into()
                    },
                    false,
                ),
                (TicketStep::Overturn { reason: "调阅监控属实，撤销该差评".into() }, true),
            ],
            4 => vec![verify(), rectify()],
            _ => vec![verify(), rectify(), call(false)],
        };
        let age = now - t.opened_at;
        let mut current = t;
        for (k, (step, by_office)) in plan.iter().enumerate() {
            let at = current.opened_at + age * (k as i32 + 1) / (plan.len() as i32 + 1);
            let (who, user) =
                if *by_office { (TicketActor::Office, &office) } else { (TicketActor::Department, &head) };
            take_step(tx, &cast.act(user, at), who, &current, step)
                .await
                .map_err(|e| anyhow::anyhow!("demo ticket step: {e:?}"))?;
            current = ticket::Entity::find_by_id(current.id).one(tx).await?.ok_or_else(|| anyhow::anyhow!("ticket"))?;
        }
    }
    // Deadlines passed while the city was being made are marked, as the job would have.
    xiaoneng_server::tickets::remind(tx, cast.algo(), now, false).await?;
    let total = ticket::Entity::find().all(tx).await?.len();
    Ok((ratings, total))
}
