//! People (人): households, residents, special groups and key persons, grid workers' visits.
//!
//! The most sensitive data the county holds lives here, so the types help keep it:
//! - [`IdNumber`] and [`Phone`] exist only when valid (GB 11643 check character, mainland
//!   mobile or landline), have one canonical text (`as_str`, what the store encrypts and feeds
//!   its keyed blind index) and a masked text (`mask`, what every page shows). Neither
//!   implements `Display` or `Serialize`, and their `Debug` is masked: the full value leaves
//!   only through a deliberate `as_str()`. Error messages never repeat the value.
//! - Special-group kinds carry their [`special::Sensitivity`], so the web layer can decide
//!   visibility by data (the permissions table names which roles see which class).
//!
//! Forms (`*Input::parse`) take text fields and return the parsed input or every field's
//! message, as `registry` does; the spreadsheet import is in [`import`], statistics in
//! [`stats`], the synthetic county's residents in [`synth`].

/// Like `place`'s `labelled_enum!`, with extra spellings accepted on input (GB codes, short
/// and long forms) and `PartialOrd`/`Ord` so kinds can key sorted maps.
macro_rules! people_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, {
        $($(#[$vdoc:meta])* $variant:ident => ($key:literal, $label:literal $(, $alias:literal)* $(,)?)),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WHAT: &'static str = $what;

            /// The stable key used in the database and the API.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// The Chinese label shown to users.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Position in `ALL`, for counting arrays.
            pub fn index(self) -> usize {
                self as usize
            }

            /// Accepts the key, the Chinese label or one of the usual other spellings.
            pub fn parse(s: &str) -> Result<Self, $crate::place::UnknownValue> {
                let s = s.trim();
                $(if s == $key || s == $label $(|| s == $alias)* { return Ok($name::$variant); })+
                Err($crate::place::UnknownValue {
                    what: $what,
                    value: s.chars().take(20).collect(),
                    choices: [$($label),+].join("、"),
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

pub mod calendar;
mod form;
pub mod id;
pub mod import;
pub mod input;
pub mod kinds;
pub mod phone;
pub mod special;
pub mod stats;
pub mod synth;

pub use id::{IdError, IdNumber};
pub use input::{HouseholdInput, MoveInput, ResidentEditInput, ResidentInput, VisitInput};
pub use kinds::{
    EmploymentStatus, Ethnicity, HouseholdKind, MoveKind, PoliticalStatus, Relation, Sex,
};
pub use phone::{Phone, PhoneError, PhoneKind};
pub use special::{
    EndRecordInput, FollowUpInput, RiskLevel, Sensitivity, SpecialGroupKind, SpecialRecordInput,
};
pub use stats::{AgeBand, PeopleStats};
