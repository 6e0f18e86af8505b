//! People (机关干部): the roster. Mobile numbers are stored encrypted (decision 0030) and masked in
//! lists, exports and the audit log; only those who may edit people see one in full, one person at
//! a time, and each such reading is audited. The roster imports from and exports to Excel; an
//! import with any bad row imports nothing and says what is wrong where.

use std::collections::{HashMap, HashSet};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    org::{Gender, Status, mask_mobile, parse_code, parse_mobile, parse_name},
    rbac::Permission,
};
use xiaoneng_store::{
    audit,
    entity::person,
    org::{self, PeopleFilter, PersonInput},
    personal::{Field, Vault},
};

use crate::api::{Checks, Page, RetireRequest, page_req};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::{ApiError, ErrorBody, RowError},
    excel,
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(export))
        .routes(routes!(import))
        .routes(routes!(import_template))
        .routes(routes!(get_one, update))
        .routes(routes!(retire))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: i64,
    /// Employee number (工号), unique.
    pub employee_no: String,
    pub name: String,
    pub gender: Gender,
    pub department_id: i64,
    pub department_name: String,
    pub post_id: Option<i64>,
    pub post_name: Option<String>,
    pub post_type: Option<String>,
    pub window_id: Option<i64>,
    pub window_name: Option<String>,
    /// Masked (`138****5678`) unless the caller may edit people and asked for this one person.
    pub mobile: Option<String>,
    /// The department's head (一把手).
    pub is_head: bool,
    /// A leader in charge (分管领导).
    pub is_leader_in_charge: bool,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// Names of the departments, posts and windows that a page of people refers to.
struct Names {
    departments: HashMap<i64, String>,
    posts: HashMap<i64, (String, String)>,
    windows: HashMap<i64, String>,
}

impl Names {
    async fn of(s: &AppState, people: &[person::Model]) -> ApiResult<Self> {
        let db = s.store.db();
        let d: HashSet<i64> = people.iter().map(|p| p.department_id).collect();
        let p: HashSet<i64> = people.iter().filter_map(|p| p.post_id).collect();
        let w: HashSet<i64> = people.iter().filter_map(|p| p.window_id).collect();
        Ok(Names {
            departments: org::department_names(db, d).await?,
            posts: org::post_names(db, p).await?,
            windows: org::window_names(db, w).await?,
        })
    }

    fn dto(&self, vault: &Vault, p: person::Model, unmasked: bool) -> ApiResult<Person> {
        let post = p.post_id.and_then(|id| self.posts.get(&id));
        let mobile = vault.open_opt(Field::PersonMobile, p.mobile_sealed.as_ref())?;
        Ok(Person {
            id: p.id,
            employee_no: p.employee_no,
            name: p.name,
            gender: p.gender,
            department_id: p.department_id,
            department_name: self.departments.get(&p.department_id).cloned().unwrap_or_default(),
            post_id: p.post_id,
            post_name: post.map(|(n, _)| n.clone()),
            post_type: post.map(|(_, t)| t.clone()),
            window_id: p.window_id,
            window_name: p.window_id.and_then(|id| self.windows.get(&id).cloned()),
            mobile: mobile.map(|m| if unmasked { m } else { mask_mobile(&m) }),
            is_head: p.is_head,
            is_leader_in_charge: p.is_leader_in_charge,
            status: p.status,
            created_at: p.created_at,
            updated_at: p.updated_at,
            retired_at: p.retired_at,
        })
    }
}

