//! Self-check campaigns ("look back", 回头看): a checklist, participants (departments, leadership
//! teams, staff) and each participant's answers per item. Opening, closing and submitting are
//! applied conditional on the state they were decided from; answers change only while their
//! self-check is pending, so what was submitted is what stays.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, OnConflict},
};
use xiaoneng_core::campaign::{
    CampaignFacts, CampaignState, ItemAnswer, ParticipantKind, ParticipationFacts, ParticipationState,
};

use crate::{
    Result, StoreError,
    entity::{campaign, campaign_item, campaign_participant, self_check_answer},
    one_row,
    org::{Scope, in_dept_scope},
    page::{PageReq, Paged},
};

fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> StoreError {
    StoreError::Invalid(xiaoneng_core::ValidationError::new(field, code, zh, en))
}

#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub title: String,
    pub description: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub items: Vec<(String, String)>,
    /// (kind, department, person)
    pub participants: Vec<(ParticipantKind, i64, Option<i64>)>,
}

/// Which participations a user answers for: their departments' (and leadership teams') within a
/// scope, and their own as a person.
#[derive(Debug, Clone, Default)]
pub struct Answerer {
    pub departments: Option<Scope>,
    pub person_id: Option<i64>,
}

impl Answerer {
    fn condition(&self) -> Condition {
        let mut any = Condition::any();
        if let Some(scope) = &self.departments {
            any = any.add(
                Condition::all()
                    .add(campaign_participant::Column::Kind.ne(ParticipantKind::Person))
                    .add(in_dept_scope(campaign_participant::Column::DepartmentId, scope)),
            );
        }
        if let Some(p) = self.person_id {
            any = any.add(
                Condition::all()
                    .add(campaign_participant::Column::Kind.eq(ParticipantKind::Person))
                    .add(campaign_participant::Column::PersonId.eq(p)),
            );
        }
        if self.departments.is_none() && self.person_id.is_none() {
            any = any.add(campaign_participant::Column::Id.eq(-1));
        }
        any
    }

    /// Whether this participation is one the user answers for (the same rule as the query).
    pub fn covers(&self, p: &campaign_participant::Model, department_path: &str) -> bool {
        match p.kind {
            ParticipantKind::Person => p.person_id.is_some() && p.person_id == self.person_id,
            _ => self.departments.as_ref().is_some_and(|s| s.covers_department(p.department_id, department_path)),
        }
    }
}

