use sea_orm::entity::prelude::*;
use xiaoneng_core::second_factor::FactorState;

/// One enrolment of an authenticator app (decision 0029). At most one per account is `active`.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "second_factors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub state: FactorState,
    /// Base32. Never logged: this type's `Debug` leaves it out.
    pub secret: String,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    /// The last TOTP step accepted for the account.
    pub last_used_step: Option<i64>,
    pub ended_at: Option<DateTimeUtc>,
    pub ended_by: Option<i64>,
    pub end_reason: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("state", &self.state)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
