//! Covert inspections: the finding taxonomy, secret plans with their targets, team and visits,
//! and findings with the history of every step.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_inspections"
    }
}

#[derive(DeriveIden)]
enum FindingCategories {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    DefaultSeverity,
    SortOrder,
    Status,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}
#[derive(DeriveIden)]
enum InspectionPlans {
    Table,
    Id,
    Title,
    PeriodStart,
    PeriodEnd,
    Notes,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum PlanTargets {
    Table,
    Id,
    PlanId,
    DepartmentId,
    WindowId,
    RemovedAt,
}
#[derive(DeriveIden)]
enum PlanMembers {
    Table,
    Id,
    PlanId,
    UserId,
    AddedAt,
    AddedBy,
    RemovedAt,
    RemovedBy,
}
#[derive(DeriveIden)]
enum Visits {
    Table,
    Id,
    PlanId,
    DepartmentId,
    WindowId,
    ScheduledOn,
    Notes,
    Status,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum Findings {
    Table,
    Id,
    PlanId,
    VisitId,
    DepartmentId,
    WindowId,
    PersonId,
    PostId,
    CategoryId,
    Severity,
    OccurredAt,
    Description,
    State,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
    NotifiedAt,
}
#[derive(DeriveIden)]
enum FindingEvents {
    Table,
    Id,
    FindingId,
    Action,
    FromState,
    ToState,
    ActorUserId,
    Reason,
    At,
}
#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Windows {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    SupervisorId,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(table: impl IntoIden, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut s = Index::create();
    s.name(name).table(table);
    for c in cols {
        s.col(Alias::new(*c));
    }
    s.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FindingCategories::Table)
                .col(big_pk_auto(FindingCategories::Id))
                .col(string_len_uniq(FindingCategories::Code, 32))
                .col(string_len(FindingCategories::Name, 100))
                .col(string_len(FindingCategories::NameEn, 200))
                .col(string_len(FindingCategories::DefaultSeverity, 16))
                .col(integer(FindingCategories::SortOrder).default(0))
                .col(string_len(FindingCategories::Status, 16))
                .col(timestamp_with_time_zone(FindingCategories::CreatedAt))
                .col(timestamp_with_time_zone(FindingCategories::UpdatedAt))
                .col(timestamp_with_time_zone_null(FindingCategories::RetiredAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(InspectionPlans::Table)
                .col(big_pk_auto(InspectionPlans::Id))
                .col(string_len(InspectionPlans::Title, 200))
                .col(date(InspectionPlans::PeriodStart))
                .col(date(InspectionPlans::PeriodEnd))
                .col(text(InspectionPlans::Notes))
                .col(string_len(InspectionPlans::Status, 16))
                .col(big_integer(InspectionPlans::CreatedBy))
                .col(timestamp_with_time_zone(InspectionPlans::CreatedAt))
                .col(timestamp_with_time_zone(InspectionPlans::UpdatedAt))
                .foreign_key(&mut fk(InspectionPlans::Table, InspectionPlans::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PlanTargets::Table)
                .col(big_pk_auto(PlanTargets::Id))
                .col(big_integer(PlanTargets::PlanId))
                .col(big_integer(PlanTargets::DepartmentId))
                .col(big_integer_null(PlanTargets::WindowId))
                .col(timestamp_with_time_zone_null(PlanTargets::RemovedAt))
                .foreign_key(&mut fk(
                    PlanTargets::Table,
                    PlanTargets::PlanId,
                    InspectionPlans::Table,
                    InspectionPlans::Id,
                ))
                .foreign_key(&mut fk(
                    PlanTargets::Table,
                    PlanTargets::DepartmentId,
                    Departments::Table,
                    Departments::Id,
                ))
                .foreign_key(&mut fk(PlanTargets::Table, PlanTargets::WindowId, Windows::Table, Windows::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(PlanTargets::Table, "idx_plan_targets_plan", &["plan_id"])).await?;

        m.create_table(
            Table::create()
                .table(PlanMembers::Table)
                .col(big_pk_auto(PlanMembers::Id))
                .col(big_integer(PlanMembers::PlanId))
                .col(big_integer(PlanMembers::UserId))
                .col(timestamp_with_time_zone(PlanMembers::AddedAt))
                .col(big_integer_null(PlanMembers::AddedBy))
                .col(timestamp_with_time_zone_null(PlanMembers::RemovedAt))
                .col(big_integer_null(PlanMembers::RemovedBy))
                .foreign_key(&mut fk(
                    PlanMembers::Table,
                    PlanMembers::PlanId,
                    InspectionPlans::Table,
                    InspectionPlans::Id,
                ))
                .foreign_key(&mut fk(PlanMembers::Table, PlanMembers::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(PlanMembers::Table, "idx_plan_members_user", &["user_id", "plan_id"])).await?;

        m.create_table(
            Table::create()
                .table(Visits::Table)
                .col(big_pk_auto(Visits::Id))
                .col(big_integer(Visits::PlanId))
                .col(big_integer(Visits::DepartmentId))
                .col(big_integer_null(Visits::WindowId))
                .col(date(Visits::ScheduledOn))
                .col(text(Visits::Notes))
                .col(string_len(Visits::Status, 16))
                .col(timestamp_with_time_zone(Visits::CreatedAt))
                .col(timestamp_with_time_zone(Visits::UpdatedAt))
                .foreign_key(&mut fk(Visits::Table, Visits::PlanId, InspectionPlans::Table, InspectionPlans::Id))
                .foreign_key(&mut fk(Visits::Table, Visits::DepartmentId, Departments::Table, Departments::Id))
                .foreign_key(&mut fk(Visits::Table, Visits::WindowId, Windows::Table, Windows::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Visits::Table, "idx_visits_plan", &["plan_id"])).await?;

        m.create_table(
            Table::create()
                .table(Findings::Table)
                .col(big_pk_auto(Findings::Id))
                .col(big_integer_null(Findings::PlanId))
                .col(big_integer_null(Findings::VisitId))
                .col(big_integer(Findings::DepartmentId))
                .col(big_integer_null(Findings::WindowId))
                .col(big_integer_null(Findings::PersonId))
                .col(big_integer_null(Findings::PostId))
                .col(big_integer(Findings::CategoryId))
                .col(string_len(Findings::Severity, 16))
                .col(timestamp_with_time_zone(Findings::OccurredAt))
                .col(text(Findings::Description))
                .col(string_len(Findings::State, 16))
                .col(big_integer(Findings::RecordedBy))
                .col(timestamp_with_time_zone(Findings::CreatedAt))
                .col(timestamp_with_time_zone(Findings::UpdatedAt))
                .col(timestamp_with_time_zone_null(Findings::NotifiedAt))
                .foreign_key(&mut fk(Findings::Table, Findings::PlanId, InspectionPlans::Table, InspectionPlans::Id))
                .foreign_key(&mut fk(Findings::Table, Findings::VisitId, Visits::Table, Visits::Id))
                .foreign_key(&mut fk(Findings::Table, Findings::DepartmentId, Departments::Table, Departments::Id))
                .foreign_key(&mut fk(Findings::Table, Findings::WindowId, Windows::Table, Windows::Id))
                .foreign_key(&mut fk(Findings::Table, Findings::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(Findings::Table, Findings::PostId, Posts::Table, Posts::Id))
                .foreign_key(&mut fk(
                    Findings::Table,
                    Findings::CategoryId,
                    FindingCategories::Table,
                    FindingCategories::Id,
                ))
                .foreign_key(&mut fk(Findings::Table, Findings::RecordedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Findings::Table, "idx_findings_department", &["department_id", "state"])).await?;
        m.create_index(index(Findings::Table, "idx_findings_plan", &["plan_id"])).await?;
        m.create_index(index(Findings::Table, "idx_findings_occurred", &["occurred_at"])).await?;

        m.create_table(
            Table::create()
                .table(FindingEvents::Table)
                .col(big_pk_auto(FindingEvents::Id))
                .col(big_integer(FindingEvents::FindingId))
                .col(string_len(FindingEvents::Action, 16))
                .col(string_len_null(FindingEvents::FromState, 16))
                .col(string_len(FindingEvents::ToState, 16))
                .col(big_integer(FindingEvents::ActorUserId))
                .col(text(FindingEvents::Reason))
                .col(timestamp_with_time_zone(FindingEvents::At))
                .foreign_key(&mut fk(FindingEvents::Table, FindingEvents::FindingId, Findings::Table, Findings::Id))
                .foreign_key(&mut fk(FindingEvents::Table, FindingEvents::ActorUserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(FindingEvents::Table, "idx_finding_events_finding", &["finding_id"])).await?;

        // An external supervisor's account names their record, so their term can be enforced.
        // (No foreign key: SQLite cannot add one to an existing table; the API checks it.)
        m.alter_table(Table::alter().table(Users::Table).add_column(big_integer_null(Users::SupervisorId)).to_owned())
            .await?;

        // The office's taxonomy starts with the speech's categories; it edits them from there.
        let now = chrono::Utc::now();
        for (i, (code, name, name_en, severity)) in xiaoneng_core::inspection::SEED_CATEGORIES.iter().enumerate() {
            m.exec_stmt(
                Query::insert()
                    .into_table(FindingCategories::Table)
                    .columns([
                        FindingCategories::Code,
                        FindingCategories::Name,
                        FindingCategories::NameEn,
                        FindingCategories::DefaultSeverity,
                        FindingCategories::SortOrder,
                        FindingCategories::Status,
                        FindingCategories::CreatedAt,
                        FindingCategories::UpdatedAt,
                    ])
                    .values_panic([
                        (*code).into(),
                        (*name).into(),
                        (*name_en).into(),
                        severity.code().into(),
                        <i32 as std::convert::TryFrom<usize>>::try_from(i).unwrap_or(0).into(),
                        "active".into(),
                        now.into(),
                        now.into(),
                    ])
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
