//! The assessment bench (`bench/assessment/run.sh` drives it; `bench/README.md` reports it).
//!
//! `assessment-bench gen DIR [--departments N] [--people N] [--events N] [--seed N]` writes a
//! province's year of ledger events (`events.csv` for DuckDB, `events.bin` for core: the same
//! events) and its organisation (`org.csv`), the same
//! for every seed: ratings and completed cases most of it, then cards, callbacks, findings with
//! their bulletins and overturns, overdue orders and tickets, first-inquiry lapses.
//!
//! `assessment-bench run DIR [--threads N]` (one part per core by default) times what core does with them: reading and decoding the file
//! alone, on one thread; folding every event into facts (`Gather::fold_records`: the records
//! decoded on the folding threads), then scoring every department and person and
//! placing each class and tier (the full recompute); one new event made current (applied, its
//! department and person scored again, their class and tier placed again); one breakdown; and
//! the peak memory. It writes each department's total to `totals.csv`, for `duck.py` to check.

use std::{
    collections::HashMap,
    error::Error,
    fs::File,
    io::{BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use chrono::{DateTime, NaiveDate, Utc};
use xiaoneng_core::{
    assessment::{
        Bands, Bonus, Deduction, Facts, Gather, Group, GroupRules, Indicator, Measure, PeriodKind, Placed, Points,
        Quotas, RateRule, Scheme, Score, Veto, Whom, place, score_subject,
    },
    event::{BulletinPublished, Event, EventKind, FindingStep, OrderOverdue, Payload, Subject},
    inquiry::{LapseKind, LapseReviewed},
    inspection::{FindingState, Severity},
    org::{DepartmentCategory, PostType},
    rating::{RatingChannel, RatingGiven, RatingLevel, RatingReviewed},
    rectification::BulletinScope,
    service::CaseCard,
    ticket::{RatingOverturned, TicketDeadline, TicketState, TicketStepped},
};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str, default: u64| -> Res<u64> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(args.get(i + 1).ok_or(format!("{name} needs a value"))?.parse()?),
            None => Ok(default),
        }
    };
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("gen"), Some(dir)) => generate(
            Path::new(dir),
            opt("--departments", 5_000)?,
            opt("--people", 200_000)?,
            opt("--events", 20_000_000)?,
            opt("--seed", 7)?,
        ),
        (Some("run"), Some(dir)) => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
            run(Path::new(dir), opt("--threads", cores)? as usize)
        }
        _ => {
            Err("usage: assessment-bench gen DIR [--departments N] [--people N] [--events N] [--seed N] | run DIR"
                .into())
        }
    }
}

// ------------------------------------------------------------------ the province's year

/// The kinds the year holds; `events.bin` names them by their place here.
const KINDS: [EventKind; 15] = [
    EventKind::FindingConfirmed,
    EventKind::FindingOverturned,
    EventKind::BulletinPublished,
    EventKind::OrderOverdue,
    EventKind::TicketOverdue,
    EventKind::InquiryLapseUpheld,
    EventKind::TicketCalledBack,
    EventKind::CaseYellowCard,
    EventKind::CaseRedCard,
    EventKind::CaseCompleted,
    EventKind::RatingReleased,
    EventKind::RatingRejected,
    EventKind::RatingOverturned,
    EventKind::RatingGiven,
    EventKind::RatingHeld,
];

/// Bytes of one event in `events.bin`: seq, kind, aggregate, department, person (0: none), time
/// (Unix seconds), a, b — little-endian 64-bit integers.
const RECORD: usize = 64;

/// xorshift64*: the same events for the same seed, everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `per_million` times in a million.
    fn chance(&mut self, per_million: u64) -> bool {
        self.below(1_000_000) < per_million
    }
}

const YEAR_START: i64 = 1_767_196_800; // 2026-01-01 00:00 in Asia/Shanghai (2025-12-31 16:00 UTC)
const YEAR_SECS: i64 = 365 * 86_400;

