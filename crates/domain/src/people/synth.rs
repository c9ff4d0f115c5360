//! Synthetic households and residents: the demo county's people and the benchmark's million.
//!
//! Deterministic (SplitMix64, [`crate::demo::Rng`]) for a given seed, grid list and `as_of`
//! date, and streamed: the iterator holds only its counters, so a store can insert a million
//! residents without holding them. What is generated, and how:
//! - ID numbers under 370725, unique: each (birth date, sex) hands out its sequence codes in
//!   turn (odd for men, even for women), moving to the day before when a day's are used up;
//! - household sizes 1–6 (25/30/21/13/7/4 %, about the 2.6 of the 2020 census), a head aged
//!   mostly 25–90, a spouse in 85 % of the larger households, children about 24–36 years
//!   younger than their parents, parents of young heads, grandchildren of old ones;
//! - names from common surnames and given-name characters; children take the father's surname;
//! - mobiles 13800xxxxxx from a running counter (obviously synthetic) for 92 % of those
//!   16 and over; 98.5 % 汉族 and the rest 回/满/蒙古/朝鲜 as in Shandong;
//! - 80 % registered households, 20 % residing (tenants registered elsewhere);
//! - a few special-group records (rates in `special_for`), with helpers and dated
//!   follow-ups, and visits in the 60 days before `as_of` to about 30 % of households.

use std::collections::HashMap;

use super::calendar;
use super::id::IdNumber;
use super::kinds::{EmploymentStatus, Ethnicity, HouseholdKind, PoliticalStatus, Relation, Sex};
use super::phone::Phone;
use super::special::{RiskLevel, SpecialGroupKind};
use crate::demo::Rng;
use crate::place::Date;

/// The region code of every generated ID number (昌乐县).
pub const REGION: &str = "370725";

#[derive(Debug, Clone, PartialEq)]
pub struct SynthResident {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub ethnicity: Ethnicity,
    pub political_status: PoliticalStatus,
    pub employment: EmploymentStatus,
    pub relation: Relation,
    pub moved_in: Date,
    pub special: Option<SynthSpecial>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpecial {
    pub kind: SpecialGroupKind,
    pub risk: RiskLevel,
    pub helper: String,
    pub difficulties: Option<String>,
    pub requests: Option<String>,
    pub since: Date,
    /// Oldest first.
    pub follow_ups: Vec<(Date, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthVisit {
    pub date: Date,
    pub met: String,
    pub findings: String,
    pub follow_up: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthHousehold {
    /// 0-based position in the stream.
    pub seq: u64,
    /// 户号, unique in the stream: SH00000001…
    pub number: String,
    pub kind: HouseholdKind,
    /// Index into the grid codes given, and the code.
    pub grid: usize,
    pub grid_code: String,
    /// 1-based building, entrance and room numbers, for the store to map onto the grid's
    /// buildings (modulo their count), and the address they make: 3号楼2单元501室.
    pub building: u32,
    pub entrance: u32,
    pub room: u32,
    pub address: String,
    pub moved_in: Date,
    /// The head first.
    pub members: Vec<SynthResident>,
    /// Oldest first.
    pub visits: Vec<SynthVisit>,
}

/// `count` households spread over the grids in contiguous runs (none if no grid is given).
pub fn households(
    seed: u64,
    count: usize,
    grid_codes: &[String],
    as_of: Date,
) -> impl Iterator<Item = SynthHousehold> + '_ {
    Generator::new(seed, grid_codes, as_of, count, None)
}

/// Households until exactly `residents` people (the last household cut short, its head kept).
pub fn residents(
    seed: u64,
    residents: usize,
    grid_codes: &[String],
    as_of: Date,
) -> impl Iterator<Item = SynthHousehold> + '_ {
    let estimate = residents * 100 / 262 + 1;
    Generator::new(seed, grid_codes, as_of, estimate, Some(residents))
}

struct Generator<'a> {
    rng: Rng,
    grids: &'a [String],
    as_of: Date,
    as_of_days: i64,
    /// Households planned (for spreading over grids; the limit unless people are counted)
    /// and people left to make.
    planned: usize,
    people_left: Option<usize>,
    next: u64,
    /// Sequence codes used per birth day: [men, women].
    used: HashMap<i64, [u16; 2]>,
    phones: u32,
}

impl<'a> Generator<'a> {
    fn new(
        seed: u64,
        grids: &'a [String],
        as_of: Date,
        planned: usize,
        people: Option<usize>,
    ) -> Generator<'a> {
        Generator {
            rng: Rng::new(seed),
            grids,
            as_of,
            as_of_days: calendar::unix_days(as_of),
            planned: planned.max(1),
            people_left: people,
            next: 0,
            used: HashMap::new(),
            phones: 0,
        }
    }

