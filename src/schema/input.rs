//! Inputs checked before any Graph call. Each newtype can only be made by `parse`, so holding
//! one is proof its value was checked; a bad value is an `INVALID_ARGUMENT` naming the argument.

use async_graphql::Result;

use super::error::invalid_argument;
use crate::graph::write::ProjectAsset;

/// Digits only, as Graph's object ids are, and short enough for a URL segment.
fn is_digits(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_digit())
}

/// A Graph object id: a string of digits (not `me`, not an ad account's `act_` form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectId(String);

impl ObjectId {
    /// Checks `raw`, given as `argument`.
    pub(crate) fn parse(argument: &str, raw: &str) -> Result<ObjectId> {
        if is_digits(raw) {
            Ok(ObjectId(raw.to_owned()))
        } else {
            Err(invalid_argument(
                argument,
                &format!("{raw:?} is not a Graph object id (a string of digits)"),
            ))
        }
    }

    /// The id as Graph spells it.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Graph user id: a string of digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserId(String);

impl UserId {
    /// Checks `raw`, given as `argument`.
    pub(crate) fn parse(argument: &str, raw: &str) -> Result<UserId> {
        if is_digits(raw) {
            Ok(UserId(raw.to_owned()))
        } else {
            Err(invalid_argument(
                argument,
                &format!("{raw:?} is not a Graph user id (a string of digits)"),
            ))
        }
    }

    /// The id as Graph spells it.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ad account id, taken with or without Graph's `act_` prefix and always sent with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdAccountId(String);

impl AdAccountId {
    /// Checks `raw` (`act_123` or `123`), given as `argument`.
    pub(crate) fn parse(argument: &str, raw: &str) -> Result<AdAccountId> {
        let digits = raw.strip_prefix("act_").unwrap_or(raw);
        if is_digits(digits) {
            Ok(AdAccountId(format!("act_{digits}")))
        } else {
            Err(invalid_argument(
                argument,
                &format!("{raw:?} is not an ad account id (act_ and digits, or digits)"),
            ))
        }
    }

    /// The id as Graph spells it: `act_<n>`.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: RFC 5322's syntax (the `email_address` crate) with a domain that has a
/// dot, as every address Meta can deliver an invitation to does, trimmed and at most 254
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    /// Checks `raw`, given as `argument`.
    pub(crate) fn parse(argument: &str, raw: &str) -> Result<Email> {
        let email = raw.trim();
        let deliverable = email.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                email,
                email_address::Options::default().without_display_text(),
            )
            .is_ok_and(|address| {
                let domain = address.domain();
                domain.contains('.')
                    && !domain.starts_with('[')
                    && !domain.ends_with('.')
                    && !address.local_part().starts_with('"')
            });
        if deliverable {
            Ok(Email(email.to_owned()))
        } else {
            Err(invalid_argument(
                argument,
                &format!("{email:?} is not an email address"),
            ))
        }
    }

    /// The address.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A business name: trimmed, not empty, at most `BusinessName::MAX_CHARS` characters, no
/// control characters. Graph applies its own further rules (code 3973, 3974).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BusinessName(String);

impl BusinessName {
    /// The longest name Graph takes.
    pub(crate) const MAX_CHARS: usize = 75;

