//! The demo city's ratings and tickets: most finished cases rated on the QR page or the web a
//! while after they were done, mostly satisfied, a small share bad; a few ratings naming no case,
//! held for the office; and the tickets the bad ones opened, at every stage on whatever day the
//! city is made — closed, called back unsatisfied and reopened, rectifying, verifying, one overdue,
//! one appealed, one overturned — with two complaints from the public. All through the same
//! commands as the API, each at the moment it would have happened.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use xiaoneng_core::service::ClientKind;
use xiaoneng_core::{
    rating::RatingChannel,
    rbac::Role,
    ticket::{ComplaintAbout, TicketAbout, TicketActor, TicketSource, TicketStep},
};
use xiaoneng_server::{
    auth::CurrentUser,
    ratings::{Giving, Rater, RatingBody, Rules, Target, record, record_many},
    tickets::{Opening, open, take_step},
};
use xiaoneng_store::{
    entity::{api_client, service_case, ticket},
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
    story: &std::collections::HashSet<String>,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<(usize, usize)> {
    // Each window's counter device.
    let devices: HashMap<i64, api_client::Model> = api_client::Entity::find()
        .filter(api_client::Column::Kind.eq(ClientKind::Device))
        .all(tx)
        .await?
        .into_iter()
        .filter_map(|d| d.window_id.map(|w| (w, d)))
        .collect();
    let rules = Rules::load(tx).await.map_err(|e| anyhow::anyhow!("demo rating rules: {e:?}"))?;
    let (mut ratings, mut gave) = (0, Vec::new());
    // Who rated what, when: most cases on the counter's device at the visit, some on the QR page
    // or the web a while after they were done, in the order they were given — the finished cases
    // a page at a time.
    let mut pages = service_case::Entity::find()
        .filter(service_case::Column::CompletedAt.is_not_null())
        .order_by_asc(service_case::Column::CompletedAt)
        .order_by_asc(service_case::Column::Id)
        .paginate(tx, 10_000);
    while let Some(cases) = pages.fetch_and_next().await? {
        crate::demo::refresh_statistics(tx).await?;
        let mut given = Vec::new();
        for c in cases {
            let Some(done) = c.completed_at else { continue };
            let roll: f64 = rng.random();
            let device = c.window_id.and_then(|w| devices.get(&w));
            let (channel, at) = match device {
                Some(_) if roll < 0.55 => (RatingChannel::Device, done + Duration::seconds(rng.random_range(20..300))),
                _ if roll < 0.8 => (RatingChannel::Qr, done + Duration::minutes(rng.random_range(3..600))),
                _ if roll < 0.9 => (RatingChannel::Web, done + Duration::minutes(rng.random_range(30..2_000))),
                _ => continue,
            };
            if at > now - Duration::minutes(10) {
                continue;
            }
            // A small share bad: more among the cases the story tells of, so that it has tickets to
            // tell of whatever the city's volume.
            let bad = if story.contains(&c.number) { 0.025 } else { 0.005 };
            let roll: f64 = rng.random();
            let (level, reasons, comment) = if roll < bad {
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
            let phone = (level.contains("dissatisfied") || rng.random_bool(0.05))
                .then(|| format!("139{:08}", rng.random_range(0..100_000_000u32)));
            let ip =
                format!("10.{}.{}.{}", rng.random_range(0..255), rng.random_range(0..255), rng.random_range(1..255));
            let rater = Rater { channel, device: device.filter(|_| channel == RatingChannel::Device), ip };
            let body = RatingBody { level: level.into(), reasons, comment, phone };
            given.push(Giving { rater, target: Target::of_case(c), body, at });
        }
        given.sort_by_key(|g| g.at);
        for chunk in given.chunks(500) {
            let recorded = record_many(tx, cast.algo(), vault, &rules, chunk)
                .await
                .map_err(|e| anyhow::anyhow!("demo ratings: {e:?}"))?;
            for r in recorded {
                // A device's burst or a phone's may be held, as it would be; nothing else is refused.
                let m = r.map_err(|e| anyhow::anyhow!("demo rating: {e:?}"))?;
                if gave.len() < 200 {
                    gave.push(m);
                }
                ratings += 1;
            }
        }
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
    // The newest three stay verifying (the oldest of them soon overdue); the three dozen before
    // them, old enough, go through each kind of story in turn; those before were seen through.
    let keep = tickets.len().saturating_sub(3);
    let older: Vec<ticket::Model> =
        tickets.into_iter().take(keep).filter(|t| now - t.opened_at >= Duration::days(2)).collect();
    let told = older.len().saturating_sub(36);
    // And one of those, left unverified past its limit, is overdue.
    let neglected = older.iter().take(told).rposition(|t| now - t.opened_at > Duration::days(12));
    let mut j = 0;
    let mut heads: HashMap<i64, Option<CurrentUser>> = HashMap::new();
    for (i, t) in older.into_iter().enumerate() {
        // Only a department with an account to act for it moves its tickets.
        let head = match heads.get(&t.department_id) {
            Some(known) => known.clone(),
            None => {
                let people = rect::department_users(tx, t.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
                let head = match people.first() {
                    Some(&id) => Some(cast.user(tx, id).await?),
                    None => None,
                };
                heads.insert(t.department_id, head.clone());
                head
            }
        };
        let Some(head) = head else { continue };
        j += 1;
        let verify = || (TicketStep::Verify { note: "经核实情况属实，已约谈当事工作人员".into() }, false);
        let rectify = || (TicketStep::Rectify { note: "对窗口人员批评教育，增设引导员，纳入月度考核".into() }, false);
        let call = |satisfied| (TicketStep::CallBack { satisfied, note: "电话回访".into() }, false);
        let overturned = || {
            vec![
                (
                    TicketStep::Appeal {
                        reason: "监控显示评价人与工作人员发生纠纷后恶意差评".into()
                    },
                    false,
                ),
                (TicketStep::Overturn { reason: "调阅监控属实，撤销该差评".into() }, true),
            ]
        };
        // Those seen through, each step within its limit: mostly called back satisfied, some after
        // a second go, now and then one overturned.
        let long_ago = i < told;
        let plan: Vec<(TicketStep, bool)> = if Some(i) == neglected {
            vec![]
        } else if long_ago {
            match j % 10 {
                3 => overturned(),
                7 => vec![verify(), rectify(), call(false), rectify(), call(true)],
                _ => vec![verify(), rectify(), call(true)],
            }
        } else {
            match (j - 1) % 6 {
                0 => vec![verify(), rectify(), call(true)],
                1 => vec![(TicketStep::Appeal { reason: "评价人当天并未到本窗口办事，系误评".into() }, false)],
                2 => vec![verify()],
                3 => overturned(),
                4 => vec![verify(), rectify()],
                _ => vec![verify(), rectify(), call(false)],
            }
        };
        let age = now - t.opened_at;
        let mut current = t;
        for (k, (step, by_office)) in plan.iter().enumerate() {
            let spread = age * (k as i32 + 1) / (plan.len() as i32 + 1);
            let at = if long_ago {
                current.opened_at + spread.min(Duration::days(2 * (k as i64 + 1)))
            } else {
                current.opened_at + spread
            };
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
