//! Kore.ai deletion jobs: bot-scoped requests by conversation ids or channel user, and
//! their status by job id.

use super::create::{Created, NewDeletion};
use super::view::RequestView;
use crate::error::{ServiceError, ServiceResult};
use crate::lookup::Lookup;
use crate::{Lethe, Principal};
use chrono::{DateTime, NaiveDate};
use lethe_domain::deletion::{ChannelUserTarget, KoreAiDelete, RequestSource, Target};
use lethe_domain::{BotId, Millis, SiteId};

/// A job as Kore.ai reports it.
#[derive(Debug, Clone)]
pub struct KoreAiJob {
    pub request: RequestView,
    pub started_at: Option<Millis>,
    pub completed_at: Option<Millis>,
    pub deleted: i64,
    pub failed: i64,
}

fn day(ms: Millis) -> NaiveDate {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().date_naive()
}

impl Lethe {
    /// The bot must exist in the account, and an app may act only for its own bot.
    async fn check_bot(&self, who: &Principal, site: &SiteId, bot: &BotId) -> ServiceResult<Millis> {
        if let Some(app) = &who.app {
            if app.bot_id != bot.as_str() {
                return Err(ServiceError::Forbidden("this app belongs to another bot".into()));
            }
        }
        self.require_account(site).await?;
        let bots = self.store.bots(site.as_str()).await?;
        bots.iter()
            .find(|b| b.bot_id == bot.as_str())
            .map(|b| b.created_at)
            .ok_or_else(|| ServiceError::NotFound(format!("bot {bot}")))
    }

    /// Today in UTC, by the service clock.
    pub fn today(&self) -> NaiveDate {
        day(self.now())
    }

    /// Creates a bot-scoped request; dates default as Kore.ai's do: from the later of
    /// the user's and the bot's creation, to today.
    pub async fn koreai_delete(
        &self,
        who: &Principal,
        site: &SiteId,
        bot: &BotId,
        body: KoreAiDelete,
    ) -> ServiceResult<Created> {
        let bot_created = self.check_bot(who, site, bot).await?;
        let target = match body {
            KoreAiDelete::Conversations(ids) => Target::BotConversations {
                bot_id: bot.as_str().to_owned(),
                ids,
            },
            KoreAiDelete::ChannelUser { cid, start, end } => {
                let start = match start {
                    Some(start) => start,
                    None => {
                        let hash = self.lookup_hash(site.as_str(), Lookup::ChannelUser(&cid));
                        let user_since = self.store.channel_user_since(site.as_str(), &hash).await?;
                        day(bot_created.max(user_since.unwrap_or(Millis::MIN)))
                    }
                };
                let end = end.unwrap_or_else(|| self.today());
                Target::ChannelUser(ChannelUserTarget {
                    cid,
                    from: Some(start.format("%Y-%m-%d").to_string()),
                    to: Some(end.max(start).format("%Y-%m-%d").to_string()),
                    bot_id: Some(bot.as_str().to_owned()),
                })
            }
        };
        let new = NewDeletion {
            target,
            source: RequestSource::KoreAi,
            idempotency_key: None,
            route: "koreai:delete",
        };
        self.create_deletion(who, site, new).await
    }

    /// A job by its id, if it belongs to this bot.
    pub async fn koreai_job(
        &self,
        who: &Principal,
        site: &SiteId,
        bot: &BotId,
        job_id: &str,
    ) -> ServiceResult<KoreAiJob> {
        self.check_bot(who, site, bot).await?;
        self.promote_due(Some(site)).await?;
        let not_found = || ServiceError::NotFound(format!("job {job_id}"));
        let record = self
            .store
            .request_by_job(site.as_str(), job_id)
            .await?
            .ok_or_else(not_found)?;
        let request = self.request_view(record)?;
        let target_bot = ["bot_conversations", "channel_user"]
            .iter()
            .find_map(|k| request.target.get(k)?.get("bot_id")?.as_str());
        if target_bot != Some(bot.as_str()) {
            return Err(not_found());
        }
        let timeline = self.request_timeline(site, request.id).await?;
        let reached = |statuses: &[&str]| {
            timeline
                .iter()
                .find(|t| t.to_status.as_deref().is_some_and(|s| statuses.contains(&s)))
                .map(|t| t.at)
        };
        let items = self.deletion_request_items(site, request.id).await?;
        let count = |outcome: &str| items.iter().filter(|i| i.outcome.as_deref() == Some(outcome)).count() as i64;
        Ok(KoreAiJob {
            started_at: reached(&["running"]),
            completed_at: reached(&["completed", "partially_completed", "failed"]),
            deleted: count("erased"),
            failed: count("failed"),
            request,
        })
    }
}
