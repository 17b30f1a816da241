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

/// The total of an offset page that its own rows tell: a page short of its limit that
/// is not past the end holds the last match, so no `COUNT(*)` is needed. Most consumers
/// have fewer conversations than one page, so most searches skip the count.
pub(crate) fn total_from_page(page: &lethe_domain::filter::Page, rows: usize) -> Option<u64> {
    match page {
        lethe_domain::filter::Page::Offset { offset, limit }
            if rows < *limit as usize && (rows > 0 || *offset == 0) =>
        {
            Some(offset + rows as u64)
        }
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use lethe_domain::filter::Page;

    #[test]
    fn only_a_short_page_within_the_matches_tells_the_total() {
        let offset = |offset, limit| Page::Offset { offset, limit };
        assert_eq!(total_from_page(&offset(0, 50), 7), Some(7));
        assert_eq!(total_from_page(&offset(0, 50), 0), Some(0));
        assert_eq!(total_from_page(&offset(100, 50), 3), Some(103));
        assert_eq!(
            total_from_page(&offset(0, 50), 50),
            None,
            "a full page may have more after it"
        );
        assert_eq!(total_from_page(&offset(100, 50), 0), None, "past the end says nothing");
        let keyset = Page::Keyset { after: None, limit: 50 };
        assert_eq!(total_from_page(&keyset, 3), None);
    }
}
