use sea_orm::entity::prelude::*;
use xiaoneng_core::org::{DepartmentCategory, Status};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "departments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    /// Materialised path of ids, `/1/4/9/`: a subtree is `path LIKE '/1/4/%'`.
    pub path: String,
    pub depth: i32,
    pub category: DepartmentCategory,
    pub is_focus: bool,
    pub sort_order: i32,
    pub status: Status,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
