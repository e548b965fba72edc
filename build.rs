//! Rebuilds when a migration is added: `sqlx::migrate!` embeds the migration directories at compile
//! time, but cargo only watches files it is told about.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