pub async fn list_campaigns<C: ConnectionTrait>(
    c: &C,
    answerer: Option<&Answerer>,
    status: Option<CampaignState>,
    page: PageReq,
) -> Result<Paged<campaign::Model>> {
    let mut q = campaign::Entity::find();
    if let Some(a) = answerer {
        let ids: Vec<i64> = campaign_participant::Entity::find()
            .select_only()
            .column(campaign_participant::Column::CampaignId)
            .filter(a.condition())
            .into_tuple()
            .all(c)
            .await?;
        q = q.filter(campaign::Column::Id.is_in(ids)).filter(campaign::Column::Status.ne(CampaignState::Draft));
    }
    if let Some(s) = status {
        q = q.filter(campaign::Column::Status.eq(s));
    }
    let total = q.clone().count(c).await?;
    let items = q
        .order_by_desc(campaign::Column::PeriodStart)
        .order_by_desc(campaign::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_campaign<C: ConnectionTrait>(c: &C, id: i64) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// (participants, submitted) of each campaign, in one query.
pub async fn participant_counts<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<HashMap<i64, (u64, u64)>> {
    let rows: Vec<(i64, ParticipationState, i64)> = campaign_participant::Entity::find()
        .select_only()
        .column(campaign_participant::Column::CampaignId)
        .column(campaign_participant::Column::Status)
        .column_as(campaign_participant::Column::Id.count(), "n")
        .filter(campaign_participant::Column::CampaignId.is_in(ids.to_vec()))
        .group_by(campaign_participant::Column::CampaignId)
        .group_by(campaign_participant::Column::Status)
        .into_tuple()
        .all(c)
        .await?;
    let mut out: HashMap<i64, (u64, u64)> = HashMap::new();
    for (k, status, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        let e = out.entry(k).or_default();
        e.0 += n;
        if status == ParticipationState::Submitted {
            e.1 += n;
        }
    }
    Ok(out)
}

/// A campaign as opening and closing it see it.
pub async fn campaign_facts<C: ConnectionTrait>(c: &C, k: &campaign::Model) -> Result<CampaignFacts> {
    let (participants, submitted) = participant_counts(c, &[k.id]).await?.remove(&k.id).unwrap_or_default();
    Ok(CampaignFacts {
        id: k.id,
        state: k.status,
        title: k.title.clone(),
        period_start: k.period_start,
        period_end: k.period_end,
        participants: u32::try_from(participants).unwrap_or(u32::MAX),
        submitted: u32::try_from(submitted).unwrap_or(u32::MAX),
    })
}

pub async fn items_of<C: ConnectionTrait>(c: &C, campaign_id: i64) -> Result<Vec<campaign_item::Model>> {
    Ok(campaign_item::Entity::find()
        .filter(campaign_item::Column::CampaignId.eq(campaign_id))
        .order_by_asc(campaign_item::Column::Position)
        .all(c)
        .await?)
}

pub async fn participants_of<C: ConnectionTrait>(
    c: &C,
    campaign_id: i64,
    answerer: Option<&Answerer>,
) -> Result<Vec<campaign_participant::Model>> {
    let mut q = campaign_participant::Entity::find().filter(campaign_participant::Column::CampaignId.eq(campaign_id));
    if let Some(a) = answerer {
        q = q.filter(a.condition());
    }
    Ok(q.order_by_asc(campaign_participant::Column::Id).all(c).await?)
}

pub async fn get_participant<C: ConnectionTrait>(
    c: &C,
    answerer: Option<&Answerer>,
    id: i64,
) -> Result<campaign_participant::Model> {
    let mut q = campaign_participant::Entity::find_by_id(id);
    if let Some(a) = answerer {
        // A campaign still in draft is the office's alone: its participations do not exist yet
        // for those taking part.
        let drafts = sea_orm::sea_query::Query::select()
            .column(campaign::Column::Id)
            .from(campaign::Entity)
            .and_where(campaign::Column::Status.eq(CampaignState::Draft))
            .to_owned();
        q = q.filter(a.condition()).filter(campaign_participant::Column::CampaignId.not_in_subquery(drafts));
    }
    q.one(c).await?.ok_or(StoreError::NotFound)
}

/// A participation as its rules see it.
pub fn participation_facts(p: &campaign_participant::Model, k: &campaign::Model) -> ParticipationFacts {
    ParticipationFacts {
        id: p.id,
        campaign_id: k.id,
        campaign_state: k.status,
        period_end: k.period_end,
        state: p.status,
        kind: p.kind,
        department_id: p.department_id,
        person_id: p.person_id,
    }
}

/// The open participations a user answers for, across campaigns.
pub async fn pending_for<C: ConnectionTrait>(
    c: &C,
    answerer: &Answerer,
) -> Result<Vec<(campaign_participant::Model, campaign::Model)>> {
    let parts = campaign_participant::Entity::find()
        .filter(answerer.condition())
        .filter(campaign_participant::Column::Status.eq(ParticipationState::Pending))
        .all(c)
        .await?;
    let ids: Vec<i64> = parts.iter().map(|p| p.campaign_id).collect();
    let campaigns = campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(ids))
        .filter(campaign::Column::Status.eq(CampaignState::Open))
        .all(c)
        .await?;
    Ok(parts
        .into_iter()
        .filter_map(|p| campaigns.iter().find(|k| k.id == p.campaign_id).cloned().map(|k| (p, k)))
        .collect())
}

pub async fn answers_of<C: ConnectionTrait>(
    c: &C,
    participant_ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<self_check_answer::Model>> {
    Ok(self_check_answer::Entity::find()
        .filter(self_check_answer::Column::ParticipantId.is_in(participant_ids))
        .order_by_asc(self_check_answer::Column::Id)
        .all(c)
        .await?)
}

/// A participant's checklist with what they answered, item by item.
pub async fn item_answers<C: ConnectionTrait>(c: &C, p: &campaign_participant::Model) -> Result<Vec<ItemAnswer>> {
    let items = items_of(c, p.campaign_id).await?;
    let answers = answers_of(c, [p.id]).await?;
    Ok(items
        .into_iter()
        .map(|i| ItemAnswer {
            item_id: i.id,
            answer: answers.iter().find(|a| a.item_id == i.id).map(|a| (a.found.clone(), a.measures.clone(), a.due)),
            title: i.title,
        })
        .collect())
}

/// Creates a draft campaign with its checklist and participants, or rewrites one (conditional on
/// its still being a draft).
pub async fn save_campaign<C: ConnectionTrait>(
    c: &C,
    draft: Option<&campaign::Model>,
    input: CampaignInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<campaign::Model> {
    let k = match draft {
        Some(d) => {
            one_row(
                campaign::Entity::update_many()
                    .col_expr(campaign::Column::Title, Expr::value(input.title))
                    .col_expr(campaign::Column::Description, Expr::value(input.description))
                    .col_expr(campaign::Column::PeriodStart, Expr::value(input.period_start))
                    .col_expr(campaign::Column::PeriodEnd, Expr::value(input.period_end))
                    .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
                    .filter(campaign::Column::Id.eq(d.id))
                    .filter(campaign::Column::Status.eq(CampaignState::Draft))
                    .exec(c)
                    .await?,
            )?;
            // A draft's checklist and list of participants are rewritten whole; no one has
            // answered a draft (decision 0015).
            campaign_item::Entity::delete_many().filter(campaign_item::Column::CampaignId.eq(d.id)).exec(c).await?;
            campaign_participant::Entity::delete_many()
                .filter(campaign_participant::Column::CampaignId.eq(d.id))
                .exec(c)
                .await?;
            get_campaign(c, d.id).await?
        }
        None => {
            campaign::ActiveModel {
                title: Set(input.title),
                description: Set(input.description),
                period_start: Set(input.period_start),
                period_end: Set(input.period_end),
                status: Set(CampaignState::Draft),
                created_by: Set(by),
                created_at: Set(now),
                updated_at: Set(now),
                opened_at: Set(None),
                ..Default::default()
            }
            .insert(c)
            .await?
        }
    };
    for (i, (title, guidance)) in input.items.into_iter().enumerate() {
        campaign_item::ActiveModel {
            campaign_id: Set(k.id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            title: Set(title),
            guidance: Set(guidance),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    let mut seen = std::collections::HashSet::new();
    for (kind, dept, person) in input.participants {
        let key = match person {
            Some(p) => format!("person:{p}"),
            None => format!("{kind}:{dept}"),
        };
        if !seen.insert(key.clone()) {
            continue;
        }
        campaign_participant::ActiveModel {
            campaign_id: Set(k.id),
            kind: Set(kind),
            department_id: Set(dept),
            person_id: Set(person),
            target_key: Set(key),
            status: Set(ParticipationState::Pending),
            submitted_by: Set(None),
            submitted_at: Set(None),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    Ok(k)
}

/// Moves a campaign to `to`, conditional on the state it was read in.
pub async fn apply_campaign_state<C: ConnectionTrait>(
    c: &C,
    k: &campaign::Model,
    to: CampaignState,
    now: DateTime<Utc>,
) -> Result<campaign::Model> {
    let mut q = campaign::Entity::update_many()
        .col_expr(campaign::Column::Status, Expr::value(to))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .filter(campaign::Column::Id.eq(k.id))
        .filter(campaign::Column::Status.eq(k.status));
    if to == CampaignState::Open {
        q = q.col_expr(campaign::Column::OpenedAt, Expr::value(now));
    }
    one_row(q.exec(c).await?)?;
    get_campaign(c, k.id).await
}

/// Holds a campaign in the state it was read in for the rest of the transaction, so that no
/// self-check is saved or submitted past its closing: `StateChanged` once it moved on.
pub async fn hold_campaign<C: ConnectionTrait>(c: &C, k: &campaign::Model) -> Result<()> {
    one_row(
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Status, Expr::value(k.status))
            .filter(campaign::Column::Id.eq(k.id))
            .filter(campaign::Column::Status.eq(k.status))
            .exec(c)
            .await?,
    )
}

#[derive(Debug, Clone)]
pub struct AnswerInput {
    pub item_id: i64,
    pub found: String,
    pub measures: String,
    pub due: Option<NaiveDate>,
}

/// Holds a pending participation for the rest of the transaction (a row lock on PostgreSQL;
/// SQLite's writer is alone anyway): a save and a submission of one self-check take it in turn,
/// so what is submitted is what the submission read. `StateChanged` once it is submitted.
pub async fn hold_pending<C: ConnectionTrait>(c: &C, p: &campaign_participant::Model) -> Result<()> {
    one_row(
        campaign_participant::Entity::update_many()
            .col_expr(campaign_participant::Column::Status, Expr::value(ParticipationState::Pending))
            .filter(campaign_participant::Column::Id.eq(p.id))
            .filter(campaign_participant::Column::Status.eq(ParticipationState::Pending))
            .exec(c)
            .await?,
    )
}

/// Saves a participant's answers while their self-check is pending (each item at most once; a
/// later save rewrites the draft), holding the participation first.
pub async fn save_answers<C: ConnectionTrait>(
    c: &C,
    p: &campaign_participant::Model,
    answers: Vec<AnswerInput>,
    by: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    hold_pending(c, p).await?;
    let items: Vec<i64> = items_of(c, p.campaign_id).await?.into_iter().map(|i| i.id).collect();
    for a in answers {
        if !items.contains(&a.item_id) {
            return Err(invalid(
                "answers",
                "unknown_item",
                format!("清单中没有第 {} 项", a.item_id),
                format!("Item {} is not on this checklist", a.item_id),
            ));
        }
        let row = self_check_answer::ActiveModel {
            participant_id: Set(p.id),
            item_id: Set(a.item_id),
            found: Set(a.found),
            measures: Set(a.measures),
            due: Set(a.due),
            updated_by: Set(by),
            updated_at: Set(now),
            ..Default::default()
        };
        self_check_answer::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([self_check_answer::Column::ParticipantId, self_check_answer::Column::ItemId])
                    .update_columns([
                        self_check_answer::Column::Found,
                        self_check_answer::Column::Measures,
                        self_check_answer::Column::Due,
                        self_check_answer::Column::UpdatedBy,
                        self_check_answer::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(c)
            .await?;
    }
    Ok(())
}

/// Records a self-check submitted, conditional on its still being pending.
pub async fn apply_submission<C: ConnectionTrait>(
    c: &C,
    p: &campaign_participant::Model,
    to: ParticipationState,
    by: i64,
    now: DateTime<Utc>,
) -> Result<campaign_participant::Model> {
    one_row(
        campaign_participant::Entity::update_many()
            .col_expr(campaign_participant::Column::Status, Expr::value(to))
            .col_expr(campaign_participant::Column::SubmittedBy, Expr::value(by))
            .col_expr(campaign_participant::Column::SubmittedAt, Expr::value(now))
            .filter(campaign_participant::Column::Id.eq(p.id))
            .filter(campaign_participant::Column::Status.eq(p.status))
            .exec(c)
            .await?,
    )?;
    get_participant(c, None, p.id).await
}
