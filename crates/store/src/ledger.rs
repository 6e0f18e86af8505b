//! The regime's event ledger (`domain_events`). A decision's events are written here by
//! [`append`], in the transaction of the change they describe and right after its audit entry:
//! the audit chain's head is locked until commit, so events are numbered in the order their
//! transactions commit and a reader's cursor (`after = seq`) never skips one that commits late.
//! Read through the reader's data scope; events of covert plans, visits and findings not yet
//! notified are the office's alone.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use xiaoneng_core::{
    audit::HashAlgo,
    event::{Aggregate, AggregateId, Event, EventKind, PAYLOAD_VERSION, Payload},
    replay::Recorded,
    scope::Scope,
};

use crate::{
    Result, StoreError,
    audit::{self, AuditRecord},
    entity::domain_event,
    org::in_dept_scope,
};

/// Appends the audit entry of a change, then the events of its decision, with the entry's
/// sequence number. `created` is the id of the record the decision made, for its events.
pub async fn append<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    rec: &AuditRecord,
    events: &[Event],
    created: Option<i64>,
) -> Result<i64> {
    Ok(append_many(c, algo, &[Change { rec, events, created }]).await?[0])
}

/// A change to record: its audit entry, its decision's events, the id of the record it made.
pub struct Change<'a> {
    pub rec: &'a AuditRecord,
    pub events: &'a [Event],
    pub created: Option<i64>,
}

