//! The permission matrix: every route in the OpenAPI document × every role. A route missing
//! from the table below fails the test, so a new route cannot ship without a stated rule.

use axum::http::Method;
use serde_json::json;
use xiaoneng_core::rbac::{Grants, Permission};

use crate::{
    both,
    support::{ACCOUNTS, TestApp},
};

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Public,
    LoggedIn,
    Needs(Permission),
    /// Without the permission the route does not exist for the caller: 404, never 403.
    Hidden(Permission),
    /// Any one of these will do.
    AnyOf(&'static [Permission]),
}

fn rule(method: &str, path: &str) -> Option<Rule> {
    use Permission::*;
    use Rule::*;
    Some(match (method, path) {
        ("post", "/api/v1/auth/login") => Public,
        ("post", "/api/v1/auth/logout") | ("post", "/api/v1/auth/password") | ("get", "/api/v1/me") => LoggedIn,
        ("get", "/api/v1/departments" | "/api/v1/departments/tree" | "/api/v1/departments/{id}") => Needs(OrgRead),
        ("get", "/api/v1/windows" | "/api/v1/windows/{id}" | "/api/v1/posts" | "/api/v1/posts/{id}") => Needs(OrgRead),
        ("get", "/api/v1/stats/organisation") => Needs(OrgRead),
        ("post" | "put", p)
            if p.starts_with("/api/v1/departments")
                || p.starts_with("/api/v1/windows")
                || p.starts_with("/api/v1/posts") =>
        {
            Needs(OrgWrite)
        }
        ("get", "/api/v1/people" | "/api/v1/people/{id}") => Needs(PeopleRead),
        ("get", "/api/v1/people/export") => Needs(PeopleExport),
        ("get", "/api/v1/people/import-template") | ("post", "/api/v1/people/import") => Needs(PeopleImport),
        ("post" | "put", p) if p.starts_with("/api/v1/people") => Needs(PeopleWrite),
        ("get", "/api/v1/supervisors" | "/api/v1/supervisors/{id}") => Needs(SupervisorRead),
        ("post" | "put", p) if p.starts_with("/api/v1/supervisors") => Needs(SupervisorWrite),
        ("get", "/api/v1/users" | "/api/v1/users/{id}") => Needs(UserRead),
        ("get", "/api/v1/account-links") => Needs(UserWrite),
        ("put", "/api/v1/users/{id}/roles") => Needs(RoleGrant),
        ("post" | "put", p) if p.starts_with("/api/v1/users") => Needs(UserWrite),
        ("get", "/api/v1/settings/security-policy") => Needs(PolicyRead),
        ("put", "/api/v1/settings/security-policy") => Needs(PolicyWrite),
        ("get", "/api/v1/audit" | "/api/v1/audit/verify") => Needs(AuditRead),
        ("get", "/api/v1/events") => Needs(EventRead),
        ("get", "/api/v1/finding-categories") => LoggedIn,
        ("post" | "put", p) if p.starts_with("/api/v1/finding-categories") => Needs(InspectionManage),
        ("get", "/api/v1/plans" | "/api/v1/plans/{id}") => Hidden(InspectionRecord),
        ("get", "/api/v1/inspectors") => Needs(InspectionManage),
        ("get", "/api/v1/calendar") => LoggedIn,
        ("put", "/api/v1/calendar/days") | ("post", "/api/v1/calendar/import") => Needs(InspectionManage),
        ("put", "/api/v1/visits/{id}") => Hidden(InspectionRecord),
        ("post" | "put", p) if p.starts_with("/api/v1/plans") => Needs(InspectionManage),
        ("get", "/api/v1/findings" | "/api/v1/findings/{id}") | ("post", "/api/v1/findings/{id}/steps") => {
            AnyOf(&[InspectionManage, InspectionRecord, FindingRead])
        }
        ("post", "/api/v1/findings") => Needs(InspectionRecord),
        ("get", "/api/v1/settings/inspection-policy") => AnyOf(&[InspectionManage, InspectionRecord, FindingRead]),
        ("put", "/api/v1/settings/inspection-policy") => Needs(InspectionManage),
        ("post" | "options", "/api/v1/findings/{id}/uploads")
        | ("head" | "patch" | "delete" | "options", "/api/v1/uploads/{id}")
        | ("get", "/api/v1/evidence/{id}/content") => AnyOf(&[InspectionManage, InspectionRecord, FindingRead]),
        ("get", "/api/v1/public/bulletins" | "/public/bulletins/{year}/{number}") => Public,
        ("get", "/api/v1/bulletins" | "/api/v1/bulletins/{id}" | "/api/v1/bulletins/{id}/document") => {
            AnyOf(&[BulletinRead, RectificationManage])
        }
        ("post" | "put", p) if p.starts_with("/api/v1/bulletins") => Needs(RectificationManage),
        ("get", "/api/v1/orders" | "/api/v1/orders/{id}" | "/api/v1/attachments/{id}/content")
        | ("get", "/api/v1/settings/rectification-policy") => Needs(RectificationRead),
        // Submitting is the head's, reviewing the office's: each step checks its own permission.
        ("post", "/api/v1/reports/{id}/steps") => AnyOf(&[ReportSubmit, RectificationManage]),
        ("put", "/api/v1/orders/{id}/report") | ("post", "/api/v1/reports/{id}/attachments") => Needs(ReportDraft),
        ("put", "/api/v1/settings/rectification-policy") | (_, "/api/v1/settings/notify-channels") => {
            Needs(RectificationManage)
        }
        ("post", "/api/v1/instructions") => Needs(InstructionWrite),
        ("post", "/api/v1/instructions/{id}/follow-up") => LoggedIn,
        ("get", "/api/v1/inbox") | ("post", "/api/v1/notifications/read") => LoggedIn,
        ("get", "/api/v1/campaigns" | "/api/v1/campaigns/{id}" | "/api/v1/campaign-participations/{id}") => {
            AnyOf(&[CampaignManage, CampaignAnswer])
        }
        ("put", "/api/v1/campaign-participations/{id}/answers")
        | ("post", "/api/v1/campaign-participations/{id}/submit") => Needs(CampaignAnswer),
        (_, p) if p.starts_with("/api/v1/campaigns") => Needs(CampaignManage),
        _ => return None,
    })
}