async fn one(s: &AppState, p: person::Model, unmasked: bool) -> ApiResult<Person> {
    let names = Names::of(s, std::slice::from_ref(&p)).await?;
    names.dto(s.store.vault(), p, unmasked)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonBody {
    pub employee_no: String,
    pub name: String,
    /// `male` or `female`.
    pub gender: String,
    pub department_id: i64,
    pub post_id: Option<i64>,
    pub window_id: Option<i64>,
    pub mobile: Option<String>,
    #[serde(default)]
    pub is_head: bool,
    #[serde(default)]
    pub is_leader_in_charge: bool,
}

impl PersonBody {
    fn parse(&self) -> ApiResult<PersonInput> {
        let mut v = Checks::default();
        let employee_no = v.take(parse_code("employee_no", &self.employee_no));
        let name = v.take(parse_name("name", &self.name, 50));
        let gender = v.choice::<Gender>("gender", &self.gender);
        let mobile =
            self.mobile.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(|m| v.take(parse_mobile("mobile", m)));
        v.done()?;
        Ok(PersonInput {
            employee_no,
            name,
            gender: crate::error::checked(gender)?,
            department_id: self.department_id,
            post_id: self.post_id,
            window_id: self.window_id,
            mobile,
            is_head: self.is_head,
            is_leader_in_charge: self.is_leader_in_charge,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Matches name or employee number, or is a whole mobile number.
    pub q: Option<String>,
    /// This department and its sub-departments (only this one with `exact_department=true`).
    pub department_id: Option<i64>,
    pub exact_department: Option<bool>,
    /// The type of the person's post.
    pub post_type: Option<String>,
    /// `active` or `retired`.
    pub status: Option<String>,
    /// `employee_no`, `name`, `department_id`, `created_at`; `-` in front for descending.
    pub sort: Option<String>,
}

impl ListParams {
    /// `by_number`: whether `q` may find a whole mobile number — only for those who may see numbers
    /// in full (editors), or a reader could unmask a number by trying the 10,000 it may be.
    fn filter(&self, vault: &Vault, by_number: bool) -> PeopleFilter {
        // Numbers are stored encrypted: a whole number is found through its blind index.
        let mobile_lookups = match self.q.as_deref().map(|q| parse_mobile("q", q)) {
            Some(Ok(m)) if by_number => vault.lookups(Field::PersonMobile, &m),
            _ => Vec::new(),
        };
        PeopleFilter {
            q: self.q.clone(),
            mobile_lookups,
            department_id: self.department_id,
            exact_department: self.exact_department.unwrap_or(false),
            post_type: self.post_type.clone(),
            status: self.status.clone(),
            sort: self.sort.clone(),
        }
    }
}

/// People in the caller's scope: a department head sees their department tree, staff see only
/// themself.
#[utoipa::path(operation_id = "people_list", get, path = "/api/v1/people", tag = "organisation", params(ListParams),
    responses((status = 200, body = Page<Person>), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Person>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let rows = org::list_people(
        s.store.db(),
        &auth.scope,
        &p.filter(s.store.vault(), auth.user.scope(Permission::PeopleWrite).is_some()),
        page,
    )
    .await?;
    let names = Names::of(&s, &rows.items).await?;
    Ok(Json(Page::try_from(rows, |r| names.dto(s.store.vault(), r, false))?))
}

#[utoipa::path(operation_id = "people_get_one", get, path = "/api/v1/people/{id}", tag = "organisation",
    responses((status = 200, body = Person), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Person>> {
    let p = org::get_person(s.store.db(), &auth.scope, id).await?;
    let unmasked = auth.user.scope(Permission::PeopleWrite).is_some();
    if unmasked && p.mobile_sealed.is_some() {
        // The number in full, decrypted for one reader: on the record.
        s.store.audit(&auth.user.audit(&s, "person.mobile_viewed", "person", id, json!({}))).await?;
    }
    Ok(Json(one(&s, p, unmasked).await?))
}

#[utoipa::path(operation_id = "people_create", post, path = "/api/v1/people", tag = "organisation", request_body = PersonBody,
    responses((status = 201, body = Person), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleWrite>,
    ApiJson(b): ApiJson<PersonBody>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    org::get_department(&tx, &auth.scope, input.department_id).await.map_err(|_| {
        ApiError::invalid("department_id", "department_not_found", "部门不存在", "The department does not exist")
    })?;
    let (_, p) = org::save_person(&tx, s.store.vault(), None, input, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "person.create", "person", p.id, json!({ "after": p_json(s.store.vault(), &p)? })),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(one(&s, p, true).await?)))
}

#[utoipa::path(operation_id = "people_update", put, path = "/api/v1/people/{id}", tag = "organisation", request_body = PersonBody,
    responses((status = 200, body = Person), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PersonBody>,
) -> ApiResult<Json<Person>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    org::get_person(&tx, &auth.scope, id).await?;
    org::get_department(&tx, &auth.scope, input.department_id).await.map_err(|_| {
        ApiError::invalid("department_id", "department_not_found", "部门不存在", "The department does not exist")
    })?;
    let (before, p) = org::save_person(&tx, s.store.vault(), Some(id), input, s.clock.now()).await?;
    let before = before.as_ref().map(|b| p_json(s.store.vault(), b)).transpose()?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(
            &s,
            "person.update",
            "person",
            id,
            json!({ "before": before, "after": p_json(s.store.vault(), &p)? }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&s, p, true).await?))
}

#[utoipa::path(operation_id = "people_retire", post, path = "/api/v1/people/{id}/retire", tag = "organisation", request_body = RetireRequest,
    responses((status = 200, body = Person), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<Person>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    org::get_person(&tx, &auth.scope, id).await?;
    let p = org::retire_person(&tx, id, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "person.retire", "person", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    // Masked: retiring someone is no reason to read their number.
    Ok(Json(one(&s, p, false).await?))
}

/// What the audit log keeps of a person: the phone number masked.
fn p_json(vault: &Vault, p: &person::Model) -> ApiResult<serde_json::Value> {
    let mobile = vault.open_opt(Field::PersonMobile, p.mobile_sealed.as_ref())?;
    Ok(json!({ "employee_no": p.employee_no, "name": p.name, "gender": p.gender, "department_id": p.department_id,
            "post_id": p.post_id, "window_id": p.window_id, "mobile": mobile.as_deref().map(mask_mobile),
            "is_head": p.is_head, "is_leader_in_charge": p.is_leader_in_charge }))
}

// ------------------------------------------------------------------ Excel

/// The columns of the roster file, in order: Chinese header, English header.
const COLUMNS: [(&str, &str); 9] = [
    ("工号", "employee_no"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("部门编码", "department_code"),
    ("岗位编码", "post_code"),
    ("窗口编码", "window_code"),
    ("手机号", "mobile"),
    ("一把手", "is_head"),
    ("分管领导", "is_leader_in_charge"),
];
const REQUIRED: [usize; 4] = [0, 1, 2, 3];
pub const MAX_IMPORT_ROWS: usize = 5000;
/// What of a roster file an import reads: columns A to Z (the template's nine, the export's
/// twelve, and room for the office's own notes), the first 20,000 rows (the people, with room for
/// titles and blank lines), 64 MB unpacked. Anything past that is refused before it is read.
pub const IMPORT_LIMITS: excel::Limits = excel::Limits { max_rows: 20_000, max_cols: 26, max_uncompressed: 64 << 20 };
const MAX_EXPORT_ROWS: u64 = 50_000;

fn yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "否" | "no" | "n" | "false" | "0" => Some(false),
        "是" | "yes" | "y" | "true" | "1" => Some(true),
        _ => None,
    }
}

/// Import result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Rows that created a person.
    pub created: u64,
    /// Rows whose employee number existed: that person was updated.
    pub updated: u64,
}