    fn pick<T: Copy>(&mut self, weighted: &[(T, u32)]) -> T {
        let total: u32 = weighted.iter().map(|w| w.1).sum();
        let mut x = self.rng.below(u64::from(total)) as u32;
        for &(v, w) in weighted {
            if x < w {
                return v;
            }
            x -= w;
        }
        weighted[0].0
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.rng.below(1000) < per_mille
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.rng.below((hi - lo + 1).max(1) as u64) as i64
    }

    fn date_days_ago(&mut self, lo: i64, hi: i64) -> Date {
        let d = self.as_of_days - self.range(lo, hi);
        Date::from_unix_days(d.max(calendar::days_from_civil(1900, 1, 1)))
    }

    /// A unique ID number for someone of `age` and `sex` on `as_of`.
    fn id(&mut self, age: i64, sex: Sex) -> IdNumber {
        let lowest = calendar::days_from_civil(1900, 1, 1);
        let mut day = (self.as_of_days - age * 36_525 / 100 - self.range(0, 364)).max(lowest);
        let s = sex.index();
        loop {
            let used = self.used.entry(day).or_insert([0, 0]);
            let max = if s == 0 { 500 } else { 499 };
            if used[s] < max {
                let c = used[s];
                used[s] += 1;
                let seq = if s == 0 { 2 * c + 1 } else { 2 * c + 2 };
                if let Ok(id) = IdNumber::from_parts(REGION, Date::from_unix_days(day), seq) {
                    return id;
                }
            }
            // A day's codes used up: the day before, or after if at the first day.
            day = if day > lowest { day - 1 } else { day + 1 };
        }
    }

    fn name(&mut self, surname: &'static str, sex: Sex) -> String {
        let chars = match sex {
            Sex::Male => MALE_CHARS,
            Sex::Female => FEMALE_CHARS,
        };
        let mut s = String::with_capacity(9);
        s.push_str(surname);
        s.push_str(chars[self.rng.below(chars.len() as u64) as usize]);
        if self.chance(700) {
            s.push_str(chars[self.rng.below(chars.len() as u64) as usize]);
        }
        s
    }

