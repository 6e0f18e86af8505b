//! The demo city: a realistic organisation to try Xiaoneng with. Deterministic (a fixed seed), and
//! written once: a second run finds its marker and changes nothing.

use anyhow::bail;
use chrono::NaiveDate;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::json;
use xiaoneng_core::{
    audit::HashAlgo,
    auth::{SecurityPolicy, hash_password},
    org::{DepartmentCategory, Gender, PostType, SupervisorKind},
    rbac::Role,
};
use xiaoneng_server::auth::{Act, CurrentUser};
use xiaoneng_store::{
    Store, accounts, audit, inspections,
    org::{self, DepartmentInput, PersonInput, PostInput, SupervisorInput, WindowInput},
    settings,
};

/// The demo's accounts, acting through the same commands as the API's handlers, each at the
/// moment the demo's story has it act.
pub struct Cast {
    users: std::collections::HashMap<i64, CurrentUser>,
    algo: HashAlgo,
    /// The day the demo is made (a supervisor's account serves within their term of it).
    today: chrono::NaiveDate,
}

impl Cast {
    pub fn new(algo: HashAlgo, today: chrono::NaiveDate) -> Self {
        Cast { users: Default::default(), algo, today }
    }

    /// An account as it acts (loaded once).
    pub async fn user<C: sea_orm::ConnectionTrait>(&mut self, c: &C, id: i64) -> anyhow::Result<CurrentUser> {
        if let Some(u) = self.users.get(&id) {
            return Ok(u.clone());
        }
        let u = CurrentUser::load(c, id, "demo", self.today).await?;
        self.users.insert(id, u.clone());
        Ok(u)
    }

    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    pub fn act<'a>(&self, user: &'a CurrentUser, now: chrono::DateTime<chrono::Utc>) -> Act<'a> {
        Act { user, now, algo: self.algo }
    }
}

/// Gives PostgreSQL's planner statistics of what the demo's one transaction has loaded so far:
/// its autovacuum sees nothing uncommitted, and without them it would read the growing ratings
/// and cases in full for each batch's lookups by id. SQLite plans those lookups by index as it is.
pub async fn refresh_statistics(tx: &sea_orm::DatabaseTransaction) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared("ANALYZE service_cases, ratings, domain_events, audit_log").await?;
    }
    Ok(())
}

pub const DEMO_PASSWORD: &str = "Xiaoneng@2026";
/// Months of cases and ratings behind the city unless asked otherwise: a year.
pub const MONTHS: u32 = 12;
const MARKER: &str = "demo_seeded";

/// (code, name, category, parent code)
const DEPARTMENTS: &[(&str, &str, &str, Option<&str>)] = &[
    ("SZ", "市直机关", "general", None),
    ("ZFB", "市人民政府办公室", "general", Some("SZ")),
    ("XNB", "市机关效能建设办公室", "general", Some("SZ")),
    ("GA", "市公安局", "law_enforcement", Some("SZ")),
    ("GA-CRJ", "出入境管理支队", "window_service", Some("GA")),
    ("GA-CGS", "车辆管理所", "window_service", Some("GA")),
    ("SJ", "市市场监督管理局", "law_enforcement", Some("SZ")),
    ("SJ-DJ", "登记注册科", "window_service", Some("SJ")),
    ("SJ-ZF", "综合执法稽查支队", "law_enforcement", Some("SJ")),
    ("CG", "市城市管理综合执法局", "law_enforcement", Some("SZ")),
    ("HB", "市生态环境局", "law_enforcement", Some("SZ")),
    ("JT", "市交通运输局", "law_enforcement", Some("SZ")),
    ("YJ", "市应急管理局", "law_enforcement", Some("SZ")),
    ("ZR", "市自然资源和规划局", "law_enforcement", Some("SZ")),
    ("WJ", "市卫生健康委员会", "law_enforcement", Some("SZ")),
    ("ZJ", "市住房和城乡建设局", "law_enforcement", Some("SZ")),
    ("SWJ", "国家税务总局本市税务局", "law_enforcement", Some("SZ")),
    ("FG", "市发展和改革委员会", "economic_service", Some("SZ")),
    ("GX", "市工业和信息化局", "economic_service", Some("SZ")),
    ("SW", "市商务局", "economic_service", Some("SZ")),
    ("CZ", "市财政局", "economic_service", Some("SZ")),
    ("NY", "市农业农村局", "economic_service", Some("SZ")),
    ("KJ", "市科学技术局", "economic_service", Some("SZ")),
    ("TC", "市投资促进局", "economic_service", Some("SZ")),
    ("WL", "市文化广电旅游局", "economic_service", Some("SZ")),
    ("JR", "市地方金融管理局", "economic_service", Some("SZ")),
    ("ZW", "市政务服务管理局", "window_service", Some("SZ")),
    ("ZW-ZX", "市政务服务中心", "window_service", Some("ZW")),
    ("RS", "市人力资源和社会保障局", "window_service", Some("SZ")),
    ("YB", "市医疗保障局", "window_service", Some("SZ")),
    ("BDC", "市不动产登记中心", "window_service", Some("ZR")),
    ("GJJ", "市住房公积金管理中心", "window_service", Some("SZ")),
    ("SP", "市行政审批局", "window_service", Some("SZ")),
    ("MZ", "市民政局", "window_service", Some("SZ")),
    ("GGZY", "市公共资源交易中心", "window_service", Some("SZ")),
    ("JGSW", "市机关事务管理局", "general", Some("SZ")),
    ("TJ", "市统计局", "general", Some("SZ")),
    ("SJJ", "市审计局", "general", Some("SZ")),
    ("SF", "市司法局", "general", Some("SZ")),
    ("JY", "市教育局", "general", Some("SZ")),
    ("DA", "市档案馆", "general", Some("SZ")),
];

