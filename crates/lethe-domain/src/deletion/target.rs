//! What a deletion request erases: exactly one target, validated at the edge and kept
//! in the native `/v1` shape (which every other rendering is derived from).

use crate::conversation::{AttributeKind, ConversationKind, ConversationStatus};
use crate::error::{DomainError, DomainResult};
use crate::filter::{AttributeMatch, ConversationFilter, TimeRange, MAX_FILTER_RANGE_MS};
use crate::ids::check_opaque;
use crate::time::{parse_date, Millis, DAY_MS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Prefix of a keyed hash that replaced a target value once its request ended.
pub const HASHED_PREFIX: &str = "hmac-sha256:";

wire_enum!(
    /// Which kind of target a request has.
    TargetKind {
        Conversations = "conversations",
        Engagements = "engagements",
        Consumers = "consumers",
        ChannelUser = "channel_user",
        Filter = "filter",
        BotConversations = "bot_conversations",
    }
);

/// Bounds on a target, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct TargetLimits {
    /// Most ids one request may list.
    pub max_ids: usize,
}

/// A channel user and an optional inclusive range of UTC days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelUserTarget {
    pub cid: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only conversations with this bot (Kore.ai requests are scoped to one).
    pub bot_id: Option<String>,
}

impl ChannelUserTarget {
    /// The covered start times: from the first day's start to the last day's end.
    pub fn range(&self) -> (Option<Millis>, Option<Millis>) {
        let from = self.from.as_deref().and_then(parse_date);
        let to = self.to.as_deref().and_then(parse_date).map(|d| d + DAY_MS - 1);
        (from, to)
    }
}

/// The seed-000 conversation filter, rounded and range-checked as search does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterTarget {
    pub start: TimeRange,
    pub end: Option<TimeRange>,
    pub statuses: Vec<ConversationStatus>,
    pub attributes: Vec<AttributeMatch>,
}

/// Exactly one thing to erase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Conversations(Vec<String>),
    Engagements(Vec<String>),
    /// Profiles only, unless `include_conversations` (LivePerson never includes them).
    Consumers {
        ids: Vec<String>,
        include_conversations: bool,
    },
    ChannelUser(ChannelUserTarget),
    Filter(FilterTarget),
    /// Conversations of either kind that must belong to one bot.
    BotConversations {
        bot_id: String,
        ids: Vec<String>,
    },
}

const NATIVE_FIELDS: [&str; 7] = [
    "conversation_ids",
    "engagement_ids",
    "consumer_ids",
    "include_conversations",
    "channel_user",
    "filter",
    "bot_conversations",
];

impl Target {
    /// The kind of this target.
    pub fn kind(&self) -> TargetKind {
        match self {
            Target::Conversations(_) => TargetKind::Conversations,
            Target::Engagements(_) => TargetKind::Engagements,
            Target::Consumers { .. } => TargetKind::Consumers,
            Target::ChannelUser(_) => TargetKind::ChannelUser,
            Target::Filter(_) => TargetKind::Filter,
            Target::BotConversations { .. } => TargetKind::BotConversations,
        }
    }