fn generate(dir: &Path, departments: u64, people: u64, events: u64, seed: u64) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut org = BufWriter::new(File::create(dir.join("org.csv"))?);
    let mut staff: Vec<Vec<u64>> = vec![Vec::new(); departments as usize];
    for d in 1..=departments {
        writeln!(org, "d,{d},{},{d}", DepartmentCategory::ALL[(d % 4) as usize].code())?;
    }
    for p in 1..=people {
        let d = 1 + rng.below(departments);
        staff[(d - 1) as usize].push(p);
        writeln!(org, "p,{p},{},{d}", PostType::ALL[rng.below(5) as usize].code())?;
    }
    org.flush()?;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(dir.join("events.csv"))?);
    let mut bin = BufWriter::with_capacity(1 << 20, File::create(dir.join("events.bin"))?);
    writeln!(out, "seq,kind,aggregate_id,department_id,person_id,at,a,b")?;
    // Findings (id, department) that may yet be overturned or named in a bulletin; ratings (id,
    // department, person) held for review, and bad ones that may be overturned.
    let mut findings: Vec<(u64, u64)> = Vec::new();
    let (mut held, mut bad): (Vec<[u64; 3]>, Vec<[u64; 3]>) = (Vec::new(), Vec::new());
    // The last thousand good ratings counted at once, some of which the outlier check holds later.
    let mut recent: Vec<[u64; 3]> = Vec::with_capacity(1_000);
    let mut ids = [0u64; 8];
    for seq in 1..=events {
        let at = YEAR_START + (seq as i64 - 1) * YEAR_SECS / events as i64;
        let d = 1 + rng.below(departments);
        let p = staff[(d - 1) as usize].get(rng.below(staff[(d - 1) as usize].len() as u64) as usize).copied();
        let person = p.map(|p| p.to_string()).unwrap_or_default();
        let mut line = |kind: EventKind, id: u64, d: u64, person: &str, a: u64, b: u64| -> Res<()> {
            writeln!(out, "{seq},{kind},{id},{d},{person},{at},{a},{b}")?;
            let k = KINDS.iter().position(|x| *x == kind).ok_or("a kind not in KINDS")? as i64;
            let p: i64 = if person.is_empty() { 0 } else { person.parse()? };
            for v in [seq as i64, k, id as i64, d as i64, p, at, a as i64, b as i64] {
                bin.write_all(&v.to_le_bytes())?;
            }
            Ok(())
        };
        let mut new_id = |k: usize| {
            ids[k] += 1;
            ids[k]
        };
        let roll = rng.below(1_000_000);
        match roll {
            // 0.2% findings confirmed: minor, general, and a few serious.
            0..2_000 => {
                let sev = match rng.below(1000) {
                    0..3 => 2,
                    3..450 => 1,
                    _ => 0,
                };
                let id = new_id(0);
                findings.push((id, d));
                line(EventKind::FindingConfirmed, id, d, &person, sev, 0)?;
            }
            // A recent finding overturned on appeal.
            2_000..2_100 if !findings.is_empty() => {
                let (id, fd) = findings.swap_remove(rng.below(findings.len() as u64) as usize);
                line(EventKind::FindingOverturned, id, fd, "", 0, 0)?;
            }
            // A recent finding named in a bulletin: internal, public, media.
            2_100..2_600 if !findings.is_empty() => {
                let (fid, _) = findings[rng.below(findings.len() as u64) as usize];
                let scope = match rng.below(100) {
                    0..2 => 2,
                    2..30 => 1,
                    _ => 0,
                };
                line(EventKind::BulletinPublished, new_id(1), 0, "", scope, fid)?;
            }
            2_600..3_100 => line(EventKind::OrderOverdue, new_id(2), d, "", 0, 0)?,
            3_100..4_100 => line(EventKind::TicketOverdue, new_id(3), d, &person, 0, 0)?,
            4_100..4_300 => line(EventKind::InquiryLapseUpheld, new_id(4), d, &person, 0, 0)?,
            4_300..6_300 => {
                line(EventKind::TicketCalledBack, new_id(3), d, &person, u64::from(rng.chance(900_000)), 0)?
            }
            6_300..26_300 => line(EventKind::CaseYellowCard, new_id(5), d, &person, 0, 0)?,
            26_300..34_300 => line(EventKind::CaseRedCard, new_id(5), d, &person, 0, 0)?,
            34_300..284_300 => {
                line(EventKind::CaseCompleted, new_id(5), d, &person, u64::from(rng.chance(970_000)), 0)?
            }
            // Held ratings reviewed: most released, some rejected.
            284_300..290_300 if !held.is_empty() => {
                let [id, hd, hp] = held.swap_remove(rng.below(held.len() as u64) as usize);
                let kind = if rng.chance(800_000) { EventKind::RatingReleased } else { EventKind::RatingRejected };
                line(kind, id, hd, &hp.to_string(), 0, 0)?;
            }
            // Counted bad ratings overturned on appeal.
            290_300..291_300 if !bad.is_empty() => {
                let [id, bd, bp] = bad.swap_remove(rng.below(bad.len() as u64) as usize);
                line(EventKind::RatingOverturned, id, bd, &bp.to_string(), 0, 0)?;
            }
            // Counted good ratings held after the fact (their window stands out), reviewed later.
            291_300..291_500 if !recent.is_empty() => {
                let [id, rd, rp] = recent[rng.below(recent.len() as u64) as usize];
                held.push([id, rd, rp]);
                line(EventKind::RatingHeld, id, rd, &rp.to_string(), 0, 0)?;
            }
            // The rest: ratings, 96% good, 1% held for review.
            _ => {
                let id = new_id(6);
                let good = rng.chance(960_000);
                let is_held = rng.chance(10_000);
                if let Some(p) = p {
                    if is_held {
                        held.push([id, d, p]);
                    } else if !good {
                        bad.push([id, d, p]);
                    } else if recent.len() < 1_000 {
                        recent.push([id, d, p]);
                    } else {
                        recent[(id % 1_000) as usize] = [id, d, p];
                    }
                }
                line(EventKind::RatingGiven, id, d, &person, u64::from(good), u64::from(is_held))?;
            }
        }
    }
    out.flush()?;
    bin.flush()?;
    Ok(())
}

