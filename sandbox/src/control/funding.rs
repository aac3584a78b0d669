//! The control plane's endpoint about funding (docs/sandbox-contract.md): what happens outside
//! Graph to a credit line, namely spending and payments changing what is owed on it.

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, Id, parse};
use crate::Sandbox;
use crate::money::amount_json;
use crate::nodes::extended_credit;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Balance {
    extended_credit_id: Id,
    /// A decimal string in the line's currency, never a JSON number (no floating point).
    balance: String,
}

/// `POST /__sandbox/extended_credits/balance`: sets what is owed on a credit line, and answers
/// the credit available from then on (what DCAF's next run splits).
pub(super) async fn set_balance(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Balance = parse(&body)?;
    let line_id = request.extended_credit_id.number().ok_or_else(|| {
        ControlError::Invalid(format!(
            "unknown extended credit {}",
            request.extended_credit_id.text()
        ))
    })?;
    let (available, currency) = sandbox
        .with_world(|world| extended_credit::set_balance(world, line_id, &request.balance))
        .map_err(ControlError::Invalid)?;
    Ok(axum::Json(json!({
        "credit_available": amount_json(available, &currency)
    })))
}
