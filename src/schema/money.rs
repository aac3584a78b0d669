//! Money: exact decimal amounts with their currency, never through floating point.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

/// Currencies whose amounts Meta counts in whole units (offset 1): everywhere else a minor
/// unit is a hundredth (offset 100). From Meta's table of ad account currencies.
const WHOLE_UNIT_CURRENCIES: &[&str] = &[
    "CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND",
];

/// The currencies an ad account may have (Meta's table of ad account currencies).
pub(crate) const AD_ACCOUNT_CURRENCIES: &[&str] = &[
    "AED", "ARS", "AUD", "BDT", "BGN", "BHD", "BOB", "BRL", "CAD", "CHF", "CLP", "CNY", "COP",
    "CRC", "CZK", "DKK", "DZD", "EGP", "EUR", "GBP", "GTQ", "HKD", "HNL", "HRK", "HUF", "IDR",
    "ILS", "INR", "ISK", "JOD", "JPY", "KES", "KRW", "LTL", "LVL", "MOP", "MXN", "MYR", "NGN",
    "NIO", "NOK", "NZD", "PEN", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "SAR",
    "SEK", "SGD", "SKK", "THB", "TRY", "TWD", "USD", "UYU", "VEF", "VND", "ZAR",
];

/// Meta's offset of a currency: how many of Graph's minor-unit amounts (spend caps, budgets)
/// make one unit. 100 unless the currency has no minor unit.
pub(crate) fn currency_offset(currency: &str) -> u32 {
    if WHOLE_UNIT_CURRENCIES.contains(&currency) {
        1
    } else {
        100
    }
}

/// An exact amount of money.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub(crate) struct Money {
    /// The amount in the currency's major unit, as an exact decimal string (`"1234.56"`).
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Meta's currency offset: minor units per major unit (100 for USD, 1 for JPY), for
    /// reading Graph's minor-unit amounts such as an ad account's `spendCap`.
    pub offset: u32,
}

impl Money {
    /// `amount` of `currency`.
    pub(crate) fn new(amount: Decimal, currency: &str) -> Money {
        Money {
            amount,
            currency: currency.to_owned(),
            offset: currency_offset(currency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_metas_table() {
        assert_eq!(currency_offset("USD"), 100);
        assert_eq!(currency_offset("JPY"), 1);
        assert!(AD_ACCOUNT_CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert!(
            WHOLE_UNIT_CURRENCIES
                .iter()
                .all(|c| AD_ACCOUNT_CURRENCIES.contains(c))
        );
    }
}
