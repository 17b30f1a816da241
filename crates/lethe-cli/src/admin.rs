//! Administrative commands: they act on the database directly; no server needs to run.

use crate::args::{AccountsCmd, BotsCmd, Global, KeyOwner, KeysCmd, OpenapiArgs};
use crate::output;
use crate::serve::open;
use lethe_domain::time::to_rfc3339;
use lethe_domain::{BotId, Scopes, SiteId};
use serde_json::json;

fn owner_site(owner: &KeyOwner) -> anyhow::Result<Option<SiteId>> {
    Ok(match &owner.account {
        Some(account) => Some(SiteId::parse(account)?),
        None => None,
    })
}

/// `lethe migrate`
pub async fn migrate(global: &Global) -> anyhow::Result<()> {
    let prepared = open(global).await?;
    eprintln!(
        "lethe: the {} database is at the latest schema",
        prepared.state.lethe.store.backend()
    );
    Ok(())
}

/// `lethe accounts …`
pub async fn accounts(global: &Global, cmd: AccountsCmd) -> anyhow::Result<()> {
    let lethe = open(global).await?.state.lethe.clone();
    match cmd {
        AccountsCmd::Create { site_id } => {
            let site = SiteId::parse(site_id)?;
            lethe.create_account(&site).await?;
            println!("{site}");
        }
        AccountsCmd::List { json } => {
            let accounts = lethe.list_accounts().await?;
            if json {
                output::json(&json!(accounts
                    .iter()
                    .map(|a| json!({"site_id": a.site_id, "created_at": to_rfc3339(a.created_at)}))
                    .collect::<Vec<_>>()));
            } else {
                let rows: Vec<Vec<String>> = accounts
                    .iter()
                    .map(|a| vec![a.site_id.clone(), to_rfc3339(a.created_at)])
                    .collect();
                output::table(&["SITE_ID", "CREATED"], &rows);
            }
        }
    }
    Ok(())
}

/// `lethe bots …`
pub async fn bots(global: &Global, cmd: BotsCmd) -> anyhow::Result<()> {
    let lethe = open(global).await?.state.lethe.clone();
    match cmd {
        BotsCmd::Create { account, bot_id, name } => {
            let bot = lethe
                .create_bot(&SiteId::parse(account)?, &BotId::parse(bot_id)?, &name)
                .await?;
            println!("{}", bot.bot_id);
        }
        BotsCmd::List { account, json } => {
            let bots = lethe.list_bots(&SiteId::parse(account)?).await?;
            if json {
                output::json(&json!(bots
                    .iter()
                    .map(|b| json!({"bot_id": b.bot_id, "name": b.name, "created_at": to_rfc3339(b.created_at)}))
                    .collect::<Vec<_>>()));
            } else {
                let rows: Vec<Vec<String>> = bots
                    .iter()
                    .map(|b| vec![b.bot_id.clone(), b.name.clone(), to_rfc3339(b.created_at)])
                    .collect();
                output::table(&["BOT_ID", "NAME", "CREATED"], &rows);
            }
        }
    }
    Ok(())
}

/// `lethe keys …`
pub async fn keys(global: &Global, cmd: KeysCmd) -> anyhow::Result<()> {
    let lethe = open(global).await?.state.lethe.clone();
    match cmd {
        KeysCmd::Create { owner, scopes, name } => {
            let created = lethe
                .create_key(owner_site(&owner)?.as_ref(), Scopes::parse_list(&scopes)?, &name)
                .await?;
            println!("{}", created.secret);
        }
        KeysCmd::List { owner, json } => {
            let keys = lethe.list_keys(owner_site(&owner)?.as_ref()).await?;
            if json {
                let list: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        json!({"id": k.id, "account": k.account, "name": k.name, "scopes": k.scopes, "prefix": k.prefix,
                        "created_at": to_rfc3339(k.created_at), "revoked_at": k.revoked_at.map(to_rfc3339)})
                    })
                    .collect();
                output::json(&json!(list));
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        let state = k
                            .revoked_at
                            .map_or("active".to_owned(), |t| format!("revoked {}", to_rfc3339(t)));
                        vec![
                            k.id.to_string(),
                            k.name.clone(),
                            k.prefix.clone(),
                            k.scopes.clone(),
                            state,
                        ]
                    })
                    .collect();
                output::table(&["ID", "NAME", "PREFIX", "SCOPES", "STATE"], &rows);
            }
        }
        KeysCmd::Revoke { owner, id } => {
            lethe.revoke_key(owner_site(&owner)?.as_ref(), id).await?;
            eprintln!("lethe: key {id} revoked");
        }
    }
    Ok(())
}

/// `lethe openapi`
pub fn openapi(args: OpenapiArgs) -> anyhow::Result<()> {
    let generated = lethe_server::openapi_json();
    match (args.out, args.check) {
        (Some(path), true) => {
            let committed =
                std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            if committed != generated {
                anyhow::bail!(
                    "{} is stale: run `lethe openapi --out {}` and commit it",
                    path.display(),
                    path.display()
                );
            }
            eprintln!("lethe: {} is up to date", path.display());
        }
        (Some(path), false) => std::fs::write(&path, generated)?,
        (None, _) => print!("{generated}"),
    }
    Ok(())
}
