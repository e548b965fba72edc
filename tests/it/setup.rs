//! First start: the one-time setup link creates the admin.

use faultline::bootstrap;
use faultline::config::Config;
use faultline::secrets::hash_token;
use faultline::store::Millis;

use crate::support::TestApp;

#[tokio::test]
async fn first_start_with_admin_env_creates_the_admin_and_default_org() {
    let config = Config {
        admin_email: Some("Boss@Example.com".into()),
        admin_password: Some("s3cret-pass".to_owned().into()),
        ..Config::default()
    };
    let app = TestApp::with_config(config.clone()).await;
    bootstrap::first_start(&config, app.store()).await.unwrap();
    bootstrap::first_start(&config, app.store()).await.unwrap(); // idempotent
    assert!(app.store().find_organization("default").await.unwrap().is_some());
    let (user, hash) = app.store().find_user_credentials("boss@example.com").await.unwrap().unwrap();
    assert!(user.is_admin);
    assert!(faultline::secrets::verify_password("s3cret-pass", &hash.unwrap()));
    assert_eq!(app.store().count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn setup_link_creates_the_admin_once() {
    let app = TestApp::spawn().await;
    app.store().create_setup_token(&hash_token("tok"), Millis::now().plus_secs(60)).await.unwrap();

    let (status, body) = app.get("/setup/tok").await;
    assert_eq!(status, 200);
    assert!(body.contains("Create the admin account"), "{body}");
    assert_eq!(app.get("/setup/wrong").await.0, 404);

    let (status, body) = app.post_form("/setup/tok", "email=a%40b.io&password=short&confirm=short").await;
    assert_eq!(status, 422);
    assert!(body.contains("at least 8 characters"), "{body}");
    let (status, body) = app.post_form("/setup/tok", "email=a%40b.io&password=longenough&confirm=different").await;
    assert_eq!(status, 422);
    assert!(body.contains("do not match"), "{body}");

    let (status, body) = app.post_form("/setup/tok", "email=A%40b.io&password=longenough&confirm=longenough").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("a@b.io"), "{body}");
    assert_eq!(app.post_form("/setup/tok", "email=c%40b.io&password=longenough&confirm=longenough").await.0, 404);
    assert_eq!(app.store().count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn setup_page_escapes_what_it_echoes() {
    let app = TestApp::spawn().await;
    app.store().create_setup_token(&hash_token("tok"), Millis::now().plus_secs(60)).await.unwrap();
    let (_, body) = app.post_form("/setup/tok", "email=%3Cscript%3E&password=x&confirm=x").await;
    assert!(!body.contains("<script>"), "{body}");
    assert!(body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;"), "{body}");
}