const HALL: &str = "市政务服务中心";

/// (department, window number, what the window does, hall)
const WINDOWS: &[(&str, &str, &str, &str)] = &[
    ("SJ-DJ", "A01", "企业设立登记", HALL),
    ("SJ-DJ", "A02", "企业变更登记", HALL),
    ("SJ-DJ", "A03", "个体工商户登记", HALL),
    ("SJ-DJ", "A04", "食品经营许可", HALL),
    ("SWJ", "B01", "税务登记", HALL),
    ("SWJ", "B02", "发票领用", HALL),
    ("SWJ", "B03", "纳税申报咨询", HALL),
    ("RS", "C01", "社会保险登记", HALL),
    ("RS", "C02", "就业登记", HALL),
    ("RS", "C03", "养老保险待遇", HALL),
    ("YB", "C04", "医保参保登记", HALL),
    ("YB", "C05", "异地就医备案", HALL),
    ("BDC", "D01", "不动产首次登记", HALL),
    ("BDC", "D02", "不动产转移登记", HALL),
    ("BDC", "D03", "抵押登记", HALL),
    ("GJJ", "D04", "公积金缴存", HALL),
    ("GJJ", "D05", "公积金提取", HALL),
    ("SP", "E01", "投资项目审批", HALL),
    ("SP", "E02", "建设工程许可", HALL),
    ("SP", "E03", "综合受理", HALL),
    ("ZJ", "E04", "施工许可", HALL),
    ("FG", "E05", "项目备案", HALL),
    ("MZ", "F01", "婚姻登记", HALL),
    ("MZ", "F02", "社会组织登记", HALL),
    ("GGZY", "F03", "交易受理", HALL),
    ("ZW-ZX", "F04", "咨询导办", HALL),
    ("ZW-ZX", "F05", "帮办代办", HALL),
    ("ZW-ZX", "F06", "好差评受理", HALL),
    ("GA-CRJ", "G01", "出入境证件受理", "市公安局出入境服务大厅"),
    ("GA-CRJ", "G02", "出入境证件受理", "市公安局出入境服务大厅"),
    ("GA-CGS", "H01", "机动车登记", "市车辆管理所服务大厅"),
    ("GA-CGS", "H02", "驾驶证业务", "市车辆管理所服务大厅"),
    ("GA-CGS", "H03", "违法处理", "市车辆管理所服务大厅"),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆",
    "汪", "范", "金",
];
const GIVEN_M: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇",
    "浩", "建国", "志强", "海波", "俊杰", "文博", "晓东", "国庆", "立新", "振华", "永刚", "家豪", "子轩", "德明",
    "天宇",
];
const GIVEN_F: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "颖", "琳", "洁", "倩", "萍", "红",
    "丹", "秀英", "桂兰", "晓红", "丽娟", "雅琴", "欣怡", "梦瑶", "思琪", "淑华", "海燕", "春梅", "晓燕", "佳怡",
];

