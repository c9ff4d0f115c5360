//! Special groups (特殊人群) and key persons (重点人员), following the areas of GB/T 31000
//! (社会治安综合治理基础数据规范), and the care groups the community looks after.
//!
//! Every kind carries a [`Sensitivity`]: security-sensitive key persons (community
//! correction, released prisoners, drug users, serious mental disorders, key youth,
//! petitioners) and care groups (elderly living alone, disabled, low-income, left-behind
//! children). The web layer shows a record only to roles the permissions table grants for
//! its class; membership of a security class is itself confidential.

use super::calendar;
use super::form::Form;
use crate::place::Date;
use crate::registry::{FieldErrors, Fields};

people_enum!(
    /// Who may see a special-group record: decided by data, per class.
    Sensitivity, "敏感类别", {
        /// 重点人员: public-security and stability data (criminal records, drug use,
        /// psychiatric danger, petitions). Only the roles that follow them.
        Security => ("security", "重点人员"),
        /// 关爱帮扶对象: welfare and care. Community staff and grid workers of the scope.
        Care => ("care", "关爱帮扶对象"),
    }
);

impl Sensitivity {
    /// The permission that shows, records and follows up records of this class.
    pub fn permission(self) -> crate::access::Permission {
        match self {
            Sensitivity::Security => crate::access::Permission::SpecialSecurity,
            Sensitivity::Care => crate::access::Permission::SpecialCare,
        }
    }
}

people_enum!(
    /// 特殊人群 and 重点人员 kinds.
    SpecialGroupKind, "人群类别", {
        CommunityCorrection => ("community_correction", "社区矫正人员", "社区矫正"),
        Released => ("released", "刑满释放人员", "刑释人员", "安置帮教人员"),
        DrugUser => ("drug_user", "吸毒人员", "社区戒毒社区康复人员", "戒毒康复人员"),
        MentalDisorder => ("mental_disorder", "严重精神障碍患者", "肇事肇祸等严重精神障碍患者", "精神障碍患者"),
        KeyYouth => ("key_youth", "重点青少年", "重点青少年群体"),
        Petitioner => ("petitioner", "信访重点人员", "重点信访人员"),
        ElderlyAlone => ("elderly_alone", "独居老人", "空巢独居老人", "空巢老人"),
        Disabled => ("disabled", "残疾人", "残疾人员"),
        LowIncome => ("low_income", "低保对象", "低保户", "最低生活保障对象"),
        LeftBehindChild => ("left_behind_child", "留守儿童", "农村留守儿童"),
    }
);

impl SpecialGroupKind {
    pub const COUNT: usize = 10;

    pub fn sensitivity(self) -> Sensitivity {
        if self.is_key_person() {
            Sensitivity::Security
        } else {
            Sensitivity::Care
        }
    }

    /// 重点人员 (followed for public security), as opposed to a care group.
    pub fn is_key_person(self) -> bool {
        matches!(
            self,
            SpecialGroupKind::CommunityCorrection
                | SpecialGroupKind::Released
                | SpecialGroupKind::DrugUser
                | SpecialGroupKind::MentalDisorder
                | SpecialGroupKind::KeyYouth
                | SpecialGroupKind::Petitioner
        )
    }

    /// Why a person of this age cannot be of this kind, for the kinds defined by age: 留守儿童
    /// are under 16 (民政部's definition), 独居老人 are 60 or older.
    pub fn age_problem(self, age: i64) -> Option<String> {
        match self {
            SpecialGroupKind::LeftBehindChild if age >= 16 => {
                Some(format!("留守儿童指未满 16 周岁的未成年人，该居民 {age} 岁"))
            }
            SpecialGroupKind::ElderlyAlone if age < 60 => {
                Some(format!("独居老人指年满 60 周岁的老年人，该居民 {age} 岁"))
            }
            _ => None,
        }
    }

    /// Kinds of one sensitivity class (for building a "visible kinds" filter).
    pub fn of(s: Sensitivity) -> impl Iterator<Item = SpecialGroupKind> {
        SpecialGroupKind::ALL
            .iter()
            .copied()
            .filter(move |k| k.sensitivity() == s)
    }
}

people_enum!(
    /// 风险等级: three levels, as most 综治 systems grade key persons (低/中/高, also
    /// written 一般/关注/重点 or 绿/黄/红). Each level says how often the person is followed up.
    RiskLevel, "风险等级", {
        Low => ("low", "低风险", "低", "一般", "绿", "绿色"),
        Medium => ("medium", "中风险", "中", "关注", "黄", "黄色"),
        High => ("high", "高风险", "高", "重点", "红", "红色"),
    }
);

impl RiskLevel {
    /// Days between follow-ups: high weekly, medium monthly, low quarterly.
    pub fn follow_up_every_days(self) -> i64 {
        match self {
            RiskLevel::Low => 90,
            RiskLevel::Medium => 30,
            RiskLevel::High => 7,
        }
    }

    /// When the next follow-up is due after one made on `last`.
    pub fn next_due(self, last: Date) -> Option<Date> {
        calendar::add_days(last, self.follow_up_every_days())
    }
}

/// A special-group record (列管 / 帮扶), as created or edited on a resident's page. The
/// person is the page's, passed by the store beside this input.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecialRecordInput {
    pub kind: SpecialGroupKind,
    /// 帮扶人 (or 管控责任人): a name; linking to a staff account is the store's affair.
    pub helper: Option<String>,
    pub helper_phone: Option<super::Phone>,
    /// 困难, 诉求.
    pub difficulties: Option<String>,
    pub requests: Option<String>,
    pub risk: RiskLevel,
    /// 列管日期 and 解除日期.
    pub since: Date,
    pub until: Option<Date>,
    pub note: Option<String>,
}