/// Imports people from an .xlsx roster (the body is the file). A row whose 工号 exists updates
/// that person; others are created. Any bad row rejects the whole file with a report per row.
#[utoipa::path(operation_id = "people_import", post, path = "/api/v1/people/import", tag = "organisation",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportResult), (status = 400, body = ErrorBody),
        (status = 422, description = "row-by-row report, or a file bigger than an import reads (`file`: too many rows or columns, too large unpacked); nothing imported", body = ErrorBody)))]
async fn import(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleImport>,
    body: Bytes,
) -> ApiResult<Json<ImportResult>> {
    let rows = excel::read_sheet_guarded(body, IMPORT_LIMITS).await?;
    let mut rows = rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((_, header)) = rows.next() else {
        return Err(ApiError::bad_request("empty_file", "文件中没有数据", "The file has no rows"));
    };
    // Which spreadsheet column holds each of our columns.
    let mut at = [None; COLUMNS.len()];
    for (i, h) in header.iter().enumerate() {
        if let Some(k) = COLUMNS.iter().position(|(zh, en)| h == zh || h.eq_ignore_ascii_case(en)) {
            at[k] = Some(i);
        }
    }
    let missing: Vec<&str> = REQUIRED.iter().filter(|k| at[**k].is_none()).map(|k| COLUMNS[*k].0).collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(
            "missing_columns",
            format!("缺少必需的列：{}", missing.join("、")),
            format!("Required columns are missing: {}", missing.join(", ")),
        ));
    }
    let rows: Vec<(u32, Vec<String>)> = rows.collect();
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::invalid(
            "file",
            "too_many_rows",
            format!("一次最多导入 {MAX_IMPORT_ROWS} 行，文件有 {} 行", rows.len()),
            format!("At most {MAX_IMPORT_ROWS} rows per import; the file has {}", rows.len()),
        ));
    }
    fn cell_at<'a>(at: &[Option<usize>], cells: &'a [String], k: usize) -> &'a str {
        at[k].and_then(|i| cells.get(i)).map(String::as_str).unwrap_or("")
    }
    let cell = |cells: &'_ Vec<String>, k: usize| -> String { cell_at(&at, cells, k).to_owned() };

    let tx = s.store.write().await?;
    let departments: HashMap<String, i64> = org::department_tree(&tx, &auth.scope)
        .await?
        .into_iter()
        .filter(|d| d.status == Status::Active)
        .map(|d| (d.code, d.id))
        .collect();
    let (posts, windows) = org::posts_and_windows(&tx).await?;
    let nos: Vec<String> =
        rows.iter().filter_map(|(_, cells)| parse_code("employee_no", &cell(cells, 0)).ok()).collect();
    let existing = org::people_by_employee_no(&tx, &nos).await?;
    let vault = s.store.vault();
    // The stored numbers of the people the file names, opened once: a masked cell is compared
    // with them, and a column the file lacks keeps them.
    let mut stored_mobile: HashMap<String, Option<String>> = HashMap::with_capacity(existing.len());
    for (no, p) in &existing {
        stored_mobile.insert(no.clone(), vault.open_opt(Field::PersonMobile, p.mobile_sealed.as_ref())?);
    }
    let stored = |no: &str| stored_mobile.get(no).cloned().flatten();
    let mut errors = Vec::new();
    let mut parsed: Vec<PersonInput> = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (row, cells) in &rows {
        let mut err = |k: usize, code: &'static str, zh: String, en: String| {
            errors.push(RowError { row: *row, column: COLUMNS[k].0.to_owned(), code, zh, en });
        };
        let mut ok = true;
        let employee_no = match parse_code("employee_no", &cell(cells, 0)) {
            Ok(v) => {
                if let Some(first) = seen.insert(v.clone(), *row) {
                    err(
                        0,
                        "duplicate_in_file",
                        format!("工号与第 {first} 行重复"),
                        format!("Same employee number as row {first}"),
                    );
                    ok = false;
                }
                v
            }
            Err(e) => {
                err(0, e.code, e.zh, e.en);
                ok = false;
                String::new()
            }
        };
        let name = parse_name("name", &cell(cells, 1), 50).unwrap_or_else(|e| {
            err(1, e.code, e.zh, e.en);
            ok = false;
            String::new()
        });
        let gender = Gender::parse(&cell(cells, 2));
        if gender.is_none() {
            err(2, "invalid_choice", "性别须为“男”或“女”".into(), "Gender must be 男 or 女 (male/female)".into());
            ok = false;
        }
        let dcode = cell(cells, 3).to_ascii_uppercase();
        let department_id = match departments.get(&dcode) {
            Some(id) => *id,
            None => {
                err(
                    3,
                    "department_not_found",
                    format!("部门编码“{dcode}”不存在或已停用"),
                    format!("No active department with code \"{dcode}\""),
                );
                ok = false;
                0
            }
        };
        let mut lookup = |k: usize,
                          found: Option<i64>,
                          dept_of: Option<i64>,
                          status: Option<Status>,
                          what: (&str, &str)|
         -> Option<i64> {
            let code = cell(cells, k).to_ascii_uppercase();
            if code.is_empty() {
                return None;
            }
            match (found, dept_of, status) {
                (Some(id), Some(d), Some(Status::Active)) if d == department_id => Some(id),
                (Some(_), _, _) => {
                    err(
                        k,
                        "not_in_department",
                        format!("{}“{code}”不属于该部门或已停用", what.0),
                        format!("{} \"{code}\" is not an active one of this department", what.1),
                    );
                    ok = false;
                    None
                }
                _ => {
                    err(
                        k,
                        "not_found",
                        format!("{}“{code}”不存在", what.0),
                        format!("No {} with code \"{code}\"", what.1),
                    );
                    ok = false;
                    None
                }
            }
        };
        let p = posts.get(&cell(cells, 4).to_ascii_uppercase());
        let post_id = lookup(4, p.map(|p| p.id), p.map(|p| p.department_id), p.map(|p| p.status), ("岗位", "post"));
        let w = windows.get(&cell(cells, 5).to_ascii_uppercase());
        let window_id = lookup(5, w.map(|w| w.id), w.map(|w| w.department_id), w.map(|w| w.status), ("窗口", "window"));
        let mut err = |k: usize, code: &'static str, zh: String, en: String| {
            errors.push(RowError { row: *row, column: COLUMNS[k].0.to_owned(), code, zh, en });
        };
        let mobile = match cell(cells, 6).as_str() {
            "" => None,
            // A masked number, as exported, leaves the stored one as it is.
            m if m.contains('*') => match stored(&employee_no) {
                Some(old) if mask_mobile(&old) == m => Some(old),
                _ => {
                    err(
                        6,
                        "masked_mobile",
                        "手机号被遮盖，请填写完整号码".into(),
                        "The mobile number is masked; enter it in full".into(),
                    );
                    ok = false;
                    None
                }
            },
            m => match parse_mobile("mobile", m) {
                Ok(m) => Some(m),
                Err(e) => {
                    err(6, e.code, e.zh, e.en);
                    ok = false;
                    None
                }
            },
        };
        let mut flag = |k: usize| {
            yes_no(&cell(cells, k)).unwrap_or_else(|| {
                err(k, "invalid_choice", "须为“是”或“否”".into(), "Must be 是 or 否 (yes/no)".into());
                ok = false;
                false
            })
        };
        let is_head = flag(7);
        let is_leader_in_charge = flag(8);
        if let (true, Some(gender)) = (ok, gender) {
            let mut p = PersonInput {
                employee_no,
                name,
                gender,
                department_id,
                post_id,
                window_id,
                mobile,
                is_head,
                is_leader_in_charge,
            };
            // A column the file does not have leaves what is stored; an empty cell clears it.
            if let Some(old) = existing.get(&p.employee_no) {
                let absent = |k: usize| at[k].is_none();
                if absent(4) && old.department_id == p.department_id {
                    p.post_id = old.post_id;
                }
                if absent(5) && old.department_id == p.department_id {
                    p.window_id = old.window_id;
                }
                if absent(6) {
                    p.mobile = stored(&p.employee_no);
                }
                if absent(7) {
                    p.is_head = old.is_head;
                }
                if absent(8) {
                    p.is_leader_in_charge = old.is_leader_in_charge;
                }
            }
            parsed.push(p);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::ImportRejected(errors));
    }
    let mut out_of_scope = Vec::new();
    for p in existing.values() {
        if org::get_person(&tx, &auth.scope, p.id).await.is_err() {
            out_of_scope.push(p.employee_no.clone());
        }
    }
    if !out_of_scope.is_empty() {
        let rows_of = |no: &String| seen.get(no).copied().unwrap_or(0);
        return Err(ApiError::ImportRejected(
            out_of_scope
                .iter()
                .map(|no| RowError {
                    row: rows_of(no),
                    column: COLUMNS[0].0.to_owned(),
                    code: "duplicate",
                    zh: format!("工号“{no}”已被使用"),
                    en: format!("Employee number \"{no}\" is already in use"),
                })
                .collect(),
        ));
    }
    let now = s.clock.now();
    let (updates, creates): (Vec<PersonInput>, Vec<PersonInput>) =
        parsed.into_iter().partition(|p| existing.contains_key(&p.employee_no));
    let updated = updates.len() as u64;
    for p in updates {
        let id = existing[&p.employee_no].id;
        org::save_person(&tx, vault, Some(id), p, now).await?;
    }
    let created = org::insert_people(&tx, vault, creates, now).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(
            &s,
            "person.import",
            "person",
            "",
            json!({ "created": created, "updated": updated, "rows": rows.len() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(ImportResult { created, updated }))
}

/// An empty roster file with the columns an import expects, and one example row.
#[utoipa::path(operation_id = "people_import_template", get, path = "/api/v1/people/import-template", tag = "organisation",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn import_template(_auth: Authorized<perm::PeopleImport>) -> ApiResult<Response> {
    let headers: Vec<&str> = COLUMNS.iter().map(|(zh, _)| *zh).collect();
    let example = ["E0001", "张三", "男", "SCJGJ", "", "", "13800000000", "否", "否"].map(String::from).to_vec();
    let bytes = excel::write_sheet("人员名册", &headers, &[example])?;
    Ok(excel::attachment(bytes, "people-template.xlsx", "人员导入模板.xlsx"))
}