    fn surname(&mut self) -> &'static str {
        let i = self.pick(SURNAME_WEIGHTS);
        SURNAMES[i]
    }

    fn phone(&mut self, age: i64) -> Option<Phone> {
        if age < 16 || !self.chance(920) {
            return None;
        }
        self.phones = (self.phones + 1) % 1_000_000;
        Phone::parse(&format!("13800{:06}", self.phones)).ok()
    }

    fn political(&mut self, age: i64) -> PoliticalStatus {
        use PoliticalStatus::*;
        if age < 14 {
            return Masses;
        }
        if age <= 28 && self.chance(300) {
            return CylMember;
        }
        if age < 18 {
            return Masses;
        }
        self.pick(&[
            (CpcMember, 70),
            (CpcProbationary, 3),
            (Cdl, 2),
            (Capd, 1),
            (Jiusan, 1),
            (Cpwdp, 1),
            (NonParty, 3),
            (Masses, 919),
        ])
    }

    fn employment(&mut self, age: i64) -> EmploymentStatus {
        use EmploymentStatus::*;
        match age {
            0..=5 => Preschool,
            6..=17 => Student,
            18..=22 if self.chance(600) => Student,
            18..=59 => self.pick(&[
                (Employed, 62),
                (SelfEmployed, 10),
                (Flexible, 10),
                (Farming, 6),
                (Unemployed, 5),
                (Unable, 2),
                (Other, 5),
            ]),
            _ => self.pick(&[(Retired, 70), (Farming, 15), (Unable, 5), (Other, 10)]),
        }
    }

    fn household(&mut self) -> Option<SynthHousehold> {
        let done = match self.people_left {
            Some(n) => n == 0,
            None => self.next as usize >= self.planned,
        };
        if self.grids.is_empty() || done {
            return None;
        }
        let seq = self.next;
        self.next += 1;
        let grid = ((seq as usize).saturating_mul(self.grids.len()) / self.planned)
            .min(self.grids.len() - 1);
        let kind = if self.chance(800) {
            HouseholdKind::Registered
        } else {
            HouseholdKind::Residing
        };
        let size = self.pick(&[(1usize, 25), (2, 30), (3, 21), (4, 13), (5, 7), (6, 4)]);
        let size = match &mut self.people_left {
            Some(left) => {
                let s = size.min(*left);
                *left -= s;
                s
            }
            None => size,
        };

        // (relation, age, sex) of each member, head first.
        let head_age = if size == 1 {
            self.pick(&[
                (20, 15),
                (30, 15),
                (40, 12),
                (50, 13),
                (60, 15),
                (70, 18),
                (80, 12),
            ]) + self.range(0, 9)
        } else {
            self.pick(&[
                (25, 6),
                (30, 10),
                (35, 10),
                (40, 10),
                (45, 11),
                (50, 12),
                (55, 11),
                (60, 9),
                (65, 8),
                (70, 6),
                (75, 4),
                (80, 2),
                (85, 1),
            ]) + self.range(0, 4)
        };
        // (relation, age, sex, married into the family) of each member, head first.
        let mut plan: Vec<(Relation, i64, Sex, bool)> = Vec::with_capacity(size);
        let spouse = size >= 2 && self.chance(850);
        let male_head = if spouse {
            self.chance(780)
        } else {
            self.chance(500)
        };
        let head_sex = if male_head { Sex::Male } else { Sex::Female };
        plan.push((Relation::Head, head_age, head_sex, false));
        let other = |s: Sex| match s {
            Sex::Male => Sex::Female,
            Sex::Female => Sex::Male,
        };
        if spouse {
            let a = (head_age + self.range(-5, 3)).max(20);
            plan.push((Relation::Spouse, a, other(head_sex), head_sex == Sex::Male));
        }
        let random_sex = |g: &mut Self| {
            if g.chance(515) {
                Sex::Male
            } else {
                Sex::Female
            }
        };
        if head_age < 60 {
            // Parents of the head for the largest households, children for the rest.
            let mut parents = if size >= 5 {
                2
            } else {
                usize::from(size == 4 && self.chance(300))
            };
            while plan.len() < size {
                if parents > 0 && head_age + 24 <= 95 {
                    parents -= 1;
                    let sex = if parents == 1 { Sex::Male } else { Sex::Female };
                    let a = (head_age + self.range(24, 32)).min(100);
                    plan.push((Relation::Parent, a, sex, sex == Sex::Female));
                } else {
                    let sex = random_sex(self);
                    let rel = if sex == Sex::Male {
                        Relation::Son
                    } else {
                        Relation::Daughter
                    };
                    let a = if head_age >= 42 {
                        head_age - self.range(24, 36)
                    } else {
                        self.range(0, (head_age - 20).max(0))
                    };
                    plan.push((rel, a.max(0), sex, false));
                }
            }
        } else {
            // An adult child, the child's spouse (儿媳 / 女婿), grandchildren.
            let mut child_age = head_age - 28;
            while plan.len() < size {
                let n = plan.len() - usize::from(spouse);
                if n == 1 {
                    let sex = random_sex(self);
                    let rel = if sex == Sex::Male {
                        Relation::Son
                    } else {
                        Relation::Daughter
                    };
                    child_age = head_age - self.range(24, 34);
                    plan.push((rel, child_age, sex, false));
                } else if n == 2 {
                    let child_sex = plan[plan.len() - 1].2;
                    let sex = other(child_sex);
                    // 儿媳 is grouped under 女, 女婿 under 子 (GB/T 4761).
                    let rel = if sex == Sex::Male {
                        Relation::Son
                    } else {
                        Relation::Daughter
                    };
                    plan.push((rel, (child_age + self.range(-3, 3)).max(18), sex, true));
                } else {
                    let a = (child_age - self.range(24, 34)).max(self.range(0, 12));
                    plan.push((Relation::Grandchild, a, random_sex(self), false));
                }
            }
        }

        // Surnames: the family's is the husband's (or a single head's); those who married
        // into the family, and the head's mother, keep their own.
        let family = self.surname();
        let ethnicity = if self.chance(985) {
            Ethnicity::Han
        } else {
            self.pick(&[
                (Ethnicity::Hui, 60),
                (Ethnicity::Manchu, 20),
                (Ethnicity::Mongol, 10),
                (Ethnicity::Korean, 10),
            ])
        };
        let moved_in_household = if kind == HouseholdKind::Registered {
            let max = ((head_age - 18) * 365).clamp(31, 40 * 365);
            self.date_days_ago(30, max)
        } else {
            self.date_days_ago(30, 8 * 365)
        };
        let mut members = Vec::with_capacity(size);
        let head_surname = if head_sex == Sex::Female && spouse {
            self.surname()
        } else {
            family
        };
        let alone = plan.len() == 1;
        for &(relation, age, sex, married_in) in &plan {
            let surname = match relation {
                _ if married_in => self.surname(),
                Relation::Head | Relation::Parent => head_surname,
                _ => family,
            };
            let name = self.name(surname, sex);
            let id_number = self.id(age, sex);
            let phone = self.phone(age);
            let political_status = self.political(age);
            let employment = self.employment(age);
            let moved_in = moved_in_household.max(id_number.birth_date());
            let special = self.special_for(alone, relation == Relation::Head, age, kind);
            members.push(SynthResident {
                name,
                id_number,
                phone,
                ethnicity,
                political_status,
                employment,
                relation,
                moved_in,
                special,
            });
        }
        let visits = self.visits(&members);
        let building = self.range(1, 30) as u32;
        let entrance = self.range(1, 4) as u32;
        let room = (self.range(1, 18) * 100 + self.range(1, 4)) as u32;
        Some(SynthHousehold {
            seq,
            number: format!("SH{:08}", seq + 1),
            kind,
            grid,
            grid_code: self.grids[grid].clone(),
            building,
            entrance,
            room,
            address: format!("{building}号楼{entrance}单元{room}室"),
            moved_in: moved_in_household,
            members,
            visits,
        })
    }

    /// The special-group record of member `i`, if any. Rates (per mille): elderly living
    /// alone 500 of those 70+ alone; disabled 16; low-income 12 of registered heads;
    /// left-behind children 3 of minors; mental disorder 3 of adults; key youth 2 of 12–25;
    /// released 1, community correction 0.5, drug users 0.5 of 18–65; petitioners 0.5 of 30+.
    fn special_for(
        &mut self,
        alone: bool,
        head: bool,
        age: i64,
        kind: HouseholdKind,
    ) -> Option<SynthSpecial> {
        use SpecialGroupKind::*;
        let x = self.rng.below(10_000);
        let k = if alone && age >= 70 && x < 5000 {
            ElderlyAlone
        } else if x < 160 {
            Disabled
        } else if x < 280 && head && kind == HouseholdKind::Registered {
            LowIncome
        } else if x < 310 && age < 16 {
            LeftBehindChild
        } else if x < 340 && age >= 18 {
            MentalDisorder
        } else if x < 360 && (12..=25).contains(&age) {
            KeyYouth
        } else if x < 370 && (18..=65).contains(&age) {
            Released
        } else if x < 375 && (18..=65).contains(&age) {
            CommunityCorrection
        } else if x < 380 && (18..=65).contains(&age) {
            DrugUser
        } else if x < 385 && age >= 30 {
            Petitioner
        } else {
            return None;
        };
        let risk = if k.is_key_person() {
            self.pick(&[
                (RiskLevel::Low, 60),
                (RiskLevel::Medium, 30),
                (RiskLevel::High, 10),
            ])
        } else {
            self.pick(&[(RiskLevel::Low, 85), (RiskLevel::Medium, 15)])
        };
        let helper_surname = self.surname();
        let helper_sex = if self.chance(500) {
            Sex::Male
        } else {
            Sex::Female
        };
        let helper = self.name(helper_surname, helper_sex);
        let (difficulties, requests) = texts(k);
        let since = self.date_days_ago(60, 1500);
        let every = risk.follow_up_every_days();
        let n = self.range(1, 3);
        let mut follow_ups = Vec::new();
        for j in (0..n).rev() {
            let date = Date::from_unix_days(self.as_of_days - j * every - self.range(0, 5));
            if date >= since {
                let content = FOLLOW_UPS[self.rng.below(FOLLOW_UPS.len() as u64) as usize];
                follow_ups.push((date, content.to_string()));
            }
        }
        Some(SynthSpecial {
            kind: k,
            risk,
            helper,
            difficulties: Some(difficulties.to_string()),
            requests: Some(requests.to_string()),
            since,
            follow_ups,
        })
    }

    fn visits(&mut self, members: &[SynthResident]) -> Vec<SynthVisit> {
        let n = self.pick(&[(0usize, 70), (1, 25), (2, 5)]);
        let mut days: Vec<i64> = (0..n).map(|_| self.range(0, 59)).collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.into_iter()
            .map(|ago| {
                let date = Date::from_unix_days(self.as_of_days - ago);
                let date = date.min(self.as_of);
                let met = if self.chance(150) {
                    "无人在家".to_string()
                } else {
                    let m = &members[self.rng.below(members.len() as u64) as usize];
                    m.name.clone()
                };
                let (findings, follow_up) =
                    VISIT_FINDINGS[self.rng.below(VISIT_FINDINGS.len() as u64) as usize];
                SynthVisit {
                    date,
                    met,
                    findings: findings.to_string(),
                    follow_up: follow_up.map(str::to_string),
                }
            })
            .collect()
    }
}