/// Appends the changes in order, as [`append`] each would, in a handful of statements whatever
/// their number; returns their entries' sequence numbers.
pub async fn append_many<C: ConnectionTrait>(c: &C, algo: HashAlgo, changes: &[Change<'_>]) -> Result<Vec<i64>> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    append_many_held(c, algo, audit::serialise(c).await?, changes).await
}

/// [`append_many`] after the audit chain's head was taken in this transaction.
pub async fn append_many_held<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    held: audit::Held,
    changes: &[Change<'_>],
) -> Result<Vec<i64>> {
    let recs: Vec<&AuditRecord> = changes.iter().map(|ch| ch.rec).collect();
    let seqs = audit::append_many_held(c, algo, held, &recs).await?;
    let mut rows = Vec::new();
    for (ch, &audit_seq) in changes.iter().zip(&seqs) {
        let recorded_at = xiaoneng_core::clock::truncate_micros(ch.rec.at);
        for e in ch.events {
            let aggregate_id = match (e.aggregate_id, ch.created) {
                (AggregateId::Known(id), _) | (AggregateId::Pending, Some(id)) => id,
                (AggregateId::Pending, None) => {
                    return Err(StoreError::Db(sea_orm::DbErr::Custom(format!(
                        "{}: no id for the new record",
                        e.kind()
                    ))));
                }
            };
            rows.push(domain_event::ActiveModel {
                kind: Set(e.kind()),
                aggregate: Set(e.aggregate()),
                aggregate_id: Set(aggregate_id),
                department_id: Set(e.subject.department_id),
                window_id: Set(e.subject.window_id),
                person_id: Set(e.subject.person_id),
                post_id: Set(e.subject.post_id),
                occurred_at: Set(xiaoneng_core::clock::truncate_micros(e.occurred_at)),
                recorded_at: Set(recorded_at),
                actor_user_id: Set(ch.rec.actor_user_id),
                office_only: Set(e.office_only()),
                payload: Set(e.payload.encode().to_string()),
                payload_version: Set(PAYLOAD_VERSION),
                audit_seq: Set(Some(audit_seq)),
                ..Default::default()
            });
        }
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        domain_event::Entity::insert_many(rows.by_ref().take(audit::INSERT_ROWS)).exec_without_returning(c).await?;
    }
    Ok(seqs)
}

/// Who reads the ledger: how far their `event:read` reaches, and whether they are the office
/// (who alone sees the events of covert plans, visits and findings not yet notified).
#[derive(Debug, Clone)]
pub struct Reader {
    pub scope: Scope,
    pub office: bool,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Any of these kinds.
    pub kinds: Vec<EventKind>,
    /// This department and those below it.
    pub department_path: Option<String>,
    pub aggregate: Option<Aggregate>,
    pub aggregate_id: Option<i64>,
    /// Happened from (inclusive) and before (exclusive).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only events after this sequence number (the cursor).
    pub after: i64,
    pub limit: u64,
}

fn reach(r: &Reader) -> Condition {
    let mut c = Condition::all();
    if !r.office {
        c = c.add(domain_event::Column::OfficeOnly.eq(false));
    }
    // Of the events about no department in particular, a reader below city-wide sees only what
    // was published to every department (a campaign's or the office's own follow-up are not).
    let public = || {
        Condition::all()
            .add(domain_event::Column::DepartmentId.is_null())
            .add(domain_event::Column::Kind.is_in([EventKind::BulletinPublished, EventKind::BulletinCorrected]))
    };
    match &r.scope {
        Scope::All => c,
        Scope::Person(Some(p)) => c.add(Condition::any().add(domain_event::Column::PersonId.eq(*p)).add(public())),
        scope => c.add(Condition::any().add(in_dept_scope(domain_event::Column::DepartmentId, scope)).add(public())),
    }
}

/// A page of the ledger in sequence order, as the reader may see it.
pub async fn read<C: ConnectionTrait>(c: &C, r: &Reader, f: &EventFilter) -> Result<Vec<domain_event::Model>> {
    let mut cond = reach(r).add(domain_event::Column::Seq.gt(f.after));
    if !f.kinds.is_empty() {
        cond = cond.add(domain_event::Column::Kind.is_in(f.kinds.clone()));
    }
    if let Some(path) = &f.department_path {
        cond = cond.add(in_dept_scope(domain_event::Column::DepartmentId, &Scope::Tree(path.clone())));
    }
    if let Some(a) = f.aggregate {
        cond = cond.add(domain_event::Column::Aggregate.eq(a));
    }
    if let Some(id) = f.aggregate_id {
        cond = cond.add(domain_event::Column::AggregateId.eq(id));
    }
    if let Some(t) = f.from {
        cond = cond.add(domain_event::Column::OccurredAt.gte(t));
    }
    if let Some(t) = f.to {
        cond = cond.add(domain_event::Column::OccurredAt.lt(t));
    }
    Ok(domain_event::Entity::find().filter(cond).order_by_asc(domain_event::Column::Seq).limit(f.limit).all(c).await?)
}

/// Every event of one record, in order: its history.
pub async fn of<C: ConnectionTrait>(c: &C, aggregate: Aggregate, id: i64) -> Result<Vec<domain_event::Model>> {
    Ok(domain_event::Entity::find()
        .filter(domain_event::Column::Aggregate.eq(aggregate))
        .filter(domain_event::Column::AggregateId.eq(id))
        .order_by_asc(domain_event::Column::Seq)
        .all(c)
        .await?)
}

/// The events of several records of one kind, in order, grouped by record.
pub async fn of_many<C: ConnectionTrait>(
    c: &C,
    aggregate: Aggregate,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<domain_event::Model>>> {
    let mut out: std::collections::HashMap<i64, Vec<domain_event::Model>> = Default::default();
    for chunk in ids.chunks(500) {
        let rows = domain_event::Entity::find()
            .filter(domain_event::Column::Aggregate.eq(aggregate))
            .filter(domain_event::Column::AggregateId.is_in(chunk.to_vec()))
            .order_by_asc(domain_event::Column::Seq)
            .all(c)
            .await?;
        for r in rows {
            out.entry(r.aggregate_id).or_default().push(r);
        }
    }
    Ok(out)
}

/// How many events the ledger holds.
pub async fn count<C: ConnectionTrait>(c: &C) -> Result<u64> {
    Ok(domain_event::Entity::find().count(c).await?)
}

/// An event's typed payload.
pub fn payload(m: &domain_event::Model) -> Result<Payload> {
    let value = serde_json::from_str(&m.payload)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Json(format!("event {}: {e}", m.seq))))?;
    Payload::decode(m.kind, m.payload_version, value)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Json(format!("event {}: {e}", m.seq))))
}

/// An event as replay reads it.
pub fn recorded(m: &domain_event::Model) -> Result<Recorded> {
    Ok(Recorded { payload: payload(m)?, occurred_at: m.occurred_at, recorded_at: m.recorded_at })
}

