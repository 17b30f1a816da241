//! The `lethe` command.

mod admin;
mod allocator;
mod apps;
mod args;
mod demo;
mod import;
mod output;
mod requests;
mod search;
mod serve;
mod settings;

use args::{Cli, Command};
use clap::Parser;

#[tokio::main]
async fn main() {
    allocator::return_free_pages_at_once();
    let cli = Cli::parse();
    if let Err(error) = run(cli).await {
        // One line, as scripts expect; the chain of causes joined.
        let reason: Vec<String> = error.chain().map(ToString::to_string).collect();
        eprintln!("lethe: {}", reason.join(": ").replace('\n', " "));
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::serve(&cli.global, args).await,
        Command::Worker => serve::worker(&cli.global).await,
        Command::Migrate => admin::migrate(&cli.global).await,
        Command::Accounts(cmd) => admin::accounts(&cli.global, cmd).await,
        Command::Bots(cmd) => admin::bots(&cli.global, cmd).await,
        Command::Apps(cmd) => apps::apps(&cli.global, cmd).await,
        Command::Keys(cmd) => admin::keys(&cli.global, cmd).await,
        Command::Import(args) => import::import(&cli.global, args).await,
        Command::Search(args) => search::search(&cli.global, args).await,
        Command::Requests(cmd) => requests::requests(&cli.global, cmd).await,
        Command::Settings(cmd) => settings::settings(&cli.global, cmd).await,
        Command::Demo(args) => demo::demo(&cli.global, args).await,
        Command::Openapi(args) => admin::openapi(args),
    }
}
