use sea_orm::entity::prelude::*;
use xiaoneng_core::auth::AccountStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub person_id: Option<i64>,
    pub department_id: Option<i64>,
    /// Set for an external supervisor's account: their term limits what they may do.
    pub supervisor_id: Option<i64>,
    pub must_change_password: bool,
    pub password_changed_at: DateTimeUtc,
    pub failed_logins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub status: AccountStatus,
    pub last_login_at: Option<DateTimeUtc>,
    /// Set by the security admin's reset of the second factor: the user enrols again.
    pub must_enrol_second_factor: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
