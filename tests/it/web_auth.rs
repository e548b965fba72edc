//! Accounts in the web UI: login required, login/logout, cookie flags, CSRF on every form.

use axum::body::Body;
use axum::http::Request;
use faultline::config::Config;

use crate::support::web::{Browser, set_cookie, user};
use crate::support::{TestApp, split};

#[tokio::test]
async fn pages_behind_the_login_redirect_to_it() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/organizations/default/issues/?query=is:resolved",
        "/organizations/default/issues/1/",
        "/organizations/default/projects/",
        "/organizations/default/releases/",
        "/settings/account/tokens/",
        "/settings/default/projects/web/keys/",
    ] {
        let response = app.request(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login?next="), "{path} → {location}");
    }
    // A POST without a session goes to the login page too, and changes nothing.
    let (status, _) = app.post_form("/organizations/default/issues/bulk/", "action=resolve&id=1").await;
    assert_eq!(status, 303);
    // The login page itself and static assets are public, with cache headers.
    assert_eq!(app.get("/login").await.0, 200);
    let css = app.request(Request::get("/static/app.css").body(Body::empty()).unwrap()).await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    assert!(css.headers().contains_key("etag"));
}

#[tokio::test]
async fn login_sets_a_safe_cookie_and_logout_ends_the_session() {
    let app = TestApp::spawn().await;
    user(&app, "admin@example.com", true).await;
    let browser = Browser::login(&app, "admin@example.com").await;
    assert!(browser.get("/organizations/default/issues/").await.body.contains("admin@example.com"));

    // Logout needs the CSRF token; then the cookie no longer works.
    assert_eq!(browser.post_raw("/logout", "").await.status, 403);
    assert_eq!(browser.get("/logout").await.status, 200, "GET shows a confirmation, changes nothing");
    let out = browser.post("/logout", "").await;
    assert_eq!((out.status, out.location.as_str()), (303, "/login"));
    assert_eq!(browser.get("/organizations/default/issues/").await.status, 303);
}

#[tokio::test]
async fn cookie_flags_are_httponly_lax_and_secure_behind_https() {
    let config = Config { url: Some("https://errors.example.com".into()), ..Config::default() };
    let app = TestApp::with_config(config).await;
    user(&app, "a@example.com", true).await;
    let response = app.request(Request::get("/login").body(Body::empty()).unwrap()).await;
    let token = set_cookie(&response, "faultline_login").unwrap();
    let (_, body) = split(response).await;
    let csrf = crate::support::web::hidden(&body, "csrf");
    let response = app
        .request(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("faultline_login={token}"))
                .body(Body::from(format!("email=a%40example.com&password=password123&csrf={csrf}")))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), 303);
    let line = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("faultline_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(line.contains(flag), "{line} lacks {flag}");
    }
    let value = line.trim_start_matches("faultline_session=").split(';').next().unwrap();
    let now = faultline::store::Millis::now();
    assert!(app.store().find_session(value, now).await.unwrap().is_none(), "the cookie value itself is not stored");
    let hashed = faultline::secrets::hash_token(value);
    assert!(app.store().find_session(&hashed, now).await.unwrap().is_some(), "its SHA-256 is");
}

#[tokio::test]
async fn wrong_passwords_and_forged_login_forms_are_refused() {
    let app = TestApp::spawn().await;
    user(&app, "a@example.com", false).await;
    let response = app.request(Request::get("/login").body(Body::empty()).unwrap()).await;
    let token = set_cookie(&response, "faultline_login").unwrap();
    let (_, body) = split(response).await;
    let csrf = crate::support::web::hidden(&body, "csrf");
    let post = |form: String, cookie: String| {
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(Body::from(form))
            .unwrap()
    };
    let wrong = app
        .request(post(format!("email=a%40example.com&password=nope&csrf={csrf}"), format!("faultline_login={token}")))
        .await;
    let (status, body) = split(wrong).await;
    assert_eq!(status, 401);
    assert!(body.contains("Wrong e-mail or password"));
    let unknown = app
        .request(post(
            format!("email=b%40example.com&password=password123&csrf={csrf}"),
            format!("faultline_login={token}"),
        ))
        .await;
    assert_eq!(unknown.status(), 401);
    // A cross-site form cannot know the login cookie.
    let forged = app.request(post("email=a%40example.com&password=password123&csrf=x".into(), String::new())).await;
    assert_eq!(forged.status(), 403);
    // Only same-site paths are followed after login.
    let (_, page) = app.get("/login?next=//evil.example.com/").await;
    assert!(!page.contains("evil.example.com"));
}

#[tokio::test]
async fn every_form_needs_the_sessions_csrf_token() {
    let app = TestApp::spawn().await;
    app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let browser = Browser::login(&app, "admin@example.com").await;
    for path in [
        "/organizations/default/issues/bulk/",
        "/organizations/default/issues/1/actions/",
        "/organizations/default/projects/",
        "/settings/account/tokens/",
        "/settings/default/members/",
        "/settings/default/projects/web/",
        "/settings/default/projects/web/keys/",
        "/settings/default/projects/web/filters/",
        "/settings/default/projects/web/members/",
        "/logout",
    ] {
        assert_eq!(browser.post_raw(path, "action=resolve").await.status, 403, "{path} without a token");
        assert_eq!(
            browser.post_raw(path, "action=resolve&csrf=0123456789abcdef0123456789abcdef").await.status,
            403,
            "{path} wrong token"
        );
    }
    assert!(browser.get("/organizations/default/issues/").await.status == 200, "the session survived");
}