/// Replays every record's events and compares the state they give with the state stored:
/// findings, orders, bulletins, plans, visits, campaigns, self-checks and follow-ups. Returns
/// one line per record that differs (none when the ledger and the records agree).
pub async fn check<C: ConnectionTrait>(c: &C) -> Result<Vec<String>> {
    use xiaoneng_core::{campaign::ParticipationState, inspection::PlanState, inspection::VisitState, replay};

    use crate::entity::{
        bulletin, campaign, campaign_participant, finding, instruction, order, plan, service_case, visit,
    };

    let mut out = Vec::new();
    let micros = xiaoneng_core::clock::truncate_micros;
    batches::<_, finding::Entity, _>(
        c,
        Aggregate::Finding,
        finding::Column::Id,
        |f| f.id,
        |f, evs| {
            let r = replay::finding(evs);
            let want = replay::FindingReplay { state: Some(f.state), notified_at: f.notified_at.map(micros) };
            if r != want {
                out.push(format!("finding {}: stored {want:?}, events give {r:?}", f.id));
            }
        },
    )
    .await?;
    batches::<_, order::Entity, _>(
        c,
        Aggregate::Order,
        order::Column::Id,
        |o| o.id,
        |o, evs| {
            let r = replay::order(evs);
            let want = replay::OrderReplay {
                state: Some(o.status),
                deadline: Some(o.deadline),
                first_submitted_at: o.first_submitted_at.map(micros),
                accepted_at: o.accepted_at.map(micros),
                overdue_at: o.overdue_at.map(micros),
            };
            if r != want {
                out.push(format!("order {}: stored {want:?}, events give {r:?}", o.id));
            }
        },
    )
    .await?;
    batches::<_, bulletin::Entity, _>(
        c,
        Aggregate::Bulletin,
        bulletin::Column::Id,
        |b| b.id,
        |b, evs| {
            let r = replay::bulletin(evs);
            let want = replay::BulletinReplay {
                state: Some(b.status).filter(|s| *s != xiaoneng_core::rectification::BulletinState::Draft),
                year: b.year,
                number: b.number,
                published_at: b.published_at.map(micros),
            };
            if r != want {
                out.push(format!("bulletin {}: stored {want:?}, events give {r:?}", b.id));
            }
        },
    )
    .await?;
    // The smaller records: one state each, their first where no event has moved them yet.
    batches::<_, plan::Entity, _>(
        c,
        Aggregate::Plan,
        plan::Column::Id,
        |p| p.id,
        |p, evs| {
            let r = replay::plan(evs).unwrap_or(PlanState::Planned);
            if r != p.status {
                out.push(format!("plan {}: stored {}, events give {r}", p.id, p.status));
            }
        },
    )
    .await?;
    batches::<_, visit::Entity, _>(
        c,
        Aggregate::Visit,
        visit::Column::Id,
        |v| v.id,
        |v, evs| {
            let r = replay::visit(evs).unwrap_or(VisitState::Scheduled);
            if r != v.status {
                out.push(format!("visit {}: stored {}, events give {r}", v.id, v.status));
            }
        },
    )
    .await?;
    batches::<_, campaign::Entity, _>(
        c,
        Aggregate::Campaign,
        campaign::Column::Id,
        |k| k.id,
        |k, evs| {
            let r = replay::campaign(evs).unwrap_or(xiaoneng_core::campaign::CampaignState::Draft);
            if r != k.status {
                out.push(format!("campaign {}: stored {}, events give {r}", k.id, k.status));
            }
        },
    )
    .await?;
    let id = campaign_participant::Column::Id;
    batches::<_, campaign_participant::Entity, _>(
        c,
        Aggregate::Participation,
        id,
        |p| p.id,
        |p, evs| {
            let r = replay::participation(evs).unwrap_or(ParticipationState::Pending);
            if r != p.status {
                out.push(format!("self-check {}: stored {}, events give {r}", p.id, p.status));
            }
        },
    )
    .await?;
    batches::<_, instruction::Entity, _>(
        c,
        Aggregate::Instruction,
        instruction::Column::Id,
        |i| i.id,
        |i, evs| {
            if evs.is_empty() {
                out.push(format!("instruction {}: no event records it", i.id));
            }
            let r = replay::follow_up(evs);
            if r != i.follow_up_status {
                out.push(format!("instruction {}: stored follow-up {:?}, events give {r:?}", i.id, i.follow_up_status));
            }
        },
    )
    .await?;
    batches::<_, service_case::Entity, _>(
        c,
        Aggregate::Case,
        service_case::Column::Id,
        |k| k.id,
        |k, evs| {
            let r = replay::case(evs);
            let want = replay::CaseReplay { accepted: true, completed: k.completed_at.is_some(), card: k.card };
            if r != want {
                out.push(format!("case {}: stored {want:?}, events give {r:?}", k.number));
            }
        },
    )
    .await?;
    Ok(out)
}

/// Walks every record of one kind in batches by id (so a province's records are never all in
/// memory at once), handing each with its events in order to `check`.
async fn batches<C, E, F>(
    c: &C,
    aggregate: Aggregate,
    id: E::Column,
    id_of: fn(&E::Model) -> i64,
    mut check: F,
) -> Result<()>
where
    C: ConnectionTrait,
    E: EntityTrait,
    F: FnMut(E::Model, &[Recorded]),
{
    const BATCH: u64 = 1000;
    let mut after = 0;
    loop {
        let rows = E::find().filter(id.gt(after)).order_by_asc(id).limit(BATCH).all(c).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = id_of(last);
        let ids: Vec<i64> = rows.iter().map(id_of).collect();
        let mut events = of_many(c, aggregate, &ids).await?;
        for row in rows {
            let evs = events.remove(&id_of(&row)).unwrap_or_default();
            check(row, &evs.iter().map(recorded).collect::<Result<Vec<_>>>()?);
        }
    }
}