    /// Parses a native `/v1` request body (or a stored target): exactly one target.
    pub fn from_native(body: &Value, limits: TargetLimits) -> DomainResult<Self> {
        let map = as_object("body", body)?;
        if let Some(field) = map.keys().find(|k| !NATIVE_FIELDS.contains(&k.as_str())) {
            return Err(DomainError::invalid(field.clone(), "unknown field"));
        }
        let present: Vec<&str> = [
            "conversation_ids",
            "engagement_ids",
            "consumer_ids",
            "channel_user",
            "filter",
            "bot_conversations",
        ]
        .into_iter()
        .filter(|k| map.contains_key(*k))
        .collect();
        let field = exactly_one(
            &present,
            "conversation_ids, engagement_ids, consumer_ids, channel_user, filter or bot_conversations",
        )?;
        let include = match map.get("include_conversations") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(DomainError::invalid("include_conversations", "must be true or false")),
        };
        if include.is_some() && field != "consumer_ids" {
            return Err(DomainError::invalid(
                "include_conversations",
                "applies only to a consumer_ids target",
            ));
        }
        let value = &map[field];
        Ok(match field {
            "conversation_ids" => Target::Conversations(ids(field, value, limits)?),
            "engagement_ids" => Target::Engagements(ids(field, value, limits)?),
            "consumer_ids" => Target::Consumers {
                ids: ids(field, value, limits)?,
                include_conversations: include.unwrap_or(false),
            },
            "channel_user" => Target::ChannelUser(channel_user(value)?),
            "bot_conversations" => bot_conversations(value, limits)?,
            _ => Target::Filter(FilterTarget::parse("filter", value)?),
        })
    }

    /// Parses a LivePerson create body: exactly one of `engagement`, `conversation`,
    /// `consumer`.
    pub fn from_liveperson(body: &Value, limits: TargetLimits) -> DomainResult<Self> {
        let map = as_object("body", body)?;
        const FIELDS: [&str; 3] = ["engagement", "conversation", "consumer"];
        if let Some(field) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(DomainError::invalid(field.clone(), "unknown field"));
        }
        let present: Vec<&str> = FIELDS.into_iter().filter(|k| map.contains_key(*k)).collect();
        let field = exactly_one(&present, "engagement, conversation or consumer")?;
        let list = ids(field, &map[field], limits)?;
        Ok(match field {
            "engagement" => Target::Engagements(list),
            "conversation" => Target::Conversations(list),
            _ => Target::Consumers {
                ids: list,
                include_conversations: false,
            },
        })
    }

    /// The native JSON form.
    pub fn to_native(&self) -> Value {
        self.render(&|v: &str| v.to_owned())
    }

    /// The native JSON form with every id and personal value replaced by `hash(value)`;
    /// what remains of a target once its request has ended.
    pub fn to_hashed(&self, hash: &dyn Fn(&str) -> String) -> Value {
        self.render(&|v: &str| format!("{HASHED_PREFIX}{}", hash(v)))
    }

    fn render(&self, value: &dyn Fn(&str) -> String) -> Value {
        let list = |ids: &[String]| Value::from(ids.iter().map(|id| value(id)).collect::<Vec<_>>());
        match self {
            Target::Conversations(ids) => json!({ "conversation_ids": list(ids) }),
            Target::Engagements(ids) => json!({ "engagement_ids": list(ids) }),
            Target::Consumers {
                ids,
                include_conversations,
            } => json!({ "consumer_ids": list(ids), "include_conversations": include_conversations }),
            Target::ChannelUser(c) => {
                let mut user = json!({ "cid": value(&c.cid), "from": c.from, "to": c.to });
                if let Some(bot) = &c.bot_id {
                    user["bot_id"] = json!(bot);
                }
                json!({ "channel_user": user })
            }
            Target::Filter(f) => json!({ "filter": f.render(value) }),
            Target::BotConversations { bot_id, ids } => {
                json!({ "bot_conversations": { "bot_id": bot_id, "ids": list(ids) } })
            }
        }
    }

    /// Which conversation kind the listed ids must have, for id-list targets.
    pub fn listed_kind(&self) -> Option<ConversationKind> {
        match self {
            Target::Conversations(_) => Some(ConversationKind::Messaging),
            Target::Engagements(_) => Some(ConversationKind::Chat),
            _ => None,
        }
    }
}

impl FilterTarget {
    /// Parses the seed-000 filter: `start` required, `end`, `status`, `sdeSearch`.
    pub fn parse(field: &str, value: &Value) -> DomainResult<Self> {
        let map = as_object(field, value)?;
        const FIELDS: [&str; 4] = ["start", "end", "status", "sdeSearch"];
        if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(DomainError::invalid(
                format!("{field}.{key}"),
                "this filter field is not implemented by lethe",
            ));
        }
        let start = match map.get("start") {
            Some(v) => seed_range(&format!("{field}.start"), v)?,
            None => return Err(DomainError::invalid(format!("{field}.start"), "is required")),
        };
        let end = match map.get("end") {
            None | Some(Value::Null) => None,
            Some(v) => Some(seed_range(&format!("{field}.end"), v)?),
        };
        let statuses = match map.get("status") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|s| parse_seed_status(s.as_str().unwrap_or_default()))
                .collect::<DomainResult<_>>()?,
            Some(_) => return Err(DomainError::invalid("status", "must be an array of OPEN and/or CLOSE")),
        };
        let attributes = match map.get("sdeSearch") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => sde_search(&format!("{field}.sdeSearch"), v)?,
        };
        Ok(Self {
            start,
            end,
            statuses,
            attributes,
        })
    }

    /// The search filter this target selects.
    pub fn to_filter(&self) -> ConversationFilter {
        ConversationFilter {
            start: Some(self.start),
            end: self.end,
            statuses: self.statuses.clone(),
            attributes: self.attributes.clone(),
            ..ConversationFilter::default()
        }
    }

    fn render(&self, value: &dyn Fn(&str) -> String) -> Value {
        let mut out = Map::new();
        out.insert("start".into(), json!({"from": self.start.from, "to": self.start.to}));
        if let Some(end) = self.end {
            out.insert("end".into(), json!({"from": end.from, "to": end.to}));
        }
        if !self.statuses.is_empty() {
            let names: Vec<&str> = self.statuses.iter().map(|s| seed_status_name(*s)).collect();
            out.insert("status".into(), json!(names));
        }
        if !self.attributes.is_empty() {
            let sde: Map<String, Value> = self
                .attributes
                .iter()
                .map(|a| (a.kind.as_str().to_owned(), Value::from(value(&a.value))))
                .collect();
            out.insert("sdeSearch".into(), Value::Object(sde));
        }
        Value::Object(out)
    }
}

