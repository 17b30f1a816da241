//! Kore.ai apps: a bot's client credential, and the HS256 tokens signed with it.

use crate::error::{ServiceError, ServiceResult};
use crate::principal::AppGrant;
use crate::{Lethe, Principal};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lethe_domain::{BotId, Scopes, SiteId};
use lethe_store::{AppRecord, KeyOwnerKind};
use rand::RngCore;
use serde::Deserialize;

const SECRET_CONTEXT: &[u8] = b"app-secret";

/// An app as listed (never its secret).
#[derive(Debug, Clone)]
pub struct AppInfo {
    pub app_id: String,
    pub bot_id: String,
    pub name: String,
    pub scopes: String,
    pub created_at: i64,
}

impl From<&AppRecord> for AppInfo {
    fn from(r: &AppRecord) -> Self {
        Self {
            app_id: r.app_id.clone(),
            bot_id: r.bot_id.clone(),
            name: r.name.clone(),
            scopes: r.scopes.clone(),
            created_at: r.created_at,
        }
    }
}

/// The claims lethe reads from a Kore.ai token.
#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(rename = "appId")]
    app_id: String,
}

impl Lethe {
    /// Creates an app for a bot; returns it and its client secret (shown once).
    pub async fn create_app(
        &self,
        site: &SiteId,
        bot: &BotId,
        name: &str,
        scopes: Scopes,
    ) -> ServiceResult<(AppInfo, String)> {
        self.require_account(site).await?;
        let bots = self.store.bots(site.as_str()).await?;
        if !bots.iter().any(|b| b.bot_id == bot.as_str()) {
            return Err(ServiceError::NotFound(format!("bot {bot}")));
        }
        if name.trim().is_empty() {
            return Err(ServiceError::invalid("name", "must not be empty"));
        }
        let app_id = format!("cs-{}", uuid::Uuid::new_v4());
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let secret = URL_SAFE_NO_PAD.encode(raw);
        let (key, stored) = self.new_data_key(site.as_str(), KeyOwnerKind::App, &app_id);
        let record = AppRecord {
            app_id,
            account_id: site.as_str().to_owned(),
            bot_id: bot.as_str().to_owned(),
            name: name.trim().to_owned(),
            scopes: scopes.to_string(),
            sealed_secret: key.seal(SECRET_CONTEXT, secret.as_bytes()),
            created_at: self.now(),
            revoked_at: None,
            kek_id: stored.kek_id,
            wrapped: stored.wrapped,
        };
        self.store.create_app(&record).await?;
        Ok((AppInfo::from(&record), secret))
    }

    /// The apps of an account.
    pub async fn list_apps(&self, site: &SiteId) -> ServiceResult<Vec<AppInfo>> {
        self.require_account(site).await?;
        Ok(self
            .store
            .apps(site.as_str())
            .await?
            .iter()
            .map(AppInfo::from)
            .collect())
    }

    /// Verifies a Kore.ai `auth` token (HS256 with an app's secret, `appId` claim);
    /// `None` when it names no live app or does not verify.
    pub async fn authenticate_app(&self, token: &str) -> ServiceResult<Option<Principal>> {
        let Some(app_id) = unverified_app_id(token) else {
            return Ok(None);
        };
        let Some(app) = self.store.app(&app_id).await? else {
            return Ok(None);
        };
        if app.revoked_at.is_some() {
            return Ok(None);
        }
        let key = self.open_data_key(
            &app.account_id,
            KeyOwnerKind::App,
            &app.app_id,
            &app.kek_id,
            &app.wrapped,
        )?;
        let secret = key.open(SECRET_CONTEXT, &app.sealed_secret)?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        let decoding = jsonwebtoken::DecodingKey::from_secret(&secret);
        let Ok(verified) = jsonwebtoken::decode::<Claims>(token, &decoding, &validation) else {
            return Ok(None);
        };
        if verified.claims.app_id != app.app_id {
            return Ok(None);
        }
        let scopes = Scopes::parse_list(&app.scopes).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Some(Principal {
            key_id: 0,
            name: app.name,
            account: Some(SiteId::parse(app.account_id)?),
            scopes,
            app: Some(AppGrant {
                app_id: app.app_id,
                bot_id: app.bot_id,
            }),
        }))
    }
}

/// The `appId` claim, read before verification only to choose the key to verify with.
fn unverified_app_id(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Claims>(&bytes).ok().map(|c| c.app_id)
}
