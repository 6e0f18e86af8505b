//! The foundation: organisation, accounts, sessions, the audit chain, settings and jobs.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_foundation"
    }
}

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    Code,
    Name,
    ParentId,
    Path,
    Depth,
    Category,
    IsFocus,
    SortOrder,
    Status,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}
#[derive(DeriveIden)]
enum Windows {
    Table,
    Id,
    Code,
    Name,
    DepartmentId,
    Hall,
    Number,
    Status,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}
#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    Code,
    Name,
    DepartmentId,
    PostType,
    Duties,
    Status,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}
#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    EmployeeNo,
    Name,
    Gender,
    DepartmentId,
    PostId,
    WindowId,
    Mobile,
    IsHead,
    IsLeaderInCharge,
    Status,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}
#[derive(DeriveIden)]
enum Supervisors {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Organisation,
    Mobile,
    TermStart,
    TermEnd,
    Status,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    PersonId,
    DepartmentId,
    MustChangePassword,
    PasswordChangedAt,
    FailedLogins,
    LockedUntil,
    Status,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum UserRoles {
    Table,
    Id,
    UserId,
    Role,
    GrantedAt,
    GrantedBy,
    RevokedAt,
    RevokedBy,
}
#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    LastSeenAt,
    EndedAt,
    EndReason,
    Ip,
    UserAgent,
}
#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    ActorUserId,
    Actor,
    Ip,
    Action,
    TargetType,
    TargetId,
    Outcome,
    Detail,
    Algo,
    PrevHash,
    Hash,
}
#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}
#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
    UpdatedBy,
}
#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    DedupeKey,
    RunAt,
    Status,
    Attempts,
    MaxAttempts,
    LockedBy,
    LockedUntil,
    LastError,
    CreatedAt,
    FinishedAt,
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
                .table(Departments::Table)
                .col(big_pk_auto(Departments::Id))
                .col(string_len_uniq(Departments::Code, 32))
                .col(string_len(Departments::Name, 100))
                .col(big_integer_null(Departments::ParentId))
                .col(string_len(Departments::Path, 512))
                .col(integer(Departments::Depth))
                .col(string_len(Departments::Category, 32))
                .col(boolean(Departments::IsFocus))
                .col(integer(Departments::SortOrder).default(0))
                .col(string_len(Departments::Status, 16))
                .col(timestamp_with_time_zone(Departments::CreatedAt))
                .col(timestamp_with_time_zone(Departments::UpdatedAt))
                .col(timestamp_with_time_zone_null(Departments::RetiredAt))
                .foreign_key(&mut fk(Departments::Table, Departments::ParentId, Departments::Table, Departments::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Departments::Table, "idx_departments_path", &["path"])).await?;
        m.create_index(index(Departments::Table, "idx_departments_parent", &["parent_id"])).await?;

        m.create_table(
            Table::create()
                .table(Windows::Table)
                .col(big_pk_auto(Windows::Id))
                .col(string_len_uniq(Windows::Code, 32))
                .col(string_len(Windows::Name, 100))
                .col(big_integer(Windows::DepartmentId))
                .col(string_len(Windows::Hall, 100))
                .col(string_len(Windows::Number, 16))
                .col(string_len(Windows::Status, 16))
                .col(timestamp_with_time_zone(Windows::CreatedAt))
                .col(timestamp_with_time_zone(Windows::UpdatedAt))
                .col(timestamp_with_time_zone_null(Windows::RetiredAt))
                .foreign_key(&mut fk(Windows::Table, Windows::DepartmentId, Departments::Table, Departments::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Windows::Table, "idx_windows_department", &["department_id"])).await?;

        m.create_table(
            Table::create()
                .table(Posts::Table)
                .col(big_pk_auto(Posts::Id))
                .col(string_len_uniq(Posts::Code, 32))
                .col(string_len(Posts::Name, 100))
                .col(big_integer(Posts::DepartmentId))
                .col(string_len(Posts::PostType, 32))
                .col(text(Posts::Duties))
                .col(string_len(Posts::Status, 16))
                .col(timestamp_with_time_zone(Posts::CreatedAt))
                .col(timestamp_with_time_zone(Posts::UpdatedAt))
                .col(timestamp_with_time_zone_null(Posts::RetiredAt))
                .foreign_key(&mut fk(Posts::Table, Posts::DepartmentId, Departments::Table, Departments::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Posts::Table, "idx_posts_department", &["department_id"])).await?;

        m.create_table(
            Table::create()
                .table(People::Table)
                .col(big_pk_auto(People::Id))
                .col(string_len_uniq(People::EmployeeNo, 32))
                .col(string_len(People::Name, 50))
                .col(string_len(People::Gender, 8))
                .col(big_integer(People::DepartmentId))
                .col(big_integer_null(People::PostId))
                .col(big_integer_null(People::WindowId))
                .col(string_len_null(People::Mobile, 20))
                .col(boolean(People::IsHead))
                .col(boolean(People::IsLeaderInCharge))
                .col(string_len(People::Status, 16))
                .col(timestamp_with_time_zone(People::CreatedAt))
                .col(timestamp_with_time_zone(People::UpdatedAt))
                .col(timestamp_with_time_zone_null(People::RetiredAt))
                .foreign_key(&mut fk(People::Table, People::DepartmentId, Departments::Table, Departments::Id))
                .foreign_key(&mut fk(People::Table, People::PostId, Posts::Table, Posts::Id))
                .foreign_key(&mut fk(People::Table, People::WindowId, Windows::Table, Windows::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(People::Table, "idx_people_department", &["department_id", "id"])).await?;
        m.create_index(index(People::Table, "idx_people_name", &["name"])).await?;

        m.create_table(
            Table::create()
                .table(Supervisors::Table)
                .col(big_pk_auto(Supervisors::Id))
                .col(string_len_uniq(Supervisors::Code, 32))
                .col(string_len(Supervisors::Name, 50))
                .col(string_len(Supervisors::Kind, 32))
                .col(string_len(Supervisors::Organisation, 100))
                .col(string_len_null(Supervisors::Mobile, 20))
                .col(date(Supervisors::TermStart))
                .col(date(Supervisors::TermEnd))
                .col(string_len(Supervisors::Status, 16))
                .col(timestamp_with_time_zone(Supervisors::CreatedAt))
                .col(timestamp_with_time_zone(Supervisors::UpdatedAt))
                .col(timestamp_with_time_zone_null(Supervisors::RetiredAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_len_uniq(Users::Username, 32))
                .col(string_len(Users::DisplayName, 50))
                .col(string_len(Users::PasswordHash, 255))
                .col(big_integer_null(Users::PersonId))
                .col(big_integer_null(Users::DepartmentId))
                .col(boolean(Users::MustChangePassword))
                .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                .col(integer(Users::FailedLogins).default(0))
                .col(timestamp_with_time_zone_null(Users::LockedUntil))
                .col(string_len(Users::Status, 16))
                .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .foreign_key(&mut fk(Users::Table, Users::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(Users::Table, Users::DepartmentId, Departments::Table, Departments::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserRoles::Table)
                .col(big_pk_auto(UserRoles::Id))
                .col(big_integer(UserRoles::UserId))
                .col(string_len(UserRoles::Role, 32))
                .col(timestamp_with_time_zone(UserRoles::GrantedAt))
                .col(big_integer_null(UserRoles::GrantedBy))
                .col(timestamp_with_time_zone_null(UserRoles::RevokedAt))
                .col(big_integer_null(UserRoles::RevokedBy))
                .foreign_key(&mut fk(UserRoles::Table, UserRoles::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(UserRoles::Table, "idx_user_roles_user", &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(string_len(Sessions::Id, 64).primary_key())
                .col(big_integer(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(timestamp_with_time_zone_null(Sessions::EndedAt))
                .col(string_len_null(Sessions::EndReason, 16))
                .col(string_len(Sessions::Ip, 64))
                .col(string_len(Sessions::UserAgent, 255))
                .foreign_key(&mut fk(Sessions::Table, Sessions::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Sessions::Table, "idx_sessions_user", &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_integer(AuditLog::Seq).primary_key())
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(big_integer_null(AuditLog::ActorUserId))
                .col(string_len(AuditLog::Actor, 64))
                .col(string_len(AuditLog::Ip, 64))
                .col(string_len(AuditLog::Action, 64))
                .col(string_len(AuditLog::TargetType, 32))
                .col(string_len(AuditLog::TargetId, 64))
                .col(string_len(AuditLog::Outcome, 16))
                .col(text(AuditLog::Detail))
                .col(string_len(AuditLog::Algo, 8))
                .col(string_len(AuditLog::PrevHash, 64))
                .col(string_len(AuditLog::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_index(index(AuditLog::Table, "idx_audit_at", &["at"])).await?;
        m.create_index(index(AuditLog::Table, "idx_audit_actor", &["actor"])).await?;
        m.create_index(index(AuditLog::Table, "idx_audit_action", &["action"])).await?;

        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(integer(AuditHead::Id).primary_key())
                .col(big_integer(AuditHead::Seq))
                .col(string_len(AuditHead::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                .values_panic([1.into(), 0i64.into(), xiaoneng_core::audit::GENESIS.into()])
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(string_len(Settings::Key, 64).primary_key())
                .col(text(Settings::Value))
                .col(timestamp_with_time_zone(Settings::UpdatedAt))
                .col(big_integer_null(Settings::UpdatedBy))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(big_pk_auto(Jobs::Id))
                .col(string_len(Jobs::Kind, 64))
                .col(text(Jobs::Payload))
                .col(string_len_null(Jobs::DedupeKey, 200).unique_key())
                .col(timestamp_with_time_zone(Jobs::RunAt))
                .col(string_len(Jobs::Status, 16))
                .col(integer(Jobs::Attempts).default(0))
                .col(integer(Jobs::MaxAttempts).default(5))
                .col(string_len_null(Jobs::LockedBy, 64))
                .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                .col(text_null(Jobs::LastError))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Jobs::Table, "idx_jobs_due", &["status", "run_at"])).await?;
        Ok(())
    }
}
