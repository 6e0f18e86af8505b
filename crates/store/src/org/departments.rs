//! Departments: the tree, its materialised paths, moves and retirement.

use super::*;

#[derive(Debug, Clone)]
pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub category: xiaoneng_core::org::DepartmentCategory,
    pub is_focus: bool,
    pub sort_order: i32,
}

#[derive(Debug, Default, Clone)]
pub struct DepartmentFilter {
    pub q: Option<String>,
    pub parent_id: Option<i64>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub is_focus: Option<bool>,
    pub sort: Option<String>,
}

pub const DEPARTMENT_SORTS: &[(&str, department::Column)] = &[
    ("code", department::Column::Code),
    ("name", department::Column::Name),
    ("path", department::Column::Path),
    ("sort_order", department::Column::SortOrder),
    ("created_at", department::Column::CreatedAt),
];

pub async fn list_departments<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &DepartmentFilter,
    page: PageReq,
) -> Result<Paged<department::Model>> {
    let mut cond = dept_scope(scope);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any().add(contains(department::Column::Name, q)).add(contains(department::Column::Code, q)),
        );
    }
    if let Some(p) = f.parent_id {
        cond = cond.add(department::Column::ParentId.eq(p));
    }
    if let Some(cat) = f.category.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(department::Column::Category.eq(cat));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(department::Column::Status.eq(s));
    }
    if let Some(focus) = f.is_focus {
        cond = cond.add(department::Column::IsFocus.eq(focus));
    }
    let q =
        order(department::Entity::find().filter(cond), f.sort.as_deref(), DEPARTMENT_SORTS, department::Column::Path);
    paginate(c, q.order_by_asc(department::Column::Id), page).await
}

/// Every department in scope, in tree order, for the tree view and name lookups.
pub async fn department_tree<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<Vec<department::Model>> {
    Ok(department::Entity::find()
        .filter(dept_scope(scope))
        .order_by_asc(department::Column::Depth)
        .order_by_asc(department::Column::SortOrder)
        .order_by_asc(department::Column::Id)
        .all(c)
        .await?)
}

