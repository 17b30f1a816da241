//! `lethe search`: the native search from the command line.

use crate::args::{Global, SearchArgs};
use crate::output;
use crate::serve::open;
use lethe_domain::conversation::{AttributeKind, ConversationKind, ConversationStatus};
use lethe_domain::filter::{check_limit, AttributeMatch, ConversationFilter, Page, Sort, TimeRange};
use lethe_domain::time::{parse_rfc3339, to_rfc3339};
use lethe_domain::{ConsumerId, SiteId};
use lethe_service::search::SearchRequest;
use lethe_store::PartsWanted;
use serde_json::json;

fn parse_time(flag: &str, value: &Option<String>, default: i64) -> anyhow::Result<i64> {
    match value {
        Some(v) => parse_rfc3339(v).ok_or_else(|| anyhow::anyhow!("--{flag} must be an RFC 3339 time")),
        None => Ok(default),
    }
}

fn filter(args: &SearchArgs) -> anyhow::Result<ConversationFilter> {
    let start = if args.from.is_some() || args.to.is_some() {
        Some(TimeRange::new(
            "start",
            parse_time("from", &args.from, i64::MIN)?,
            parse_time("to", &args.to, i64::MAX)?,
        )?)
    } else {
        None
    };
    let attributes = args
        .attribute
        .iter()
        .map(|a| {
            let (kind, value) = a
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--attribute takes kind=value"))?;
            let kind = AttributeKind::parse(kind)
                .ok_or_else(|| anyhow::anyhow!("--attribute kind must be personalInfo, customerInfo or userUpdate"))?;
            Ok(AttributeMatch {
                kind,
                value: value.to_owned(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(ConversationFilter {
        start,
        end: None,
        statuses: args
            .status
            .iter()
            .map(|s| ConversationStatus::parse(s).ok_or_else(|| anyhow::anyhow!("--status must be open or closed")))
            .collect::<anyhow::Result<_>>()?,
        kind: args
            .kind
            .as_deref()
            .map(|k| ConversationKind::parse(k).ok_or_else(|| anyhow::anyhow!("--kind must be messaging or chat")))
            .transpose()?,
        consumer_id: args.consumer.clone().map(ConsumerId::parse).transpose()?,
        channel_user_id: args.channel_user.clone(),
        attributes,
    })
}

/// Prints one page of matches.
pub async fn search(global: &Global, args: SearchArgs) -> anyhow::Result<()> {
    let lethe = open(global).await?.state.lethe.clone();
    let site = SiteId::parse(&args.account)?;
    let request = SearchRequest {
        filter: filter(&args)?,
        sort: Sort::parse(&args.sort)?,
        page: Page::Keyset {
            after: None,
            limit: check_limit(args.limit, 500)?,
        },
        parts: PartsWanted::default(),
    };
    let result = lethe.search(&site, &request).await?;
    let rows: Vec<_> = result.conversations.iter().map(|c| &c.record).collect();
    if args.json {
        let list: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({"id": r.conversation_id, "kind": r.kind, "status": r.status, "consumer_id": r.consumer_id,
                "start_time": to_rfc3339(r.start_time), "end_time": r.end_time.map(to_rfc3339)})
            })
            .collect();
        output::json(&json!(list));
    } else {
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.conversation_id.clone(),
                    r.kind.clone(),
                    r.status.clone(),
                    r.consumer_id.clone().unwrap_or_default(),
                    to_rfc3339(r.start_time),
                    r.end_time.map(to_rfc3339).unwrap_or_default(),
                ]
            })
            .collect();
        output::table(&["ID", "KIND", "STATUS", "CONSUMER", "START", "END"], &table);
    }
    Ok(())
}
