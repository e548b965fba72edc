//! A signed-in browser for the web UI tests: keeps the session cookie and the CSRF token.

use axum::body::Body;
use axum::http::Request;
use faultline::secrets::hash_password;
use faultline::store::NewUser;

use super::{TestApp, split};

/// Responses as status, `Location` and body.
pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
}

/// A user signed in to the UI.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// The value of `name="…" value="…"` in a page.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name} field in page")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// Create a user (admin or member) with password `password123`.
pub async fn user(app: &TestApp, email: &str, admin: bool) -> i64 {
    faultline::bootstrap::ensure_default_org(&app.state.config, app.store()).await.unwrap();
    app.store()
        .create_user(&NewUser {
            email: email.into(),
            password_hash: Some(hash_password("password123").unwrap()),
            is_admin: admin,
        })
        .await
        .unwrap()
        .id
}

impl<'a> Browser<'a> {
    /// Sign in through the login form.
    pub async fn login(app: &'a TestApp, email: &str) -> Browser<'a> {
        let response = app.request(Request::get("/login").body(Body::empty()).unwrap()).await;
        let login_cookie = set_cookie(&response, "faultline_login").expect("login cookie");
        let (_, body) = split(response).await;
        let csrf = hidden(&body, "csrf");
        let form = format!("email={}&password=password123&csrf={csrf}&next=/", url_enc(email));
        let response = app
            .request(
                Request::post("/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", format!("faultline_login={login_cookie}"))
                    .body(Body::from(form))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status(), 303, "login should redirect");
        let session = set_cookie(&response, "faultline_session").expect("session cookie");
        let mut browser = Browser { app, cookie: format!("faultline_session={session}"), csrf: String::new() };
        let page = browser.get("/settings/account/tokens/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        browser.csrf = hidden(&page.body, "csrf");
        browser
    }

    /// `GET` with the session.
    pub async fn get(&self, path: &str) -> Page {
        let request = Request::get(path).header("cookie", &self.cookie).body(Body::empty()).unwrap();
        page(self.app.request(request).await).await
    }

    /// `POST` a form with the session's CSRF token added.
    pub async fn post(&self, path: &str, form: &str) -> Page {
        let body = if form.is_empty() { format!("csrf={}", self.csrf) } else { format!("{form}&csrf={}", self.csrf) };
        self.post_raw(path, &body).await
    }

    /// `POST` a form as it is (no CSRF token added).
    pub async fn post_raw(&self, path: &str, body: &str) -> Page {
        let request = Request::post(path)
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        page(self.app.request(request).await).await
    }
}

/// Percent-encode a form value.
pub fn url_enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A cookie's value from a response's `Set-Cookie` headers.
pub fn set_cookie(response: &axum::http::Response<Body>, name: &str) -> Option<String> {
    response.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let rest = v.strip_prefix(&format!("{name}="))?;
        Some(rest.split(';').next()?.to_owned())
    })
}

async fn page(response: axum::http::Response<Body>) -> Page {
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (status, body) = split(response).await;
    Page { status, location, body }
}