// ------------------------------------------------------------------ reading the ledger back

struct Row {
    seq: i64,
    kind: EventKind,
    id: i64,
    department: i64,
    person: Option<i64>,
    at: DateTime<Utc>,
    a: u64,
    b: i64,
}

fn decode(rec: &[u8]) -> Res<Row> {
    let mut v = [0i64; 8];
    for (i, x) in v.iter_mut().enumerate() {
        *x = i64::from_le_bytes(rec.get(i * 8..i * 8 + 8).ok_or("a short record")?.try_into()?);
    }
    Ok(Row {
        seq: v[0],
        kind: *KINDS.get(v[1] as usize).ok_or("an unknown kind")?,
        id: v[2],
        department: v[3],
        person: (v[4] != 0).then_some(v[4]),
        at: DateTime::from_timestamp(v[5], 0).ok_or("a bad time")?,
        a: v[6] as u64,
        b: v[7],
    })
}

fn step(to: FindingState, severity: Severity) -> FindingStep {
    FindingStep {
        from: None,
        to,
        category_id: 1,
        severity,
        reason: String::new(),
        plan_id: None,
        visit_id: None,
        bulletin_id: None,
    }
}

fn event(r: &Row) -> Res<Event> {
    let reviewed = || RatingReviewed { hold: None, reason: String::new() };
    let deadline = || TicketDeadline { state: TicketState::Verifying, due: NaiveDate::MIN };
    let payload = match r.kind {
        EventKind::RatingGiven => Payload::RatingGiven(RatingGiven {
            level: if r.a == 1 { RatingLevel::Satisfied } else { RatingLevel::Dissatisfied },
            channel: RatingChannel::Qr,
            reasons: Vec::new(),
            reasons_version: 1,
            case_id: None,
            item_id: None,
            held: (r.b == 1).then_some(xiaoneng_core::rating::HoldReason::NoCase),
        }),
        EventKind::FindingConfirmed => Payload::FindingConfirmed(step(
            FindingState::Confirmed,
            [Severity::Minor, Severity::General, Severity::Serious][r.a as usize % 3],
        )),
        EventKind::FindingOverturned => Payload::FindingOverturned(step(FindingState::Overturned, Severity::General)),
        EventKind::BulletinPublished => Payload::BulletinPublished(BulletinPublished {
            year: 2026,
            number: 1,
            number_text: String::new(),
            scope: [BulletinScope::Internal, BulletinScope::Public, BulletinScope::Media][r.a as usize % 3],
            finding_ids: vec![r.b],
            corrects_id: None,
        }),
        EventKind::OrderOverdue => Payload::OrderOverdue(OrderOverdue { deadline: NaiveDate::MIN }),
        EventKind::TicketOverdue => Payload::TicketOverdue(deadline()),
        EventKind::InquiryLapseUpheld => Payload::InquiryLapseUpheld(LapseReviewed {
            lapse_id: r.id,
            kind: LapseKind::ALL[0],
            finding_id: None,
            reason: String::new(),
        }),
        EventKind::TicketCalledBack => Payload::TicketCalledBack(TicketStepped {
            from: TicketState::CallingBack,
            to: TicketState::Closed,
            due: None,
            satisfied: Some(r.a == 1),
            text: String::new(),
        }),
        EventKind::CaseYellowCard | EventKind::CaseRedCard => {
            let card = xiaoneng_core::event::CaseCarded {
                number: String::new(),
                card: if r.kind == EventKind::CaseRedCard { CaseCard::Red } else { CaseCard::Yellow },
                deadline: NaiveDate::MIN,
                promised_days: 5,
                working_days_used: 5,
            };
            if r.kind == EventKind::CaseRedCard { Payload::CaseRedCard(card) } else { Payload::CaseYellowCard(card) }
        }
        EventKind::CaseCompleted => Payload::CaseCompleted(xiaoneng_core::event::CaseCompleted {
            number: String::new(),
            deadline: NaiveDate::MIN,
            on_time: r.a == 1,
            working_days_used: 3,
        }),
        EventKind::RatingReleased => Payload::RatingReleased(reviewed()),
        EventKind::RatingRejected => Payload::RatingRejected(reviewed()),
        EventKind::RatingHeld => Payload::RatingHeld(xiaoneng_core::rating::RatingHeld {
            reason: xiaoneng_core::rating::HoldReason::WindowOutlier,
            outlier: None,
        }),
        EventKind::RatingOverturned => {
            Payload::RatingOverturned(RatingOverturned { ticket_id: 0, reason: String::new() })
        }
        k => return Err(format!("{k} is not a kind the generator writes").into()),
    };
    let subject = if r.kind == EventKind::BulletinPublished {
        Subject::default()
    } else {
        Subject { department_id: Some(r.department), person_id: r.person, ..Default::default() }
    };
    Ok(Event::new(payload, r.id, subject, r.at))
}

