//! `lethe settings get|set`: an account's settings, changed as the operator.

use crate::args::Global;
use crate::output;
use crate::serve::open;
use clap::Subcommand;
use lethe_domain::settings::SettingsPatch;
use lethe_domain::SiteId;
use lethe_server::v1::settings::SettingsOut;
use lethe_service::Principal;
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Show an account's settings.
    Get {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Change settings; unnamed ones keep their value. An empty e-mail or webhook clears it.
    Set {
        #[arg(long)]
        account: String,
        #[arg(long)]
        grace_period_seconds: Option<u64>,
        #[arg(long)]
        min_grace_period_seconds: Option<u64>,
        /// auto or manual
        #[arg(long)]
        approval_mode: Option<String>,
        #[arg(long)]
        monthly_quota: Option<u32>,
        /// always, or HH:MM-HH:MM Area/City
        #[arg(long)]
        execution_window: Option<String>,
        /// delete or mask
        #[arg(long)]
        erasure_mode: Option<String>,
        #[arg(long)]
        mask_marker: Option<String>,
        #[arg(long)]
        retain_metrics: Option<bool>,
        #[arg(long)]
        notification_email: Option<String>,
        #[arg(long)]
        webhook_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn print(settings: SettingsOut, json: bool) {
    let value = json!(settings);
    if json {
        output::json(&value);
        return;
    }
    let rows: Vec<Vec<String>> = value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| vec![k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)])
        .collect();
    output::table(&["SETTING", "VALUE"], &rows);
}

/// Runs a `settings` subcommand.
pub async fn settings(global: &Global, cmd: SettingsCmd) -> anyhow::Result<()> {
    let lethe = open(global).await?.state.lethe.clone();
    match cmd {
        SettingsCmd::Get { account, json } => {
            print(lethe.account_settings(&SiteId::parse(account)?).await?.into(), json);
        }
        SettingsCmd::Set {
            account,
            grace_period_seconds,
            min_grace_period_seconds,
            approval_mode,
            monthly_quota,
            execution_window,
            erasure_mode,
            mask_marker,
            retain_metrics,
            notification_email,
            webhook_url,
            json,
        } => {
            let mut patch = Map::new();
            let mut put = |name: &str, value: Option<Value>| {
                if let Some(value) = value {
                    patch.insert(name.to_owned(), value);
                }
            };
            put("grace_period_seconds", grace_period_seconds.map(Value::from));
            put("min_grace_period_seconds", min_grace_period_seconds.map(Value::from));
            put("approval_mode", approval_mode.map(Value::from));
            put("monthly_quota", monthly_quota.map(Value::from));
            put("execution_window", execution_window.map(Value::from));
            put("erasure_mode", erasure_mode.map(Value::from));
            put("mask_marker", mask_marker.map(Value::from));
            put("retain_metrics", retain_metrics.map(Value::from));
            let clearable = |v: String| if v.is_empty() { Value::Null } else { Value::from(v) };
            put("notification_email", notification_email.map(clearable));
            put("webhook_url", webhook_url.map(clearable));
            let patch: SettingsPatch = serde_json::from_value(Value::Object(patch))?;
            let site = SiteId::parse(account)?;
            print(
                lethe.update_settings(&Principal::cli(), &site, patch).await?.into(),
                json,
            );
        }
    }
    Ok(())
}
