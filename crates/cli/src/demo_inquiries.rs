//! The demo city's first-inquiry log: questions answered at once at the market regulator's and
//! the police's counters, and questions handed between them — taken up and answered, refused
//! back, waiting in a department or with a person on whatever day the city is made, one never
//! taken up (its lapses in the office's queue), older lapses the office reviewed (one made a
//! finding, one dismissed). All through the same commands as the API, each at its moment.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, rngs::StdRng};
use sea_orm::DatabaseTransaction;
use xiaoneng_core::inquiry::{FirstMove, InquiryChannel, InquiryStep, NewInquiry, Receiver, Staff};
use xiaoneng_server::inquiries::{AsFinding, raise_lapses, record_inquiry, review, take_step};
use xiaoneng_store::{
    accounts, calendar, inquiries as store,
    org::{self, Scope},
    personal::Vault,
};

use crate::{
    demo::Cast,
    demo_service::{at_time, working_days_back},
};

#[derive(Clone, Copy)]
enum Who {
    SjStaff,
    SjHead,
    GaHead,
    GaStaff,
}

impl Who {
    fn username(self) -> &'static str {
        match self {
            Who::SjStaff => "sj_staff",
            Who::SjHead => "sj_head",
            Who::GaHead => "ga_head",
            Who::GaStaff => "ga_staff",
        }
    }
}