/// (post suffix, name, type, duties)
const POSTS: &[(&str, &str, &str, &str)] = &[
    (
        "LD",
        "领导班子成员",
        "leadership",
        "贯彻落实市委市政府决策部署，对本部门机关效能建设负第一责任（一把手）或分管责任；组织制定并督促落实服务承诺制、岗位责任制、首问负责制和责任追究制；对效能通报的问题组织整改并按期书面报告。",
    ),
    (
        "ZC",
        "科室负责人",
        "middle_manager",
        "负责本科室业务工作和队伍管理；落实限时办结要求，对超时办理、推诿扯皮等问题及时纠正；组织本科室开展自查自纠，督促整改措施落实到人。",
    ),
    (
        "CK",
        "窗口受理员",
        "window_staff",
        "按服务承诺受理、审核、办理群众和企业申请事项；落实一次性告知和首问负责；着装规范、文明用语，工作时间不得脱岗离岗、上网聊天游戏；主动接受服务对象评价。",
    ),
    (
        "ZF",
        "执法人员",
        "law_enforcement_officer",
        "依法履行行政检查、调查取证和处罚职责；严格执行执法程序和自由裁量基准，亮证执法、文明执法；不得推诿、拖延或选择性执法，接受社会监督。",
    ),
    (
        "KY",
        "科员",
        "general_staff",
        "按岗位分工承办具体业务工作；熟悉本岗位法规政策和办事流程，准确解答服务对象咨询；按时完成交办事项，遵守考勤纪律，不迟到早退。",
    ),
];

type Ymd = (i32, u32, u32);

/// (code, name, kind, organisation, term start, term end)
fn supervisors() -> Vec<(String, &'static str, &'static str, &'static str, NaiveDate, NaiveDate)> {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
    let people: &[(&str, &str, &str, Ymd, Ymd)] = &[
        ("郑国华", "efficiency_supervisor", "市退休干部协会", (2025, 1, 1), (2027, 12, 31)),
        ("刘素芬", "efficiency_supervisor", "市人民医院", (2025, 1, 1), (2027, 12, 31)),
        ("陈立群", "efficiency_supervisor", "市第一中学", (2025, 1, 1), (2027, 12, 31)),
        ("马志远", "efficiency_supervisor", "市律师协会", (2025, 1, 1), (2027, 12, 31)),
        ("孙丽华", "efficiency_supervisor", "新华社区居委会", (2025, 1, 1), (2027, 12, 31)),
        ("黄建平", "efficiency_supervisor", "市晚报社", (2025, 1, 1), (2027, 12, 31)),
        ("周晓梅", "efficiency_supervisor", "市妇女联合会", (2026, 3, 1), (2028, 2, 29)),
        ("吴德胜", "efficiency_supervisor", "市总工会", (2022, 1, 1), (2024, 12, 31)),
        ("赵启明", "efficiency_supervisor", "市个体劳动者协会", (2022, 1, 1), (2024, 12, 31)),
        ("林海涛", "npc_deputy", "市人大代表（商界）", (2023, 1, 15), (2027, 12, 31)),
        ("何秀兰", "npc_deputy", "市人大代表（教育界）", (2023, 1, 15), (2027, 12, 31)),
        ("罗文斌", "npc_deputy", "市人大代表（农业界）", (2023, 1, 15), (2027, 12, 31)),
        ("谢春燕", "npc_deputy", "市人大代表（卫生界）", (2023, 1, 15), (2027, 12, 31)),
        ("梁永康", "cppcc_member", "市政协委员（经济界）", (2023, 1, 10), (2027, 12, 31)),
        ("宋雅琴", "cppcc_member", "市政协委员（文化界）", (2023, 1, 10), (2027, 12, 31)),
        ("唐振东", "cppcc_member", "市政协委员（科技界）", (2023, 1, 10), (2027, 12, 31)),
        ("许佳怡", "cppcc_member", "市政协委员（法律界）", (2023, 1, 10), (2027, 12, 31)),
        ("韩伟杰", "enterprise_rep", "市工商业联合会", (2026, 1, 1), (2026, 12, 31)),
        ("冯晓东", "enterprise_rep", "市中小企业协会", (2026, 1, 1), (2026, 12, 31)),
        ("邓海燕", "enterprise_rep", "市外商投资企业协会", (2026, 1, 1), (2026, 12, 31)),
        ("曹俊峰", "enterprise_rep", "市建筑业协会", (2027, 1, 1), (2027, 12, 31)),
    ];
    people
        .iter()
        .enumerate()
        .map(|(i, (n, k, o, s, e))| (format!("JD{:03}", i + 1), *n, *k, *o, d(s.0, s.1, s.2), d(e.0, e.1, e.2)))
        .collect()
}

