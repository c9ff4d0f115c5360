//! The people's forms: households, residents, moves and visits.
//!
//! Places and people are referred to by opaque keys (the store's ids of a building,
//! compound, household or person): whether they exist, and lie in the user's scope, is the
//! store's to check. Sex and birth date are never typed: they come from the ID number.

use super::form::Form;
use super::id::IdNumber;
use super::kinds::{
    EmploymentStatus, Ethnicity, HouseholdKind, MoveKind, PoliticalStatus, Relation, Sex,
};
use super::phone::Phone;
use crate::place::Date;
use crate::registry::{FieldErrors, Fields};

/// Opaque references are ids or codes, never personal data: short, no blanks.
fn reference(form: &mut Form<'_>, field: &str) -> Option<String> {
    let raw = form.raw(field);
    if raw.is_empty() {
        None
    } else if raw.len() > 64 || raw.chars().any(char::is_whitespace) {
        form.error(field, "引用无效");
        None
    } else {
        Some(raw.to_string())
    }
}

/// 户, as created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdInput {
    pub kind: HouseholdKind,
    /// 户号 / 户编号 (the register's number, or the community's for residing households).
    pub number: Option<String>,
    /// Where it is: a building, or (for bungalows and villages) a compound. One is required.
    pub building: Option<String>,
    pub compound: Option<String>,
    /// 门牌 / 单元 / 房号, e.g. 2单元501室.
    pub address: Option<String>,
    /// The head of household, a person reference; may be set once the people exist.
    pub head: Option<String>,
}

impl HouseholdInput {
    /// Fields: kind (default 户籍户), number, building, compound, address, head.
    pub fn parse(f: &Fields) -> Result<HouseholdInput, FieldErrors> {
        let mut form = Form::new(f);
        let kind = form.choice("kind", HouseholdKind::parse).or_else(|| {
            form.raw("kind")
                .is_empty()
                .then_some(HouseholdKind::Registered)
        });
        let number = form.text("number", 30);
        let building = reference(&mut form, "building");
        let compound = reference(&mut form, "compound");
        if building.is_none()
            && compound.is_none()
            && !form.errors.contains_key("building")
            && !form.errors.contains_key("compound")
        {
            form.error("building", "请选择所在楼栋或小区（村庄）");
        }
        let address = form.text("address", 100);
        let head = reference(&mut form, "head");
        form.finish(kind.map(|kind| HouseholdInput {
            kind,
            number,
            building,
            compound,
            address,
            head,
        }))
    }
}

/// 居民, as created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentInput {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub ethnicity: Option<Ethnicity>,
    pub political_status: Option<PoliticalStatus>,
    pub employment: Option<EmploymentStatus>,
    /// The household of the register, and the household lived in; one at least. Both, and
    /// different, is 人户分离.
    pub registered_household: Option<String>,
    pub residing_household: Option<String>,
    /// Relation to the head of the registered household, or else of the residing one.
    pub relation: Option<Relation>,
    pub moved_in: Option<Date>,
}

impl ResidentInput {
    /// The fields it reads.
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "id_number",
        "phone",
        "ethnicity",
        "political_status",
        "employment",
        "registered_household",
        "residing_household",
        "relation",
        "moved_in",
    ];

    /// Fields: name, id_number, phone, ethnicity, political_status, employment,
    /// registered_household, residing_household, relation, moved_in.
    pub fn parse(f: &Fields, today: Date) -> Result<ResidentInput, FieldErrors> {
        let mut form = Form::new(f);
        let name = form.name("name", 50);
        let id_number = {
            let r = IdNumber::parse_as_of(form.raw("id_number"), today);
            form.take("id_number", r)
        };
        let phone = if form.raw("phone").is_empty() {
            None
        } else {
            let r = Phone::parse(form.raw("phone"));
            form.take("phone", r)
        };
        let ethnicity = form.choice("ethnicity", Ethnicity::parse);
        let political_status = form.choice("political_status", PoliticalStatus::parse);
        let employment = form.choice("employment", EmploymentStatus::parse);
        let registered_household = reference(&mut form, "registered_household");
        let residing_household = reference(&mut form, "residing_household");
        if registered_household.is_none()
            && residing_household.is_none()
            && !form.errors.contains_key("registered_household")
            && !form.errors.contains_key("residing_household")
        {
            form.error("residing_household", "请选择所在户（户籍户或居住户）");
        }
        let relation = form.choice("relation", Relation::parse);
        let moved_in = form.past_date("moved_in", today);
        if let Some(id) = &id_number {
            if let Some(msg) = relation.and_then(|r| relation_conflict(r, id.sex())) {
                form.error("relation", msg);
            }
            if let Some(m) = moved_in
                && m < id.birth_date()
            {
                form.error("moved_in", "迁入日期不能早于出生日期");
            }
        }
        let value = match (name, id_number) {
            (Some(name), Some(id_number)) => Some(ResidentInput {
                name,
                id_number,
                phone,
                ethnicity,
                political_status,
                employment,
                registered_household,
                residing_household,
                relation,
                moved_in,
            }),
            _ => None,
        };
        form.finish(value)
    }

    pub fn sex(&self) -> Sex {
        self.id_number.sex()
    }

    pub fn birth_date(&self) -> Date {
        self.id_number.birth_date()
    }

    /// 人户分离: registered in one household, living in another.
    pub fn is_separated(&self) -> bool {
        matches!((&self.registered_household, &self.residing_household), (Some(a), Some(b)) if a != b)
    }
}