/// A seed-000 range `{from, to}` in epoch ms: rounded to 10 minutes, at most 92 days.
pub fn seed_range(field: &str, value: &Value) -> DomainResult<TimeRange> {
    let map = as_object(field, value)?;
    if let Some(key) = map.keys().find(|k| !["from", "to"].contains(&k.as_str())) {
        return Err(DomainError::invalid(format!("{field}.{key}"), "unknown field"));
    }
    let bound = |name: &str| {
        map.get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| DomainError::invalid(format!("{field}.{name}"), "must be epoch milliseconds"))
    };
    TimeRange::new(field, bound("from")?, bound("to")?)?
        .rounded_to_ten_minutes()
        .check_max_span(field, MAX_FILTER_RANGE_MS)
}

/// Parses a seed-000 status name.
pub fn parse_seed_status(name: &str) -> DomainResult<ConversationStatus> {
    match name {
        "OPEN" => Ok(ConversationStatus::Open),
        "CLOSE" => Ok(ConversationStatus::Closed),
        other => Err(DomainError::invalid(
            "status",
            format!("`{other}` is not OPEN or CLOSE"),
        )),
    }
}

fn seed_status_name(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Open => "OPEN",
        ConversationStatus::Closed => "CLOSE",
    }
}

fn sde_search(field: &str, value: &Value) -> DomainResult<Vec<AttributeMatch>> {
    let map = as_object(field, value)?;
    let mut out = Vec::new();
    for (key, v) in map {
        let kind = AttributeKind::parse(key).ok_or_else(|| {
            DomainError::invalid(
                format!("{field}.{key}"),
                "this filter field is not implemented by lethe",
            )
        })?;
        match v {
            Value::Null => {}
            Value::String(s) if !s.is_empty() => out.push(AttributeMatch { kind, value: s.clone() }),
            _ => {
                return Err(DomainError::invalid(
                    format!("{field}.{key}"),
                    "must be a non-empty string",
                ))
            }
        }
    }
    Ok(out)
}

fn channel_user(value: &Value) -> DomainResult<ChannelUserTarget> {
    let map = as_object("channel_user", value)?;
    if let Some(key) = map
        .keys()
        .find(|k| !["cid", "from", "to", "bot_id"].contains(&k.as_str()))
    {
        return Err(DomainError::invalid(format!("channel_user.{key}"), "unknown field"));
    }
    let cid = match map.get("cid") {
        Some(Value::String(s)) => {
            check_opaque("channel_user.cid", s)?;
            s.clone()
        }
        _ => return Err(DomainError::invalid("channel_user.cid", "must be a non-empty string")),
    };
    let date = |name: &str| -> DomainResult<Option<String>> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if parse_date(s).is_some() => Ok(Some(s.clone())),
            Some(_) => Err(DomainError::invalid(
                format!("channel_user.{name}"),
                "must be a date YYYY-MM-DD",
            )),
        }
    };
    let bot_id = match map.get("bot_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            check_opaque("channel_user.bot_id", s)?;
            Some(s.clone())
        }
        Some(_) => return Err(DomainError::invalid("channel_user.bot_id", "must be a string")),
    };
    let target = ChannelUserTarget {
        cid,
        from: date("from")?,
        to: date("to")?,
        bot_id,
    };
    if let (Some(from), Some(to)) = target.range() {
        if from > to {
            return Err(DomainError::invalid("channel_user", "`from` must not be after `to`"));
        }
    }
    Ok(target)
}

fn bot_conversations(value: &Value, limits: TargetLimits) -> DomainResult<Target> {
    let map = as_object("bot_conversations", value)?;
    if let Some(key) = map.keys().find(|k| !["bot_id", "ids"].contains(&k.as_str())) {
        return Err(DomainError::invalid(
            format!("bot_conversations.{key}"),
            "unknown field",
        ));
    }
    let bot_id = match map.get("bot_id") {
        Some(Value::String(s)) => {
            check_opaque("bot_conversations.bot_id", s)?;
            s.clone()
        }
        _ => {
            return Err(DomainError::invalid(
                "bot_conversations.bot_id",
                "must be a non-empty string",
            ))
        }
    };
    let ids = ids("bot_conversations.ids", map.get("ids").unwrap_or(&Value::Null), limits)?;
    Ok(Target::BotConversations { bot_id, ids })
}

