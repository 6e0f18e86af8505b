//! The first-inquiry log: inquiries read through the reader's reach (the departments and people
//! they passed through, and what waits in the reader's own department), moved by the decision
//! core took conditional on the version read, and the lapses the office reviews.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use xiaoneng_core::inquiry::{
    InquiryChange, InquiryChannel, InquiryFacts, InquiryState, Lapse, LapseFacts, LapseKind, LapseState, Receiver,
    Staff,
};

use crate::{
    PageReq, Paged, Result, StoreError,
    entity::{inquiry, inquiry_lapse, inquiry_party},
    org::{Scope, in_dept_scope},
    personal::Sealed,
};

/// An inquiry as recorded, with the first move core decided.
#[derive(Debug, Clone)]
pub struct NewInquiry {
    pub channel: InquiryChannel,
    pub asker: String,
    pub content: String,
    pub phone: Option<(Sealed, String)>,
    pub first: Staff,
    pub due: NaiveDate,
    pub recorded_by: i64,
    pub asked_at: DateTime<Utc>,
}

/// Inserts an inquiry as `change` leaves it (answered, handed over or kept), with its parties.
pub async fn insert_inquiry<C: ConnectionTrait>(
    c: &C,
    i: NewInquiry,
    change: &InquiryChange,
) -> Result<inquiry::Model> {
    let (phone_sealed, phone_index) = i.phone.map_or((None, None), |(s, x)| (Some(s), Some(x)));
    let answered = change.next == InquiryState::Answered;
    let m = inquiry::ActiveModel {
        channel: Set(i.channel),
        asker: Set(i.asker),
        content: Set(i.content),
        phone_sealed: Set(phone_sealed),
        phone_index: Set(phone_index),
        first_person_id: Set(i.first.person_id),
        first_department_id: Set(i.first.department_id),
        state: Set(change.next),
        holder_person_id: Set(change.holder.person_id),
        holder_department_id: Set(change.holder.department_id),
        handed_by_person_id: Set(change.handed_by.map(|s| s.person_id)),
        handed_by_department_id: Set(change.handed_by.map(|s| s.department_id)),
        hand_overs: Set(change.hand_overs),
        accept_due: Set(change.accept_due),
        due: Set(i.due),
        answer: Set(change.answer.clone()),
        dropped_at: Set(None),
        overdue_raised: Set(false),
        recorded_by: Set(i.recorded_by),
        asked_at: Set(i.asked_at),
        answered_at: Set(answered.then_some(i.asked_at)),
        updated_at: Set(i.asked_at),
        version: Set(0),
        ..Default::default()
    }
    .insert(c)
    .await?;
    add_party(c, m.id, Receiver { person_id: Some(i.first.person_id), department_id: i.first.department_id }).await?;
    if change.holder.person_id != Some(i.first.person_id) {
        add_party(c, m.id, change.holder).await?;
    }
    Ok(m)
}

