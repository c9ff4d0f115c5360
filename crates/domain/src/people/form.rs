//! The form reader of `registry`, with the people's field kinds.

use crate::place::{Date, FieldError, UnknownValue, parse_name, parse_optional_text};
use crate::registry::{FieldErrors, Fields};

pub(crate) struct Form<'a> {
    fields: &'a Fields,
    pub errors: FieldErrors,
}

impl<'a> Form<'a> {
    pub fn new(fields: &'a Fields) -> Self {
        Form {
            fields,
            errors: FieldErrors::new(),
        }
    }

    pub fn raw(&self, name: &str) -> &'a str {
        self.fields.get(name).map(|s| s.trim()).unwrap_or("")
    }

    pub fn take<T>(&mut self, name: &str, r: Result<T, impl ToString>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(name, e.to_string());
                None
            }
        }
    }

    /// Records an error for a field, keeping the first one.
    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors
            .entry(name.to_string())
            .or_insert_with(|| message.into());
    }

    pub fn name(&mut self, field: &str, max: usize) -> Option<String> {
        let r = parse_name(self.raw(field), max);
        self.take(field, r)
    }

    pub fn text(&mut self, field: &str, max: usize) -> Option<String> {
        let r = parse_optional_text(self.raw(field), max);
        self.take(field, r).flatten()
    }

    /// An optional enumeration value: empty is `None`.
    pub fn choice<T>(
        &mut self,
        field: &str,
        parse: fn(&str) -> Result<T, UnknownValue>,
    ) -> Option<T> {
        if self.raw(field).is_empty() {
            None
        } else {
            let r = parse(self.raw(field));
            self.take(field, r)
        }
    }

    /// A required enumeration value.
    pub fn required<T>(
        &mut self,
        field: &str,
        parse: fn(&str) -> Result<T, UnknownValue>,
    ) -> Option<T> {
        if self.raw(field).is_empty() {
            self.error(field, FieldError::Empty.to_string());
            None
        } else {
            self.choice(field, parse)
        }
    }

    /// An optional date, not after `today`.
    pub fn past_date(&mut self, field: &str, today: Date) -> Option<Date> {
        if self.raw(field).is_empty() {
            return None;
        }
        let r = Date::parse(self.raw(field));
        let d = self.take(field, r)?;
        if d > today {
            self.error(field, format!("不能晚于今天（{today}）"));
            return None;
        }
        Some(d)
    }

    /// An optional date of something just done (a visit): not after `today`, nor
    /// more than a year before it (a mistyped year, 1900 for 2025, is caught; an older visit
    /// is not one to record now).
    pub fn recent_date(&mut self, field: &str, today: Date) -> Option<Date> {
        let d = self.past_date(field, today)?;
        // The same day a year ago (28 February for a 29th).
        let year_ago = Date::new(today.year() - 1, today.month(), today.day())
            .or_else(|| Date::new(today.year() - 1, today.month(), 28))?;
        if d < year_ago {
            self.error(
                field,
                format!("不能早于一年前的今天（{year_ago}），请检查年份"),
            );
            return None;
        }
        Some(d)
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, FieldErrors> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}
