//! A PostgreSQL database per test, created and dropped around it.

use sqlx::{Connection, PgConnection};

/// The server tests use, and whether its absence fails the run.
fn admin_url() -> String {
    std::env::var("LETHE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn required() -> bool {
    std::env::var("LETHE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A database that is dropped when this value is.
pub struct TempDatabase {
    pub url: String,
    name: String,
}

impl TempDatabase {
    /// Creates a fresh database; `None` (skip) when PostgreSQL is unreachable and not required.
    pub async fn create() -> Option<Self> {
        let admin = admin_url();
        let mut conn = match PgConnection::connect(&admin).await {
            Ok(conn) => conn,
            Err(e) if required() => {
                panic!("PostgreSQL is required (LETHE_REQUIRE_POSTGRES=1) but unreachable at {admin}: {e}")
            }
            Err(e) => {
                eprintln!("skipping PostgreSQL test: {e}");
                return None;
            }
        };
        let name = format!("lethe_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let url = match admin.rfind('/') {
            Some(slash) => format!("{}/{name}", &admin[..slash]),
            None => panic!("LETHE_TEST_DATABASE_URL needs a database path"),
        };
        Some(Self { url, name })
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee; a private one does the async work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}
