//! The Kore.ai delete body: conversation ids, or a channel user with an optional
//! inclusive range of UTC days.

use super::target::{Target, TargetLimits};
use crate::error::{DomainError, DomainResult};
use crate::ids::check_opaque;
use chrono::NaiveDate;
use serde_json::Value;

/// A parsed body; the service fills the channel user's default dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KoreAiDelete {
    Conversations(Vec<String>),
    ChannelUser {
        cid: String,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    },
}

fn date(map: &serde_json::Map<String, Value>, field: &str) -> DomainResult<Option<NaiveDate>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| DomainError::invalid(field, "must be a date YYYY-MM-DD")),
        Some(_) => Err(DomainError::invalid(field, "must be a date YYYY-MM-DD")),
    }
}

impl KoreAiDelete {
    /// Parses the body; `today` (UTC) bounds `endDate`.
    pub fn parse(body: &Value, limits: TargetLimits, today: NaiveDate) -> DomainResult<Self> {
        let map = body
            .as_object()
            .ok_or_else(|| DomainError::invalid("body", "must be a JSON object"))?;
        const FIELDS: [&str; 4] = ["conversationIds", "cId", "startDate", "endDate"];
        if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(DomainError::invalid(key.clone(), "unknown field"));
        }
        match (map.get("conversationIds"), map.get("cId")) {
            (Some(_), Some(_)) => Err(DomainError::invalid("cId", "give conversationIds or cId, not both")),
            (None, None) => Err(DomainError::invalid("conversationIds", "give conversationIds or cId")),
            (Some(ids), None) => {
                if map.contains_key("startDate") || map.contains_key("endDate") {
                    return Err(DomainError::invalid("startDate", "dates apply only to a cId request"));
                }
                // The id rules are the native ones: reuse them, naming Kore.ai's field.
                let native = serde_json::json!({ "conversation_ids": ids });
                match Target::from_native(&native, limits) {
                    Ok(Target::Conversations(ids)) => Ok(Self::Conversations(ids)),
                    Ok(_) => unreachable!("conversation_ids parses to Conversations"),
                    Err(DomainError::Invalid { field, message }) => Err(DomainError::invalid(
                        field.replace("conversation_ids", "conversationIds"),
                        message,
                    )),
                    Err(other) => Err(other),
                }
            }
            (None, Some(cid)) => {
                let Value::String(cid) = cid else {
                    return Err(DomainError::invalid("cId", "must be a string"));
                };
                check_opaque("cId", cid)?;
                let (start, end) = (date(map, "startDate")?, date(map, "endDate")?);
                if end.is_some_and(|end| end > today) {
                    return Err(DomainError::invalid("endDate", "must not be in the future (UTC)"));
                }
                if let (Some(start), Some(end)) = (start, end) {
                    if start > end {
                        return Err(DomainError::invalid("startDate", "must not be after endDate"));
                    }
                }
                Ok(Self::ChannelUser {
                    cid: cid.clone(),
                    start,
                    end,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: TargetLimits = TargetLimits { max_ids: 2 };

    fn field(body: Value) -> String {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        match KoreAiDelete::parse(&body, LIMITS, today).unwrap_err() {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_form_with_valid_dates() {
        assert_eq!(field(json!({})), "conversationIds");
        assert_eq!(field(json!({"conversationIds": ["a"], "cId": "u"})), "cId");
        assert_eq!(field(json!({"conversationIds": ["a", "b", "c"]})), "conversationIds");
        assert_eq!(field(json!({"conversationIds": [1]})), "conversationIds[0]");
        assert_eq!(field(json!({"cId": "u", "endDate": "2026-11-25"})), "endDate");
        assert_eq!(
            field(json!({"cId": "u", "startDate": "2026-11-20", "endDate": "2026-11-19"})),
            "startDate"
        );
        assert_eq!(field(json!({"cId": "u", "from": "2026-11-19"})), "from");
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let ok = KoreAiDelete::parse(&json!({"cId": "u", "endDate": "2026-11-24"}), LIMITS, today).unwrap();
        assert_eq!(
            ok,
            KoreAiDelete::ChannelUser {
                cid: "u".into(),
                start: None,
                end: Some(today)
            }
        );
    }
}
