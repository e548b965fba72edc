//! The `faultline` binary's admin commands, run as a user would: a child process on a real database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use faultline::store::Millis;

use crate::support::TestDb;

fn faultline(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["--database-url", db.url.expose()])
        .args(args)
        .env("FAULTLINE_URL", "https://errors.example.com/sentry")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run faultline");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for faultline")
}

fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn project_create_prints_a_dsn_that_names_the_stored_key() {
    let db = TestDb::new().await;
    let out = faultline(&db, &["project", "create", "backend", "--platform", "python"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dsn = last_line(&out);
    let url = url::Url::parse(&dsn).expect("the last line is a URL");
    assert_eq!((url.scheme(), url.host_str()), ("https", Some("errors.example.com")));
    let project = db.store.find_project("default", "backend").await.unwrap().expect("project stored");
    assert_eq!(url.path(), format!("/sentry/{}", project.id));
    let key = db.store.find_project_key(url.username()).await.unwrap().expect("key stored");
    assert_eq!(key.project_id, project.id);
    assert_eq!(project.platform.as_deref(), Some("python"));

    let again = faultline(&db, &["project", "create", "backend"], None);
    assert!(!again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stderr).trim(), "error: project default/backend already exists");
    let bad = faultline(&db, &["project", "create", "Bad Slug"], None);
    assert!(!bad.status.success());
    let missing = faultline(&db, &["project", "create", "x", "--org", "nope"], None);
    assert_eq!(String::from_utf8_lossy(&missing.stderr).trim(), "error: organization nope does not exist");
}

#[tokio::test]
async fn user_and_token_create_give_working_credentials() {
    let db = TestDb::new().await;
    let out = faultline(
        &db,
        &["user", "create", "--email", "Dev@Example.com", "--password-stdin", "--admin"],
        Some("hunter2-long\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (user, hash) = db.store.find_user_credentials("dev@example.com").await.unwrap().unwrap();
    assert!(user.is_admin);
    assert!(faultline::secrets::verify_password("hunter2-long", &hash.unwrap()));

    let short = faultline(&db, &["user", "create", "--email", "s@example.com", "--password-stdin"], Some("short\n"));
    assert!(!short.status.success());
    let generated = faultline(&db, &["user", "create", "--email", "g@example.com"], None);
    let password = last_line(&generated).trim_start_matches("password: ").to_owned();
    let (_, hash) = db.store.find_user_credentials("g@example.com").await.unwrap().unwrap();
    assert!(faultline::secrets::verify_password(&password, &hash.unwrap()));

    let out = faultline(&db, &["token", "create", "--email", "dev@example.com"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = last_line(&out);
    assert_eq!(token.len(), 64);
    let (who, stored) = db
        .store
        .use_api_token(&faultline::secrets::hash_token(&token), Millis::now())
        .await
        .unwrap()
        .expect("the printed token authenticates");
    assert_eq!(who.id, user.id);
    assert!(stored.scopes.contains("project:read"));

    let nobody = faultline(&db, &["token", "create", "--email", "nobody@example.com"], None);
    assert!(!nobody.status.success());
    assert_eq!(String::from_utf8_lossy(&nobody.stderr).trim(), "error: no user with e-mail nobody@example.com");
}

#[test]
fn bad_database_urls_and_configs_end_with_one_clear_line() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_faultline")).args(args).env_remove("DATABASE_URL").output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    let err = run(&["--database-url", "mysql://localhost/x", "migrate"]);
    assert!(err.contains("unsupported database URL scheme \"mysql\""), "{err}");
    let err = run(&["--database-url", "postgres://postgres@127.0.0.1:1/x", "migrate"]);
    assert!(err.contains("cannot connect to database") && err.contains("refused"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "listen = [").unwrap();
    let err = run(&["--config", file.to_str().unwrap(), "migrate"]);
    assert!(err.starts_with("error: invalid configuration: TOML parse error"), "{err}");
    std::fs::write(&file, "lisen = \"x\"").unwrap();
    let err = run(&["--config", file.to_str().unwrap(), "migrate"]);
    assert!(err.contains("lisen"), "an unknown key is named: {err}");
}
