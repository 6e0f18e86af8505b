//! The tallies the rating measures are computed from, per department, window or staff member, in
//! one grouped query each over ratings, finished cases and bad ratings' tickets, within the
//! reader's scope.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Asterisk, Expr, ExprTrait, Query},
};
use xiaoneng_core::{
    measure::Tally,
    rating::{RatingLevel, RatingStatus},
    scope::Scope,
    ticket::{TicketSource, TicketState},
};

use crate::{
    Result,
    entity::{rating, service_case, ticket},
    org::in_dept_scope,
};

/// A group's tickets: its id, how many, and how many were verified, rectified, called back and
/// found satisfied.
type TicketRow = (i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// What the measures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Department,
    Window,
    Person,
}

impl Group {
    /// Of a table's department, window and staff member columns: the one to group by, and the
    /// reader's scope over the table.
    fn keyed<K: ColumnTrait>(self, [department, window, person]: [K; 3], scope: &Scope) -> (K, Condition) {
        let key = match self {
            Group::Department => department,
            Group::Window => window,
            Group::Person => person,
        };
        let scoped = match scope {
            Scope::Person(Some(p)) => Condition::all().add(person.eq(*p)),
            other => in_dept_scope(department, other),
        };
        (key, scoped)
    }
}

/// The tallies of `[from, before)`, by the group's id.
pub async fn tallies<C: ConnectionTrait>(
    c: &C,
    group: Group,
    scope: &Scope,
    under: Option<&Scope>,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<HashMap<i64, Tally>> {
    let mut out: HashMap<i64, Tally> = HashMap::new();
    let n = |v: Option<i64>| u64::try_from(v.unwrap_or(0)).unwrap_or(0);
    let count = Expr::col(Asterisk).count();

    // Counted ratings given in the period.
    {
        use rating::Column as K;
        let (key, scoped) = group.keyed([K::DepartmentId, K::WindowId, K::PersonId], scope);
        let good = [RatingLevel::VerySatisfied, RatingLevel::Satisfied, RatingLevel::Basic];
        let rows: Vec<(i64, i64, Option<i64>, Option<i64>)> = rating::Entity::find()
            .select_only()
            .column(key)
            .column_as(count.clone(), "n")
            .column_as(Expr::case(K::Level.is_in(good), 1).finally(0).sum(), "good")
            .column_as(Expr::case(K::Level.is_in(good).not(), 1).finally(0).sum(), "bad")
            .filter(scoped)
            .filter(under.map_or_else(Condition::all, |u| in_dept_scope(K::DepartmentId, u)))
            .filter(K::Status.eq(RatingStatus::Counted))
            .filter(key.is_not_null())
            .filter(K::GivenAt.gte(from))
            .filter(K::GivenAt.lt(before))
            .group_by(key)
            .into_tuple()
            .all(c)
            .await?;
        for (id, ratings, good, bad) in rows {
            let t = out.entry(id).or_default();
            (t.ratings, t.good, t.bad) = (n(Some(ratings)), n(good), n(bad));
        }
    }

    // Cases finished in the period, and whether anyone rated them.
    {
        use service_case::Column as K;
        let (key, scoped) = group.keyed([K::DepartmentId, K::WindowId, K::PersonId], scope);
        let rated = Query::select()
            .expr(Expr::val(1))
            .from(rating::Entity)
            .and_where(Expr::col((rating::Entity, rating::Column::CaseId)).equals((service_case::Entity, K::Id)))
            .and_where(Expr::col((rating::Entity, rating::Column::Status)).eq(RatingStatus::Counted))
            .to_owned();
        let rows: Vec<(i64, i64, Option<i64>)> = service_case::Entity::find()
            .select_only()
            .column(key)
            .column_as(count.clone(), "n")
            .column_as(Expr::case(Expr::exists(rated), 1).finally(0).sum(), "rated")
            .filter(scoped)
            .filter(under.map_or_else(Condition::all, |u| in_dept_scope(K::DepartmentId, u)))
            .filter(key.is_not_null())
            .filter(K::CompletedAt.gte(from))
            .filter(K::CompletedAt.lt(before))
            .group_by(key)
            .into_tuple()
            .all(c)
            .await?;
        for (id, cases, rated) in rows {
            let t = out.entry(id).or_default();
            (t.cases, t.rated_cases) = (n(Some(cases)), n(rated));
        }
    }

    // Bad ratings' tickets opened in the period (an overturned one counts nowhere).
    {
        use ticket::Column as K;
        let (key, scoped) = group.keyed([K::DepartmentId, K::WindowId, K::PersonId], scope);
        let done = |col: K| Expr::case(col.is_not_null(), 1).finally(0).sum();
        let rows: Vec<TicketRow> = ticket::Entity::find()
            .select_only()
            .column(key)
            .column_as(count.clone(), "n")
            .column_as(done(K::Verification), "replied")
            .column_as(done(K::Rectification), "rectified")
            .column_as(done(K::CallbackSatisfied), "called")
            .column_as(Expr::case(K::CallbackSatisfied.eq(true), 1).finally(0).sum(), "satisfied")
            .filter(scoped)
            .filter(under.map_or_else(Condition::all, |u| in_dept_scope(K::DepartmentId, u)))
            .filter(K::Source.eq(TicketSource::BadRating))
            .filter(K::State.ne(TicketState::Overturned))
            .filter(key.is_not_null())
            .filter(K::OpenedAt.gte(from))
            .filter(K::OpenedAt.lt(before))
            .group_by(key)
            .into_tuple()
            .all(c)
            .await?;
        for (id, tickets, replied, rectified, called, satisfied) in rows {
            let t = out.entry(id).or_default();
            t.tickets = n(Some(tickets));
            (t.replied, t.rectified, t.called_back, t.callback_satisfied) =
                (n(replied), n(rectified), n(called), n(satisfied));
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ published rankings

/// Publishes a month's ranking, frozen; a month already published is `Conflict`.
pub async fn publish<C: ConnectionTrait>(c: &C, month: &str, rows: &str, by: i64, at: DateTime<Utc>) -> Result<()> {
    use sea_orm::{ActiveModelTrait, Set};
    crate::entity::published_ranking::ActiveModel {
        month: Set(month.to_owned()),
        rows: Set(rows.to_owned()),
        published_by: Set(by),
        published_at: Set(at),
    }
    .insert(c)
    .await?;
    Ok(())
}

/// The published months, newest first.
pub async fn published<C: ConnectionTrait>(c: &C) -> Result<Vec<crate::entity::published_ranking::Model>> {
    use crate::entity::published_ranking::{Column, Entity};
    use sea_orm::QueryOrder;
    Ok(Entity::find().order_by_desc(Column::Month).all(c).await?)
}

pub async fn published_month<C: ConnectionTrait>(
    c: &C,
    month: &str,
) -> Result<Option<crate::entity::published_ranking::Model>> {
    Ok(crate::entity::published_ranking::Entity::find_by_id(month.to_owned()).one(c).await?)
}
