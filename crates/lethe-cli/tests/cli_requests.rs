//! `lethe requests …` and `lethe settings …` as scripts use them, on both backends.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const LETHE: &str = env!("CARGO_BIN_EXE_lethe");

fn lethe(dir: &Path, database: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(LETHE)
        .current_dir(dir)
        .arg("--database")
        .arg(database)
        .args(args)
        .output()
        .expect("run lethe");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    (out.status.success(), text(out.stdout), text(out.stderr))
}

fn json(dir: &Path, database: &str, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = lethe(dir, database, args);
    assert!(ok, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

fn story(dir: &Path, db: &str) {
    assert!(lethe(dir, db, &["accounts", "create", "acme"]).0);
    let created = json(
        dir,
        db,
        &[
            "requests",
            "create",
            "--account",
            "acme",
            "--conversation",
            "c1",
            "--json",
        ],
    );
    assert_eq!(
        (created["status"].as_str(), created["source"].as_str()),
        (Some("pending"), Some("cli"))
    );
    let id = created["id"].to_string();
    let (ok, table, _) = lethe(dir, db, &["requests", "list", "--account", "acme"]);
    assert!(ok && table.starts_with("ID") && table.contains("pending"), "{table}");
    let shown = json(dir, db, &["requests", "show", &id, "--account", "acme", "--json"]);
    assert_eq!(shown["timeline"][0]["actor"], "cli");
    let preview = json(dir, db, &["requests", "preview", &id, "--account", "acme", "--json"]);
    assert_eq!(preview["items"][0]["problem"], "not_found");
    let canceled = json(dir, db, &["requests", "cancel", &id, "--account", "acme", "--json"]);
    assert_eq!(canceled["status"], "canceled");
    let (ok, _, stderr) = lethe(dir, db, &["requests", "cancel", &id, "--account", "acme"]);
    assert!(
        !ok && stderr.starts_with("lethe: ") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    assert!(stderr.contains("canceled"), "{stderr}");

    let set = json(
        dir,
        db,
        &[
            "settings",
            "set",
            "--account",
            "acme",
            "--approval-mode",
            "manual",
            "--grace-period-seconds",
            "0",
            "--json",
        ],
    );
    assert_eq!(set["approval_mode"], "manual");
    let pending = json(
        dir,
        db,
        &[
            "requests",
            "create",
            "--account",
            "acme",
            "--cid",
            "wa:1",
            "--from",
            "2026-01-01",
            "--json",
        ],
    );
    let id = pending["id"].to_string();
    let approved = json(dir, db, &["requests", "approve", &id, "--account", "acme", "--json"]);
    assert_eq!(approved["status"], "scheduled");
    let other = json(
        dir,
        db,
        &["requests", "create", "--account", "acme", "--consumer", "u1", "--json"],
    );
    let rejected = json(
        dir,
        db,
        &[
            "requests",
            "reject",
            &other["id"].to_string(),
            "--account",
            "acme",
            "--reason",
            "test",
            "--json",
        ],
    );
    assert_eq!(rejected["status"], "rejected");
    let (ok, _, stderr) = lethe(
        dir,
        db,
        &["settings", "set", "--account", "acme", "--execution-window", "soon"],
    );
    assert!(!ok && stderr.contains("execution_window"), "{stderr}");
    let settings = json(dir, db, &["settings", "get", "--account", "acme", "--json"]);
    assert_eq!(settings["grace_period_seconds"], 0);

    assert!(
        lethe(
            dir,
            db,
            &["bots", "create", "--account", "acme", "b1", "--name", "Support"]
        )
        .0
    );
    let app = json(
        dir,
        db,
        &[
            "apps",
            "create",
            "--account",
            "acme",
            "--bot",
            "b1",
            "--name",
            "etl",
            "--scopes",
            "deletion:write",
        ],
    );
    assert!(
        app["app_id"].as_str().unwrap().starts_with("cs-") && app["client_secret"].is_string(),
        "{app}"
    );
    let listed = json(dir, db, &["apps", "list", "--account", "acme", "--json"]);
    assert_eq!(listed[0]["app_id"], app["app_id"]);
    assert!(
        !listed.to_string().contains(app["client_secret"].as_str().unwrap()),
        "secrets are shown once"
    );
}

#[test]
fn requests_and_settings_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("lethe.db").display());
    story(dir.path(), &db);
}

#[tokio::test]
async fn requests_and_settings_on_postgres() {
    let Some(pg) = common::pg::TempDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = pg.url.clone();
    tokio::task::spawn_blocking(move || story(dir.path(), &url))
        .await
        .unwrap();
}
