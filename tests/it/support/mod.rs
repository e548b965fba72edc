//! Test harness: [`TestDb`] (a fresh database on the backend `TEST_DATABASE_URL` names) and
//! [`TestApp`] (the real router over it).

pub mod db;
pub mod envelope;
pub mod slack;
pub mod web;

use axum::body::Body;
use axum::http::{Request, Response};
use faultline::app::{AppState, router};
use faultline::config::Config;
use faultline::store::Store;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub use db::TestDb;

/// The real application over a fresh test database.
pub struct TestApp {
    /// The database guard: the database lives as long as the app.
    #[allow(dead_code, reason = "held for its Drop")]
    pub db: TestDb,
    /// The application state the router was built from.
    pub state: AppState,
}

impl TestApp {
    /// A fresh database and the router over it, with the default config.
    pub async fn spawn() -> Self {
        Self::with_config(Config::default()).await
    }

    /// A fresh database and the router over it, with `config` (its database URL is replaced).
    pub async fn with_config(config: Config) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            // `TEST_LOG=1 cargo test … -- --nocapture` shows the server's logs.
            let _ = tracing_subscriber::fmt().with_env_filter("faultline=debug").with_test_writer().try_init();
        }
        let db = TestDb::new().await;
        let state = AppState::new(config, db.store.clone());
        Self { db, state }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// A project (in the default organization) with its DSN key.
    pub async fn project(&self, slug: &str) -> TestProject {
        let org = faultline::bootstrap::ensure_default_org(&self.state.config, self.store()).await.unwrap();
        let (project, key) =
            faultline::projects::create_project(self.store(), &org, slug, Some("python")).await.unwrap();
        TestProject { id: project.id, key: key.public_key, key_id: key.id }
    }

    /// A non-admin user who is a member of `member_of`, with an API token of `scopes`; returns the
    /// token. The token reaches those projects only, as the user does in the web UI.
    pub async fn api_token(&self, email: &str, scopes: &str, member_of: &[&TestProject]) -> String {
        let (user_id, token) = self.user_with_token(email, scopes, false).await;
        for project in member_of {
            self.store().add_project_member(project.id, user_id).await.unwrap();
        }
        token
    }

    /// An admin with an API token of `scopes` (every project); returns the token.
    pub async fn admin_api_token(&self, email: &str, scopes: &str) -> String {
        self.user_with_token(email, scopes, true).await.1
    }

    async fn user_with_token(&self, email: &str, scopes: &str, is_admin: bool) -> (i64, String) {
        let user = self
            .store()
            .create_user(&faultline::store::NewUser { email: email.into(), password_hash: None, is_admin })
            .await
            .unwrap();
        let token = format!("token-{}", faultline::secrets::random_hex(8));
        let new = faultline::store::NewApiToken {
            user_id: user.id,
            token_hash: faultline::secrets::hash_token(&token),
            name: "test".into(),
            scopes: scopes.into(),
        };
        self.store().create_api_token(&new).await.unwrap();
        (user.id, token)
    }

    /// Serve the router on a real TCP port; returns the base URL (`http://127.0.0.1:PORT`).
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(self.state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        format!("http://{addr}")
    }

    /// Send one request through the router.
    pub async fn request(&self, request: Request<Body>) -> Response<Body> {
        router(self.state.clone()).oneshot(request).await.expect("router is infallible")
    }

    /// `GET path`, returning status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.request(Request::get(path).body(Body::empty()).unwrap()).await;
        split(response).await
    }

    /// `POST path` with a form body, returning status and body text.
    pub async fn post_form(&self, path: &str, form: &str) -> (u16, String) {
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        split(self.request(request).await).await
    }
}

/// Status and body text of a response.
pub async fn split(response: Response<Body>) -> (u16, String) {
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A project created for a test.
#[derive(Debug, Clone)]
pub struct TestProject {
    /// Project id (the DSN's last path segment).
    pub id: i64,
    /// DSN public key.
    pub key: String,
    /// The key's database id.
    pub key_id: i64,
}

impl TestProject {
    /// The `X-Sentry-Auth` header value for this project's key.
    pub fn auth(&self) -> String {
        format!("Sentry sentry_key={}, sentry_version=7, sentry_client=faultline-tests/1.0", self.key)
    }

    /// The envelope endpoint path.
    pub fn envelope_path(&self) -> String {
        format!("/api/{}/envelope/", self.id)
    }
}