fn ids(field: &str, value: &Value, limits: TargetLimits) -> DomainResult<Vec<String>> {
    let Value::Array(list) = value else {
        return Err(DomainError::invalid(field, "must be an array of id strings"));
    };
    if list.is_empty() {
        return Err(DomainError::invalid(field, "must list at least one id"));
    }
    if list.len() > limits.max_ids {
        return Err(DomainError::invalid(
            field,
            format!("lists {} ids; one request takes at most {}", list.len(), limits.max_ids),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    // Repeats are dropped in first-seen order; a set keeps that linear for long lists.
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let Value::String(id) = item else {
            return Err(DomainError::invalid(format!("{field}[{i}]"), "must be a string"));
        };
        check_opaque(&format!("{field}[{i}]"), id)?;
        if seen.insert(id.as_str()) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

fn exactly_one<'a>(present: &[&'a str], names: &str) -> DomainResult<&'a str> {
    match present {
        [one] => Ok(one),
        [] => Err(DomainError::invalid("target", format!("give exactly one of {names}"))),
        many => Err(DomainError::invalid(
            many[1],
            format!("only one target per request; got {}", many.join(" and ")),
        )),
    }
}

fn as_object<'a>(field: &str, value: &'a Value) -> DomainResult<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| DomainError::invalid(field, "must be a JSON object"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: TargetLimits = TargetLimits { max_ids: 3 };

    fn field_of(err: DomainError) -> String {
        match err {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn exactly_one_target_with_named_errors() {
        let err = |v: Value| field_of(Target::from_native(&v, LIMITS).unwrap_err());
        assert_eq!(err(json!({})), "target");
        assert_eq!(
            err(json!({"conversation_ids": ["a"], "consumer_ids": ["b"]})),
            "consumer_ids"
        );
        assert_eq!(err(json!({"conversation_ids": []})), "conversation_ids");
        assert_eq!(err(json!({"conversation_ids": ["a", 3]})), "conversation_ids[1]");
        assert_eq!(err(json!({"conversation_ids": [""]})), "conversation_ids[0]");
        assert_eq!(
            err(json!({"conversation_ids": ["a", "b", "c", "d"]})),
            "conversation_ids"
        );
        assert_eq!(err(json!({"conversation_ids": ["a"], "x": 1})), "x");
        assert_eq!(
            err(json!({"conversation_ids": ["a"], "include_conversations": true})),
            "include_conversations"
        );
        assert_eq!(
            err(json!({"filter": {"start": {"from": 0, "to": 1}, "v": 1}})),
            "filter.v"
        );
        assert_eq!(
            err(json!({"filter": {"start": {"from": 0, "to": 93 * DAY_MS}}})),
            "filter.start"
        );
        assert_eq!(
            err(json!({"channel_user": {"cid": "c", "from": "2024-13-01"}})),
            "channel_user.from"
        );
    }

    #[test]
    fn native_form_round_trips_and_hashes_every_value() {
        let body = json!({"channel_user": {"cid": "wa:123", "from": "2024-01-01", "to": null}});
        let target = Target::from_native(&body, LIMITS).unwrap();
        assert_eq!(Target::from_native(&target.to_native(), LIMITS).unwrap(), target);
        let hashed = target.to_hashed(&|v| format!("h({v})")).to_string();
        assert!(!hashed.contains("\"wa:123\""), "{hashed}");
        assert!(hashed.contains("hmac-sha256:h(wa:123)"));
        let filter = json!({"filter": {"start": {"from": 1, "to": 2}, "sdeSearch": {"personalInfo": "ann@x.org"}}});
        let target = Target::from_native(&filter, LIMITS).unwrap();
        assert_eq!(target.to_native()["filter"]["start"], json!({"from": 0, "to": 600_000}));
        assert!(!target.to_hashed(&|_| "z".into()).to_string().contains("ann@x.org"));
    }

    #[test]
    fn bot_scoped_targets_round_trip() {
        let t = Target::BotConversations {
            bot_id: "b1".into(),
            ids: vec!["k1".into()],
        };
        assert_eq!(Target::from_native(&t.to_native(), LIMITS), Ok(t));
        let user = Target::ChannelUser(ChannelUserTarget {
            cid: "wa-1".into(),
            from: Some("2026-03-01".into()),
            to: None,
            bot_id: Some("b1".into()),
        });
        assert_eq!(Target::from_native(&user.to_native(), LIMITS), Ok(user));
    }

    #[test]
    fn liveperson_body_maps_onto_targets() {
        let t = Target::from_liveperson(&json!({"engagement": ["1", "1"]}), LIMITS).unwrap();
        assert_eq!(t, Target::Engagements(vec!["1".into()]));
        assert!(Target::from_liveperson(&json!({"engagement": ["1"], "consumer": ["2"]}), LIMITS).is_err());
        assert!(Target::from_liveperson(&json!({"conversations": ["1"]}), LIMITS).is_err());
    }
}
