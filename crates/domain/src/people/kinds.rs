//! The enumerations of a resident's record, with the national standards' codes accepted on
//! input: GB/T 2261.1 (sex), GB/T 3304 (ethnic groups), GB/T 4762 (political status),
//! GB/T 4761 (relation to the head of household).

people_enum!(
    /// 性别 (GB/T 2261.1: 1 男, 2 女). Always derived from the ID number, never typed.
    Sex, "性别", {
        Male => ("male", "男", "1", "男性"),
        Female => ("female", "女", "2", "女性"),
    }
);

people_enum!(
    /// 民族, the 56 ethnic groups of GB/T 3304 in its order (codes 01–56), then 97 其他
    /// (未识别民族) and 98 外国血统中国籍人士. Input accepts the code, the label, or the
    /// label without 族 (汉, 回…).
    Ethnicity, "民族", {
        Han => ("han", "汉族", "01", "1", "汉"),
        Mongol => ("mongol", "蒙古族", "02", "2", "蒙古"),
        Hui => ("hui", "回族", "03", "3", "回"),
        Tibetan => ("tibetan", "藏族", "04", "4", "藏"),
        Uyghur => ("uyghur", "维吾尔族", "05", "5", "维吾尔"),
        Miao => ("miao", "苗族", "06", "6", "苗"),
        Yi => ("yi", "彝族", "07", "7", "彝"),
        Zhuang => ("zhuang", "壮族", "08", "8", "壮"),
        Buyei => ("buyei", "布依族", "09", "9", "布依"),
        Korean => ("korean", "朝鲜族", "10", "朝鲜"),
        Manchu => ("manchu", "满族", "11", "满"),
        Dong => ("dong", "侗族", "12", "侗"),
        Yao => ("yao", "瑶族", "13", "瑶"),
        Bai => ("bai", "白族", "14", "白"),
        Tujia => ("tujia", "土家族", "15", "土家"),
        Hani => ("hani", "哈尼族", "16", "哈尼"),
        Kazakh => ("kazakh", "哈萨克族", "17", "哈萨克"),
        Dai => ("dai", "傣族", "18", "傣"),
        Li => ("li", "黎族", "19", "黎"),
        Lisu => ("lisu", "傈僳族", "20", "傈僳"),
        Va => ("va", "佤族", "21", "佤"),
        She => ("she", "畲族", "22", "畲"),
        Gaoshan => ("gaoshan", "高山族", "23", "高山"),
        Lahu => ("lahu", "拉祜族", "24", "拉祜"),
        Shui => ("shui", "水族", "25", "水"),
        Dongxiang => ("dongxiang", "东乡族", "26", "东乡"),
        Naxi => ("naxi", "纳西族", "27", "纳西"),
        Jingpo => ("jingpo", "景颇族", "28", "景颇"),
        Kyrgyz => ("kyrgyz", "柯尔克孜族", "29", "柯尔克孜"),
        Tu => ("tu", "土族", "30", "土"),
        Daur => ("daur", "达斡尔族", "31", "达斡尔"),
        Mulao => ("mulao", "仫佬族", "32", "仫佬"),
        Qiang => ("qiang", "羌族", "33", "羌"),
        Blang => ("blang", "布朗族", "34", "布朗"),
        Salar => ("salar", "撒拉族", "35", "撒拉"),
        Maonan => ("maonan", "毛南族", "36", "毛南"),
        Gelao => ("gelao", "仡佬族", "37", "仡佬"),
        Xibe => ("xibe", "锡伯族", "38", "锡伯"),
        Achang => ("achang", "阿昌族", "39", "阿昌"),
        Pumi => ("pumi", "普米族", "40", "普米"),
        Tajik => ("tajik", "塔吉克族", "41", "塔吉克"),
        Nu => ("nu", "怒族", "42", "怒"),
        Uzbek => ("uzbek", "乌孜别克族", "43", "乌孜别克"),
        Russian => ("russian", "俄罗斯族", "44", "俄罗斯"),
        Evenki => ("evenki", "鄂温克族", "45", "鄂温克"),
        Deang => ("deang", "德昂族", "46", "德昂"),
        Bonan => ("bonan", "保安族", "47", "保安"),
        Yugur => ("yugur", "裕固族", "48", "裕固"),
        Gin => ("gin", "京族", "49", "京"),
        Tatar => ("tatar", "塔塔尔族", "50", "塔塔尔"),
        Derung => ("derung", "独龙族", "51", "独龙"),
        Oroqen => ("oroqen", "鄂伦春族", "52", "鄂伦春"),
        Hezhen => ("hezhen", "赫哲族", "53", "赫哲"),
        Monba => ("monba", "门巴族", "54", "门巴"),
        Lhoba => ("lhoba", "珞巴族", "55", "珞巴"),
        Jino => ("jino", "基诺族", "56", "基诺"),
        Other => ("other", "其他", "97", "未识别民族", "穿青人"),
        ForeignOrigin => ("foreign_origin", "外国血统中国籍人士", "98"),
    }
);