/// Whose roster entry a demo account belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Linked {
    Nobody,
    /// The department's head.
    Head,
    /// A general staff member of the department.
    Staff,
}

struct DemoAccount {
    username: &'static str,
    role: Role,
    department: Option<&'static str>,
    display: &'static str,
    person: Linked,
}

const fn account(
    username: &'static str,
    role: Role,
    department: Option<&'static str>,
    display: &'static str,
    person: Linked,
) -> DemoAccount {
    DemoAccount { username, role, department, display, person }
}

const ACCOUNTS: &[DemoAccount] = &[
    account("xnb_admin", Role::OfficeAdmin, Some("XNB"), "效能办管理员", Linked::Nobody),
    account("inspector", Role::Inspector, Some("XNB"), "暗访人员", Linked::Nobody),
    account("sj_head", Role::DeptHead, Some("SJ"), "市场监管局局长", Linked::Head),
    account("sj_liaison", Role::DeptLiaison, Some("SJ"), "市场监管局联络员", Linked::Nobody),
    account("sj_staff", Role::Staff, Some("SJ"), "市场监管局干部", Linked::Staff),
    account("ga_head", Role::DeptHead, Some("GA"), "公安局局长", Linked::Head),
    account("ga_staff", Role::Staff, Some("GA"), "公安局干部", Linked::Staff),
    // The service departments' liaisons, who see their tickets through.
    account("fg_liaison", Role::DeptLiaison, Some("FG"), "发改委联络员", Linked::Nobody),
    account("yb_liaison", Role::DeptLiaison, Some("YB"), "医保局联络员", Linked::Nobody),
    account("bdc_liaison", Role::DeptLiaison, Some("BDC"), "不动产登记中心联络员", Linked::Nobody),
    account("sp_liaison", Role::DeptLiaison, Some("SP"), "行政审批局联络员", Linked::Nobody),
    account("mz_liaison", Role::DeptLiaison, Some("MZ"), "民政局联络员", Linked::Nobody),
    account("ggzy_liaison", Role::DeptLiaison, Some("GGZY"), "公共资源交易中心联络员", Linked::Nobody),
    account("city_leader", Role::CityLeader, None, "市领导", Linked::Nobody),
    account("sysadmin", Role::SysAdmin, None, "系统管理员", Linked::Nobody),
    account("secadmin", Role::SecAdmin, None, "安全管理员", Linked::Nobody),
    account("auditor", Role::AuditAdmin, None, "安全审计员", Linked::Nobody),
];

fn headcount(code: &str, category: &str) -> usize {
    match (code, category) {
        ("SZ", _) => 0,
        ("XNB", _) => 12,
        (_, "law_enforcement") => 20,
        (_, "window_service") => 18,
        (_, "economic_service") => 13,
        _ => 9,
    }
}

