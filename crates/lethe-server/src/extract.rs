//! Extractors: JSON and query parsing in our error format, and authentication with the
//! contract's check order (bad `site_id` 400, then 401, then 403).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use lethe_domain::{Scope, SiteId};
use lethe_service::Principal;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// `Json` whose rejections use the `/v1` error body (413 for oversized bodies).
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "payload_too_large",
            "the request body is larger than this server accepts",
        );
    }
    let message = match &rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's own message says which field and why; axum's adds a prefix.
            std::error::Error::source(e).map_or_else(|| e.body_text(), ToString::to_string)
        }
        JsonRejection::JsonSyntaxError(_) => format!("malformed JSON: {}", rejection.body_text()),
        JsonRejection::MissingJsonContentType(_) => "expected Content-Type: application/json".into(),
        _ => rejection.body_text(),
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
}

/// `Query` whose rejections use the `/v1` error body.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    let message = match &rejection {
        QueryRejection::FailedToDeserializeQueryString(e) => {
            std::error::Error::source(e).map_or_else(|| e.body_text(), ToString::to_string)
        }
        _ => rejection.body_text(),
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", format!("query: {message}"))
}

/// A scope a route requires, as a type so the extractor enforces it.
pub trait RequiredScope: Send + Sync + 'static {
    const SCOPE: Scope;
}

macro_rules! scope_markers {
    ($($name:ident => $scope:ident),+ $(,)?) => {
        $(
            #[doc = concat!("Requires the `", stringify!($scope), "` scope.")]
            pub struct $name;
            impl RequiredScope for $name {
                const SCOPE: Scope = Scope::$scope;
            }
        )+
    };
}

scope_markers!(
    Admin => Admin,
    ConvWrite => ConversationsWrite,
    ConvRead => ConversationsRead,
    DelWrite => DeletionWrite,
    DelRead => DeletionRead,
    DelApprove => DeletionApprove,
);

/// The optional `Idempotency-Key` header of a create.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(value) => value
                .to_str()
                .map(|v| Self(Some(v.trim().to_owned())))
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be printable ASCII")),
        }
    }
}

/// An authenticated caller allowed `S` on the account in the path (if the path has one).
pub struct Authed<S> {
    pub principal: Principal,
    site: Option<SiteId>,
    _scope: PhantomData<S>,
}

impl<S> Authed<S> {
    /// The account the path names.
    pub fn site(&self) -> &SiteId {
        self.site
            .as_ref()
            .expect("routes using site() have a {site_id} segment")
    }
}

/// Reads a well-formed `site_id` from the path, if the route has one; a malformed one
/// is 400 before anything else is looked at.
pub async fn path_site(parts: &mut Parts) -> Result<Option<SiteId>, ApiError> {
    let Ok(params) = RawPathParams::from_request_parts(parts, &()).await else {
        return Ok(None);
    };
    match params.iter().find(|(name, _)| *name == "site_id") {
        Some((_, value)) => SiteId::parse(value).map(Some).map_err(ApiError::from),
        None => Ok(None),
    }
}

/// The bearer secret in `Authorization`, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authenticates the bearer key: 401 when missing or unknown.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let secret = bearer(parts).ok_or_else(|| unauthorized("missing Authorization: Bearer <key>"))?;
    state
        .lethe
        .authenticate(secret)
        .await?
        .ok_or_else(|| unauthorized("unknown or revoked API key"))
}

impl<S: RequiredScope> FromRequestParts<AppState> for Authed<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let site = path_site(parts).await?;
        let principal = authenticate(parts, state).await?;
        principal.authorize(site.as_ref(), S::SCOPE)?;
        Ok(Self {
            principal,
            site,
            _scope: PhantomData,
        })
    }
}

/// `Path` whose rejections use the `/v1` error body.
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                format!("path: {}", rejection.body_text()),
            )),
        }
    }
}
