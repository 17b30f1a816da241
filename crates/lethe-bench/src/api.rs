//! A small JSON client for lethe's native API, with one account key.

use reqwest::Method;
use serde_json::Value;

/// The native API of a running server, as one account key sees it.
pub struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    pub fn new(base: &str, key: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: base.to_owned(),
            key: key.to_owned(),
        }
    }

    /// Sends a request; fails on a non-2xx answer, naming it.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status}: {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// Sets the bench account's deletion settings.
    pub async fn settings(&self, patch: Value) -> anyhow::Result<()> {
        let path = format!("/v1/accounts/{}/settings", crate::lethe::ACCOUNT);
        self.call(Method::PATCH, &path, Some(&patch)).await?;
        Ok(())
    }

    /// Creates a deletion request; its id.
    pub async fn create_request(&self, target: &Value) -> anyhow::Result<i64> {
        let path = format!("/v1/accounts/{}/deletion-requests", crate::lethe::ACCOUNT);
        let created = self.call(Method::POST, &path, Some(target)).await?;
        created["id"]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("no id in {created}"))
    }

    /// A deletion request with its job and timeline.
    pub async fn request(&self, id: i64) -> anyhow::Result<Value> {
        let path = format!("/v1/accounts/{}/deletion-requests/{id}", crate::lethe::ACCOUNT);
        self.call(Method::GET, &path, None).await
    }
}

/// Whether a request has ended (any final outcome).
pub fn ended(request: &Value) -> bool {
    matches!(
        request["status"].as_str(),
        Some("completed" | "partially_completed" | "failed" | "rejected" | "canceled")
    )
}

/// Milliseconds since the epoch of an RFC 3339 time in a response.
pub fn millis(value: &Value) -> anyhow::Result<i64> {
    let text = value.as_str().ok_or_else(|| anyhow::anyhow!("not a time: {value}"))?;
    Ok(chrono::DateTime::parse_from_rfc3339(text)?.timestamp_millis())
}
