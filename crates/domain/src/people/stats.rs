//! Statistics of people per grid, community and street: plain counters that the store's
//! queries fill (row by row or from grouped counts) and that add up the tree.
//!
//! Age bands: 0–17 (未成年人, the legal minority), 18–34 (青年), 35–59 (中年; 60 is the
//! statutory line of 老年人 in the 老年人权益保障法), 60–79 (老年人), 80+ (高龄老人, the line
//! of the 高龄津贴). Summing the last two gives the usual "60 岁以上" figure.

use serde::{Deserialize, Serialize};

use super::kinds::{HouseholdKind, Sex};
use super::special::SpecialGroupKind;

people_enum!(
    /// 年龄段.
    AgeBand, "年龄段", {
        Minor => ("minor", "0–17岁", "0-17岁", "未成年人"),
        Young => ("young", "18–34岁", "18-34岁"),
        MiddleAged => ("middle_aged", "35–59岁", "35-59岁"),
        Elderly => ("elderly", "60–79岁", "60-79岁"),
        VeryOld => ("very_old", "80岁及以上", "80岁以上", "高龄"),
    }
);

impl AgeBand {
    pub const COUNT: usize = 5;

    pub fn of(age: u32) -> AgeBand {
        match age {
            0..=17 => AgeBand::Minor,
            18..=34 => AgeBand::Young,
            35..=59 => AgeBand::MiddleAged,
            60..=79 => AgeBand::Elderly,
            _ => AgeBand::VeryOld,
        }
    }

    /// The ages of the band, inclusive (`None` above for the last), for SQL ranges.
    pub fn ages(self) -> (u32, Option<u32>) {
        match self {
            AgeBand::Minor => (0, Some(17)),
            AgeBand::Young => (18, Some(34)),
            AgeBand::MiddleAged => (35, Some(59)),
            AgeBand::Elderly => (60, Some(79)),
            AgeBand::VeryOld => (80, None),
        }
    }
}

/// The people figures of a grid (or a community, street, county: the sum of its grids).
/// "Here" means in the area counted: a resident counts as 户籍人口 where his registered
/// household is and as 居住人口 where he lives; 人户分离 counts those registered here who
/// live elsewhere, or live here registered elsewhere, once each where counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeopleStats {
    pub households: i64,
    pub registered_households: i64,
    pub residing_households: i64,
    /// Distinct people counted here (registered here, living here, or both).
    pub residents: i64,
    pub registered_residents: i64,
    pub living_residents: i64,
    pub separated: i64,
    pub male: i64,
    pub female: i64,
    /// By [`AgeBand::index`].
    pub age_bands: [i64; AgeBand::COUNT],
    /// Records open at the time counted, by [`SpecialGroupKind::index`].
    pub special_groups: [i64; SpecialGroupKind::COUNT],
    pub visits_this_month: i64,
}

impl PeopleStats {
    pub fn add(&mut self, o: &PeopleStats) {
        self.households += o.households;
        self.registered_households += o.registered_households;
        self.residing_households += o.residing_households;
        self.residents += o.residents;
        self.registered_residents += o.registered_residents;
        self.living_residents += o.living_residents;
        self.separated += o.separated;
        self.male += o.male;
        self.female += o.female;
        for (a, b) in self.age_bands.iter_mut().zip(o.age_bands) {
            *a += b;
        }
        for (a, b) in self.special_groups.iter_mut().zip(o.special_groups) {
            *a += b;
        }
        self.visits_this_month += o.visits_this_month;
    }

    /// The people counters (residents, registered, living, 人户分离, sex, age) of `o`, the
    /// place counted as one; households, special groups and visits stay as they are (each is
    /// in one part only, so the parts' sum is right for them).
    pub fn set_people(&mut self, o: &PeopleStats) {
        self.residents = o.residents;
        self.registered_residents = o.registered_residents;
        self.living_residents = o.living_residents;
        self.separated = o.separated;
        self.male = o.male;
        self.female = o.female;
        self.age_bands = o.age_bands;
    }

    pub fn add_households(&mut self, kind: HouseholdKind, n: i64) {
        self.households += n;
        match kind {
            HouseholdKind::Registered => self.registered_households += n,
            HouseholdKind::Residing => self.residing_households += n,
        }
    }

    /// One person counted here: whether registered here, living here, sex and age.
    pub fn add_resident(&mut self, registered_here: bool, living_here: bool, sex: Sex, age: u32) {
        self.residents += 1;
        self.registered_residents += i64::from(registered_here);
        self.living_residents += i64::from(living_here);
        self.separated += i64::from(registered_here != living_here);
        match sex {
            Sex::Male => self.male += 1,
            Sex::Female => self.female += 1,
        }
        self.age_bands[AgeBand::of(age).index()] += 1;
    }

    /// `n` people alike (from a grouped query): as [`add_resident`](Self::add_resident).
    pub fn add_residents(
        &mut self,
        registered_here: bool,
        living_here: bool,
        sex: Sex,
        band: AgeBand,
        n: i64,
    ) {
        self.residents += n;
        if registered_here {
            self.registered_residents += n;
        }
        if living_here {
            self.living_residents += n;
        }
        if registered_here != living_here {
            self.separated += n;
        }
        match sex {
            Sex::Male => self.male += n,
            Sex::Female => self.female += n,
        }
        self.age_bands[band.index()] += n;
    }

    /// `n` people of one age band (from a grouped query).
    pub fn add_band(&mut self, band: AgeBand, n: i64) {
        self.age_bands[band.index()] += n;
    }

    pub fn add_special(&mut self, kind: SpecialGroupKind, n: i64) {
        self.special_groups[kind.index()] += n;
    }

    pub fn by_age(&self) -> impl Iterator<Item = (AgeBand, i64)> + '_ {
        AgeBand::ALL.iter().map(|b| (*b, self.age_bands[b.index()]))
    }

    pub fn by_special(&self) -> impl Iterator<Item = (SpecialGroupKind, i64)> + '_ {
        SpecialGroupKind::ALL
            .iter()
            .map(|k| (*k, self.special_groups[k.index()]))
    }

    /// 60 岁以上.
    pub fn aged_60_and_over(&self) -> i64 {
        self.age_bands[AgeBand::Elderly.index()] + self.age_bands[AgeBand::VeryOld.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_sums() {
        assert_eq!(AgeBand::of(17), AgeBand::Minor);
        assert_eq!(AgeBand::of(18), AgeBand::Young);
        assert_eq!(AgeBand::of(60), AgeBand::Elderly);
        assert_eq!(AgeBand::of(104), AgeBand::VeryOld);
        let mut a = PeopleStats::default();
        a.add_households(HouseholdKind::Registered, 2);
        a.add_resident(true, true, Sex::Male, 40);
        a.add_resident(true, false, Sex::Female, 82);
        a.add_special(SpecialGroupKind::ElderlyAlone, 1);
        let mut t = PeopleStats::default();
        t.add(&a);
        t.add(&a);
        assert_eq!((t.households, t.residents, t.separated), (4, 4, 2));
        assert_eq!(t.aged_60_and_over(), 2);
        assert_eq!(
            t.by_special()
                .find(|(k, _)| *k == SpecialGroupKind::ElderlyAlone),
            Some((SpecialGroupKind::ElderlyAlone, 2))
        );
    }
}