/// The records of the file, undecoded.
fn records(path: &Path) -> Res<impl Iterator<Item = [u8; RECORD]>> {
    let file = File::open(path)?;
    if file.metadata()?.len() % RECORD as u64 != 0 {
        return Err(format!("{} is not whole {RECORD}-byte records", path.display()).into());
    }
    let mut file = BufReader::with_capacity(1 << 20, file);
    Ok(std::iter::from_fn(move || {
        let mut rec = [0u8; RECORD];
        std::io::Read::read_exact(&mut file, &mut rec).ok().map(|()| rec)
    }))
}

/// A record's kind and department, read without decoding it (one that does not decode fails in
/// `decode_event`).
fn route(rec: &[u8; RECORD]) -> (EventKind, Option<i64>) {
    let field = |i: usize| rec.get(i * 8..i * 8 + 8).and_then(|b| b.try_into().ok()).map_or(0, i64::from_le_bytes);
    let kind = KINDS.get(field(1) as usize).copied().unwrap_or(EventKind::RatingGiven);
    (kind, Some(field(3)).filter(|d| *d != 0))
}

fn decode_event(rec: [u8; RECORD]) -> Result<(i64, Event), String> {
    let row = decode(&rec).map_err(|e| e.to_string())?;
    Ok((row.seq, event(&row).map_err(|e| e.to_string())?))
}

// ------------------------------------------------------------------ the scheme and the run

