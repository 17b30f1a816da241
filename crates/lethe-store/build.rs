//! `sqlx::migrate!` embeds the migration directories at compile time; without this, a
//! new migration file would not reach an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
