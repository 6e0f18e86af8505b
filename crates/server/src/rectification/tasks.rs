//! The inbox tasks rectification leaves: reports to review and overdue orders and draft
//! bulletins for the office; reports to write, sign or rewrite for a department; leaders'
//! follow-ups for whoever must do them. Worked out from the records, a query per kind of task.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use xiaoneng_core::{
    rbac::Permission,
    rectification::{BulletinState, InstructionTarget, OrderAction, OrderActor, OrderState},
    scope::Scope,
};
use xiaoneng_store::{
    entity::{instruction, order},
    org,
    rectification::{self as rect, BulletinFilter},
};

use super::read::bulletin_titles;
use crate::{
    ApiResult,
    auth::CurrentUser,
    tasks::{Task, TaskKind},
};

fn link(o: &order::Model) -> String {
    format!("/rectification/{}", o.id)
}

/// What a bulletin's orders are called in a task: the bulletin's number and title.
async fn names<C: ConnectionTrait>(c: &C, orders: &[&order::Model]) -> ApiResult<impl Fn(&order::Model) -> String> {
    let ids: Vec<i64> = orders.iter().filter_map(|o| o.bulletin_id).collect();
    let titles = bulletin_titles(c, &ids).await?;
    Ok(move |o: &order::Model| {
        o.bulletin_id.and_then(|b| titles.get(&b).cloned()).unwrap_or_else(|| format!("整改通知 {}", o.id))
    })
}

pub async fn tasks<C: ConnectionTrait>(c: &C, user: &CurrentUser, today: NaiveDate) -> ApiResult<Vec<Task>> {
    let mut out = Vec::new();
    if user.grants.has(Permission::RectificationManage) {
        let review = rect::orders_in_states(c, &Scope::All, &[OrderState::Submitted]).await?;
        let overdue: Vec<_> = rect::orders_owed(c, &Scope::All)
            .await?
            .into_iter()
            .filter(|o| o.status.overdue(o.deadline, today))
            .collect();
        let all: Vec<&order::Model> = review.iter().chain(&overdue).collect();
        let name = names(c, &all).await?;
        let depts = org::department_names(c, all.iter().map(|o| o.department_id)).await?;
        let dept = |o: &order::Model| depts.get(&o.department_id).cloned().unwrap_or_default();
        for o in &review {
            out.push(Task {
                kind: TaskKind::ReviewReport,
                title: format!("审核{}的整改报告：{}", dept(o), name(o)),
                link: link(o),
                due: None,
                overdue: false,
            });
        }
        for o in &overdue {
            out.push(Task {
                kind: TaskKind::OverdueOrder,
                title: format!("{}逾期未报送整改情况：{}", dept(o), name(o)),
                link: link(o),
                due: Some(o.deadline),
                overdue: true,
            });
        }
        let drafts = BulletinFilter { status: Some(BulletinState::Draft), ..Default::default() };
        for b in rect::list_bulletins(c, &drafts, xiaoneng_store::PageReq { page: 1, page_size: 50 }).await?.items {
            out.push(Task {
                kind: TaskKind::DraftBulletin,
                title: format!("通报草稿待发布：{}", b.title),
                link: format!("/bulletins/{}", b.id),
                due: None,
                overdue: false,
            });
        }
        out.extend(follow_up_tasks(c, rect::open_follow_ups(c, None).await?, today).await?);
    }

    if let Some(scope) = user.scope(Permission::ReportDraft) {
        let owed = rect::orders_owed(c, &scope).await?;
        let ids: Vec<i64> = owed.iter().map(|o| o.id).collect();
        let latest = rect::latest_reports(c, &ids).await?;
        let paths = org::department_paths(c, owed.iter().map(|o| o.department_id)).await?;
        let signs = user.scope(Permission::ReportSubmit);
        let refs: Vec<&order::Model> = owed.iter().collect();
        let name = names(c, &refs).await?;
        for o in &owed {
            let path = paths.get(&o.department_id).map(String::as_str).unwrap_or_default();
            let who = OrderActor {
                drafter: true,
                signer: signs.as_ref().is_some_and(|s| s.covers_department(o.department_id, path)),
                office: false,
            };
            let facts = rect::order_facts(o, latest.get(&o.id));
            let (kind, what) = if facts.permits(OrderAction::SubmitReport, who).is_ok() {
                (TaskKind::SubmitReport, "整改报告待签发报送")
            } else if o.status == OrderState::Returned {
                (TaskKind::ResubmitReport, "整改报告被退回，待修改后重新报送")
            } else {
                (TaskKind::AnswerOrder, "待报送整改情况")
            };
            out.push(Task {
                kind,
                title: format!("{what}：{}", name(o)),
                link: link(o),
                due: Some(o.deadline),
                overdue: o.status.overdue(o.deadline, today),
            });
        }
    }
    if let Some(scope) = user.scope(Permission::ReportSubmit) {
        out.extend(follow_up_tasks(c, rect::open_follow_ups(c, Some(&scope)).await?, today).await?);
    }
    Ok(out)
}

async fn follow_up_tasks<C: ConnectionTrait>(
    c: &C,
    items: Vec<instruction::Model>,
    today: NaiveDate,
) -> ApiResult<Vec<Task>> {
    let report_ids: Vec<i64> =
        items.iter().filter(|i| i.target_kind == InstructionTarget::Report).map(|i| i.target_id).collect();
    let reports: HashMap<i64, i64> =
        rect::reports_by_ids(c, &report_ids).await?.into_iter().map(|(id, r)| (id, r.order_id)).collect();
    Ok(items
        .into_iter()
        .map(|i| Task {
            kind: TaskKind::FollowUp,
            title: format!("落实领导批示：{}", i.text.chars().take(40).collect::<String>()),
            link: match i.target_kind {
                InstructionTarget::Bulletin => format!("/bulletins/{}", i.target_id),
                InstructionTarget::Report => {
                    format!("/rectification/{}", reports.get(&i.target_id).copied().unwrap_or_default())
                }
            },
            due: i.follow_up_due,
            overdue: i.follow_up_due.is_some_and(|d| today > d),
        })
        .collect())
}
