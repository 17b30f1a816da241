//! Resolving a target into the conversations and consumers it covers, with per-item
//! problems and per-category counts: the preview, and what a request freezes when it
//! becomes final.

use crate::error::{ServiceError, ServiceResult};
use crate::lookup::Lookup;
use crate::Lethe;
use lethe_domain::conversation::ConversationKind;
use lethe_domain::deletion::Target;
use lethe_domain::filter::{Page, Sort, TimeRange};
use lethe_domain::SiteId;
use lethe_store::{ConversationStats, PartsWanted, RequestItem, StoreFilter};

/// One resolved item and what stands in its way, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewItem {
    /// `conversation`, `engagement`, `consumer` or `channel_user`.
    pub kind: &'static str,
    pub id: String,
    /// `not_found` or `open` (only closed conversations are erased).
    pub problem: Option<&'static str>,
}

/// What erasure would remove, per category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub conversations: i64,
    pub engagements: i64,
    pub messages: i64,
    pub files: i64,
    pub file_bytes: i64,
    pub survey_answers: i64,
    pub consumers: i64,
    pub metrics: i64,
}

/// A resolved target.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub counts: Counts,
    pub items: Vec<PreviewItem>,
}

impl Preview {
    /// The items as a final request stores them.
    pub(crate) fn request_items(&self) -> Vec<RequestItem> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, item)| RequestItem {
                position: i as i64,
                item_kind: item.kind.to_owned(),
                item_id: item.id.clone(),
                problem: item.problem.map(str::to_owned),
                outcome: None,
            })
            .collect()
    }

    fn add_conversations(&mut self, stats: &[ConversationStats]) {
        for s in stats {
            let chat = s.kind == ConversationKind::Chat.as_str();
            let open = s.status != "closed";
            self.items.push(PreviewItem {
                kind: if chat { "engagement" } else { "conversation" },
                id: s.conversation_id.clone(),
                problem: open.then_some("open"),
            });
            if !open {
                self.counts.add(s, chat);
            }
        }
    }
}

impl Counts {
    fn add(&mut self, s: &ConversationStats, chat: bool) {
        if chat {
            self.engagements += 1;
        } else {
            self.conversations += 1;
        }
        self.messages += s.messages;
        self.files += s.files;
        self.file_bytes += s.file_bytes;
        self.survey_answers += s.survey_answers;
        self.metrics += s.metrics;
    }
}

impl Lethe {
    /// Resolves a target now (the preview).
    pub async fn preview_target(&self, site: &SiteId, target: &Target) -> ServiceResult<Preview> {
        self.require_account(site).await?;
        let account = site.as_str();
        let mut preview = Preview::default();
        match target {
            Target::Conversations(ids) | Target::Engagements(ids) => {
                let wanted = target.listed_kind().unwrap_or(ConversationKind::Messaging);
                let stats = self.store.conversation_stats(account, ids).await?;
                let kind = if wanted == ConversationKind::Chat {
                    "engagement"
                } else {
                    "conversation"
                };
                let by_id: std::collections::HashMap<&str, &ConversationStats> =
                    stats.iter().map(|s| (s.conversation_id.as_str(), s)).collect();
                for id in ids {
                    // An id of the other kind is not what the caller named: not found.
                    match by_id.get(id.as_str()).filter(|s| s.kind == wanted.as_str()) {
                        Some(s) => preview.add_conversations(std::slice::from_ref(*s)),
                        None => preview.items.push(PreviewItem {
                            kind,
                            id: id.clone(),
                            problem: Some("not_found"),
                        }),
                    }
                }
            }
            Target::Consumers {
                ids,
                include_conversations,
            } => {
                let found = self.store.existing_consumers(account, ids).await?;
                let found_set: std::collections::HashSet<&String> = found.iter().collect();
                for id in ids {
                    let exists = found_set.contains(id);
                    preview.counts.consumers += i64::from(exists);
                    preview.items.push(PreviewItem {
                        kind: "consumer",
                        id: id.clone(),
                        problem: (!exists).then_some("not_found"),
                    });
                }
                if *include_conversations && !found.is_empty() {
                    let conversations = self.store.conversations_of_consumers(account, &found).await?;
                    let stats = self.ordered_stats(account, &conversations).await?;
                    preview.add_conversations(&stats);
                }
            }
            Target::BotConversations { bot_id, ids } => {
                let stats = self.store.conversation_stats(account, ids).await?;
                for id in ids {
                    // Another bot's conversation is not this bot's to erase: not found.
                    match stats
                        .iter()
                        .find(|s| &s.conversation_id == id && s.bot_id.as_ref() == Some(bot_id))
                    {
                        Some(s) => preview.add_conversations(std::slice::from_ref(s)),
                        None => preview.items.push(PreviewItem {
                            kind: "conversation",
                            id: id.clone(),
                            problem: Some("not_found"),
                        }),
                    }
                }
            }
            Target::ChannelUser(user) => {
                let (from, to) = user.range();
                let filter = StoreFilter {
                    bot_id: user.bot_id.clone(),
                    cid_hash: Some(self.lookup_hash(account, Lookup::ChannelUser(&user.cid))),
                    start: Some(TimeRange {
                        from: from.unwrap_or(i64::MIN),
                        to: to.unwrap_or(i64::MAX),
                    }),
                    ..StoreFilter::default()
                };
                let ids = self.bounded_matches(site, &filter, "channel_user").await?;
                if ids.is_empty() {
                    preview.items.push(PreviewItem {
                        kind: "channel_user",
                        id: user.cid.clone(),
                        problem: Some("not_found"),
                    });
                }
                let stats = self.ordered_stats(account, &ids).await?;
                preview.add_conversations(&stats);
            }
            Target::Filter(filter) => {
                let filter = self.store_filter(site, &filter.to_filter());
                let ids = self.bounded_matches(site, &filter, "filter").await?;
                let stats = self.ordered_stats(account, &ids).await?;
                preview.add_conversations(&stats);
            }
        }
        Ok(preview)
    }

