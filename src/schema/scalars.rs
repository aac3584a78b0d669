//! The schema's own scalars. `Date` is a calendar date, `YYYY-MM-DD` both ways; `Decimal` (an
//! exact decimal number written as a string, never a float) comes from async-graphql's
//! `rust_decimal` support.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date without a time zone, written `YYYY-MM-DD` (ISO 8601), e.g. `2026-11-01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date(pub(crate) NaiveDate);

impl Date {
    /// Reads `YYYY-MM-DD` exactly, or says why the text is not a date.
    pub(crate) fn parse_text(text: &str) -> Result<Date, String> {
        // chrono alone takes `2026-1-5` and `+2026-01-05`; a date here is exactly ISO's form.
        let iso = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if iso => Ok(Date(date)),
            _ => Err(format!(
                "{text:?} is not a date: write YYYY-MM-DD, e.g. 2026-11-01"
            )),
        }
    }
}

/// A calendar date without a time zone, written `YYYY-MM-DD` (ISO 8601), e.g. `2026-11-01`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.iso.org/iso-8601-date-and-time-format.html"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        Date::parse_text(text).map_err(InputValueError::custom)
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_both_ways() {
        let date = <Date as ScalarType>::parse(Value::String("2026-02-28".into())).expect("a date");
        assert_eq!(date.to_value(), Value::String("2026-02-28".into()));
        for bad in [
            "2026-02-30",
            "2026-2-28",
            "2026/02/28",
            "28-02-2026",
            "",
            "+2026-02-28",
        ] {
            assert!(
                <Date as ScalarType>::parse(Value::String(bad.into())).is_err(),
                "{bad}"
            );
        }
        assert!(<Date as ScalarType>::parse(Value::Number(20260228.into())).is_err());
    }
}
