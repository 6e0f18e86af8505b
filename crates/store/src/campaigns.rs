//! Self-check campaigns ("look back", 回头看): a checklist, participants (departments, leadership
//! teams, staff) and each participant's answers per item.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::OnConflict,
};

use crate::{
    Result, StoreError,
    entity::{campaign, campaign_item, campaign_participant, self_check_answer},
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
    pub participants: Vec<(String, i64, Option<i64>)>,
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
                    .add(campaign_participant::Column::Kind.ne("person"))
                    .add(in_dept_scope(campaign_participant::Column::DepartmentId, scope)),
            );
        }
        if let Some(p) = self.person_id {
            any = any.add(
                Condition::all()
                    .add(campaign_participant::Column::Kind.eq("person"))
                    .add(campaign_participant::Column::PersonId.eq(p)),
            );
        }
        if self.departments.is_none() && self.person_id.is_none() {
            any = any.add(campaign_participant::Column::Id.eq(-1));
        }
        any
    }
}

pub async fn list_campaigns<C: ConnectionTrait>(
    c: &C,
    answerer: Option<&Answerer>,
    status: Option<&str>,
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
        q = q.filter(campaign::Column::Id.is_in(ids)).filter(campaign::Column::Status.ne("draft"));
    }
    if let Some(s) = status.filter(|s| !s.is_empty()) {
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
        q = q.filter(a.condition());
    }
    q.one(c).await?.ok_or(StoreError::NotFound)
}

/// The open participations a user answers for, across campaigns.
pub async fn pending_for<C: ConnectionTrait>(
    c: &C,
    answerer: &Answerer,
) -> Result<Vec<(campaign_participant::Model, campaign::Model)>> {
    let parts = campaign_participant::Entity::find()
        .filter(answerer.condition())
        .filter(campaign_participant::Column::Status.eq("pending"))
        .all(c)
        .await?;
    let ids: Vec<i64> = parts.iter().map(|p| p.campaign_id).collect();
    let campaigns = campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(ids))
        .filter(campaign::Column::Status.eq("open"))
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

fn draft_only(k: &campaign::Model) -> Result<()> {
    if k.status != "draft" {
        return Err(invalid(
            "status",
            "not_a_draft",
            "活动已开始，清单和参加对象不能再修改",
            "The campaign has started: its checklist and participants can no longer change",
        ));
    }
    Ok(())
}

/// Creates or rewrites a draft campaign with its checklist and participants.
pub async fn save_campaign<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    input: CampaignInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<campaign::Model> {
    let k = match id {
        Some(id) => {
            let k = get_campaign(c, id).await?;
            draft_only(&k)?;
            let mut am: campaign::ActiveModel = k.into();
            am.title = Set(input.title);
            am.description = Set(input.description);
            am.period_start = Set(input.period_start);
            am.period_end = Set(input.period_end);
            am.updated_at = Set(now);
            let k = am.update(c).await?;
            // A draft's checklist and list of participants are rewritten whole; no one has
            // answered a draft.
            campaign_item::Entity::delete_many().filter(campaign_item::Column::CampaignId.eq(k.id)).exec(c).await?;
            campaign_participant::Entity::delete_many()
                .filter(campaign_participant::Column::CampaignId.eq(k.id))
                .exec(c)
                .await?;
            k
        }
        None => {
            campaign::ActiveModel {
                title: Set(input.title),
                description: Set(input.description),
                period_start: Set(input.period_start),
                period_end: Set(input.period_end),
                status: Set("draft".into()),
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
            status: Set("pending".into()),
            submitted_by: Set(None),
            submitted_at: Set(None),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    Ok(k)
}

/// draft → open → closed.
pub async fn set_status<C: ConnectionTrait>(c: &C, id: i64, to: &str, now: DateTime<Utc>) -> Result<campaign::Model> {
    let k = get_campaign(c, id).await?;
    let ok = matches!((k.status.as_str(), to), ("draft", "open") | ("open", "closed"));
    if !ok {
        return Err(invalid(
            "status",
            "transition_not_allowed",
            "活动当前状态不允许该操作",
            "The campaign's state does not allow this",
        ));
    }
    let mut am: campaign::ActiveModel = k.into();
    am.status = Set(to.into());
    am.updated_at = Set(now);
    if to == "open" {
        am.opened_at = Set(Some(now));
    }
    Ok(am.update(c).await?)
}

#[derive(Debug, Clone)]
pub struct AnswerInput {
    pub item_id: i64,
    pub found: String,
    pub measures: String,
    pub due: Option<NaiveDate>,
}

/// Saves a participant's answers (each item at most once; later saves overwrite).
pub async fn save_answers<C: ConnectionTrait>(
    c: &C,
    p: &campaign_participant::Model,
    answers: Vec<AnswerInput>,
    by: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    if p.status != "pending" {
        return Err(invalid(
            "status",
            "already_submitted",
            "自查已提交，不能修改",
            "The self-check has been submitted",
        ));
    }
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

/// Submits a participant's self-check: every item must be answered.
pub async fn submit<C: ConnectionTrait>(
    c: &C,
    p: campaign_participant::Model,
    by: i64,
    now: DateTime<Utc>,
) -> Result<campaign_participant::Model> {
    if p.status != "pending" {
        return Err(invalid("status", "already_submitted", "自查已提交", "The self-check has been submitted already"));
    }
    let items = items_of(c, p.campaign_id).await?;
    let answered = answers_of(c, [p.id]).await?;
    if let Some(missing) =
        items.iter().find(|i| !answered.iter().any(|a| a.item_id == i.id && !a.found.trim().is_empty()))
    {
        return Err(invalid(
            "answers",
            "incomplete",
            format!("“{}”尚未填写自查情况", missing.title),
            format!("\u{201c}{}\u{201d} has not been answered", missing.title),
        ));
    }
    let mut am: campaign_participant::ActiveModel = p.into();
    am.status = Set("submitted".into());
    am.submitted_by = Set(Some(by));
    am.submitted_at = Set(Some(now));
    Ok(am.update(c).await?)
}