async fn add_party<C: ConnectionTrait>(c: &C, inquiry_id: i64, r: Receiver) -> Result<()> {
    use inquiry_party::Column as K;
    let person = match r.person_id {
        Some(p) => K::PersonId.eq(p),
        None => K::PersonId.is_null(),
    };
    let known = inquiry_party::Entity::find()
        .filter(K::InquiryId.eq(inquiry_id))
        .filter(K::DepartmentId.eq(r.department_id))
        .filter(person)
        .count(c)
        .await?;
    if known == 0 {
        inquiry_party::ActiveModel {
            inquiry_id: Set(inquiry_id),
            department_id: Set(r.department_id),
            person_id: Set(r.person_id),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    Ok(())
}

/// The inquiry as its machine sees it.
pub fn facts(i: &inquiry::Model) -> InquiryFacts {
    InquiryFacts {
        id: i.id,
        state: i.state,
        holder: Receiver { person_id: i.holder_person_id, department_id: i.holder_department_id },
        handed_by: i
            .handed_by_person_id
            .zip(i.handed_by_department_id)
            .map(|(person_id, department_id)| Staff { person_id, department_id }),
        hand_overs: i.hand_overs,
        accept_due: i.accept_due,
        due: i.due,
        dropped_at: i.dropped_at,
        overdue_raised: i.overdue_raised,
    }
}

/// Whom a reader reaches: the inquiries that passed through their scope (a department's tree, or
/// the staff member themself), and what waits for anyone in their own department.
pub struct Reach {
    pub scope: Scope,
    pub me: Option<Staff>,
}

fn reach(r: &Reach) -> Condition {
    use inquiry::Column as K;
    let parties = |cond: Condition| {
        K::Id.in_subquery(
            Query::select()
                .column(inquiry_party::Column::InquiryId)
                .from(inquiry_party::Entity)
                .cond_where(cond)
                .to_owned(),
        )
    };
    let mut any = Condition::any();
    match &r.scope {
        Scope::All => return Condition::all(),
        Scope::Person(Some(p)) => any = any.add(parties(Condition::all().add(inquiry_party::Column::PersonId.eq(*p)))),
        Scope::Person(None) => {}
        other => any = any.add(parties(in_dept_scope(inquiry_party::Column::DepartmentId, other))),
    }
    if let Some(me) = r.me {
        any = any.add(
            Condition::all()
                .add(K::State.eq(InquiryState::Pending))
                .add(K::HolderPersonId.is_null())
                .add(K::HolderDepartmentId.eq(me.department_id)),
        );
    }
    if any.is_empty() { Condition::all().add(Expr::val(1).eq(0)) } else { any }
}

pub async fn get_inquiry<C: ConnectionTrait>(c: &C, id: i64, r: &Reach) -> Result<inquiry::Model> {
    inquiry::Entity::find_by_id(id).filter(reach(r)).one(c).await?.ok_or(StoreError::NotFound)
}

/// Which of a reader's inquiries a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shelf {
    /// Everything within reach.
    #[default]
    All,
    /// Waiting for the reader: with them, or pending in their department for anyone there.
    Mine,
    /// The ones the reader was asked first.
    Asked,
}

#[derive(Debug, Default, Clone)]
pub struct InquiryFilter {
    pub shelf: Shelf,
    pub department_id: Option<i64>,
    pub state: Option<InquiryState>,
    /// Not answered and past its day on `today`.
    pub overdue_on: Option<NaiveDate>,
}

/// Inquiries, the open ones with the nearest day first, then the newest.
pub async fn list_inquiries<C: ConnectionTrait>(
    c: &C,
    r: &Reach,
    f: &InquiryFilter,
    page: PageReq,
) -> Result<Paged<inquiry::Model>> {
    use inquiry::Column as K;
    let mut cond = Condition::all().add(reach(r));
    let none = || Condition::all().add(Expr::val(1).eq(0));
    match (f.shelf, r.me) {
        (Shelf::All, _) => {}
        (_, None) => cond = none(),
        (Shelf::Mine, Some(me)) => {
            cond = cond.add(Condition::any().add(K::HolderPersonId.eq(me.person_id)).add(
                Condition::all().add(K::HolderPersonId.is_null()).add(K::HolderDepartmentId.eq(me.department_id)),
            ));
            cond = cond.add(K::State.ne(InquiryState::Answered));
        }
        (Shelf::Asked, Some(me)) => cond = cond.add(K::FirstPersonId.eq(me.person_id)),
    }
    if let Some(d) = f.department_id {
        let tree = crate::org::in_department(c, inquiry_party::Column::DepartmentId, d, false).await?;
        cond = cond.add(
            K::Id.in_subquery(
                Query::select()
                    .column(inquiry_party::Column::InquiryId)
                    .from(inquiry_party::Entity)
                    .cond_where(tree)
                    .to_owned(),
            ),
        );
    }
    if let Some(s) = f.state {
        cond = cond.add(K::State.eq(s));
    }
    if let Some(today) = f.overdue_on {
        cond = cond.add(K::State.ne(InquiryState::Answered)).add(K::Due.lt(today));
    }
    let q = inquiry::Entity::find()
        .filter(cond)
        .order_by(Expr::col(K::State).eq(InquiryState::Answered.code()), sea_orm::Order::Asc)
        .order_by_asc(K::Due)
        .order_by_desc(K::Id);
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

/// Applies a step core decided, conditional on the version read; whoever acted and whoever it
/// went to become its parties.
pub async fn apply_step<C: ConnectionTrait>(
    c: &C,
    i: &inquiry::Model,
    by: Staff,
    change: &InquiryChange,
    now: DateTime<Utc>,
) -> Result<()> {
    use inquiry::Column as K;
    let mut u = inquiry::Entity::update_many()
        .col_expr(K::State, Expr::value(change.next))
        .col_expr(K::HolderPersonId, Expr::value(change.holder.person_id))
        .col_expr(K::HolderDepartmentId, Expr::value(change.holder.department_id))
        .col_expr(K::HandedByPersonId, Expr::value(change.handed_by.map(|s| s.person_id)))
        .col_expr(K::HandedByDepartmentId, Expr::value(change.handed_by.map(|s| s.department_id)))
        .col_expr(K::HandOvers, Expr::value(change.hand_overs))
        .col_expr(K::AcceptDue, Expr::value(change.accept_due))
        .col_expr(K::UpdatedAt, Expr::value(now))
        .col_expr(K::Version, Expr::value(i.version + 1));
    if let Some(a) = &change.answer {
        u = u.col_expr(K::Answer, Expr::value(a.clone())).col_expr(K::AnsweredAt, Expr::value(now));
    }
    let done = u.filter(K::Id.eq(i.id)).filter(K::Version.eq(i.version)).exec(c).await?;
    if done.rows_affected != 1 {
        return Err(StoreError::StateChanged);
    }
    add_party(c, i.id, Receiver { person_id: Some(by.person_id), department_id: by.department_id }).await?;
    add_party(c, i.id, change.holder).await
}

/// Open inquiries with a limit passed by `today` and not yet raised: what the lapse job reads.
pub async fn with_lapses<C: ConnectionTrait>(c: &C, today: NaiveDate) -> Result<Vec<inquiry::Model>> {
    use inquiry::Column as K;
    let dropped = Condition::all()
        .add(K::State.eq(InquiryState::Pending))
        .add(K::AcceptDue.lt(today))
        .add(Condition::any().add(K::DroppedAt.is_null()).add(Expr::col(K::DroppedAt).ne(Expr::col(K::HandOvers))));
    let overdue = Condition::all().add(K::Due.lt(today)).add(K::OverdueRaised.eq(false));
    Ok(inquiry::Entity::find()
        .filter(K::State.ne(InquiryState::Answered))
        .filter(Condition::any().add(dropped).add(overdue))
        .order_by_asc(K::Id)
        .all(c)
        .await?)
}

/// Records that a lapse was raised on the version read, and the lapse for the office: false when
/// a step or another pass got there first.
pub async fn raise_lapse<C: ConnectionTrait>(
    c: &C,
    i: &inquiry::Model,
    lapse: &Lapse,
    now: DateTime<Utc>,
) -> Result<Option<inquiry_lapse::Model>> {
    use inquiry::Column as K;
    let u = inquiry::Entity::update_many().col_expr(K::Version, Expr::value(i.version + 1));
    let u = match lapse.kind {
        LapseKind::Dropped => u.col_expr(K::DroppedAt, Expr::value(Some(lapse.seq))),
        LapseKind::Overdue => u.col_expr(K::OverdueRaised, Expr::value(true)),
        LapseKind::Refused => u,
    };
    let done = u.filter(K::Id.eq(i.id)).filter(K::Version.eq(i.version)).exec(c).await?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    insert_lapse(c, i.id, lapse, now).await.map(Some)
}

/// A lapse for the office to review.
pub async fn insert_lapse<C: ConnectionTrait>(
    c: &C,
    inquiry_id: i64,
    l: &Lapse,
    now: DateTime<Utc>,
) -> Result<inquiry_lapse::Model> {
    Ok(inquiry_lapse::ActiveModel {
        inquiry_id: Set(inquiry_id),
        kind: Set(l.kind),
        seq: Set(l.seq),
        department_id: Set(l.against.department_id),
        person_id: Set(l.against.person_id),
        raised_at: Set(now),
        state: Set(LapseState::Pending),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub fn lapse_facts(l: &inquiry_lapse::Model) -> LapseFacts {
    LapseFacts {
        id: l.id,
        inquiry_id: l.inquiry_id,
        state: l.state,
        kind: l.kind,
        against: Receiver { person_id: l.person_id, department_id: l.department_id },
    }
}

pub async fn get_lapse<C: ConnectionTrait>(c: &C, id: i64) -> Result<inquiry_lapse::Model> {
    inquiry_lapse::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// An inquiry's lapses, the oldest first.
pub async fn lapses_of<C: ConnectionTrait>(c: &C, inquiry_id: i64) -> Result<Vec<inquiry_lapse::Model>> {
    use inquiry_lapse::Column as K;
    Ok(inquiry_lapse::Entity::find().filter(K::InquiryId.eq(inquiry_id)).order_by_asc(K::Id).all(c).await?)
}

/// Lapses in a state, the oldest first (the review queue), or all, the newest first.
pub async fn list_lapses<C: ConnectionTrait>(
    c: &C,
    state: Option<LapseState>,
    page: PageReq,
) -> Result<Paged<inquiry_lapse::Model>> {
    use inquiry_lapse::Column as K;
    let q = match state {
        Some(s) => inquiry_lapse::Entity::find().filter(K::State.eq(s)).order_by_asc(K::RaisedAt).order_by_asc(K::Id),
        None => inquiry_lapse::Entity::find().order_by_desc(K::Id),
    };
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

/// Records the office's review, conditional on the lapse still waiting for one.
pub async fn apply_review<C: ConnectionTrait>(
    c: &C,
    id: i64,
    next: LapseState,
    finding_id: Option<i64>,
    reason: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    use inquiry_lapse::Column as K;
    let done = inquiry_lapse::Entity::update_many()
        .col_expr(K::State, Expr::value(next))
        .col_expr(K::FindingId, Expr::value(finding_id))
        .col_expr(K::Reason, Expr::value(reason.trim().to_owned()))
        .col_expr(K::ReviewedBy, Expr::value(by))
        .col_expr(K::ReviewedAt, Expr::value(now))
        .filter(K::Id.eq(id))
        .filter(K::State.eq(LapseState::Pending))
        .exec(c)
        .await?;
    if done.rows_affected == 1 { Ok(()) } else { Err(StoreError::StateChanged) }
}

/// The active accounts an inquiry handed to `r` reaches: the named person's, or everyone's in
/// the department.
pub async fn receiver_users<C: ConnectionTrait>(c: &C, r: Receiver) -> Result<Vec<i64>> {
    use crate::entity::user;
    let who = match r.person_id {
        Some(p) => user::Column::PersonId.eq(p),
        None => user::Column::DepartmentId.eq(r.department_id),
    };
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Status.eq(xiaoneng_core::auth::AccountStatus::Active))
        .filter(who)
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(c)
        .await?)
}

/// Whom an inquiry may be handed to, by name: active departments and staff members, at most
/// `limit` of each.
pub async fn receivers<C: ConnectionTrait>(
    c: &C,
    q: &str,
    limit: u64,
) -> Result<(Vec<(i64, String)>, Vec<(i64, String, i64)>)> {
    use crate::entity::{department, person};
    use xiaoneng_core::org::Status;
    let departments = department::Entity::find()
        .select_only()
        .columns([department::Column::Id, department::Column::Name])
        .filter(department::Column::Status.eq(Status::Active))
        .filter(crate::contains(department::Column::Name, q))
        .order_by_asc(department::Column::Path)
        .limit(limit)
        .into_tuple()
        .all(c)
        .await?;
    let people = person::Entity::find()
        .select_only()
        .columns([person::Column::Id, person::Column::Name, person::Column::DepartmentId])
        .filter(person::Column::Status.eq(Status::Active))
        .filter(crate::contains(person::Column::Name, q))
        .order_by_asc(person::Column::Name)
        .order_by_asc(person::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(c)
        .await?;
    Ok((departments, people))
}