/// A registered resident's basic facts, as corrected on his page. The ID number (and so sex
/// and birth date) is not edited: a wrong one is a different person. An empty phone field
/// keeps the stored number (the form never shows it in full).
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentEditInput {
    pub name: String,
    pub phone: Option<Phone>,
    pub ethnicity: Option<Ethnicity>,
    pub political_status: Option<PoliticalStatus>,
    pub employment: Option<EmploymentStatus>,
    pub relation: Option<Relation>,
}

impl ResidentEditInput {
    /// The fields it reads.
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "phone",
        "ethnicity",
        "political_status",
        "employment",
        "relation",
    ];

    /// Fields: name, phone (empty = unchanged), ethnicity, political_status, employment,
    /// relation.
    pub fn parse(f: &Fields) -> Result<ResidentEditInput, FieldErrors> {
        let mut form = Form::new(f);
        let name = form.name("name", 50);
        let phone = if form.raw("phone").is_empty() {
            None
        } else {
            let r = Phone::parse(form.raw("phone"));
            form.take("phone", r)
        };
        let ethnicity = form.choice("ethnicity", Ethnicity::parse);
        let political_status = form.choice("political_status", PoliticalStatus::parse);
        let employment = form.choice("employment", EmploymentStatus::parse);
        let relation = form.choice("relation", Relation::parse);
        form.finish(name.map(|name| ResidentEditInput {
            name,
            phone,
            ethnicity,
            political_status,
            employment,
            relation,
        }))
    }
}

/// The message when a relation implies the other sex than the ID number's.
pub fn relation_conflict(r: Relation, sex: Sex) -> Option<String> {
    match r.implied_sex() {
        Some(s) if s != sex => Some(format!(
            "与户主关系为“{}”，但公民身份号码显示性别为{}",
            r.label(),
            sex.label()
        )),
        _ => None,
    }
}

/// 人口变动: someone moves in or out, is born, dies. Nothing is deleted: a move closes or
/// opens a membership with its date.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveInput {
    pub kind: MoveKind,
    pub date: Date,
    /// Where from or to (free text: 外县、本县某社区…).
    pub place: Option<String>,
    pub reason: Option<String>,
}

impl MoveInput {
    /// Fields: kind, date, place, reason.
    pub fn parse(f: &Fields, today: Date) -> Result<MoveInput, FieldErrors> {
        let mut form = Form::new(f);
        let kind = form.required("kind", MoveKind::parse);
        let date = if form.raw("date").is_empty() {
            form.error("date", "不能为空");
            None
        } else {
            form.past_date("date", today)
        };
        let place = form.text("place", 100);
        let reason = form.text("reason", 200);
        let value = match (kind, date) {
            (Some(kind), Some(date)) => Some(MoveInput {
                kind,
                date,
                place,
                reason,
            }),
            _ => None,
        };
        form.finish(value)
    }
}

