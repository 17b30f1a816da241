//! Conversation search filters, shared by native search, the LivePerson dialect and
//! (later) filter-targeted deletion requests.

use crate::conversation::{AttributeKind, ConversationKind, ConversationStatus};
use crate::error::{DomainError, DomainResult};
use crate::ids::{ConsumerId, ConversationId};
use crate::time::{Millis, DAY_MS};

/// An inclusive time range in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Millis,
    pub to: Millis,
}

const TEN_MINUTES: Millis = 600_000;

/// The longest range the LivePerson filter accepts ("three months").
pub const MAX_FILTER_RANGE_MS: Millis = 92 * DAY_MS;

impl TimeRange {
    /// Builds a range, rejecting `from > to`.
    pub fn new(field: &str, from: Millis, to: Millis) -> DomainResult<Self> {
        if from > to {
            return Err(DomainError::invalid(field, "`from` must not be after `to`"));
        }
        Ok(Self { from, to })
    }

    /// Widens `from` down and `to` up to whole 10-minute marks, as the vendor does.
    pub fn rounded_to_ten_minutes(self) -> Self {
        Self {
            from: self.from.div_euclid(TEN_MINUTES).saturating_mul(TEN_MINUTES),
            to: self
                .to
                .saturating_add(TEN_MINUTES - 1)
                .div_euclid(TEN_MINUTES)
                .saturating_mul(TEN_MINUTES),
        }
    }

    /// Rejects a range longer than `max`.
    pub fn check_max_span(self, field: &str, max: Millis) -> DomainResult<Self> {
        if self.to.saturating_sub(self.from) > max {
            return Err(DomainError::invalid(
                field,
                format!(
                    "the time range may span at most {} days (after rounding to 10 minutes)",
                    max / DAY_MS
                ),
            ));
        }
        Ok(self)
    }
}

/// An engagement-attribute match: the value equals one attribute of that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMatch {
    pub kind: AttributeKind,
    pub value: String,
}

/// What a conversation search selects; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub start: Option<TimeRange>,
    pub end: Option<TimeRange>,
    pub statuses: Vec<ConversationStatus>,
    pub kind: Option<ConversationKind>,
    pub consumer_id: Option<ConsumerId>,
    pub channel_user_id: Option<String>,
    pub attributes: Vec<AttributeMatch>,
}

/// Which time orders the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Start,
    End,
}

/// A sort order such as `start:desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self {
            field: SortField::Start,
            descending: true,
        }
    }
}

impl Sort {
    /// Parses `start|end[:asc|desc]` (the direction defaults to descending).
    pub fn parse(value: &str) -> DomainResult<Self> {
        let (field, dir) = value.split_once(':').unwrap_or((value, "desc"));
        let field = match field {
            "start" => SortField::Start,
            "end" => SortField::End,
            _ => return Err(DomainError::invalid("sort", "must be start or end, then :asc or :desc")),
        };
        let descending = match dir {
            "asc" => false,
            "desc" => true,
            _ => return Err(DomainError::invalid("sort", "direction must be asc or desc")),
        };
        Ok(Self { field, descending })
    }

    /// The canonical spelling.
    pub fn as_string(self) -> String {
        let field = match self.field {
            SortField::Start => "start",
            SortField::End => "end",
        };
        format!("{field}:{}", if self.descending { "desc" } else { "asc" })
    }
}

/// The sort key of the last row of a page, from which the next page continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort_value: Millis,
    pub conversation_id: ConversationId,
}

/// How a search pages through its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Skip `offset` rows (LivePerson style); the total count is reported.
    Offset { offset: u64, limit: u32 },
    /// Continue after a cursor (native style).
    Keyset { after: Option<Cursor>, limit: u32 },
}

impl Page {
    /// The most rows the page holds.
    pub fn limit(&self) -> u32 {
        match self {
            Page::Offset { limit, .. } | Page::Keyset { limit, .. } => *limit,
        }
    }
}

/// Validates a page size against a maximum.
pub fn check_limit(limit: u32, max: u32) -> DomainResult<u32> {
    if limit == 0 || limit > max {
        return Err(DomainError::invalid("limit", format!("must be between 1 and {max}")));
    }
    Ok(limit)
}

/// The largest offset a store can page to (SQL offsets are signed 64-bit).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Validates an offset: one beyond what SQL can express is refused, not wrapped.
pub fn check_offset(offset: u64) -> DomainResult<u64> {
    if offset > MAX_OFFSET {
        return Err(DomainError::invalid("offset", format!("must be at most {MAX_OFFSET}")));
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_outwards_to_ten_minutes() {
        let r = TimeRange::new("start", 600_001, 1_200_001)
            .unwrap()
            .rounded_to_ten_minutes();
        assert_eq!((r.from, r.to), (600_000, 1_800_000));
        let exact = TimeRange::new("start", 600_000, 1_200_000)
            .unwrap()
            .rounded_to_ten_minutes();
        assert_eq!((exact.from, exact.to), (600_000, 1_200_000));
    }

    #[test]
    fn extreme_bounds_neither_overflow_nor_pass() {
        let r = TimeRange::new("start", i64::MIN, i64::MAX)
            .unwrap()
            .rounded_to_ten_minutes();
        assert!(r.check_max_span("start", MAX_FILTER_RANGE_MS).is_err());
        assert!(check_offset(u64::MAX).is_err());
        assert_eq!(check_offset(MAX_OFFSET).unwrap(), MAX_OFFSET);
    }

    #[test]
    fn ninety_two_days_is_the_limit() {
        let ok = TimeRange::new("start", 0, MAX_FILTER_RANGE_MS).unwrap();
        assert!(ok.check_max_span("start", MAX_FILTER_RANGE_MS).is_ok());
        let long = TimeRange::new("start", 0, MAX_FILTER_RANGE_MS + 1).unwrap();
        assert!(long
            .rounded_to_ten_minutes()
            .check_max_span("start", MAX_FILTER_RANGE_MS)
            .is_err());
    }

    #[test]
    fn parses_sorts() {
        assert_eq!(
            Sort::parse("end:asc").unwrap(),
            Sort {
                field: SortField::End,
                descending: false
            }
        );
        assert_eq!(Sort::parse("start").unwrap(), Sort::default());
        assert!(Sort::parse("start:up").is_err());
        assert!(Sort::parse("middle:asc").is_err());
    }
}