pub async fn get_department<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<department::Model> {
    department::Entity::find_by_id(id).filter(dept_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

pub async fn department_by_code<C: ConnectionTrait>(c: &C, code: &str) -> Result<Option<department::Model>> {
    Ok(department::Entity::find().filter(department::Column::Code.eq(code)).one(c).await?)
}

async fn active_parent<C: ConnectionTrait>(c: &C, parent_id: i64) -> Result<department::Model> {
    let p = department::Entity::find_by_id(parent_id).one(c).await?.ok_or_else(|| {
        invalid("parent_id", "parent_not_found", "上级部门不存在", "The parent department does not exist")
    })?;
    if p.status != Status::Active {
        return Err(invalid("parent_id", "parent_retired", "上级部门已停用", "The parent department is retired"));
    }
    Ok(p)
}

pub async fn create_department<C: ConnectionTrait>(
    c: &C,
    d: DepartmentInput,
    now: DateTime<Utc>,
) -> Result<department::Model> {
    if department_by_code(c, &d.code).await?.is_some() {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let (parent_path, depth) = match d.parent_id {
        Some(pid) => {
            let p = active_parent(c, pid).await?;
            (p.path, p.depth + 1)
        }
        None => ("/".to_owned(), 0),
    };
    let row = department::ActiveModel {
        code: Set(d.code),
        name: Set(d.name),
        parent_id: Set(d.parent_id),
        path: Set(parent_path.clone()),
        depth: Set(depth),
        category: Set(d.category),
        is_focus: Set(d.is_focus),
        sort_order: Set(d.sort_order),
        status: Set(Status::Active),
        created_at: Set(now),
        updated_at: Set(now),
        retired_at: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?;
    let mut am: department::ActiveModel = row.clone().into();
    am.path = Set(format!("{parent_path}{}/", row.id));
    Ok(am.update(c).await?)
}

/// Edits a department; a new `parent_id` moves it, with its whole subtree, under that parent.
pub async fn update_department<C: ConnectionTrait>(
    c: &C,
    id: i64,
    d: DepartmentInput,
    now: DateTime<Utc>,
) -> Result<(department::Model, department::Model)> {
    let before = department::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if d.code != before.code && department_by_code(c, &d.code).await?.is_some() {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let mut am: department::ActiveModel = before.clone().into();
    if d.parent_id != before.parent_id {
        let (new_parent_path, new_depth) = match d.parent_id {
            Some(pid) => {
                let p = active_parent(c, pid).await?;
                if p.path.starts_with(&before.path) {
                    return Err(invalid(
                        "parent_id",
                        "move_into_own_subtree",
                        "不能把部门移到它自己或它的下级部门之下",
                        "A department cannot move under itself or one of its own sub-departments",
                    ));
                }
                (p.path, p.depth + 1)
            }
            None => ("/".to_owned(), 0),
        };
        let new_path = format!("{new_parent_path}{id}/");
        let delta = new_depth - before.depth;
        let backend = c.get_database_backend();
        let (p1, p2, p3, p4) =
            if backend == DbBackend::Postgres { ("$1", "$2", "$3", "$4") } else { ("?", "?", "?", "?") };
        let sql = format!(
            "UPDATE departments SET path = {p1} || substr(path, {p2}), depth = depth + {p3} WHERE path LIKE {p4} ESCAPE '\\'"
        );
        let old_len = i32::try_from(before.path.chars().count()).unwrap_or(i32::MAX);
        c.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                new_path.clone().into(),
                (old_len + 1).into(),
                delta.into(),
                format!("{}%", like_escape(&before.path)).into(),
            ],
        ))
        .await?;
        am.path = Set(new_path);
        am.depth = Set(new_depth);
        am.parent_id = Set(d.parent_id);
    }
    am.code = Set(d.code);
    am.name = Set(d.name);
    am.category = Set(d.category);
    am.is_focus = Set(d.is_focus);
    am.sort_order = Set(d.sort_order);
    am.updated_at = Set(now);
    let after = am.update(c).await?;
    Ok((before, after))
}

/// Retires a department. Refused while it still has active sub-departments, people, windows or
/// posts: those move or retire first, so nothing is left pointing at a retired department.
pub async fn retire_department<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<department::Model> {
    let d = department::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if d.status == Status::Retired {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let active = Status::Active.code();
    let children = department::Entity::find()
        .filter(department::Column::ParentId.eq(id))
        .filter(department::Column::Status.eq(active))
        .count(c)
        .await?;
    let people = person::Entity::find()
        .filter(person::Column::DepartmentId.eq(id))
        .filter(person::Column::Status.eq(active))
        .count(c)
        .await?;
    let windows = window::Entity::find()
        .filter(window::Column::DepartmentId.eq(id))
        .filter(window::Column::Status.eq(active))
        .count(c)
        .await?;
    let posts = post::Entity::find()
        .filter(post::Column::DepartmentId.eq(id))
        .filter(post::Column::Status.eq(active))
        .count(c)
        .await?;
    if children + people + windows + posts > 0 {
        return Err(StoreError::Invalid(ValidationError::new(
            "status",
            "department_in_use",
            format!(
                "该部门仍有 {children} 个在用下级部门、{people} 名在职人员、{windows} 个窗口、{posts} 个岗位，请先调整"
            ),
            format!(
                "The department still has {children} active sub-departments, {people} people, {windows} windows and {posts} posts; move or retire them first"
            ),
        )));
    }
    let mut am: department::ActiveModel = d.into();
    am.status = Set(Status::Retired);
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// Counts of active departments by category, within scope (for home pages).
pub async fn department_counts<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = department::Entity::find()
        .select_only()
        .column(department::Column::Category)
        .column_as(department::Column::Id.count(), "n")
        .filter(dept_scope(scope))
        .filter(department::Column::Status.eq(Status::Active))
        .group_by(department::Column::Category)
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows)
}

pub(crate) async fn active_department<C: ConnectionTrait>(c: &C, id: i64) -> Result<department::Model> {
    let d = department::Entity::find_by_id(id).one(c).await?.ok_or_else(|| {
        invalid("department_id", "department_not_found", "部门不存在", "The department does not exist")
    })?;
    if d.status != Status::Active {
        return Err(invalid("department_id", "department_retired", "部门已停用", "The department is retired"));
    }
    Ok(d)
}