/// Makes the city as it stands at `now`: its story (orders overdue, reports returned and awaiting
/// review, cases carded) is told relative to that moment.
pub async fn seed(
    store: &Store,
    objects: &dyn object_store::ObjectStore,
    months: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let db = store.db();
    let marker: Option<serde_json::Value> = settings::get(db, MARKER).await?;
    if marker.is_some() {
        println!("the demo city is already there; nothing changed");
        return Ok(());
    }
    if !org::department_tree(db, &org::Scope::All).await?.is_empty() {
        bail!("this database already holds an organisation; the demo city goes only into an empty database");
    }
    // The day of the speech the regime comes from, 2006-09-12.
    let mut rng = StdRng::seed_from_u64(20_060_912);
    let password_hash = hash_password(DEMO_PASSWORD)?;
    let tx = store.write().await?;

    let mut dept_ids = std::collections::HashMap::new();
    for (i, (code, name, category, parent)) in DEPARTMENTS.iter().enumerate() {
        let d = org::create_department(
            &tx,
            DepartmentInput {
                code: (*code).into(),
                name: (*name).into(),
                parent_id: parent.map(|p| dept_ids[p]),
                category: DepartmentCategory::parse(category).unwrap_or(DepartmentCategory::General),
                is_focus: *category != "general",
                sort_order: i32::try_from(i).unwrap_or(0),
            },
            now,
        )
        .await?;
        dept_ids.insert(*code, d.id);
    }

    let mut window_ids: std::collections::HashMap<&str, Vec<i64>> = Default::default();
    let mut counters = Vec::new();
    for (dept, number, what, hall) in WINDOWS {
        let (_, w) = org::save_window(
            &tx,
            None,
            WindowInput {
                code: format!("W-{number}{}", if *hall == HALL { "" } else { "-X" }),
                name: format!("{number} {what}"),
                department_id: dept_ids[dept],
                hall: (*hall).into(),
                number: (*number).into(),
            },
            now,
        )
        .await?;
        window_ids.entry(*dept).or_default().push(w.id);
        counters.push((w.id, crate::demo_service::Counter { number, code: w.code, staff: Vec::new() }));
    }

    let mut people = Vec::new();
    let mut heads = std::collections::HashMap::new();
    let mut staff = std::collections::HashMap::new();
    let mut n = 0usize;
    for (code, _, category, _) in DEPARTMENTS {
        let size = headcount(code, category);
        if size == 0 {
            continue;
        }
        let dept = dept_ids[code];
        let windows = window_ids.get(code).cloned().unwrap_or_default();
        let mut post_ids = std::collections::HashMap::new();
        for (suffix, name, kind, duties) in POSTS {
            if (*kind == "window_staff" && windows.is_empty())
                || (*kind == "law_enforcement_officer" && *category != "law_enforcement")
            {
                continue;
            }
            let (_, p) = org::save_post(
                &tx,
                None,
                PostInput {
                    code: format!("{code}-{suffix}"),
                    name: (*name).into(),
                    department_id: dept,
                    post_type: PostType::parse(kind).unwrap_or(PostType::GeneralStaff),
                    duties: (*duties).into(),
                },
                now,
            )
            .await?;
            post_ids.insert(*kind, p.id);
        }
        for i in 0..size {
            n += 1;
            let (kind, is_head, in_charge) = match i {
                0 => ("leadership", true, false),
                1 | 2 => ("leadership", false, true),
                3..=5 => ("middle_manager", false, false),
                _ if !windows.is_empty() && i < 6 + 2 * windows.len() => ("window_staff", false, false),
                _ if *category == "law_enforcement" && i % 2 == 0 => ("law_enforcement_officer", false, false),
                _ => ("general_staff", false, false),
            };
            let female = rng.random_bool(0.45);
            let name = format!(
                "{}{}",
                SURNAMES.choose(&mut rng).copied().unwrap_or("王"),
                if female { GIVEN_F.choose(&mut rng) } else { GIVEN_M.choose(&mut rng) }.copied().unwrap_or("明")
            );
            let prefix =
                ["138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189"]
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("138");
            let employee_no = format!("E{n:05}");
            if is_head {
                heads.insert(*code, employee_no.clone());
            }
            if kind == "general_staff" && !staff.contains_key(code) {
                staff.insert(*code, employee_no.clone());
            }
            let window_id = (kind == "window_staff").then(|| windows[(i - 6) / 2 % windows.len()]);
            if let Some((_, c)) = counters.iter_mut().find(|(id, _)| Some(*id) == window_id) {
                c.staff.push(employee_no.clone());
            }
            people.push(PersonInput {
                employee_no,
                name,
                gender: if female { Gender::Female } else { Gender::Male },
                department_id: dept,
                post_id: post_ids.get(kind).copied(),
                window_id,
                mobile: Some(format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))),
                is_head,
                is_leader_in_charge: in_charge,
            });
        }
    }
    let people_count = org::insert_people(&tx, store.vault(), people, now).await?;

    for (code, name, kind, organisation, start, end) in supervisors() {
        org::save_supervisor(
            &tx,
            store.vault(),
            None,
            SupervisorInput {
                code,
                name: name.into(),
                kind: SupervisorKind::parse(kind).unwrap_or(SupervisorKind::EfficiencySupervisor),
                organisation: organisation.into(),
                mobile: Some(format!("139{:08}", rng.random_range(0..100_000_000u32))),
                term_start: start,
                term_end: end,
            },
            now,
        )
        .await?;
    }

    for a in ACCOUNTS {
        let person_id = match (a.person, a.department) {
            (Linked::Head, Some(d)) => org::person_by_employee_no(&tx, &heads[d]).await?.map(|p| p.id),
            (Linked::Staff, Some(d)) => org::person_by_employee_no(&tx, &staff[d]).await?.map(|p| p.id),
            _ => None,
        };
        let u = accounts::create_user(
            &tx,
            accounts::NewUser {
                username: a.username.into(),
                display_name: a.display.into(),
                password_hash: password_hash.clone(),
                person_id,
                department_id: a.department.map(|d| dept_ids[d]),
                must_change_password: false,
            },
            now,
        )
        .await?;
        accounts::set_roles(&tx, u.id, &[a.role], None, now).await?;
    }
    let mut cast = Cast::new(store.audit_algo(), xiaoneng_core::clock::city_day(now));
    let mut recorded = Vec::new();
    let (plans, findings) =
        crate::demo_inspections::seed(&tx, &mut cast, &dept_ids, &window_ids, now, &mut rng, &mut recorded).await?;
    let codes: std::collections::HashMap<i64, String> =
        inspections::list_categories(&tx, true).await?.into_iter().map(|c| (c.id, c.code)).collect();
    let mut files = 0;
    for f in &recorded {
        let code = codes.get(&f.category_id).map_or("", String::as_str);
        files += crate::demo_evidence::attach(&tx, &mut cast, objects, &mut rng, f, code).await?;
    }
    let (bulletins, orders, campaigns) =
        crate::demo_rectification::seed(&tx, &mut cast, &dept_ids, &password_hash, now, &mut rng).await?;
    let counters: Vec<_> = counters.into_iter().map(|(_, c)| c).collect();
    let (items, cases, story) =
        crate::demo_service::seed(&tx, &mut cast, &dept_ids, &counters, months, now, &mut rng).await?;
    let (ratings, tickets) = crate::demo_ratings::seed(&tx, &mut cast, store.vault(), &story, now, &mut rng).await?;
    let inquiries = crate::demo_inquiries::seed(&tx, &mut cast, store.vault(), now, &mut rng).await?;
    // The demo's admins log in with the password alone, so that anyone can try the city (and its
    // browser tests can walk it) without an authenticator app. A real office keeps the default,
    // which requires a second factor of the IT admins and the office's admins (decision 0029).
    let policy: SecurityPolicy = settings::get(&tx, settings::SECURITY_POLICY).await?;
    let policy = SecurityPolicy { second_factor_roles: Vec::new(), ..policy };
    settings::put(&tx, settings::SECURITY_POLICY, &policy, None, now).await?;
    settings::put(&tx, MARKER, &json!({ "seeded_at": now }), None, now).await?;
    audit::append(
        &tx,
        store.audit_algo(),
        &crate::cli_record(
            "demo.seed",
            "organisation",
            "",
            json!({ "departments": DEPARTMENTS.len(), "windows": WINDOWS.len(), "people": people_count, "accounts": ACCOUNTS.len(), "plans": plans, "findings": findings, "evidence_files": files, "bulletins": bulletins, "orders": orders, "campaigns": campaigns, "service_items": items, "service_cases": cases, "ratings": ratings, "tickets": tickets, "inquiries": inquiries, "second_factor_roles": [] }),
        ),
    )
    .await?;
    tx.commit().await?;
    // The planner's statistics of what was just loaded.
    store.analyze().await?;
    println!(
        "demo city created: {} departments, {} windows, {people_count} people, {} supervisors, {plans} inspection plans, {findings} findings with {files} evidence files, {bulletins} bulletins with {orders} rectification orders, {campaigns} campaign, {items} service items with {cases} cases, {ratings} ratings, {tickets} tickets, {inquiries} first inquiries",
        DEPARTMENTS.len(),
        WINDOWS.len(),
        supervisors().len()
    );
    Ok(())
}

pub fn print_accounts() {
    println!("\ndemo accounts (password for all: {DEMO_PASSWORD})");
    println!(
        "two-step verification is not required in the demo city (its security policy requires it of no role);\n\
         a real installation requires it of the IT admins and the office's admins, and any user may turn it on"
    );
    for a in ACCOUNTS {
        let dept = a.department.map(|d| format!("  [{d}]")).unwrap_or_default();
        println!("  {:<12} {:<14} {}{dept}", a.username, a.role.code(), a.display);
    }
}
