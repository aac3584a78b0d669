//! Money as the sandbox keeps it: whole minor units (`i64`, cents for USD) of a currency, never
//! floating point, rendered as Graph's decimal strings (`"1234.56"`); and the currencies an ad
//! account may be created in, with Meta's offsets.

/// An ad account currency: its ISO 4217 code and how many decimal places its amounts have.
/// [guess] A subset of the currencies Meta lists for ad accounts, from memory; Meta bills the
/// currencies with an offset of 1 (JPY, KRW, ...) in whole units, so they have no decimals
/// here.
const CURRENCIES: [(&str, u32); 42] = [
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BDT", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 0),
    ("CRC", 0),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 0),
    ("IDR", 0),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TWD", 0),
    ("USD", 2),
];

/// The decimal places of a supported currency; `None` for any other code.
pub(crate) fn decimals(currency: &str) -> Option<u32> {
    CURRENCIES
        .iter()
        .find(|(code, _)| *code == currency)
        .map(|(_, decimals)| *decimals)
}

/// The supported currency codes, for error messages.
pub(crate) fn currency_codes() -> Vec<&'static str> {
    CURRENCIES.iter().map(|(code, _)| *code).collect()
}

/// An amount of `minor` units of `currency` as a decimal string: `123456` USD is `"1234.56"`,
/// `-5` USD is `"-0.05"`, `1200` JPY is `"1200"`. An unknown currency is taken to have two
/// decimals.
pub(crate) fn decimal(minor: i64, currency: &str) -> String {
    let places = decimals(currency).unwrap_or(2);
    if places == 0 {
        return minor.to_string();
    }
    let scale = 10_u64.pow(places);
    let sign = if minor < 0 { "-" } else { "" };
    let units = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        units / scale,
        units % scale,
        width = places as usize
    )
}

/// A decimal string (`"1234.56"`, `"1234.5"`, `"1234"`) as minor units of `currency`: digits,
/// at most one point, no more decimals than the currency has, no sign; `None` otherwise or
/// when it does not fit an `i64`.
pub(crate) fn parse_decimal(text: &str, currency: &str) -> Option<i64> {
    let places = decimals(currency).unwrap_or(2);
    let (units, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !all_digits(units) || !all_digits(fraction) {
        return None;
    }
    let fraction_len = u32::try_from(fraction.len()).ok()?;
    if fraction_len > places || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let scale = 10_i64.checked_pow(places)?;
    let fraction_value = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<i64>().ok()? * 10_i64.checked_pow(places - fraction_len)?
    };
    units
        .parse::<i64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(fraction_value)
}

/// `{"amount": "<decimal>", "currency": "<code>"}`, the shape of the extended credit's amounts.
pub(crate) fn amount_json(minor: i64, currency: &str) -> serde_json::Value {
    serde_json::json!({ "amount": decimal(minor, currency), "currency": currency })
}

/// Splits `total` minor units evenly into `parts` shares that add up to `total` exactly: each
/// share is `total / parts`, and the first `total % parts` shares get one unit more. A total
/// below zero is split as zero (no credit to hand out).
pub(crate) fn split_evenly(total: i64, parts: usize) -> Vec<i64> {
    let Ok(count) = i64::try_from(parts) else {
        return Vec::new();
    };
    if count == 0 {
        return Vec::new();
    }
    let total = total.max(0);
    let (share, remainder) = (total / count, total % count);
    (0..count)
        .map(|index| share + i64::from(index < remainder))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_render_as_exact_decimal_strings() {
        assert_eq!(decimal(123_456, "USD"), "1234.56");
        assert_eq!(decimal(5, "USD"), "0.05");
        assert_eq!(decimal(-5, "EUR"), "-0.05");
        assert_eq!(decimal(0, "USD"), "0.00");
        assert_eq!(decimal(1200, "JPY"), "1200");
        assert_eq!(decimal(i64::MIN, "USD"), "-92233720368547758.08");
    }

    #[test]
    fn an_even_split_adds_up_and_gives_the_remainder_to_the_first_parts() {
        assert_eq!(
            split_evenly(3_765_433, 3),
            vec![1_255_145, 1_255_144, 1_255_144]
        );
        assert_eq!(split_evenly(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split_evenly(-7, 2), vec![0, 0]);
        assert!(split_evenly(100, 0).is_empty());
        for parts in 1..20 {
            assert_eq!(
                split_evenly(1_000_003, parts).iter().sum::<i64>(),
                1_000_003
            );
        }
    }

    #[test]
    fn decimal_strings_parse_back_to_exact_minor_units() {
        assert_eq!(parse_decimal("1234.56", "USD"), Some(123_456));
        assert_eq!(parse_decimal("1234.5", "USD"), Some(123_450));
        assert_eq!(parse_decimal(" 7 ", "USD"), Some(700));
        assert_eq!(parse_decimal("1200", "JPY"), Some(1200));
        for bad in [
            "",
            ".5",
            "1.",
            "1.234",
            "-1.00",
            "1e3",
            "1,000.00",
            "99999999999999999999",
        ] {
            assert_eq!(parse_decimal(bad, "USD"), None, "{bad}");
        }
        assert_eq!(parse_decimal("12.5", "JPY"), None);
    }

    #[test]
    fn only_supported_currencies_are_known() {
        assert_eq!(decimals("USD"), Some(2));
        assert_eq!(decimals("KRW"), Some(0));
        assert_eq!(decimals("XYZ"), None);
        assert!(currency_codes().windows(2).all(|w| w[0] < w[1]));
    }
}