impl Ethnicity {
    /// The GB/T 3304 code: 1–56, 97, 98.
    pub fn code(self) -> u8 {
        match self {
            Ethnicity::Other => 97,
            Ethnicity::ForeignOrigin => 98,
            e => e.index() as u8 + 1,
        }
    }
}

people_enum!(
    /// 政治面貌, GB/T 4762 (codes 01–13, short names as labels, full names accepted).
    PoliticalStatus, "政治面貌", {
        CpcMember => ("cpc_member", "中共党员", "01", "中国共产党党员", "党员"),
        CpcProbationary => ("cpc_probationary", "中共预备党员", "02", "中国共产党预备党员", "预备党员"),
        CylMember => ("cyl_member", "共青团员", "03", "中国共产主义青年团团员", "团员"),
        Rccpk => ("rccpk", "民革党员", "04", "民革会员", "中国国民党革命委员会会员"),
        Cdl => ("cdl", "民盟盟员", "05", "中国民主同盟盟员"),
        Cndca => ("cndca", "民建会员", "06", "中国民主建国会会员"),
        Capd => ("capd", "民进会员", "07", "中国民主促进会会员"),
        Cpwdp => ("cpwdp", "农工党党员", "08", "中国农工民主党党员"),
        Zgd => ("zgd", "致公党党员", "09", "中国致公党党员"),
        Jiusan => ("jiusan", "九三学社社员", "10"),
        Tdsgl => ("tdsgl", "台盟盟员", "11", "台湾民主自治同盟盟员"),
        NonParty => ("non_party", "无党派人士", "12", "无党派民主人士", "无党派"),
        Masses => ("masses", "群众", "13"),
    }
);

impl PoliticalStatus {
    /// Members of one of the eight democratic parties (民主党派).
    pub fn is_democratic_party(self) -> bool {
        matches!(
            self,
            PoliticalStatus::Rccpk
                | PoliticalStatus::Cdl
                | PoliticalStatus::Cndca
                | PoliticalStatus::Capd
                | PoliticalStatus::Cpwdp
                | PoliticalStatus::Zgd
                | PoliticalStatus::Jiusan
                | PoliticalStatus::Tdsgl
        )
    }
}

people_enum!(
    /// 就业状况: a short list, enough for community statistics and employment services.
    EmploymentStatus, "就业状况", {
        Employed => ("employed", "在职", "就业", "在业", "单位就业"),
        SelfEmployed => ("self_employed", "个体经营", "个体", "个体户"),
        Flexible => ("flexible", "灵活就业", "打零工"),
        Farming => ("farming", "务农", "农民"),
        Unemployed => ("unemployed", "失业", "待业", "无业"),
        Retired => ("retired", "离退休", "退休", "离休"),
        Student => ("student", "在校学生", "学生", "在校"),
        Preschool => ("preschool", "学龄前", "学龄前儿童"),
        Unable => ("unable", "无劳动能力", "丧失劳动能力"),
        Other => ("other", "其他"),
    }
);

people_enum!(
    /// 户籍户 (the household of the household register) or 居住户 (the household someone
    /// actually lives in: tenants, migrants, 人户分离).
    HouseholdKind, "户类型", {
        Registered => ("registered", "户籍户", "户籍", "常住户"),
        Residing => ("residing", "居住户", "居住", "流动户", "暂住户", "租住户"),
    }
);