    /// Checks `raw`, given as `argument`.
    pub(crate) fn parse(argument: &str, raw: &str) -> Result<BusinessName> {
        plain_name(argument, raw, Self::MAX_CHARS).map(BusinessName)
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A project name: trimmed, not empty, at most `ProjectName::MAX_CHARS` characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProjectName(String);

impl ProjectName {
    /// The longest name taken (the sandbox's limit; Graph publishes none).
    pub(crate) const MAX_CHARS: usize = 100;

    /// Checks `raw`, given as `argument`.
    pub(crate) fn parse(argument: &str, raw: &str) -> Result<ProjectName> {
        plain_name(argument, raw, Self::MAX_CHARS).map(ProjectName)
    }

    /// The name.
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

/// A name as Business Manager takes one: trimmed, not empty, at most `max_chars` characters,
/// no control characters.
fn plain_name(argument: &str, raw: &str, max_chars: usize) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(invalid_argument(argument, "must not be empty"));
    }
    if name.chars().count() > max_chars {
        return Err(invalid_argument(
            argument,
            &format!("must be at most {max_chars} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid_argument(
            argument,
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// One of Graph's timezone ids, 0 to 592.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimezoneId(u16);

impl TimezoneId {
    /// The highest id Graph knows.
    pub(crate) const MAX: i32 = 592;

    /// Checks `raw`, given as `argument`.
    pub(crate) fn parse(argument: &str, raw: i32) -> Result<TimezoneId> {
        match u16::try_from(raw) {
            Ok(id) if raw <= Self::MAX => Ok(TimezoneId(id)),
            _ => Err(invalid_argument(
                argument,
                &format!("must be between 0 and {}, got {raw}", Self::MAX),
            )),
        }
    }

    /// The id.
    pub(crate) fn get(self) -> u16 {
        self.0
    }
}

/// A person in a business, named by user id or by the email they were invited with: exactly
/// one of the two arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PersonRef {
    /// A person who has a user id (an active or suspended member).
    User(UserId),
    /// A person known by the email of their invitation.
    Email(Email),
}

impl PersonRef {
    /// Checks that exactly one of `userId` and `email` was given, and that it is valid.
    pub(crate) fn parse(user_id: Option<&str>, email: Option<&str>) -> Result<PersonRef> {
        match (user_id, email) {
            (Some(id), None) => Ok(PersonRef::User(UserId::parse("userId", id)?)),
            (None, Some(email)) => Ok(PersonRef::Email(Email::parse("email", email)?)),
            (Some(_), Some(_)) => Err(invalid_argument(
                "userId",
                "give either userId or email, not both",
            )),
            (None, None) => Err(invalid_argument(
                "userId",
                "give userId (a member) or email (an invitation)",
            )),
        }
    }
}

/// The asset a project write names: exactly one of `pageId`, `adAccountId` (with or without
/// `act_`) and `appId`, checked.
pub(crate) fn project_asset(
    page_id: Option<&str>,
    ad_account_id: Option<&str>,
    app_id: Option<&str>,
) -> Result<ProjectAsset> {
    match (page_id, ad_account_id, app_id) {
        (Some(page), None, None) => Ok(ProjectAsset::Page(
            ObjectId::parse("pageId", page)?.as_str().to_owned(),
        )),
        (None, Some(account), None) => Ok(ProjectAsset::AdAccount(
            AdAccountId::parse("adAccountId", account)?
                .as_str()
                .to_owned(),
        )),
        (None, None, Some(app)) => Ok(ProjectAsset::App(
            ObjectId::parse("appId", app)?.as_str().to_owned(),
        )),
        (None, None, None) => Err(invalid_argument(
            "pageId",
            "give one of pageId, adAccountId, appId",
        )),
        _ => Err(invalid_argument(
            "pageId",
            "give only one of pageId, adAccountId, appId",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argument_of(error: async_graphql::Error) -> String {
        error.message
    }

    #[test]
    fn object_ids_are_digits_only() {
        assert_eq!(
            ObjectId::parse("id", "200001").map(|i| i.0).ok(),
            Some("200001".into())
        );
        for bad in ["", "me", "act_1", "12a", "1/2", &"9".repeat(40)] {
            let error = ObjectId::parse("id", bad).expect_err(bad);
            assert!(argument_of(error).starts_with("id: "), "{bad}");
        }
    }

    #[test]
    fn ad_account_ids_are_always_sent_with_act() {
        for raw in ["act_400001", "400001"] {
            assert_eq!(
                AdAccountId::parse("adAccountId", raw)
                    .map(|a| a.as_str().to_owned())
                    .ok(),
                Some("act_400001".to_owned())
            );
        }
        assert!(AdAccountId::parse("adAccountId", "act_").is_err());
        assert!(AdAccountId::parse("adAccountId", "acct_1").is_err());
    }

    #[test]
    fn emails_need_a_real_address() {
        for good in ["sam@example.com", "  a.b+c@mail.example.co.uk "] {
            assert!(Email::parse("email", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "sam",
            "sam@",
            "@example.com",
            "sam@localhost",
            "sam@@example.com",
            "sam example@example.com",
            "Sam <sam@example.com>",
            "sam@example.com.",
            "sam@[127.0.0.1]",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse("email", " sam@example.com ").map(|e| e.0).ok(),
            Some("sam@example.com".to_owned())
        );
    }

    #[test]
    fn business_names_are_trimmed_and_bounded() {
        assert_eq!(
            BusinessName::parse("name", "  Rivera Photo ")
                .map(|n| n.0)
                .ok(),
            Some("Rivera Photo".to_owned())
        );
        assert!(BusinessName::parse("name", "   ").is_err());
        assert!(BusinessName::parse("name", &"x".repeat(76)).is_err());
        assert!(BusinessName::parse("name", &"é".repeat(75)).is_ok());
        assert!(BusinessName::parse("name", "a\u{0}b").is_err());
    }

    #[test]
    fn timezones_are_graphs_range() {
        assert_eq!(
            TimezoneId::parse("timezoneId", 592)
                .map(TimezoneId::get)
                .ok(),
            Some(592)
        );
        assert!(TimezoneId::parse("timezoneId", 593).is_err());
        assert!(TimezoneId::parse("timezoneId", -1).is_err());
    }

    #[test]
    fn a_project_asset_is_exactly_one_of_three_kinds() {
        assert_eq!(
            project_asset(None, Some("400002"), None).ok(),
            Some(ProjectAsset::AdAccount("act_400002".to_owned()))
        );
        assert_eq!(
            project_asset(Some("300001"), None, None).ok(),
            Some(ProjectAsset::Page("300001".to_owned()))
        );
        assert_eq!(
            project_asset(None, None, Some("500001")).ok(),
            Some(ProjectAsset::App("500001".to_owned()))
        );
        assert!(project_asset(None, None, None).is_err());
        assert!(project_asset(Some("300001"), None, Some("500001")).is_err());
        let bad = project_asset(None, Some("act_x"), None).expect_err("not an account");
        assert!(bad.message.starts_with("adAccountId: "), "{}", bad.message);
        assert!(ProjectName::parse("name", " \u{7} ").is_err());
        assert!(ProjectName::parse("name", &"x".repeat(101)).is_err());
        assert_eq!(
            ProjectName::parse("name", "  Spring  ")
                .map(ProjectName::into_string)
                .ok(),
            Some("Spring".to_owned())
        );
    }

    #[test]
    fn a_person_is_named_by_exactly_one_of_user_id_and_email() {
        assert!(matches!(
            PersonRef::parse(Some("100001"), None),
            Ok(PersonRef::User(_))
        ));
        assert!(matches!(
            PersonRef::parse(None, Some("sam@example.com")),
            Ok(PersonRef::Email(_))
        ));
        assert!(PersonRef::parse(Some("100001"), Some("sam@example.com")).is_err());
        assert!(PersonRef::parse(None, None).is_err());
        assert!(PersonRef::parse(Some("me"), None).is_err());
    }
}