impl Iterator for Generator<'_> {
    type Item = SynthHousehold;
    fn next(&mut self) -> Option<SynthHousehold> {
        self.household()
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "田", "于", "董", "袁", "潘", "蒋", "蔡", "杜",
];
/// Index into SURNAMES with a weight roughly like their frequency (王, 李, 张 and 刘 are
/// each about 5–7 % of the population; 山东 has many 王, 张, 刘).
const SURNAME_WEIGHTS: &[(usize, u32)] = &[
    (0, 90),
    (1, 75),
    (2, 80),
    (3, 60),
    (4, 30),
    (5, 25),
    (6, 25),
    (7, 15),
    (8, 15),
    (9, 15),
    (10, 15),
    (11, 20),
    (12, 20),
    (13, 10),
    (14, 10),
    (15, 15),
    (16, 10),
    (17, 15),
    (18, 10),
    (19, 8),
    (20, 8),
    (21, 8),
    (22, 6),
    (23, 8),
    (24, 6),
    (25, 6),
    (26, 8),
    (27, 8),
    (28, 6),
    (29, 8),
    (30, 6),
    (31, 5),
    (32, 12),
    (33, 12),
    (34, 8),
    (35, 6),
    (36, 5),
    (37, 5),
    (38, 5),
    (39, 6),
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫",
    "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "建", "国", "志", "文", "立", "成", "东", "海",
];
const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "兰", "玲", "桂", "婷", "雪", "慧",
    "莉", "红", "梅", "琳", "洁", "倩", "颖", "欣", "怡", "佳", "萍", "燕", "晶", "璐", "琴", "云",
];