impl SpecialRecordInput {
    /// Fields: kind, helper, helper_phone, difficulties, requests, risk, since, until, note.
    /// Key persons need a risk level and a helper; care groups default to 低风险.
    pub fn parse(f: &Fields, today: Date) -> Result<SpecialRecordInput, FieldErrors> {
        let mut form = Form::new(f);
        let kind = form.required("kind", SpecialGroupKind::parse);
        let helper = form.text("helper", 30);
        let helper_phone = if form.raw("helper_phone").is_empty() {
            None
        } else {
            let r = super::Phone::parse(form.raw("helper_phone"));
            form.take("helper_phone", r)
        };
        let difficulties = form.text("difficulties", 1000);
        let requests = form.text("requests", 1000);
        let key = kind.is_some_and(SpecialGroupKind::is_key_person);
        let risk = if key {
            form.required("risk", RiskLevel::parse)
        } else {
            form.choice("risk", RiskLevel::parse)
                .or(Some(RiskLevel::Low))
        };
        if key && helper.is_none() && !form.errors.contains_key("helper") {
            form.error("helper", "重点人员须指定管控帮扶责任人");
        }
        let since = if form.raw("since").is_empty() {
            Some(today)
        } else {
            form.past_date("since", today)
        };
        let until = form.past_date("until", today);
        if let (Some(s), Some(u)) = (since, until)
            && u < s
        {
            form.error("until", format!("解除日期不能早于列管日期（{s}）"));
        }
        let note = form.text("note", 1000);
        let value = match (kind, risk, since) {
            (Some(kind), Some(risk), Some(since)) => Some(SpecialRecordInput {
                kind,
                helper,
                helper_phone,
                difficulties,
                requests,
                risk,
                since,
                until,
                note,
            }),
            _ => None,
        };
        form.finish(value)
    }
}

/// A dated follow-up of a special-group record (走访帮扶 / 动态管控记录).
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpInput {
    pub date: Date,
    pub content: String,
    /// A re-assessment, if the risk level changed.
    pub risk: Option<RiskLevel>,
}

impl FollowUpInput {
    /// Fields: date (empty = today), content, risk.
    pub fn parse(f: &Fields, today: Date) -> Result<FollowUpInput, FieldErrors> {
        let mut form = Form::new(f);
        let date = if form.raw("date").is_empty() {
            Some(today)
        } else {
            form.past_date("date", today)
        };
        let content = form.name("content", 2000);
        let risk = form.choice("risk", RiskLevel::parse);
        let value = match (date, content) {
            (Some(date), Some(content)) => Some(FollowUpInput {
                date,
                content,
                risk,
            }),
            _ => None,
        };
        form.finish(value)
    }
}

/// The end of a special-group record (解除列管 / 帮扶结束), or its withdrawal when it was
/// entered by mistake: the day and why. The record and its follow-ups stay on file.
#[derive(Debug, Clone, PartialEq)]
pub struct EndRecordInput {
    pub until: Date,
    pub reason: String,
}

impl EndRecordInput {
    /// Fields: until (empty = today), reason.
    pub fn parse(f: &Fields, today: Date) -> Result<EndRecordInput, FieldErrors> {
        let mut form = Form::new(f);
        let until = if form.raw("until").is_empty() {
            Some(today)
        } else {
            form.past_date("until", today)
        };
        let reason = form.name("reason", 200);
        let value = match (until, reason) {
            (Some(until), Some(reason)) => Some(EndRecordInput { until, reason }),
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

    #[test]
    fn kinds_and_classes() {
        assert_eq!(SpecialGroupKind::ALL.len(), SpecialGroupKind::COUNT);
        assert_eq!(
            SpecialGroupKind::of(Sensitivity::Security).count(),
            6,
            "six key-person kinds"
        );
        assert_eq!(
            SpecialGroupKind::parse("社区矫正").unwrap().sensitivity(),
            Sensitivity::Security
        );
        assert_eq!(SpecialGroupKind::LowIncome.sensitivity(), Sensitivity::Care);
        let d = Date::new(2025, 1, 1).unwrap();
        assert_eq!(
            RiskLevel::High.next_due(d).unwrap().to_string(),
            "2025-01-08"
        );
        assert_eq!(RiskLevel::parse("红").unwrap(), RiskLevel::High);
    }

    #[test]
    fn records() {
        let today = Date::new(2025, 3, 1).unwrap();
        let e = SpecialRecordInput::parse(
            &fields(&[("kind", "吸毒人员"), ("since", "2025-04-01")]),
            today,
        )
        .unwrap_err();
        assert_eq!(e["risk"], "不能为空");
        assert_eq!(e["helper"], "重点人员须指定管控帮扶责任人");
        assert_eq!(e["since"], "不能晚于今天（2025-03-01）");
        let r = SpecialRecordInput::parse(
            &fields(&[
                ("kind", "独居老人"),
                ("helper", "王芳"),
                ("difficulties", "行动不便"),
            ]),
            today,
        )
        .unwrap();
        assert_eq!((r.risk, r.since), (RiskLevel::Low, today));
        let f = FollowUpInput::parse(&fields(&[("content", "上门走访，情况稳定")]), today).unwrap();
        assert_eq!(f.date, today);
    }
}
