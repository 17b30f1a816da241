//! `lethe apps create|list`: Kore.ai apps, on the database directly.

use crate::args::Global;
use crate::output;
use crate::serve::open;
use clap::Subcommand;
use lethe_domain::time::to_rfc3339;
use lethe_domain::{BotId, Scopes, SiteId};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AppsCmd {
    /// Create an app for a bot; prints `{"app_id", "client_secret"}` (the secret is not shown again).
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        bot: String,
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, e.g. deletion:write,deletion:read
        #[arg(long)]
        scopes: String,
    },
    /// List an account's apps (never their secrets).
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
}

/// Runs an `apps` subcommand.
pub async fn apps(global: &Global, cmd: AppsCmd) -> anyhow::Result<()> {
    let lethe = open(global).await?.state.lethe.clone();
    match cmd {
        AppsCmd::Create {
            account,
            bot,
            name,
            scopes,
        } => {
            let site = SiteId::parse(account)?;
            let (app, secret) = lethe
                .create_app(&site, &BotId::parse(bot)?, &name, Scopes::parse_list(&scopes)?)
                .await?;
            println!("{}", json!({"app_id": app.app_id, "client_secret": secret}));
        }
        AppsCmd::List { account, json } => {
            let apps = lethe.list_apps(&SiteId::parse(account)?).await?;
            let rows: Vec<Vec<String>> = apps
                .iter()
                .map(|a| {
                    vec![
                        a.app_id.clone(),
                        a.bot_id.clone(),
                        a.name.clone(),
                        a.scopes.clone(),
                        to_rfc3339(a.created_at),
                    ]
                })
                .collect();
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| json!({"app_id": r[0], "bot_id": r[1], "name": r[2], "scopes": r[3], "created_at": r[4]}))
                    .collect();
                output::json(&json!(list));
            } else {
                output::table(&["APP_ID", "BOT", "NAME", "SCOPES", "CREATED"], &rows);
            }
        }
    }
    Ok(())
}
