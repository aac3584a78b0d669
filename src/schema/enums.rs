//! Enums shared by several types, with their Graph spellings.

use async_graphql::Enum;

/// A business's industry, as Business Manager lists them.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Vertical {
    Advertising,
    Automotive,
    ConsumerPackagedGoods,
    Ecommerce,
    Education,
    EnergyAndUtilities,
    EntertainmentAndMedia,
    FinancialServices,
    Gaming,
    GovernmentAndPolitics,
    Marketing,
    OrganizationsAndAssociations,
    ProfessionalServices,
    Retail,
    Technology,
    Telecom,
    Travel,
    Other,
    NotSet,
    Health,
    Luxury,
    NonProfit,
    Restaurant,
}

impl Vertical {
    const ALL: [(Vertical, &'static str); 23] = [
        (Vertical::Advertising, "ADVERTISING"),
        (Vertical::Automotive, "AUTOMOTIVE"),
        (Vertical::ConsumerPackagedGoods, "CONSUMER_PACKAGED_GOODS"),
        (Vertical::Ecommerce, "ECOMMERCE"),
        (Vertical::Education, "EDUCATION"),
        (Vertical::EnergyAndUtilities, "ENERGY_AND_UTILITIES"),
        (Vertical::EntertainmentAndMedia, "ENTERTAINMENT_AND_MEDIA"),
        (Vertical::FinancialServices, "FINANCIAL_SERVICES"),
        (Vertical::Gaming, "GAMING"),
        (Vertical::GovernmentAndPolitics, "GOVERNMENT_AND_POLITICS"),
        (Vertical::Marketing, "MARKETING"),
        (
            Vertical::OrganizationsAndAssociations,
            "ORGANIZATIONS_AND_ASSOCIATIONS",
        ),
        (Vertical::ProfessionalServices, "PROFESSIONAL_SERVICES"),
        (Vertical::Retail, "RETAIL"),
        (Vertical::Technology, "TECHNOLOGY"),
        (Vertical::Telecom, "TELECOM"),
        (Vertical::Travel, "TRAVEL"),
        (Vertical::Other, "OTHER"),
        (Vertical::NotSet, "NOT_SET"),
        (Vertical::Health, "HEALTH"),
        (Vertical::Luxury, "LUXURY"),
        (Vertical::NonProfit, "NON_PROFIT"),
        (Vertical::Restaurant, "RESTAURANT"),
    ];

    /// Graph's spelling.
    pub fn as_graph(self) -> &'static str {
        Vertical::ALL
            .iter()
            .find(|(v, _)| *v == self)
            .map_or("OTHER", |(_, name)| name)
    }

    /// From Graph's spelling; `None` for a value Graph added after this gateway was built.
    pub fn from_graph(name: &str) -> Option<Vertical> {
        Vertical::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(v, _)| *v)
    }
}

/// An ad account's status (Graph's `account_status` numbers).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum AdAccountStatus {
    Active,
    Disabled,
    Unsettled,
    PendingRiskReview,
    PendingSettlement,
    InGracePeriod,
    PendingClosure,
    Closed,
    AnyActive,
    AnyClosed,
}

impl AdAccountStatus {
    /// From Graph's number; `None` for a number Graph added after this gateway was built.
    pub fn from_graph(status: i64) -> Option<AdAccountStatus> {
        Some(match status {
            1 => AdAccountStatus::Active,
            2 => AdAccountStatus::Disabled,
            3 => AdAccountStatus::Unsettled,
            7 => AdAccountStatus::PendingRiskReview,
            8 => AdAccountStatus::PendingSettlement,
            9 => AdAccountStatus::InGracePeriod,
            100 => AdAccountStatus::PendingClosure,
            101 => AdAccountStatus::Closed,
            201 => AdAccountStatus::AnyActive,
            202 => AdAccountStatus::AnyClosed,
            _ => return None,
        })
    }
}

/// A person's role in a business.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum BusinessRole {
    /// Manages the business, its people and its assets.
    Admin,
    /// Works on the assets they are given.
    Employee,
}

impl BusinessRole {
    /// Graph's spelling.
    pub fn as_graph(self) -> &'static str {
        match self {
            BusinessRole::Admin => "ADMIN",
            BusinessRole::Employee => "EMPLOYEE",
        }
    }

    /// From Graph's spelling; `None` for a role Graph added after this gateway was built.
    pub fn from_graph(name: &str) -> Option<BusinessRole> {
        match name {
            "ADMIN" => Some(BusinessRole::Admin),
            "EMPLOYEE" => Some(BusinessRole::Employee),
            _ => None,
        }
    }
}

/// A finance role in a business, beside the person's business role: who may read invoices
/// and funding (`FINANCE_ANALYST`) or also manage them (`FINANCE_EDITOR`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum FinanceRole {
    /// Reads invoices, payment methods and credit lines.
    FinanceAnalyst,
    /// Reads and manages them.
    FinanceEditor,
}

impl FinanceRole {
    /// Graph's spelling.
    pub fn as_graph(self) -> &'static str {
        match self {
            FinanceRole::FinanceAnalyst => "FINANCE_ANALYST",
            FinanceRole::FinanceEditor => "FINANCE_EDITOR",
        }
    }

    /// From Graph's spelling; `None` for a role Graph added after this gateway was built.
    pub fn from_graph(name: &str) -> Option<FinanceRole> {
        match name {
            "FINANCE_ANALYST" => Some(FinanceRole::FinanceAnalyst),
            "FINANCE_EDITOR" => Some(FinanceRole::FinanceEditor),
            _ => None,
        }
    }

    /// The business user tasks that stand for the role on today's API: an editor
    /// (`FINANCE_EDIT`) views too (`FINANCE_VIEW`).
    pub fn tasks(self) -> &'static [&'static str] {
        match self {
            FinanceRole::FinanceAnalyst => &["FINANCE_VIEW"],
            FinanceRole::FinanceEditor => &["FINANCE_EDIT", "FINANCE_VIEW"],
        }
    }
}

/// Where a person is in a business.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PermissionStatus {
    /// Invited by email; has not accepted yet.
    Invited,
    /// A member.
    Active,
    /// A member whose access is suspended.
    Suspended,
}

impl PermissionStatus {
    /// From Graph's spelling; `None` for a status Graph added after this gateway was built.
    pub fn from_graph(name: &str) -> Option<PermissionStatus> {
        match name {
            "INVITED" => Some(PermissionStatus::Invited),
            "ACTIVE" => Some(PermissionStatus::Active),
            "SUSPENDED" => Some(PermissionStatus::Suspended),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vertical_round_trips_through_its_graph_spelling() {
        for (vertical, name) in Vertical::ALL {
            assert_eq!(vertical.as_graph(), name);
            assert_eq!(Vertical::from_graph(name), Some(vertical));
        }
        assert_eq!(Vertical::from_graph("SPACE_TRAVEL"), None);
    }

    #[test]
    fn roles_and_statuses_read_graphs_spellings() {
        for role in [BusinessRole::Admin, BusinessRole::Employee] {
            assert_eq!(BusinessRole::from_graph(role.as_graph()), Some(role));
        }
        assert_eq!(BusinessRole::from_graph("OWNER"), None);
        assert_eq!(
            PermissionStatus::from_graph("SUSPENDED"),
            Some(PermissionStatus::Suspended)
        );
        assert_eq!(PermissionStatus::from_graph("GONE"), None);
    }
}
