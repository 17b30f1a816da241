//! Intercom credentials and version: an account-bound Bearer key (its paths name no
//! account, so an operator key is 403), and an optional `Intercom-Version`.

use super::error::IntercomError;
use crate::extract::authenticate;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use lethe_domain::SiteId;
use lethe_service::Principal;

/// An authenticated caller bound to one account.
pub struct IntercomCaller {
    pub principal: Principal,
    pub site: SiteId,
}

/// Accepts the documented versions (1.x, 2.x), later numeric ones, and the
/// `Preview`/`Unstable` channels.
pub fn version_ok(value: &str) -> bool {
    if matches!(value, "Preview" | "Unstable") {
        return true;
    }
    let Some((major, minor)) = value.split_once('.') else {
        return false;
    };
    let numeric = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    numeric(major) && numeric(minor) && major.parse::<u32>().is_ok_and(|m| m >= 1)
}

impl FromRequestParts<AppState> for IntercomCaller {
    type Rejection = IntercomError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = authenticate(parts, state).await?;
        let Some(site) = principal.account.clone() else {
            return Err(IntercomError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Intercom routes name no account: use a key bound to one",
            ));
        };
        if let Some(version) = parts.headers.get("intercom-version") {
            let ok = version.to_str().is_ok_and(|v| version_ok(v.trim()));
            if !ok {
                return Err(IntercomError::new(
                    StatusCode::BAD_REQUEST,
                    "intercom_version_invalid",
                    "Intercom-Version must be a documented version such as 2.11, a later numeric version, Preview or Unstable",
                ));
            }
        }
        Ok(Self { principal, site })
    }
}

#[cfg(test)]
mod tests {
    use super::version_ok;

    #[test]
    fn versions() {
        for ok in ["1.0", "1.4", "2.11", "2.14", "3.0", "Preview", "Unstable"] {
            assert!(version_ok(ok), "{ok}");
        }
        for bad in ["", "2", "v2.11", "0.9", "2.x", "latest", "preview", "2.11.1"] {
            assert!(!version_ok(bad), "{bad}");
        }
    }
}
