//! Who is calling, and what they may do.

use crate::error::{ServiceError, ServiceResult};
use lethe_domain::{Scope, Scopes, SiteId};

/// An authenticated API key (or, later, a Kore.ai app).
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: i64,
    /// The key's name: shown as `requested_by` on the requests it creates.
    pub name: String,
    /// `None` for an operator key, which may act on every account.
    pub account: Option<SiteId>,
    pub scopes: Scopes,
    /// Set for a Kore.ai app: the app's id and the one bot it may act for.
    pub app: Option<AppGrant>,
}

/// What a Kore.ai app token grants beyond its account and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGrant {
    pub app_id: String,
    pub bot_id: String,
}

impl Principal {
    /// The operator acting through the command line on the database directly.
    pub fn cli() -> Self {
        let mut scopes = Scopes::default();
        for scope in Scope::ALL {
            scopes.insert(scope);
        }
        Self {
            key_id: 0,
            name: "cli".into(),
            account: None,
            scopes,
            app: None,
        }
    }

    /// How the change log names this caller: the key's id, never its (free-text) name.
    pub fn actor(&self) -> String {
        if let Some(app) = &self.app {
            format!("app:{}", app.app_id)
        } else if self.key_id == 0 {
            "cli".into()
        } else {
            format!("key:{}", self.key_id)
        }
    }

    /// Whether this is an operator (all-accounts) credential.
    pub fn is_operator(&self) -> bool {
        self.account.is_none()
    }

    /// Checks the scope, then that the key may act on `site` (operator keys may act
    /// on any). Both failures are 403, in the order the contract gives.
    pub fn authorize(&self, site: Option<&SiteId>, scope: Scope) -> ServiceResult<()> {
        if !self.scopes.contains(scope) {
            return Err(ServiceError::Forbidden(format!("this key lacks the `{scope}` scope")));
        }
        match (site, &self.account) {
            (Some(site), Some(own)) if site != own => {
                Err(ServiceError::Forbidden("this key is bound to another account".into()))
            }
            (None, Some(_)) => Err(ServiceError::Forbidden("this needs an operator key".into())),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(account: Option<&str>, scopes: &str) -> Principal {
        Principal {
            key_id: 1,
            name: "k".into(),
            account: account.map(|a| SiteId::parse(a).unwrap()),
            scopes: Scopes::parse_list(scopes).unwrap(),
            app: None,
        }
    }

    #[test]
    fn scope_then_account() {
        let site = SiteId::parse("a1").unwrap();
        let other = SiteId::parse("b2").unwrap();
        let account_key = key(Some("a1"), "conversations:read");
        assert!(account_key.authorize(Some(&site), Scope::ConversationsRead).is_ok());
        assert!(account_key.authorize(Some(&other), Scope::ConversationsRead).is_err());
        assert!(account_key.authorize(Some(&site), Scope::Admin).is_err());
        assert!(account_key.authorize(None, Scope::ConversationsRead).is_err());
        let operator = key(None, "admin");
        assert!(operator.authorize(Some(&other), Scope::Admin).is_ok());
        assert!(operator.authorize(None, Scope::Admin).is_ok());
    }
}
