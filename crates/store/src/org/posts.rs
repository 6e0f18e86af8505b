//! Posts (岗位) with their written duties.

use super::*;

#[derive(Debug, Clone)]
pub struct PostInput {
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub post_type: xiaoneng_core::org::PostType,
    pub duties: String,
}

pub const POST_SORTS: &[(&str, post::Column)] =
    &[("code", post::Column::Code), ("name", post::Column::Name), ("post_type", post::Column::PostType)];

pub async fn list_posts<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &UnitFilter,
    page: PageReq,
) -> Result<Paged<post::Model>> {
    let mut cond = in_dept_scope(post::Column::DepartmentId, scope);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(contains(post::Column::Name, q))
                .add(contains(post::Column::Code, q))
                .add(contains(post::Column::Duties, q)),
        );
    }
    if let Some(d) = f.department_id {
        cond = cond.add(in_department(c, post::Column::DepartmentId, d, f.exact_department).await?);
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(post::Column::Status.eq(s));
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(post::Column::PostType.eq(k));
    }
    let q = order(post::Entity::find().filter(cond), f.sort.as_deref(), POST_SORTS, post::Column::Code);
    paginate(c, q.order_by_asc(post::Column::Id), page).await
}

pub async fn get_post<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<post::Model> {
    post::Entity::find_by_id(id)
        .filter(in_dept_scope(post::Column::DepartmentId, scope))
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn save_post<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    p: PostInput,
    now: DateTime<Utc>,
) -> Result<(Option<post::Model>, post::Model)> {
    active_department(c, p.department_id).await?;
    let taken = post::Entity::find().filter(post::Column::Code.eq(&p.code)).one(c).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let before = match id {
        Some(id) => Some(post::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => post::ActiveModel {
            status: Set(Status::Active),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(p.code);
    am.name = Set(p.name);
    am.department_id = Set(p.department_id);
    am.post_type = Set(p.post_type);
    am.duties = Set(p.duties);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_post<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<post::Model> {
    let p = post::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if p.status == Status::Retired {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let holders = person::Entity::find()
        .filter(person::Column::PostId.eq(id))
        .filter(person::Column::Status.eq(Status::Active))
        .count(c)
        .await?;
    if holders > 0 {
        return Err(StoreError::Invalid(ValidationError::new(
            "status",
            "post_in_use",
            format!("该岗位仍有 {holders} 名在职人员"),
            format!("{holders} active people still hold this post"),
        )));
    }
    let mut am: post::ActiveModel = p.into();
    am.status = Set(Status::Retired);
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}
