//! API keys: random, shown once, stored as SHA-256 (a slow hash would tax every request;
//! 256 random bits need no stretching).

use crate::error::{ServiceError, ServiceResult};
use crate::principal::Principal;
use crate::Lethe;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lethe_domain::{Scopes, SiteId};
use lethe_store::{ApiKeyRecord, KeyringCheck, NewApiKey, WriteOutcome};
use rand::RngCore;
use sha2::{Digest, Sha256};

const KEY_PREFIX: &str = "lethe_";

/// A key as listed: never the secret, only a recognisable prefix.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub id: i64,
    pub account: Option<String>,
    pub name: String,
    pub scopes: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<ApiKeyRecord> for KeyInfo {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            id: r.id,
            account: r.account_id,
            name: r.name,
            scopes: r.scopes,
            prefix: r.prefix,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A freshly created key: the secret is here and nowhere else.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub secret: String,
    pub info: KeyInfo,
}

fn generate_secret() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
}

fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn check_name(name: &str) -> ServiceResult<()> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(ServiceError::invalid("name", "must be 1 to 100 characters"));
    }
    Ok(())
}

impl Lethe {
    fn new_key(&self, account: Option<&SiteId>, scopes: Scopes, name: &str) -> (String, NewApiKey) {
        let secret = generate_secret();
        let row = NewApiKey {
            account_id: account.map(|a| a.as_str().to_owned()),
            name: name.to_owned(),
            scopes: scopes.to_string(),
            prefix: secret[..KEY_PREFIX.len() + 6].to_owned(),
            key_hash: hash_secret(&secret),
            created_at: self.now(),
        };
        (secret, row)
    }

    /// Creates a key bound to `account`, or an operator key when `None`.
    pub async fn create_key(&self, account: Option<&SiteId>, scopes: Scopes, name: &str) -> ServiceResult<CreatedKey> {
        check_name(name)?;
        if let Some(site) = account {
            self.require_account(site).await?;
        }
        let (secret, row) = self.new_key(account, scopes, name);
        let id = self.store.create_api_key(&row).await?;
        let info = KeyInfo {
            id,
            account: row.account_id,
            name: row.name,
            scopes: row.scopes,
            prefix: row.prefix,
            created_at: row.created_at,
            revoked_at: None,
        };
        Ok(CreatedKey { secret, info })
    }

    /// Resolves a bearer secret to its principal; `None` for unknown or revoked keys.
    pub async fn authenticate(&self, secret: &str) -> ServiceResult<Option<Principal>> {
        if !secret.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let Some(record) = self.store.api_key_by_hash(&hash_secret(secret)).await? else {
            return Ok(None);
        };
        if record.revoked_at.is_some() {
            return Ok(None);
        }
        let scopes = Scopes::parse_list(&record.scopes)
            .map_err(|e| ServiceError::Internal(format!("stored scopes of key {}: {e}", record.id)))?;
        let account = match record.account_id {
            Some(a) => Some(SiteId::parse(a).map_err(|e| ServiceError::Internal(e.to_string()))?),
            None => None,
        };
        Ok(Some(Principal {
            key_id: record.id,
            name: record.name,
            account,
            scopes,
            app: None,
        }))
    }

    /// Lists one account's keys, or the operator keys.
    pub async fn list_keys(&self, account: Option<&SiteId>) -> ServiceResult<Vec<KeyInfo>> {
        if let Some(site) = account {
            self.require_account(site).await?;
        }
        let rows = self.store.api_keys(account.map(SiteId::as_str)).await?;
        Ok(rows.into_iter().map(KeyInfo::from).collect())
    }

    /// Revokes a key; revoking twice is harmless.
    pub async fn revoke_key(&self, account: Option<&SiteId>, id: i64) -> ServiceResult<()> {
        if self
            .store
            .revoke_api_key(account.map(SiteId::as_str), id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("key {id}")))
        }
    }

    /// Checks the configured secrets against the database and, on the very first start,
    /// creates the operator key. Returns that key's secret when it was created.
    pub async fn bootstrap(&self) -> ServiceResult<Option<String>> {
        let (kek_id, kek_check, lookup_check) = self.keyring.check_values();
        let check = KeyringCheck {
            kek_id,
            kek_check,
            lookup_check,
        };
        let mut all = Scopes::default();
        lethe_domain::Scope::ALL.into_iter().for_each(|s| all.insert(s));
        let (secret, row) = self.new_key(None, all, "bootstrap operator");
        let created = self.store.bootstrap(&check, &row).await.map_err(|e| match e {
            lethe_store::StoreError::KeyringMismatch(m) => ServiceError::Conflict(m),
            other => other.into(),
        })?;
        Ok(created.then_some(secret))
    }

    /// Fails with 404 unless the account exists.
    pub async fn require_account(&self, site: &SiteId) -> ServiceResult<()> {
        let known = |accounts: &std::collections::HashSet<String>| accounts.contains(site.as_str());
        if self.known_accounts.read().is_ok_and(|a| known(&a)) {
            return Ok(());
        }
        match self.store.account(site.as_str()).await? {
            Some(_) => {
                if let Ok(mut accounts) = self.known_accounts.write() {
                    accounts.insert(site.as_str().to_owned());
                }
                Ok(())
            }
            None => Err(ServiceError::NotFound(format!("account {site}"))),
        }
    }
}

/// Maps a create outcome to "created or already there".
pub(crate) fn created_or_conflict(outcome: WriteOutcome, what: String) -> ServiceResult<()> {
    match outcome {
        WriteOutcome::Created => Ok(()),
        _ => Err(ServiceError::Conflict(format!("{what} already exists"))),
    }
}
