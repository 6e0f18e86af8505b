//! Departments, windows, posts, people and supervisors: validation, moves, retirement, scope.

use axum::http::Method;
use serde_json::json;

use crate::{both, support::TestApp};

both!(
    department_create_validates_every_field,
    |app: TestApp| async move {
        let s = app.login("office").await;
        let r = app
            .post(
                "/api/v1/departments",
                &s,
                json!({"code": "市局", "name": " ", "category": "bogus"}),
            )
            .await;
        r.expect(422, "validation_failed");
        let fields: Vec<&str> = r.json["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["code", "name", "category"]);
        let r = app
            .post(
                "/api/v1/departments",
                &s,
                json!({"code": "a", "name": "重复", "category": "general"}),
            )
            .await;
        r.expect(409, "already_exists");
        assert_eq!(r.json["details"]["field"], "code");
        let r = app
            .post(
                "/api/v1/departments",
                &s,
                json!({"code": "N1", "name": "新部门", "category": "general", "parent_id": 999999}),
            )
            .await;
        r.expect(422, "validation_failed");
        assert_eq!(r.json["details"][0]["code"], "parent_not_found");
        let r = app
            .call(Method::POST, "/api/v1/departments", Some(&s), None)
            .await;
        r.expect(400, "unsupported_media_type");
    }
);

both!(
    department_moves_with_its_subtree,
    |app: TestApp| async move {
        let s = app.login("office").await;
        let (a, a1, b) = (app.ids["dept_a"], app.ids["dept_a1"], app.ids["dept_b"]);
        // A cannot move under its own child.
        let r = app.put(&format!("/api/v1/departments/{a}"), &s, json!({"code": "A", "name": "市场监督管理局", "category": "law_enforcement", "parent_id": a1})).await;
        r.expect(422, "validation_failed");
        assert_eq!(r.json["details"][0]["code"], "move_into_own_subtree");
        // Move A under B: A1 follows, and B's head now sees A1's people.
        let r = app.put(&format!("/api/v1/departments/{a}"), &s, json!({"code": "A", "name": "市场监督管理局", "category": "law_enforcement", "parent_id": b})).await;
        assert_eq!(r.ok()["path"], format!("/{}/{b}/{a}/", app.ids["city"]));
        let child = app.get(&format!("/api/v1/departments/{a1}"), &s).await;
        assert_eq!(
            child.ok()["path"],
            format!("/{}/{b}/{a}/{a1}/", app.ids["city"])
        );
        assert_eq!(child.json["depth"], 3);
        let head_b = app.login("head_b").await;
        let people = app.get("/api/v1/people?page_size=100", &head_b).await;
        assert_eq!(people.ok()["total"], 3);
        let auditor = app.login("auditor").await;
        let log = app
            .get("/api/v1/audit?action=department.move", &auditor)
            .await;
        assert_eq!(log.ok()["total"], 1);
    }
);

both!(
    department_retire_is_refused_while_in_use,
    |app: TestApp| async move {
        let s = app.login("office").await;
        let a1 = app.ids["dept_a1"];
        let r = app
            .post(
                &format!("/api/v1/departments/{a1}/retire"),
                &s,
                json!({"reason": "机构改革"}),
            )
            .await;
        r.expect(422, "validation_failed");
        assert_eq!(r.json["details"][0]["code"], "department_in_use");
        let p = app.ids["person_a1"];
        app.post(
            &format!("/api/v1/people/{p}/retire"),
            &s,
            json!({"reason": "调离"}),
        )
        .await
        .ok();
        let r = app
            .post(
                &format!("/api/v1/departments/{a1}/retire"),
                &s,
                json!({"reason": "机构改革"}),
            )
            .await;
        assert_eq!(r.ok()["status"], "retired");
        // Still on record, still readable.
        assert_eq!(
            app.get(&format!("/api/v1/departments/{a1}"), &s).await.ok()["status"],
            "retired"
        );
        app.post(
            &format!("/api/v1/departments/{a1}/retire"),
            &s,
            json!({"reason": "again"}),
        )
        .await
        .expect(422, "validation_failed");
    }
);

both!(
    department_head_sees_only_own_tree,
    |app: TestApp| async move {
        let s = app.login("head_a").await;
        let list = app.get("/api/v1/departments?page_size=100", &s).await;
        let codes: Vec<&str> = list.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["A", "A1"]);
        assert_eq!(list.json["total"], 2);
        app.get(&format!("/api/v1/departments/{}", app.ids["dept_b"]), &s)
            .await
            .expect(404, "not_found");
        app.get(&format!("/api/v1/departments/{}", app.ids["city"]), &s)
            .await
            .expect(404, "not_found");
        let tree = app.get("/api/v1/departments/tree", &s).await;
        assert_eq!(tree.ok().as_array().unwrap().len(), 2);
        // Staff see their own department only.
        let staff = app.login("staff_a").await;
        let list = app.get("/api/v1/departments", &staff).await;
        assert_eq!(list.ok()["total"], 1);
    }
);
