//! Rate-limit usage headers (`x-app-usage`, `x-business-use-case-usage`, docs/graph-api.md §6).

use std::collections::HashMap;

use serde::Deserialize;

/// `x-app-usage`: percentages of the app's hourly limits used by this token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct AppUsage {
    /// Percent of the call count limit.
    #[serde(default)]
    pub call_count: u32,
    /// Percent of the total time limit.
    #[serde(default)]
    pub total_time: u32,
    /// Percent of the CPU time limit.
    #[serde(default)]
    pub total_cputime: u32,
}

impl AppUsage {
    /// The highest of the three figures: throttling may start when it reaches 100.
    pub(crate) fn peak(&self) -> u32 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

/// One entry of `x-business-use-case-usage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct BusinessUseCaseUsage {
    /// The use case, e.g. `business_management`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Percent of the call count limit.
    #[serde(default)]
    pub call_count: u32,
    /// Percent of the total time limit.
    #[serde(default)]
    pub total_time: u32,
    /// Percent of the CPU time limit.
    #[serde(default)]
    pub total_cputime: u32,
    /// Minutes until calls are accepted again, when throttled.
    #[serde(default)]
    pub estimated_time_to_regain_access: u64,
}

impl BusinessUseCaseUsage {
    /// The highest of the three figures.
    pub(crate) fn peak(&self) -> u32 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

/// The usage headers of one answer, read once.
#[derive(Debug, Clone, Default)]
pub(crate) struct UsageReport {
    /// `x-app-usage`, when present and readable (absent does not mean zero).
    pub app: Option<AppUsage>,
    /// `x-business-use-case-usage`, keyed by business id.
    pub businesses: HashMap<String, Vec<BusinessUseCaseUsage>>,
}

impl UsageReport {
    /// Reads both usage headers of an answer.
    pub(crate) fn from_headers(headers: &reqwest::header::HeaderMap) -> UsageReport {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        UsageReport {
            app: header("x-app-usage").and_then(parse_app_usage),
            businesses: header("x-business-use-case-usage")
                .and_then(parse_business_usage)
                .unwrap_or_default(),
        }
    }

    /// The longest wait any business use case announces, when one does.
    pub(crate) fn regain_wait(&self) -> Option<std::time::Duration> {
        self.businesses
            .values()
            .flatten()
            .map(|u| u.estimated_time_to_regain_access)
            .max()
            .map(|minutes| std::time::Duration::from_secs(minutes * 60))
    }
}

/// Reads `x-app-usage`; `None` when absent or unreadable (which does not mean zero).
pub(crate) fn parse_app_usage(header: &str) -> Option<AppUsage> {
    serde_json::from_str(header).ok()
}

/// Reads `x-business-use-case-usage`, keyed by business id.
pub(crate) fn parse_business_usage(
    header: &str,
) -> Option<HashMap<String, Vec<BusinessUseCaseUsage>>> {
    serde_json::from_str(header).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_headers_are_read() {
        let app = parse_app_usage(r#"{"call_count":28,"total_time":25,"total_cputime":91}"#)
            .expect("valid header");
        assert_eq!(app.peak(), 91);
        let buc = parse_business_usage(
            r#"{"200001":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":5}]}"#,
        )
        .expect("valid header");
        assert_eq!(buc["200001"][0].peak(), 97);
        assert_eq!(buc["200001"][0].estimated_time_to_regain_access, 5);
        assert!(parse_app_usage("nonsense").is_none());
    }
}
