//! How a user stands to findings: the one extractor every finding and evidence route takes, and
//! the [`FindingAccess`] (core's policy) it works out for each finding — from the user's grants,
//! the plans they are on and how far their permissions reach. What a caller may see of a finding,
//! which steps they may take and which files they may add all follow from it.

use std::collections::{HashMap, HashSet};

use axum::{extract::FromRequestParts, http::request::Parts};
use sea_orm::ConnectionTrait;
use xiaoneng_core::{
    calendar::WorkCalendar,
    inspection::{FindingAccess, FindingRules, InspectionPolicy},
    rbac::Permission,
};
use xiaoneng_store::{entity::finding, inspections::FindingVisibility, settings};

use crate::{
    ApiResult, AppState,
    auth::{CurrentUser, audit_denial},
    error::ApiError,
};

/// Someone who may see findings: the office all of them, a team member those of their plans, a
/// department (or a person) those about it once notified. Anyone else gets 403.
pub struct FindingViewer {
    pub user: CurrentUser,
    /// Which findings the queries return to them.
    pub vis: FindingVisibility,
    /// The plans they are on now (loaded once per request).
    plans: HashSet<i64>,
}

impl FromRequestParts<AppState> for FindingViewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        let vis = visibility(&user);
        if !vis.sees_any() {
            audit_denial(state, parts, &user, Permission::FindingRead).await;
            return Err(ApiError::Forbidden);
        }
        FindingViewer::of(state.store.db(), user).await
    }
}

fn visibility(user: &CurrentUser) -> FindingVisibility {
    FindingVisibility {
        all: user.grants.has(Permission::InspectionManage),
        member: user.grants.has(Permission::InspectionRecord).then_some(user.id),
        subject: user.scope(Permission::FindingRead),
    }
}

impl FindingViewer {
    /// A user as a viewer of findings, whether from a request or acting without one.
    pub async fn of<C: ConnectionTrait>(c: &C, user: CurrentUser) -> ApiResult<Self> {
        let vis = visibility(&user);
        let plans = match vis.member {
            Some(u) if !vis.all => xiaoneng_store::inspections::member_plan_ids(c, u).await?,
            _ => HashSet::new(),
        };
        Ok(FindingViewer { user, vis, plans })
    }

    /// Whether the viewer sees a plan from the inside: the office, or a member of its team.
    pub fn on_plan(&self, plan_id: i64) -> bool {
        self.vis.all || self.plans.contains(&plan_id)
    }

    /// How the viewer stands to a finding whose department has path `department_path`.
    pub fn access(&self, f: &finding::Model, department_path: &str) -> FindingAccess {
        let reaches =
            |p: Permission| self.user.scope(p).is_some_and(|s| s.covers(f.department_id, department_path, f.person_id));
        FindingAccess {
            office: self.vis.all,
            team: f.plan_id.is_some_and(|p| self.plans.contains(&p)),
            reader: reaches(Permission::FindingRead),
            appellant: reaches(Permission::FindingAppeal),
        }
    }

    /// The viewer's access to each of these findings, with one query for their departments.
    pub async fn access_to<C: ConnectionTrait>(
        &self,
        c: &C,
        rows: &[finding::Model],
    ) -> ApiResult<HashMap<i64, FindingAccess>> {
        let paths = xiaoneng_store::org::department_paths(c, rows.iter().map(|f| f.department_id)).await?;
        Ok(rows
            .iter()
            .map(|f| (f.id, self.access(f, paths.get(&f.department_id).map(String::as_str).unwrap_or(""))))
            .collect())
    }

    /// The viewer's access to one finding.
    pub async fn access_one<C: ConnectionTrait>(&self, c: &C, f: &finding::Model) -> ApiResult<FindingAccess> {
        Ok(self.access_to(c, std::slice::from_ref(f)).await?.remove(&f.id).unwrap_or_default())
    }
}

/// The office's rules and calendar, as a finding's decisions need them.
pub struct Rules {
    pub policy: InspectionPolicy,
    pub calendar: WorkCalendar,
}

impl Rules {
    pub async fn load<C: ConnectionTrait>(c: &C) -> ApiResult<Self> {
        Ok(Rules {
            policy: settings::get(c, settings::INSPECTION_POLICY).await?,
            calendar: xiaoneng_store::calendar::work_calendar(c).await?,
        })
    }

    pub fn get(&self) -> FindingRules<'_> {
        FindingRules { policy: &self.policy, calendar: &self.calendar }
    }
}
