//! The search filter as the store sees it: personal values already replaced by hashes.

use crate::records::{ConversationParts, ConversationRecord};
use lethe_domain::filter::TimeRange;

/// Conversation search criteria with lookups as keyed hashes.
#[derive(Debug, Clone, Default)]
pub struct StoreFilter {
    pub start: Option<TimeRange>,
    pub end: Option<TimeRange>,
    pub statuses: Vec<String>,
    pub kind: Option<String>,
    pub consumer_id: Option<String>,
    pub bot_id: Option<String>,
    pub cid_hash: Option<Vec<u8>>,
    /// Each hash must match one engagement attribute of the conversation.
    pub attribute_hashes: Vec<Vec<u8>>,
}

/// One page of search results.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub rows: Vec<ConversationRecord>,
    /// Total matches, for offset paging.
    pub total: Option<u64>,
    /// Whether rows follow this page (keyset paging).
    pub has_more: bool,
    /// The child rows that were asked for, of this page's conversations.
    pub parts: ConversationParts,
}

/// Trims the look-ahead row of a keyset page and records whether more follow.
pub(crate) fn finish_page(
    mut rows: Vec<ConversationRecord>,
    total: Option<u64>,
    page: &lethe_domain::filter::Page,
) -> SearchPage {
    let limit = page.limit() as usize;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    SearchPage {
        rows,
        total,
        has_more,
        parts: ConversationParts::default(),
    }
}
