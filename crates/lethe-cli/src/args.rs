//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// lethe: customer conversations with a real right to be forgotten.
#[derive(Debug, Parser)]
#[command(name = "lethe", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Database URL: sqlite://PATH (default sqlite://./lethe.db) or postgres://…
    #[arg(long, global = true, env = "LETHE_DATABASE_URL")]
    pub database: Option<String>,
    /// TOML configuration file.
    #[arg(long, global = true, env = "LETHE_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Run deletion jobs (and grace-period promotion) without the HTTP server.
    Worker,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage accounts (tenants).
    #[command(subcommand)]
    Accounts(AccountsCmd),
    /// Manage bots.
    #[command(subcommand)]
    Bots(BotsCmd),
    /// Kore.ai apps: a bot's client credential for HS256 `auth` tokens.
    #[command(subcommand)]
    Apps(crate::apps::AppsCmd),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Bulk-import NDJSON records into an account.
    Import(ImportArgs),
    /// Search an account's conversations.
    Search(SearchArgs),
    /// Deletion requests: create, list, show, preview, cancel, approve, reject.
    #[command(subcommand)]
    Requests(crate::requests::RequestsCmd),
    /// An account's deletion settings.
    #[command(subcommand)]
    Settings(crate::settings::SettingsCmd),
    /// Generate a realistic demo data set (into an account, or as NDJSON).
    Demo(DemoArgs),
    /// Write the OpenAPI document.
    Openapi(OpenapiArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "LETHE_LISTEN")]
    pub listen: Option<String>,
    /// Blob store: a directory or s3://bucket/prefix (default: lethe-blobs beside the database).
    #[arg(long, env = "LETHE_BLOBS")]
    pub blobs: Option<String>,
    /// On first start, create a `demo` account with generated data and print a key for it.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCmd {
    /// Create an account.
    Create {
        /// Account id: ^[a-zA-Z0-9_]{1,20}$
        site_id: String,
    },
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BotsCmd {
    /// Create a bot in an account.
    Create {
        #[arg(long)]
        account: String,
        bot_id: String,
        #[arg(long)]
        name: String,
    },
    /// List an account's bots.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
}

/// Whose keys: one account's, or the operator's.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct KeyOwner {
    /// An account id.
    #[arg(long)]
    pub account: Option<String>,
    /// Operator keys (all accounts).
    #[arg(long)]
    pub operator: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Create a key; prints the key alone on stdout (it is not shown again).
    Create {
        #[command(flatten)]
        owner: KeyOwner,
        /// Comma-separated scopes, e.g. conversations:read,deletion:write
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        name: String,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        owner: KeyOwner,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke {
        #[command(flatten)]
        owner: KeyOwner,
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long)]
    pub account: String,
    /// NDJSON file, or - for standard input.
    pub file: PathBuf,
    /// Records per transaction.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[arg(long)]
    pub account: String,
    #[arg(long)]
    pub consumer: Option<String>,
    /// Channel user id (cId).
    #[arg(long)]
    pub channel_user: Option<String>,
    /// Engagement attribute, as kind=value (e.g. customerInfo=C-1001).
    #[arg(long)]
    pub attribute: Vec<String>,
    /// open or closed (repeatable).
    #[arg(long)]
    pub status: Vec<String>,
    /// messaging or chat.
    #[arg(long)]
    pub kind: Option<String>,
    /// Conversations starting at or after this RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// Conversations starting at or before this RFC 3339 time.
    #[arg(long)]
    pub to: Option<String>,
    /// start|end:asc|desc
    #[arg(long, default_value = "start:desc")]
    pub sort: String,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Account to fill (created if missing).
    #[arg(long, default_value = "demo")]
    pub account: String,
    #[arg(long, default_value_t = 200)]
    pub consumers: u64,
    #[arg(long, default_value_t = 2000)]
    pub conversations: u64,
    #[arg(long, default_value_t = 10)]
    pub messages: u32,
    /// Share of conversations that go to the 1% busiest consumers (0..1).
    #[arg(long, default_value_t = 0.1)]
    pub skew: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write NDJSON here instead of importing.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// Where to write (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fail when --out differs from what the code generates.
    #[arg(long, requires = "out")]
    pub check: bool,
}
