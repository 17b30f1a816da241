//! `lethe requests …`: deletion requests on the database directly, acting as the
//! operator (`cli` in the change log).

use crate::args::Global;
use crate::output;
use crate::serve::open;
use clap::{Args, Subcommand};
use lethe_domain::deletion::{RequestSource, RequestStatus, Target, TargetLimits};
use lethe_domain::SiteId;
use lethe_server::v1::requests_dto::{PreviewOut, RequestOut};
use lethe_service::deletion::{NewDeletion, RequestFilter, RequestView};
use lethe_service::{Lethe, Principal};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum RequestsCmd {
    /// Create a request with exactly one target.
    Create {
        #[arg(long)]
        account: String,
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long)]
        json: bool,
    },
    /// List requests, newest first.
    List {
        #[arg(long)]
        account: String,
        /// Comma-separated statuses.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show one request with its timeline and items.
    Show(OneRequest),
    /// What a request covers: per-category counts and per-item problems.
    Preview(OneRequest),
    /// Cancel a request inside its cancel window.
    Cancel(OneRequest),
    /// Approve a request (approval mode manual).
    Approve(OneRequest),
    /// Reject a pending request.
    Reject {
        #[command(flatten)]
        request: OneRequest,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct OneRequest {
    #[arg(long)]
    pub account: String,
    /// The numeric request id.
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

/// Exactly one target.
#[derive(Debug, Args)]
#[group(skip)]
#[command(group = clap::ArgGroup::new("target").required(true).multiple(false))]
pub struct TargetArgs {
    /// Messaging conversation ids (repeatable).
    #[arg(long = "conversation", group = "target")]
    pub conversations: Vec<String>,
    /// Chat engagement ids (repeatable).
    #[arg(long = "engagement", group = "target")]
    pub engagements: Vec<String>,
    /// Consumer ids (repeatable): profile data only, unless --include-conversations.
    #[arg(long = "consumer", group = "target")]
    pub consumers: Vec<String>,
    /// Channel user id (cId); narrow with --from/--to (YYYY-MM-DD, inclusive).
    #[arg(long, group = "target")]
    pub cid: Option<String>,
    /// A LivePerson conversation filter as JSON, e.g. '{"start":{"from":…,"to":…}}'.
    #[arg(long, group = "target")]
    pub filter: Option<String>,
    /// With --consumer: also erase the consumers' conversations.
    #[arg(long)]
    pub include_conversations: bool,
    /// With --cid: first day covered.
    #[arg(long)]
    pub from: Option<String>,
    /// With --cid: last day covered.
    #[arg(long)]
    pub to: Option<String>,
}

impl TargetArgs {
    /// The native request body these flags describe.
    fn body(self) -> anyhow::Result<Value> {
        if self.cid.is_none() && (self.from.is_some() || self.to.is_some()) {
            anyhow::bail!("--from and --to narrow a --cid target");
        }
        let mut body = if !self.conversations.is_empty() {
            json!({"conversation_ids": self.conversations})
        } else if !self.engagements.is_empty() {
            json!({"engagement_ids": self.engagements})
        } else if !self.consumers.is_empty() {
            json!({"consumer_ids": self.consumers})
        } else if let Some(cid) = self.cid {
            json!({"channel_user": {"cid": cid, "from": self.from, "to": self.to}})
        } else {
            let filter: Value = serde_json::from_str(self.filter.as_deref().unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("--filter is not JSON: {e}"))?;
            json!({ "filter": filter })
        };
        if self.include_conversations {
            body["include_conversations"] = json!(true);
        }
        Ok(body)
    }
}

fn print_request(view: RequestView, json: bool) {
    let out = RequestOut::from(view);
    if json {
        output::json(&json!(out));
    } else {
        output::table(&["ID", "STATUS", "SOURCE", "TARGET", "CREATED", "DUE"], &[row(&out)]);
    }
}

fn row(r: &RequestOut) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.status.clone(),
        r.source.clone(),
        r.target_kind.clone(),
        r.created_at.clone(),
        r.due_at.clone(),
    ]
}

/// Runs a `requests` subcommand.
pub async fn requests(global: &Global, cmd: RequestsCmd) -> anyhow::Result<()> {
    let prepared = open(global).await?;
    let lethe = prepared.state.lethe.clone();
    let cli = Principal::cli();
    match cmd {
        RequestsCmd::Create { account, target, json } => {
            let site = SiteId::parse(account)?;
            let limits = TargetLimits {
                max_ids: prepared.state.config.max_ids_per_request,
            };
            let new = NewDeletion {
                target: Target::from_native(&target.body()?, limits)?,
                source: RequestSource::Cli,
                idempotency_key: None,
                route: "cli",
            };
            print_request(lethe.create_deletion(&cli, &site, new).await?.request, json);
        }
        RequestsCmd::List {
            account,
            status,
            limit,
            json,
        } => list(&lethe, &SiteId::parse(account)?, status, limit, json).await?,
        RequestsCmd::Show(one) => show(&lethe, one).await?,
        RequestsCmd::Preview(one) => {
            let preview = PreviewOut::from(lethe.preview_request(&SiteId::parse(one.account)?, one.id).await?);
            if one.json {
                output::json(&json!(preview));
            } else {
                output::json(&json!(preview.counts));
                let rows: Vec<Vec<String>> = preview
                    .items
                    .iter()
                    .map(|i| vec![i.kind.clone(), i.id.clone(), i.problem.clone().unwrap_or_default()])
                    .collect();
                output::table(&["KIND", "ID", "PROBLEM"], &rows);
            }
        }
        RequestsCmd::Cancel(one) => print_request(
            lethe
                .cancel_deletion(&cli, &SiteId::parse(one.account)?, one.id)
                .await?,
            one.json,
        ),
        RequestsCmd::Approve(one) => print_request(
            lethe
                .approve_deletion(&cli, &SiteId::parse(one.account)?, one.id)
                .await?,
            one.json,
        ),
        RequestsCmd::Reject { request, reason } => {
            let site = SiteId::parse(request.account)?;
            print_request(
                lethe.reject_deletion(&cli, &site, request.id, &reason).await?,
                request.json,
            )
        }
    }
    Ok(())
}

async fn list(lethe: &Lethe, site: &SiteId, status: Option<String>, limit: u32, json: bool) -> anyhow::Result<()> {
    let statuses = status
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| RequestStatus::parse(s.trim()).ok_or_else(|| anyhow::anyhow!("unknown status `{s}`")))
        .collect::<anyhow::Result<_>>()?;
    let filter = RequestFilter {
        statuses,
        limit: lethe_domain::filter::check_limit(limit, 500)?,
        ..RequestFilter::default()
    };
    let list: Vec<RequestOut> = lethe
        .deletion_requests(site, &filter)
        .await?
        .into_iter()
        .map(RequestOut::from)
        .collect();
    if json {
        output::json(&json!(list));
    } else {
        let rows: Vec<Vec<String>> = list.iter().map(row).collect();
        output::table(&["ID", "STATUS", "SOURCE", "TARGET", "CREATED", "DUE"], &rows);
    }
    Ok(())
}

async fn show(lethe: &Lethe, one: OneRequest) -> anyhow::Result<()> {
    let site = SiteId::parse(one.account)?;
    let view = lethe.deletion_request(&site, one.id).await?;
    let timeline = lethe.request_timeline(&site, one.id).await?;
    let items = lethe.deletion_request_items(&site, one.id).await?;
    let out = RequestOut::from(view).with_history(timeline, items);
    if one.json {
        output::json(&json!(out));
        return Ok(());
    }
    output::table(&["ID", "STATUS", "SOURCE", "TARGET", "CREATED", "DUE"], &[row(&out)]);
    println!("target: {}", out.target);
    let steps: Vec<Vec<String>> = out
        .timeline
        .iter()
        .flatten()
        .map(|t| {
            vec![
                t.at.clone(),
                t.event.clone(),
                t.to_status.clone().unwrap_or_default(),
                t.actor.clone(),
            ]
        })
        .collect();
    output::table(&["AT", "EVENT", "STATUS", "ACTOR"], &steps);
    Ok(())
}