fn texts(k: SpecialGroupKind) -> (&'static str, &'static str) {
    use SpecialGroupKind::*;
    match k {
        CommunityCorrection => ("就业不稳定，家庭关系紧张", "希望帮助联系就业岗位"),
        Released => ("刚回归社会，缺少稳定收入", "申请临时救助，推荐就业"),
        DrugUser => ("处于社区康复期，需定期尿检", "希望保护个人隐私，协助就业"),
        MentalDisorder => ("需长期服药，家属监护压力大", "申请免费服药和监护补贴"),
        KeyYouth => ("辍学在家，缺少家庭管教", "希望参加职业技能培训"),
        Petitioner => ("对房屋征收补偿有异议", "要求重新评估补偿标准"),
        ElderlyAlone => ("独自居住，行动不便", "希望定期上门探视，安装紧急呼叫设备"),
        Disabled => ("肢体残疾，出行困难", "申请无障碍改造和护理补贴"),
        LowIncome => (
            "家庭收入低于低保标准，有长期病人",
            "按时发放低保金，申请医疗救助",
        ),
        LeftBehindChild => ("父母在外务工，由祖父母照看", "希望提供课后托管和心理关爱"),
    }
}

const FOLLOW_UPS: &[&str] = &[
    "上门走访，本人情况稳定，家属配合",
    "电话联系，了解近期生活和就业情况",
    "与社区民警共同走访，落实帮扶措施",
    "协助办理救助申请，材料已提交街道",
    "本人外出务工，已与家属沟通，保持联系",
];

const VISIT_FINDINGS: &[(&str, Option<&str>)] = &[
    ("家庭情况正常，无新增诉求", None),
    ("反映楼道照明损坏", Some("已报物业维修")),
    ("楼道堆放杂物，存在消防隐患", Some("已督促清理，三日后复查")),
    ("邻里因停车发生口角，已现场调解", Some("一周后回访")),
    ("老人咨询高龄津贴办理", Some("已代办申请材料")),
    ("反映小区污水井堵塞", Some("已吹哨报街道城管部门")),
    ("新增租住人员，已登记信息", None),
    ("宣传反诈知识，发放宣传材料", None),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn grids() -> Vec<String> {
        vec!["370725001001001".into(), "370725001001002".into()]
    }

    #[test]
    fn deterministic_and_exact() {
        let as_of = Date::new(2025, 6, 30).unwrap();
        let g = grids();
        let a: Vec<SynthHousehold> = households(7, 50, &g, as_of).collect();
        let b: Vec<SynthHousehold> = households(7, 50, &g, as_of).collect();
        assert_eq!(a.len(), 50);
        assert_eq!(a, b);
        assert_eq!(a[0].grid, 0);
        assert_eq!(a[49].grid, 1);
        let n: usize = residents(7, 1234, &g, as_of)
            .map(|h| {
                assert_eq!(h.members[0].relation, Relation::Head);
                h.members.len()
            })
            .sum();
        assert_eq!(n, 1234);
        assert_eq!(households(7, 5, &[], as_of).count(), 0);
    }
}