/// One set of rules for every class and tier: what `duck.py` computes in SQL.
fn rules(group: Group) -> GroupRules {
    let ded = |indicator, each, cap| Deduction { indicator, each: Points(each), cap: Points(cap) };
    let rate = |measure, target, per_point, cap, min_sample| RateRule {
        measure,
        target: Points(target),
        per_point: Points(per_point),
        cap: Points(cap),
        min_sample,
    };
    GroupRules {
        group,
        base: Points::whole(100),
        vetoes: vec![
            Veto { indicator: Indicator::FindingSerious, at_least: 1 },
            Veto { indicator: Indicator::BulletinMedia, at_least: 1 },
        ],
        deductions: vec![
            ded(Indicator::FindingGeneral, 200, 1000),
            ded(Indicator::FindingMinor, 50, 500),
            ded(Indicator::BulletinPublic, 100, 300),
            ded(Indicator::BulletinInternal, 50, 200),
            ded(Indicator::OrderOverdue, 300, 600),
            ded(Indicator::YellowCard, 20, 200),
            ded(Indicator::RedCard, 100, 500),
            ded(Indicator::TicketOverdue, 100, 500),
            ded(Indicator::BadRating, 10, 300),
            ded(Indicator::InquiryLapse, 100, 300),
        ],
        rates: vec![
            rate(Measure::Satisfaction, 9500, 100, 500, 30),
            rate(Measure::OnTime, 9800, 100, 500, 30),
            rate(Measure::CallbackSatisfaction, 9000, 50, 300, 10),
        ],
        bonus: Bonus {
            gate: Points::whole(80),
            cap: Points::ZERO,
            city: Points::ZERO,
            province: Points::ZERO,
            national: Points::ZERO,
        },
        bands: Bands { excellent: Points::whole(90), good: Points::whole(80), pass: Points::whole(60) },
        quotas: Quotas::default(),
    }
}

