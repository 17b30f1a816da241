//! Telling the owner when a job ends: an e-mail and a signed webhook, queued in the
//! transaction that ends the job and delivered at least once with a stable event id.
//! Payloads name the job, the request and counts; never personal data.

use crate::error::{ServiceError, ServiceResult};
use crate::Lethe;
use hmac::{Hmac, Mac};
use lethe_domain::deletion::RequestStatus;
use lethe_domain::settings::AccountSettings;
use lethe_domain::time::to_rfc3339;
use lethe_domain::SiteId;
use lethe_store::{NewNotification, NotificationRecord};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

/// Longest wait between delivery attempts.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// Delivers queued notifications: SMTP (when configured) and HTTP.
pub struct Notifier {
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    http: reqwest::Client,
}

impl Notifier {
    /// A notifier for an SMTP URL (`smtp://host:port`, `smtps://user:pass@host`) or none.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        let mailer = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("smtp_url: {e}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => None,
        };
        let from = from.parse().map_err(|e| format!("smtp_from: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { mailer, from, http })
    }
}

/// `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`, as the `Lethe-Signature` header.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl Lethe {
    /// The secret an account's webhooks are signed with (derived from the deployment's
    /// HMAC secret, so it survives restarts without being stored).
    pub fn webhook_secret(&self, site: &SiteId) -> String {
        hex::encode(self.keyring.lookup_hash(site.as_str(), "webhook-signing", "v1"))
    }

    /// The notifications a job's end sends, per the account's settings.
    pub(crate) fn job_end_notifications(
        &self,
        settings: &AccountSettings,
        site: &SiteId,
        request_id: i64,
        job_id: &str,
        status: RequestStatus,
        counts: Value,
    ) -> Vec<NewNotification> {
        let now = self.now();
        let event_id = uuid::Uuid::new_v4().to_string();
        let payload = json!({
            "event_id": event_id,
            "type": format!("deletion_request.{}", status.as_str()),
            "account": site.as_str(),
            "request_id": request_id,
            "job_id": job_id,
            "status": status.as_str(),
            "counts": counts,
            "occurred_at": to_rfc3339(now),
        })
        .to_string();
        let targets = [
            ("email", &settings.notification_email),
            ("webhook", &settings.webhook_url),
        ];
        targets
            .into_iter()
            .filter_map(|(channel, target)| {
                target.as_ref().map(|target| NewNotification {
                    event_id: event_id.clone(),
                    account_id: site.as_str().to_owned(),
                    request_id: Some(request_id),
                    channel: channel.into(),
                    target: target.clone(),
                    payload: payload.clone(),
                    created_at: now,
                })
            })
            .collect()
    }

    /// Delivers due notifications; failures are retried with backoff. Returns how many
    /// were delivered.
    pub async fn deliver_notifications(&self, notifier: &Notifier) -> ServiceResult<usize> {
        let now = self.now();
        let mut delivered = 0;
        for n in self.store.due_notifications(now, 50).await? {
            let outcome = match n.channel.as_str() {
                "email" => self.send_email(notifier, &n).await,
                _ => self.send_webhook(notifier, &n).await,
            };
            match outcome {
                Ok(()) => {
                    self.store.notification_delivered(n.id, self.now()).await?;
                    delivered += 1;
                }
                Err(error) => {
                    let backoff = (5_000i64 << n.attempts.min(20)).min(MAX_BACKOFF_MS);
                    let jitter = (rand::random::<u64>() % (backoff as u64 / 4 + 1)) as i64;
                    tracing::warn!(event = %n.event_id, channel = %n.channel, error = %error, "notification not delivered yet");
                    self.store
                        .notification_failed(n.id, &error, self.now() + backoff + jitter)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    async fn send_email(&self, notifier: &Notifier, n: &NotificationRecord) -> Result<(), String> {
        let mailer = notifier.mailer.as_ref().ok_or("no smtp_url is configured")?;
        let payload: Value = serde_json::from_str(&n.payload).map_err(|e| e.to_string())?;
        let text = format!(
            "Deletion request {} ({}) ended: {}.\n\nJob: {}\nAccount: {}\nCounts: {}\nEvent: {}\n",
            payload["request_id"],
            payload["type"].as_str().unwrap_or_default(),
            payload["status"].as_str().unwrap_or_default(),
            payload["job_id"].as_str().unwrap_or_default(),
            payload["account"].as_str().unwrap_or_default(),
            payload["counts"],
            n.event_id,
        );
        let message = Message::builder()
            .from(notifier.from.clone())
            .to(n.target.parse().map_err(|e| format!("recipient: {e}"))?)
            .subject(format!(
                "lethe: deletion request {} {}",
                payload["request_id"],
                payload["status"].as_str().unwrap_or_default()
            ))
            .message_id(Some(format!("<{}@lethe>", n.event_id)))
            .body(text)
            .map_err(|e| e.to_string())?;
        mailer.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn send_webhook(&self, notifier: &Notifier, n: &NotificationRecord) -> Result<(), String> {
        let site = SiteId::parse(n.account_id.clone()).map_err(|e| e.to_string())?;
        let timestamp = self.now() / 1000;
        let signature = webhook_signature(&self.webhook_secret(&site), timestamp, &n.payload);
        let response = notifier
            .http
            .post(&n.target)
            .header("content-type", "application/json")
            .header("lethe-event-id", &n.event_id)
            .header("lethe-timestamp", timestamp.to_string())
            .header("lethe-signature", signature)
            .body(n.payload.clone())
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the endpoint answered {}", response.status()))
        }
    }

    /// An account's notification delivery log, newest first.
    pub async fn notification_log(&self, site: &SiteId) -> ServiceResult<Vec<NotificationRecord>> {
        self.require_account(site).await?;
        self.store
            .notifications(site.as_str(), 200)
            .await
            .map_err(ServiceError::from)
    }
}
