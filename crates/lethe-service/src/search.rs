//! Conversation search, shared by the native API, the LivePerson dialect and the CLI.

use crate::error::{ServiceError, ServiceResult};
use crate::lookup::Lookup;
use crate::views::ConversationView;
use crate::Lethe;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lethe_domain::filter::{ConversationFilter, Cursor, Page, Sort};
use lethe_domain::{ConversationId, SiteId};
use lethe_store::{PartsWanted, StoreFilter};

/// A search: what to match, in which order, which page, and which parts to open.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub filter: ConversationFilter,
    pub sort: Sort,
    pub page: Page,
    pub parts: PartsWanted,
}

/// One page of opened conversations.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub conversations: Vec<ConversationView>,
    /// Total matches (offset paging only).
    pub total: Option<u64>,
    /// Where the next page starts (keyset paging only), opaque to clients.
    pub next_cursor: Option<String>,
}

/// Encodes a cursor, bound to the sort it was made under.
pub fn encode_cursor(sort: Sort, cursor: &Cursor) -> String {
    let raw = format!("{}|{}|{}", sort.as_string(), cursor.sort_value, cursor.conversation_id);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes a cursor made by [`encode_cursor`] under the same sort.
pub fn decode_cursor(sort: Sort, text: &str) -> ServiceResult<Cursor> {
    let bad = || ServiceError::invalid("cursor", "is not a cursor this search produced");
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, '|');
    let (Some(made_for), Some(value), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if made_for != sort.as_string() {
        return Err(ServiceError::invalid("cursor", "was made for another sort order"));
    }
    Ok(Cursor {
        sort_value: value.parse().map_err(|_| bad())?,
        conversation_id: ConversationId::parse(id).map_err(|_| bad())?,
    })
}

impl Lethe {
    /// Replaces the filter's personal values by their keyed hashes.
    pub fn store_filter(&self, site: &SiteId, filter: &ConversationFilter) -> StoreFilter {
        let account = site.as_str();
        StoreFilter {
            start: filter.start,
            end: filter.end,
            statuses: filter.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
            kind: filter.kind.map(|k| k.as_str().to_owned()),
            consumer_id: filter.consumer_id.as_ref().map(|c| c.as_str().to_owned()),
            bot_id: None,
            cid_hash: filter
                .channel_user_id
                .as_deref()
                .map(|cid| self.lookup_hash(account, Lookup::ChannelUser(cid))),
            attribute_hashes: filter
                .attributes
                .iter()
                .map(|a| self.lookup_hash(account, Lookup::Attribute(a.kind, &a.value)))
                .collect(),
        }
    }

    /// Runs a search in an account and opens the page's conversations.
    pub async fn search(&self, site: &SiteId, request: &SearchRequest) -> ServiceResult<SearchResult> {
        self.require_account(site).await?;
        let filter = self.store_filter(site, &request.filter);
        let page = self
            .store
            .search(site.as_str(), &filter, request.sort, &request.page, request.parts)
            .await?;
        let next_cursor = match (&request.page, page.has_more, page.rows.last()) {
            (Page::Keyset { .. }, true, Some(last)) => {
                let sort_value = match request.sort.field {
                    lethe_domain::filter::SortField::Start => last.start_time,
                    lethe_domain::filter::SortField::End => last.end_time.unwrap_or(i64::MAX),
                };
                let cursor = Cursor {
                    sort_value,
                    conversation_id: ConversationId::parse(last.conversation_id.clone())?,
                };
                Some(encode_cursor(request.sort, &cursor))
            }
            _ => None,
        };
        let conversations = self.open_with_parts(site, page.rows, page.parts)?;
        Ok(SearchResult {
            conversations,
            total: page.total,
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_sort() {
        let sort = Sort::default();
        let cursor = Cursor {
            sort_value: 42,
            conversation_id: ConversationId::parse("a|b").unwrap(),
        };
        let text = encode_cursor(sort, &cursor);
        assert_eq!(decode_cursor(sort, &text).unwrap(), cursor);
        assert!(decode_cursor(Sort::parse("end:asc").unwrap(), &text).is_err());
        assert!(decode_cursor(sort, "!!").is_err());
    }
}