both!(every_route_for_every_role, |app: TestApp| async move {
    let doc = serde_json::to_value(xiaoneng_server::openapi()).unwrap();
    let mut routes: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    // Logging out ends the session the other checks use: last.
    routes.sort_by_key(|(_, p)| p.ends_with("/logout"));
    let mut checked = 0;
    for (username, role, _) in ACCOUNTS {
        let session = app.login(username).await;
        let grants = Grants::of(&[*role]);
        for (method, path) in &routes {
            {
                let rule = rule(method, path).unwrap_or_else(|| panic!("no permission rule for {method} {path}"));
                // Ids of records every role could be scoped to see; bodies that cannot succeed,
                // so nothing changes: a refusal must come before the body is even read.
                let uri = path.replace("{id}", &app.ids["head_b"].to_string());
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = (m != Method::GET).then(|| json!({"nothing": "valid"}));
                let r = app.call(m.clone(), &uri, Some(&session), body).await;
                assert!(r.status.as_u16() < 500, "{username} ({role}) broke {method} {path}: {} {}", r.status, r.json);
                let allowed = match rule {
                    Rule::Public | Rule::LoggedIn => true,
                    Rule::Needs(p) => grants.has(p),
                    Rule::Hidden(p) => {
                        if !grants.has(p) {
                            assert_eq!(r.status, 404, "{username} ({role}) saw hidden {method} {path}: {}", r.json);
                            checked += 1;
                            continue;
                        }
                        true
                    }
                    Rule::AnyOf(ps) => ps.iter().any(|p| grants.has(*p)),
                };
                if allowed {
                    assert!(
                        r.status != 403 && r.status != 401 || path.ends_with("/login"),
                        "{username} ({role}) was refused {method} {path}: {} {}",
                        r.status,
                        r.json
                    );
                } else {
                    assert_eq!(r.status, 403, "{username} ({role}) was not refused {method} {path}: {}", r.json);
                    if m != Method::HEAD {
                        assert_eq!(r.code(), "forbidden");
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} route × role checks");
    // Every refusal above is in the audit log.
    let auditor = app.login("auditor").await;
    let denied = app.get("/api/v1/audit?outcome=denied&page_size=1", &auditor).await;
    assert!(denied.ok()["total"].as_u64().unwrap() > 100, "{}", denied.json);
});

both!(three_admins_cannot_do_each_others_work, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let sec = app.login("secadmin").await;
    let audit = app.login("auditor").await;
    let target = app.ids["head_b"];
    // The system admin manages accounts but cannot grant roles or read the audit log.
    app.put(&format!("/api/v1/users/{target}/roles"), &sys, json!({"roles": ["office_admin"]}))
        .await
        .expect(403, "forbidden");
    app.get("/api/v1/audit", &sys).await.expect(403, "forbidden");
    // The security admin grants roles but manages no business data and reads no audit log.
    app.post("/api/v1/people", &sec, json!({})).await.expect(403, "forbidden");
    app.post("/api/v1/departments", &sec, json!({})).await.expect(403, "forbidden");
    app.get("/api/v1/audit", &sec).await.expect(403, "forbidden");
    app.post("/api/v1/users", &sec, json!({})).await.expect(403, "forbidden");
    // Nor can they give themselves what they lack.
    let me = app.ids["secadmin"];
    app.put(&format!("/api/v1/users/{me}/roles"), &sec, json!({"roles": ["sec_admin", "audit_admin"]}))
        .await
        .expect(400, "own_account");
    // The audit admin can only read the audit log.
    app.get("/api/v1/audit", &audit).await.ok();
    app.get("/api/v1/users", &audit).await.expect(403, "forbidden");
    app.get("/api/v1/people", &audit).await.expect(403, "forbidden");
    app.get("/api/v1/departments", &audit).await.expect(403, "forbidden");
});

both!(it_admin_accounts_cannot_be_taken_over, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let sec = app.login("secadmin").await;
    for target in ["secadmin", "auditor"] {
        let id = app.ids[target];
        let r =
            app.post(&format!("/api/v1/users/{id}/reset-password"), &sys, json!({"password": "Taken#Over2026"})).await;
        r.expect(400, "it_admin_account");
        app.post(&format!("/api/v1/users/{id}/disable"), &sys, json!({"reason": "x"}))
            .await
            .expect(400, "it_admin_account");
    }
    // The security admin cannot pile the three powers onto one account.
    let target = app.ids["leader"];
    let r =
        app.put(&format!("/api/v1/users/{target}/roles"), &sec, json!({"roles": ["sec_admin", "audit_admin"]})).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "it_admin_role_alone");
    let r =
        app.put(&format!("/api/v1/users/{target}/roles"), &sec, json!({"roles": ["city_leader", "sys_admin"]})).await;
    assert_eq!(r.json["details"][0]["code"], "it_admin_role_alone");
    // Nor hand out an IT admin role at all, nor take one away from its holder.
    app.put(&format!("/api/v1/users/{target}/roles"), &sec, json!({"roles": ["audit_admin"]}))
        .await
        .expect(400, "it_admin_account");
    let auditor = app.ids["auditor"];
    app.put(&format!("/api/v1/users/{auditor}/roles"), &sec, json!({"roles": ["inspector"]}))
        .await
        .expect(400, "it_admin_account");
    let still = app.get("/api/v1/audit/verify", &app.login("auditor").await).await;
    assert_eq!(still.status, 200, "the auditor kept the role");
    app.login_with("secadmin", "Taken#Over2026").await.unwrap_err().expect(401, "invalid_credentials");
});

both!(reading_the_audit_log_is_audited, |app: TestApp| async move {
    let auditor = app.login("auditor").await;
    app.get("/api/v1/audit?actor=office", &auditor).await.ok();
    app.get("/api/v1/audit/verify", &auditor).await.ok();
    let r = app.get("/api/v1/audit?action=audit.", &auditor).await;
    let items = r.ok()["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["audit.verify", "audit.search"]);
    assert_eq!(items[1]["detail"]["actor"], "office");
    assert_eq!(items[1]["actor"], "auditor");
});
