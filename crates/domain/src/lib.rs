//! wangge's domain: the types and rules of community grid governance.
//!
//! Architecture invariant: this crate does no I/O, no async, no SQL and no HTTP, and depends
//! on no other crate of the workspace. Everything here is a pure function of its inputs.

pub mod access;
pub mod annex2;
pub mod code;
pub mod demo;
pub mod people;
pub mod place;
pub mod policy;
pub mod redraw;
pub mod registry;
pub mod text;

pub use code::{CodeError, CommunityCode, CountyCode, GridCode, StreetCode};
pub use place::{
    Boundary, CommunityKind, CompoundKind, Date, FieldError, GridKind, Tier, UnknownValue,
};