#[derive(Clone, Copy)]
enum To {
    Department(&'static str),
    Person(Who),
}

#[derive(Clone, Copy)]
enum First {
    Hand(To, &'static str),
    Keep,
}

#[derive(Clone, Copy)]
enum Step {
    Accept,
    Refuse(&'static str),
    Answer(&'static str),
    Hand(To, &'static str),
}

struct Story {
    /// Working days before today, and the city time (minutes after midnight) it was asked.
    back: u32,
    minute: u32,
    by: Who,
    channel: InquiryChannel,
    asker: &'static str,
    content: &'static str,
    first: First,
    /// Each step by whom, how many minutes after the one before.
    steps: &'static [(Who, Step, i64)],
    /// The office's review of a refusal in the story, a working day after it: made a finding or
    /// dismissed, with the reason.
    review: Option<(bool, &'static str)>,
}

const STORIES: &[Story] = &[
    Story {
        back: 24,
        minute: 9 * 60 + 40,
        by: Who::SjStaff,
        channel: InquiryChannel::Counter,
        asker: "赵先生",
        content: "外地户籍人员在本市开办企业，是否需要先办居住证？",
        first: First::Hand(To::Person(Who::GaHead), "涉及居住证办理，请公安局答复"),
        steps: &[
            (Who::GaHead, Step::Refuse("居住证由派出所办理，不归局机关"), 40),
            (Who::SjStaff, Step::Hand(To::Department("GA"), "请公安局明确承办人员答复"), 20),
            (Who::GaStaff, Step::Accept, 60),
            (Who::GaStaff, Step::Answer("开办企业不以居住证为前提；居住证可在户籍窗口或网上申领，已电话告知"), 120),
        ],
        review: Some((true, "转交后直接拒收，未指明承办人员，属推诿")),
    },
    Story {
        back: 16,
        minute: 14 * 60 + 20,
        by: Who::GaStaff,
        channel: InquiryChannel::Phone,
        asker: "钱女士",
        content: "开一家小餐馆需要办哪些许可？",
        first: First::Hand(To::Department("SJ"), "属市场监管业务，请答复"),
        steps: &[
            (Who::SjStaff, Step::Refuse("应先咨询政务服务中心"), 90),
            (Who::GaStaff, Step::Hand(To::Person(Who::SjHead), "请市场监管局明确答复"), 30),
            (Who::SjHead, Step::Accept, 60),
            (Who::SjHead, Step::Answer("需办理营业执照和食品经营许可，可在政务服务中心市场监管窗口一次办结"), 30),
        ],
        review: Some((false, "当日即由局领导答复，群众未受影响；已提醒退回人员")),
    },
    Story {
        back: 6,
        minute: 10 * 60 + 5,
        by: Who::SjStaff,
        channel: InquiryChannel::Online,
        asker: "孙先生",
        content: "企业名称中能否使用“中国”字样？",
        first: First::Keep,
        steps: &[(Who::SjStaff, Step::Answer("须经国家市场监督管理总局核准，已回复申请途径"), 60 * 24)],
        review: None,
    },
    Story {
        back: 5,
        minute: 15 * 60 + 10,
        by: Who::GaStaff,
        channel: InquiryChannel::Counter,
        asker: "李女士",
        content: "个体户营业执照丢了，怎么补办？",
        first: First::Hand(To::Department("SJ"), "请市场监管局答复补领流程"),
        steps: &[],
        review: None,
    },
    Story {
        back: 3,
        minute: 9 * 60 + 15,
        by: Who::SjStaff,
        channel: InquiryChannel::Phone,
        asker: "周先生",
        content: "身份证过期了，还能办营业执照吗？",
        first: First::Hand(To::Department("GA"), "身份证有效期问题，请公安局答复"),
        steps: &[(Who::GaHead, Step::Accept, 120)],
        review: None,
    },
    Story {
        back: 2,
        minute: 10 * 60 + 30,
        by: Who::SjStaff,
        channel: InquiryChannel::Counter,
        asker: "吴女士",
        content: "办理因私出入境证件需要单位证明吗？",
        first: First::Hand(To::Person(Who::GaHead), "请出入境部门答复"),
        steps: &[
            (Who::GaHead, Step::Refuse("应转出入境管理支队"), 50),
            (Who::SjStaff, Step::Hand(To::Department("GA"), "请公安局指定人员答复"), 15),
            (Who::GaStaff, Step::Accept, 30),
            (Who::GaStaff, Step::Answer("因私出入境证件无需单位证明，已电话答复"), 90),
        ],
        review: None,
    },
    Story {
        back: 1,
        minute: 16 * 60 + 5,
        by: Who::GaStaff,
        channel: InquiryChannel::Phone,
        asker: "郑先生",
        content: "公司变更法定代表人后，营业执照要多久能换好？",
        first: First::Hand(To::Person(Who::SjStaff), "属营业执照变更，请答复"),
        steps: &[],
        review: None,
    },
    Story {
        back: 0,
        minute: 10 * 60 + 50,
        by: Who::SjStaff,
        channel: InquiryChannel::Counter,
        asker: "王女士",
        content: "驾驶证快到期了，能不能和营业执照一起在政务中心办？",
        first: First::Hand(To::Department("GA"), "驾驶证换证属公安业务，请答复"),
        steps: &[],
        review: None,
    },
];

/// Questions each counter answers on the spot.
const AT_ONCE: &[(Who, &str, &str)] = &[
    (Who::SjStaff, "个体工商户变更经营者需要哪些材料？", "需携带营业执照正副本、新旧经营者身份证，当场可办"),
    (Who::SjStaff, "食品经营许可证到期怎么延续？", "有效期届满30个工作日前提出延续申请，网上或窗口均可"),
    (Who::SjStaff, "营业执照地址变更能在网上办吗？", "可通过企业开办一网通办平台办理，已告知网址"),
    (Who::SjStaff, "开网店要不要办营业执照？", "从事经营活动一般须办理，零星小额交易除外，已一次性告知"),
    (Who::GaStaff, "身份证丢失补办要多长时间？", "本市户籍一般20日内办结，可申领临时身份证"),
    (Who::GaStaff, "办理居住证需要什么材料？", "身份证、居住地证明和近期照片，已一次性告知"),
    (Who::GaStaff, "新生儿落户在哪里办？", "在父母一方户籍所在地派出所办理，可网上预约"),
];

struct People {
    cast: std::collections::HashMap<&'static str, (i64, Staff)>,
    departments: std::collections::HashMap<&'static str, i64>,
}

impl People {
    async fn load(tx: &DatabaseTransaction) -> anyhow::Result<Self> {
        let mut cast = std::collections::HashMap::new();
        for who in [Who::SjStaff, Who::SjHead, Who::GaHead, Who::GaStaff] {
            let u = accounts::find_by_username(tx, who.username())
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo account {} missing", who.username()))?;
            let pid = u.person_id.ok_or_else(|| anyhow::anyhow!("{} has no person", who.username()))?;
            let p = org::get_person(tx, &Scope::All, pid).await?;
            cast.insert(who.username(), (u.id, Staff { person_id: p.id, department_id: p.department_id }));
        }
        let mut departments = std::collections::HashMap::new();
        for code in ["SJ", "GA"] {
            let d = org::department_by_code(tx, code)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo department {code} missing"))?;
            departments.insert(code, d.id);
        }
        Ok(People { cast, departments })
    }

    fn of(&self, who: Who) -> (i64, Staff) {
        self.cast[who.username()]
    }

    fn receiver(&self, to: To) -> Receiver {
        match to {
            To::Department(code) => Receiver { person_id: None, department_id: self.departments[code] },
            To::Person(who) => {
                let s = self.of(who).1;
                Receiver { person_id: Some(s.person_id), department_id: s.department_id }
            }
        }
    }
}

/// Seeds it all; returns how many inquiries.
pub async fn seed(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    vault: &Vault,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<usize> {
    let people = People::load(tx).await?;
    let cal = calendar::work_calendar(tx).await?;
    let today = xiaoneng_core::clock::city_day(now);
    let latest = now - Duration::minutes(1);
    // Asked `back` working days ago at `minute`; on a day whose moment has not come yet (the city
    // made early in the morning, or on a rest day), the working day before.
    let moment = |back: u32, minute: u32| {
        let mut back = back;
        loop {
            let t = at_time(working_days_back(&cal, today, back), minute);
            if t <= latest {
                return t;
            }
            back += 1;
        }
    };
    let phone =
        |rng: &mut StdRng| rng.random_bool(0.6).then(|| format!("138{:08}", rng.random_range(0..100_000_000u32)));
    let office = accounts::find_by_username(tx, "xnb_admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo account xnb_admin missing"))?
        .id;
    let category = xiaoneng_store::inspections::list_categories(tx, true)
        .await?
        .into_iter()
        .find(|c| c.code == "FIRST_INQUIRY")
        .map(|c| c.id);
    let mut n = 0;

    for (i, &(who, content, answer)) in AT_ONCE.iter().cycle().take(21).enumerate() {
        let back = 1 + (i as u32 * 25) / 21;
        let at = moment(back, rng.random_range(9 * 60..17 * 60));
        let (uid, me) = people.of(who);
        let user = cast.user(tx, uid).await?;
        let channel = if rng.random_bool(0.7) { InquiryChannel::Counter } else { InquiryChannel::Phone };
        let p = phone(rng);
        let spec = NewInquiry::parse(channel, "", content, p.as_deref()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        record_inquiry(tx, &cast.act(&user, at), vault, me, spec, &FirstMove::Answer(answer.into()))
            .await
            .map_err(|e| anyhow::anyhow!("demo inquiry: {e:?}"))?;
        n += 1;
    }

    for s in STORIES {
        let mut at = moment(s.back, s.minute);
        let (uid, me) = people.of(s.by);
        let user = cast.user(tx, uid).await?;
        let first = match s.first {
            First::Hand(to, note) => FirstMove::HandOver(people.receiver(to), note.into()),
            First::Keep => FirstMove::Keep,
        };
        let p = phone(rng);
        let spec =
            NewInquiry::parse(s.channel, s.asker, s.content, p.as_deref()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut inquiry = record_inquiry(tx, &cast.act(&user, at), vault, me, spec, &first)
            .await
            .map_err(|e| anyhow::anyhow!("demo inquiry: {e:?}"))?;
        n += 1;
        for &(who, step, after) in s.steps {
            at += Duration::minutes(after);
            if at > latest {
                break;
            }
            let (uid, me) = people.of(who);
            let user = cast.user(tx, uid).await?;
            let step = match step {
                Step::Accept => InquiryStep::Accept,
                Step::Refuse(r) => InquiryStep::Refuse { reason: r.into() },
                Step::Answer(a) => InquiryStep::Answer { answer: a.into() },
                Step::Hand(to, note) => InquiryStep::HandOver { to: people.receiver(to), note: note.into() },
            };
            take_step(tx, &cast.act(&user, at), me, &inquiry, &step)
                .await
                .map_err(|e| anyhow::anyhow!("demo inquiry step: {e:?}"))?;
            inquiry = store::get_inquiry(tx, inquiry.id, &store::Reach { scope: Scope::All, me: None }).await?;
        }
        if let Some((finding, reason)) = s.review {
            let when = at_time(cal.add_working_days(xiaoneng_core::clock::city_day(at), 1), 10 * 60);
            let lapse = store::lapses_of(tx, inquiry.id).await?.into_iter().next();
            if let (Some(l), true) = (lapse, when <= latest) {
                let user = cast.user(tx, office).await?;
                let as_finding = match (finding, category) {
                    (true, Some(category_id)) => Some(AsFinding { category_id, severity: None, description: None }),
                    _ => None,
                };
                review(tx, &cast.act(&user, when), &l, as_finding, reason)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo lapse review: {e:?}"))?;
            }
        }
    }
    // What the job would have raised by now: hand-overs not taken up, inquiries not answered.
    raise_lapses(tx, cast.algo(), now).await?;
    Ok(n)
}