/// The people matching the filters, in scope, as .xlsx (mobile numbers masked). Audited.
#[utoipa::path(operation_id = "people_export", get, path = "/api/v1/people/export", tag = "organisation", params(ListParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn export(
    State(s): State<AppState>,
    auth: Authorized<perm::PeopleExport>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    let rows = org::export_people(
        s.store.db(),
        &auth.scope,
        &p.filter(s.store.vault(), auth.user.scope(Permission::PeopleWrite).is_some()),
        MAX_EXPORT_ROWS,
    )
    .await?;
    let names = Names::of(&s, &rows).await?;
    let codes = {
        let (posts, windows) = org::posts_and_windows(s.store.db()).await?;
        let post_codes: HashMap<i64, String> = posts.into_values().map(|p| (p.id, p.code)).collect();
        let window_codes: HashMap<i64, String> = windows.into_values().map(|w| (w.id, w.code)).collect();
        (post_codes, window_codes)
    };
    let dept_codes: HashMap<i64, String> = org::department_tree(s.store.db(), &xiaoneng_store::org::Scope::All)
        .await?
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect();
    let yes = |b: bool| if b { "是" } else { "否" }.to_owned();
    let count = rows.len();
    let vault = s.store.vault();
    let table: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let mobile = vault.open_opt(Field::PersonMobile, r.mobile_sealed.as_ref())?;
            Ok(vec![
                r.employee_no.clone(),
                r.name.clone(),
                r.gender.label_zh().to_owned(),
                dept_codes.get(&r.department_id).cloned().unwrap_or_default(),
                r.post_id.and_then(|id| codes.0.get(&id).cloned()).unwrap_or_default(),
                r.window_id.and_then(|id| codes.1.get(&id).cloned()).unwrap_or_default(),
                mobile.as_deref().map(mask_mobile).unwrap_or_default(),
                yes(r.is_head),
                yes(r.is_leader_in_charge),
                names.departments.get(&r.department_id).cloned().unwrap_or_default(),
                r.post_id.and_then(|id| names.posts.get(&id)).map(|(n, _)| n.clone()).unwrap_or_default(),
                if r.status == Status::Active { "在职" } else { "已停用" }.to_owned(),
            ])
        })
        .collect::<ApiResult<_>>()?;
    let mut headers: Vec<&str> = COLUMNS.iter().map(|(zh, _)| *zh).collect();
    headers.extend(["部门名称", "岗位名称", "状态"]);
    let bytes = excel::write_sheet("人员名册", &headers, &table)?;
    s.store
        .audit(&auth.user.audit(
            &s,
            "person.export",
            "person",
            "",
            // A whole number searched for stays out of the (unerasable) log: masked.
            json!({ "rows": count, "q": p.q.as_deref().map(|q| match parse_mobile("q", q) {
                Ok(m) => xiaoneng_core::org::mask_mobile(&m),
                Err(_) => q.to_owned(),
            }), "department_id": p.department_id }),
        ))
        .await?;
    Ok(excel::attachment(bytes, "people.xlsx", "人员名册.xlsx"))
}