    /// Conversation stats in the order of `ids`.
    async fn ordered_stats(&self, account: &str, ids: &[String]) -> ServiceResult<Vec<ConversationStats>> {
        let mut stats = self.store.conversation_stats(account, ids).await?;
        let positions: std::collections::HashMap<&str, usize> =
            ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        stats.sort_by_key(|s| positions.get(s.conversation_id.as_str()).copied().unwrap_or(usize::MAX));
        Ok(stats)
    }

    /// The matching conversation ids, or 400 with the count when there are too many.
    pub(crate) async fn bounded_matches(
        &self,
        site: &SiteId,
        filter: &StoreFilter,
        field: &str,
    ) -> ServiceResult<Vec<String>> {
        let cap = self.limits.max_filter_conversations;
        let ids = self
            .store
            .matching_conversations(site.as_str(), filter, cap + 1)
            .await?;
        if ids.len() <= cap {
            return Ok(ids);
        }
        let page = Page::Offset { offset: 0, limit: 1 };
        let total = self
            .store
            .search(site.as_str(), filter, Sort::default(), &page, PartsWanted::default())
            .await?
            .total
            .unwrap_or(ids.len() as u64);
        Err(ServiceError::invalid(
            field,
            format!("matches {total} conversations; one request may cover at most {cap}"),
        ))
    }
}

impl Lethe {
    /// The preview of a stored request: resolved now while it is pending, from its
    /// frozen items once final. An ended request keeps only hashes: 409.
    pub async fn preview_request(&self, site: &SiteId, id: i64) -> ServiceResult<Preview> {
        let view = self.deletion_request(site, id).await?;
        let record = self.request_record(site, id).await?;
        if let Some(sealed) = record.sealed_target.as_deref().filter(|_| view.final_at.is_none()) {
            let target = self.open_target(&record, sealed)?;
            return self.preview_target(site, &target).await;
        }
        if view.final_at.is_none() {
            return Err(ServiceError::WrongState {
                current: view.status.as_str().to_owned(),
                message: "the request has ended; its target is kept only as keyed hashes".into(),
            });
        }
        let stored = self.store.request_items(site.as_str(), id).await?;
        let conversation_ids: Vec<String> = stored
            .iter()
            .filter(|i| i.problem.is_none() && i.item_kind != "consumer")
            .map(|i| i.item_id.clone())
            .collect();
        let stats = self.store.conversation_stats(site.as_str(), &conversation_ids).await?;
        let mut preview = Preview::default();
        for s in &stats {
            preview.counts.add(s, s.kind == ConversationKind::Chat.as_str());
        }
        for item in stored {
            preview.counts.consumers += i64::from(item.item_kind == "consumer" && item.problem.is_none());
            preview.items.push(PreviewItem {
                kind: item_kind(&item.item_kind),
                id: item.item_id,
                problem: item.problem.as_deref().map(problem_name),
            });
        }
        Ok(preview)
    }
}

fn item_kind(stored: &str) -> &'static str {
    ["conversation", "engagement", "consumer", "channel_user"]
        .into_iter()
        .find(|k| *k == stored)
        .unwrap_or("conversation")
}

fn problem_name(stored: &str) -> &'static str {
    if stored == "open" {
        "open"
    } else {
        "not_found"
    }
}
