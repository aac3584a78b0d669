//! Checks of the caller's credentials beyond the token itself: `appsecret_proof`
//! (docs/graph-api.md §7) and token permissions.

use std::collections::BTreeSet;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::SandboxSettings;
use crate::wire::error::{ErrorType, GraphError};
use crate::wire::request::Params;

/// The caller of a Graph request: the token's user and what the token may do.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub user_id: u64,
    pub token: String,
    pub permissions: BTreeSet<String>,
}

impl Viewer {
    /// Whether the token was granted a permission.
    pub(crate) fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
}

/// How far `appsecret_time` may be from the sandbox clock, in seconds.
const PROOF_TIME_TOLERANCE_SECONDS: u64 = 300;

/// The lowercase hex HMAC-SHA256 of `message` keyed with the app secret.
fn proof_for(secret: &str, message: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(message.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

fn invalid_proof() -> GraphError {
    GraphError::new(
        100,
        ErrorType::GraphMethod,
        "Invalid appsecret_proof provided in the API argument",
    )
}

/// Verifies `appsecret_proof` (and `appsecret_time`) when the sandbox has an app secret.
///
/// Without an app secret there is nothing to verify against, so any proof is accepted and
/// `require_appsecret_proof` has no effect.
pub(crate) fn check_appsecret_proof(
    settings: &SandboxSettings,
    now: i64,
    token: &str,
    params: &Params,
) -> Result<(), GraphError> {
    let Some(secret) = settings.app_secret.as_deref() else {
        return Ok(());
    };
    let Some(proof) = params.get("appsecret_proof") else {
        if settings.require_appsecret_proof {
            return Err(GraphError::new(
                100,
                ErrorType::GraphMethod,
                "API calls from the server require an appsecret_proof argument",
            ));
        }
        return Ok(());
    };
    let message = match params.get("appsecret_time") {
        Some(time) => {
            let seconds: i64 = time.trim().parse().map_err(|_| invalid_proof())?;
            // [guess] A stale appsecret_time is reported as an invalid proof. `abs_diff` keeps an
            // absurd time (`i64::MIN`) from overflowing the subtraction.
            if now.abs_diff(seconds) > PROOF_TIME_TOLERANCE_SECONDS {
                return Err(invalid_proof());
            }
            format!("{token}|{}", time.trim())
        }
        None => token.to_owned(),
    };
    let expected = proof_for(secret, &message).ok_or_else(invalid_proof)?;
    let given = proof.trim().to_ascii_lowercase();
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(invalid_proof())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SandboxSettings {
        SandboxSettings {
            app_secret: Some("s3cret".into()),
            require_appsecret_proof: true,
            ..SandboxSettings::default()
        }
    }

    #[test]
    fn both_proof_forms_are_accepted_and_a_stale_time_is_not() {
        let plain = proof_for("s3cret", "tok").expect("hmac");
        let mut params = Params::default();
        params.push("appsecret_proof", &plain);
        assert_eq!(
            check_appsecret_proof(&settings(), 1000, "tok", &params),
            Ok(())
        );

        let timed = proof_for("s3cret", "tok|1000").expect("hmac");
        let mut params = Params::default();
        params.push("appsecret_proof", &timed);
        params.push("appsecret_time", "1000");
        assert_eq!(
            check_appsecret_proof(&settings(), 1200, "tok", &params),
            Ok(())
        );
        assert_eq!(
            check_appsecret_proof(&settings(), 1400, "tok", &params),
            Err(invalid_proof())
        );
    }
}