fn read_org(path: &Path) -> Res<Vec<(Whom, Group, i64)>> {
    let mut out = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        let f: Vec<&str> = line.split(',').collect();
        let (id, dept): (i64, i64) = (f.get(1).ok_or("org id")?.parse()?, f.get(3).ok_or("org dept")?.parse()?);
        let code = f.get(2).ok_or("org group")?;
        out.push(match f.first() {
            Some(&"d") => {
                (Whom::Department(id), Group::Class(DepartmentCategory::from_code(code).ok_or("category")?), dept)
            }
            _ => (Whom::Person(id), Group::Tier(PostType::from_code(code).ok_or("post type")?), dept),
        });
    }
    Ok(out)
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn run(dir: &Path, threads: usize) -> Res<()> {
    let events: PathBuf = dir.join("events.bin");
    let org = read_org(&dir.join("org.csv"))?;
    let (first, last) =
        (NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, NaiveDate::from_ymd_opt(2026, 12, 31).ok_or("date")?);
    let groups: Vec<Group> = DepartmentCategory::ALL
        .iter()
        .map(|c| Group::Class(*c))
        .chain(PostType::ALL.iter().map(|t| Group::Tier(*t)))
        .collect();
    let scheme = Scheme { period: PeriodKind::Year, groups: groups.iter().map(|g| rules(*g)).collect() };
    if !scheme.validate().is_empty() {
        return Err(format!("the bench's scheme is not valid: {:?}", scheme.validate()).into());
    }

    let t = Instant::now();
    let mut n = 0u64;
    for rec in records(&events)? {
        std::hint::black_box(decode_event(rec)?);
        n += 1;
    }
    let read_only = t.elapsed();

    let max = |dept: bool| {
        org.iter()
            .filter(|(w, _, _)| matches!(w, Whom::Department(_)) == dept)
            .map(|(w, _, _)| w.id())
            .max()
            .unwrap_or_default()
    };
    let t = Instant::now();
    let mut gather = Gather::with_ids(threads, max(true), max(false));
    gather.fold_records(records(&events)?, route, decode_event)?;
    let folded = t.elapsed();
    let t = Instant::now();
    let subjects = gather.subjects(first, last, org.iter().map(|(w, g, _)| (*w, *g)));
    let mut by_group: HashMap<Group, Vec<Score>> = HashMap::new();
    for s in &subjects {
        let rules = scheme.rules(s.group).ok_or("a group without rules")?;
        by_group.entry(s.group).or_default().push(score_subject(rules, s));
    }
    let mut placed: HashMap<Group, Vec<Placed>> = HashMap::new();
    for (g, scores) in by_group {
        placed.insert(g, place(scheme.rules(g).ok_or("rules")?, scores));
    }
    let scored = t.elapsed();

    let (department_count, vetoed) = {
        let mut totals = BufWriter::new(File::create(dir.join("totals.csv"))?);
        writeln!(totals, "department_id,total")?;
        let mut departments: Vec<&Placed> =
            placed.iter().filter(|(g, _)| matches!(g, Group::Class(_))).flat_map(|(_, v)| v).collect();
        departments.sort_by_key(|p| p.score.id);
        for p in &departments {
            match p.score.veto {
                Some(_) => writeln!(totals, "{},veto", p.score.id)?,
                None => writeln!(totals, "{},{}", p.score.id, p.score.total.0)?,
            }
        }
        totals.flush()?;
        (departments.len(), departments.iter().filter(|p| p.score.veto.is_some()).count())
    };

    // One new event made current: a finding confirmed against a department and one of its staff.
    let dept_of: HashMap<Whom, i64> = org.iter().map(|(w, _, d)| (*w, *d)).collect();
    let group_of: HashMap<Whom, Group> = org.iter().map(|(w, g, _)| (*w, *g)).collect();
    let people: Vec<Whom> = org.iter().filter(|(w, _, _)| matches!(w, Whom::Person(_))).map(|(w, _, _)| *w).collect();
    let mut rng = Rng(99);
    let mut incremental = Vec::new();
    for k in 0..100 {
        let person = people[rng.below(people.len() as u64) as usize];
        let Whom::Person(pid) = person else { continue };
        let dept = Whom::Department(*dept_of.get(&person).ok_or("dept")?);
        let Whom::Department(did) = dept else { continue };
        let at = DateTime::from_timestamp(YEAR_START + YEAR_SECS - 3_600, 0).ok_or("time")?;
        let e = Event::new(
            Payload::FindingConfirmed(step(FindingState::Confirmed, Severity::General)),
            10_000_000 + k,
            Subject { department_id: Some(did), person_id: Some(pid), ..Default::default() },
            at,
        );
        let t = Instant::now();
        gather.apply(gather.seen + 1, &e);
        for w in [dept, person] {
            let g = *group_of.get(&w).ok_or("group")?;
            let rules = scheme.rules(g).ok_or("rules")?;
            let (facts, rates) = gather.facts_of(w, first, last);
            let id = w.id();
            let fresh = score_subject(rules, &Facts { id, group: g, facts, rates });
            let group = placed.get_mut(&g).ok_or("group")?;
            let scores: Vec<Score> =
                group.drain(..).map(|p| if p.score.id == id { fresh.clone() } else { p.score }).collect();
            *group = place(rules, scores);
        }
        incremental.push(t.elapsed());
    }

    // One breakdown: a department's facts read and scored, as a page would show it.
    let mut breakdown = Vec::new();
    for _ in 0..1_000 {
        // org.csv lists the departments first.
        let (w, g, _) = org[rng.below(department_count as u64) as usize];
        let t = Instant::now();
        let (facts, rates) = gather.facts_of(w, first, last);
        let s = score_subject(scheme.rules(g).ok_or("rules")?, &Facts { id: w.id(), group: g, facts, rates });
        std::hint::black_box(&s);
        breakdown.push(t.elapsed());
    }

    println!(
        "events {n}  departments {department_count}  people {}  (vetoed departments {vetoed})  threads {threads}",
        people.len()
    );
    println!("read_only_s {:.2}", read_only.as_secs_f64());
    println!("read_and_fold_s {:.2}", folded.as_secs_f64());
    println!("score_and_place_s {:.3}", scored.as_secs_f64());
    println!("full_recompute_s {:.2}", (folded + scored).as_secs_f64());
    println!("incremental_ms_median {:.3}", median(incremental).as_secs_f64() * 1e3);
    println!("breakdown_ms_median {:.4}", median(breakdown).as_secs_f64() * 1e3);
    println!("peak_rss_mb {}", peak_rss_mb());
    Ok(())
}