/// 走访 / 民情日志: a grid worker's visit to a household, written on a phone. The household
/// and the worker are the page's and the session's.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitInput {
    pub date: Date,
    /// Who was met (names or 户主本人, 无人在家…).
    pub met: String,
    /// What was found: 民情, hazards, disputes, requests.
    pub findings: String,
    pub follow_up: Option<String>,
    /// The special-group record the visit follows up, if any.
    pub special_record: Option<String>,
}

impl VisitInput {
    /// Fields: date (empty = today), met, findings, follow_up, special_record.
    pub fn parse(f: &Fields, today: Date) -> Result<VisitInput, FieldErrors> {
        let mut form = Form::new(f);
        let date = if form.raw("date").is_empty() {
            Some(today)
        } else {
            form.recent_date("date", today)
        };
        let met = form.name("met", 100);
        let findings = form.name("findings", 2000);
        let follow_up = form.text("follow_up", 1000);
        let special_record = reference(&mut form, "special_record");
        let value = match (date, met, findings) {
            (Some(date), Some(met), Some(findings)) => Some(VisitInput {
                date,
                met,
                findings,
                follow_up,
                special_record,
            }),
            _ => None,
        };
        form.finish(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn today() -> Date {
        Date::new(2025, 6, 30).unwrap()
    }

    #[test]
    fn a_visit_is_dated_within_the_last_year() {
        let visit = |date: &str| {
            VisitInput::parse(
                &fields(&[("date", date), ("met", "户主"), ("findings", "情况正常")]),
                today(),
            )
        };
        assert!(visit("2025-06-30").is_ok());
        assert!(visit("2024-06-30").is_ok());
        for early in ["2024-06-29", "1900-01-01"] {
            assert_eq!(
                visit(early).unwrap_err()["date"],
                "不能早于一年前的今天（2024-06-30），请检查年份"
            );
        }
        assert_eq!(
            visit("2025-07-01").unwrap_err()["date"],
            "不能晚于今天（2025-06-30）"
        );
    }

    #[test]
    fn households() {
        let h = HouseholdInput::parse(&fields(&[("building", "b-17"), ("address", "2单元501")]))
            .unwrap();
        assert_eq!(h.kind, HouseholdKind::Registered);
        let e = HouseholdInput::parse(&fields(&[("kind", "宿舍")])).unwrap_err();
        assert!(e["kind"].contains("户籍户、居住户"));
        assert_eq!(e["building"], "请选择所在楼栋或小区（村庄）");
    }

    #[test]
    fn residents() {
        let id = IdNumber::from_parts("370725", Date::new(1985, 3, 9).unwrap(), 124).unwrap();
        let r = ResidentInput::parse(
            &fields(&[
                ("name", "王秀英"),
                ("id_number", id.as_str()),
                ("phone", "13800001234"),
                ("ethnicity", "汉"),
                ("relation", "妻"),
                ("registered_household", "h1"),
                ("residing_household", "h2"),
            ]),
            today(),
        )
        .unwrap();
        assert_eq!(r.sex(), Sex::Female);
        assert!(r.is_separated());
        let e = ResidentInput::parse(
            &fields(&[
                ("name", ""),
                ("id_number", id.as_str()),
                ("relation", "子"),
                ("moved_in", "1980-01-01"),
                ("phone", "123"),
            ]),
            today(),
        )
        .unwrap_err();
        assert_eq!(
            e.keys().collect::<Vec<_>>(),
            vec![
                "moved_in",
                "name",
                "phone",
                "relation",
                "residing_household"
            ]
        );
        assert_eq!(
            e["relation"],
            "与户主关系为“子”，但公民身份号码显示性别为女"
        );
        // No message repeats the number.
        let bad = format!("{}1", &id.as_str()[..17]);
        let e = ResidentInput::parse(&fields(&[("id_number", &bad)]), today()).unwrap_err();
        assert!(e["id_number"].starts_with("校验码错误"));
        assert!(e.values().all(|m| !m.contains(&id.as_str()[6..14])));
    }

    #[test]
    fn visits_and_moves() {
        let v = VisitInput::parse(
            &fields(&[("met", "户主本人"), ("findings", "楼道堆放杂物")]),
            today(),
        )
        .unwrap();
        assert_eq!(v.date, today());
        let e = MoveInput::parse(&fields(&[("kind", "迁出")]), today()).unwrap_err();
        assert_eq!(e["date"], "不能为空");
    }
}