people_enum!(
    /// 与户主关系, GB/T 4761's main codes (01 本人/02 户主, 10 配偶, 20 子, 30 女, 40 孙子女,
    /// 50 父母, 60 祖父母, 70 兄弟姐妹, 80/97/99 其他). The detailed codes and words are
    /// accepted and folded into their main code as the standard groups them (女婿 is
    /// under 20 子, 儿媳 under 30 女, 公婆/岳父母 under 50 父母).
    Relation, "与户主关系", {
        Head => ("head", "户主", "本人", "01", "02"),
        Spouse => ("spouse", "配偶", "10", "11", "12", "夫", "妻", "丈夫", "妻子"),
        Son => ("son", "子", "20", "儿子", "长子", "次子", "三子", "独生子", "养子", "继子", "女婿"),
        Daughter => ("daughter", "女", "30", "女儿", "长女", "次女", "三女", "独生女", "养女", "继女", "儿媳"),
        Grandchild => ("grandchild", "孙子女", "40", "孙子", "孙女", "外孙子", "外孙女", "外孙"),
        Parent => ("parent", "父母", "50", "51", "52", "父亲", "母亲", "公公", "婆婆", "岳父", "岳母", "继父", "继母"),
        Grandparent => ("grandparent", "祖父母", "60", "祖父", "祖母", "外祖父", "外祖母"),
        Sibling => ("sibling", "兄弟姐妹", "70", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
        Other => ("other", "其他", "80", "97", "99", "其他亲属", "非亲属"),
    }
);

impl Relation {
    /// The sex a relation implies, when it implies one (GB/T 4761 groups 女婿 under 子 and
    /// 儿媳 under 女, which keeps this true).
    pub fn implied_sex(self) -> Option<Sex> {
        match self {
            Relation::Son => Some(Sex::Male),
            Relation::Daughter => Some(Sex::Female),
            _ => None,
        }
    }
}

people_enum!(
    /// 人口变动: how someone came into or left a household. History is kept: a move ends a
    /// membership, it deletes nothing.
    MoveKind, "变动类型", {
        MoveIn => ("move_in", "迁入", "入住", "搬入"),
        MoveOut => ("move_out", "迁出", "搬离", "搬出"),
        Birth => ("birth", "出生"),
        Death => ("death", "死亡"),
        Transfer => ("transfer", "户间迁移", "分户", "并户"),
    }
);

impl MoveKind {
    /// Whether the move ends the person's membership of the household.
    pub fn ends_membership(self) -> bool {
        matches!(
            self,
            MoveKind::MoveOut | MoveKind::Death | MoveKind::Transfer
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snake(debug: &str) -> String {
        let mut out = String::new();
        for (i, c) in debug.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// serde writes the variant in snake_case; the key must be the same text.
    #[test]
    fn keys_are_the_serde_names() {
        fn check<T: std::fmt::Debug + Copy>(all: &[T], key: fn(T) -> &'static str) {
            for v in all {
                assert_eq!(snake(&format!("{v:?}")), key(*v));
            }
        }
        check(Sex::ALL, Sex::key);
        check(Ethnicity::ALL, Ethnicity::key);
        check(PoliticalStatus::ALL, PoliticalStatus::key);
        check(EmploymentStatus::ALL, EmploymentStatus::key);
        check(HouseholdKind::ALL, HouseholdKind::key);
        check(Relation::ALL, Relation::key);
        check(MoveKind::ALL, MoveKind::key);
    }

    #[test]
    fn standard_codes_and_spellings() {
        assert_eq!(Ethnicity::ALL.len(), 58);
        assert_eq!(Ethnicity::parse("01").unwrap(), Ethnicity::Han);
        assert_eq!(Ethnicity::parse("回").unwrap(), Ethnicity::Hui);
        assert_eq!(Ethnicity::parse("基诺族").unwrap().code(), 56);
        assert_eq!(Ethnicity::Other.code(), 97);
        assert_eq!(
            PoliticalStatus::parse("中国共产党党员").unwrap(),
            PoliticalStatus::CpcMember
        );
        assert_eq!(
            PoliticalStatus::parse("13").unwrap(),
            PoliticalStatus::Masses
        );
        assert_eq!(Relation::parse("儿媳").unwrap(), Relation::Daughter);
        assert_eq!(Relation::parse("本人").unwrap(), Relation::Head);
        assert_eq!(
            HouseholdKind::parse("租住户").unwrap(),
            HouseholdKind::Residing
        );
        let e = Sex::parse("未知").unwrap_err();
        assert_eq!(e.to_string(), "“未知”不是有效的性别，可选：男、女");
    }
}
