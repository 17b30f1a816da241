//! Kore.ai credentials: an app's HS256 token in `auth`, or an account-bound Bearer key.

use crate::error::ApiError;
use crate::extract::{authenticate, RequiredScope};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use lethe_domain::SiteId;
use lethe_service::Principal;
use std::marker::PhantomData;

/// A caller allowed `S` on the account its credential is bound to.
pub struct KoreAuthed<S> {
    pub principal: Principal,
    pub site: SiteId,
    _scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequestParts<AppState> for KoreAuthed<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = match parts.headers.get("auth").and_then(|v| v.to_str().ok()) {
            Some(token) => state.lethe.authenticate_app(token.trim()).await?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the auth token does not verify",
                )
            })?,
            None => authenticate(parts, state).await?,
        };
        // The paths name a bot, not an account: the credential must say which account.
        let Some(site) = principal.account.clone() else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Kore.ai routes need an app token or an account-bound key, not an operator key",
            ));
        };
        principal.authorize(Some(&site), S::SCOPE)?;
        Ok(Self {
            principal,
            site,
            _scope: PhantomData,
        })
    }
}
