//! The application as a value: [`AppState`], the one routing table [`router`], and [`serve`] with
//! graceful shutdown.
//!
//! Tests build the same router over a test database and drive it with `tower::ServiceExt::oneshot`
//! or a real listener on port 0; `faultline serve` binds the configured address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::ingest::auth::KeyCache;
use crate::ingest::limits::RateLimiter;
use crate::notify::Notifier;
use crate::pipeline::Pipeline;
use crate::store::{ConnectOptions, Store};
use crate::{api, bootstrap, health, ignore_sweep, ingest, notify, telemetry, web};

/// Everything a request handler may need: one shared [`AppStateInner`], so that the clone axum makes
/// for each request and extractor is one reference count, not one per field (clone and drop were 1% of
/// the server's CPU under ingest load, `perf record`).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct AppStateInner {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// The Prometheus recorder's handle, for `/metrics`.
    pub metrics: PrometheusHandle,
    /// The batching writers.
    pub pipeline: Pipeline,
    /// Resolved DSN keys.
    pub keys: Arc<KeyCache>,
    /// Per-key event rate limits.
    pub limiter: Arc<RateLimiter>,
    /// Per-project inbound filters (web UI settings), cached.
    pub filters: Arc<crate::ingest::filters::FilterCache>,
    /// Per-project grouping rules (web UI settings), parsed and cached.
    pub grouping: Arc<crate::ingest::grouping_rules::GroupingCache>,
    /// Alert evaluation and Slack delivery.
    pub notifier: Notifier,
    writer: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl AppState {
    /// Assemble the state from a config and an opened, migrated store; starts the batching writers.
    pub fn new(config: Config, store: Store) -> Self {
        let notifier = Notifier::new(config.allow_private_webhooks);
        let (pipeline, writer) = Pipeline::start(store.clone(), &config.ingest, notifier.touched.clone());
        Self(Arc::new(AppStateInner {
            config: Arc::new(config),
            store,
            metrics: telemetry::metrics_handle(),
            pipeline,
            keys: Arc::default(),
            limiter: Arc::default(),
            filters: Arc::default(),
            grouping: Arc::default(),
            notifier,
            writer: std::sync::Mutex::new(Some(writer)),
        }))
    }

    /// Stop taking writes and wait until every queued one is committed.
    pub async fn drain(&self) {
        self.pipeline.close();
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer
            && let Err(err) = writer.await
        {
            tracing::error!(error = %err, "the batching writers failed");
        }
    }
}

/// The one routing table.
#[rustfmt::skip]
pub fn router(state: AppState) -> Router {
    // SDK ingest: CORS for browsers, no CSRF, bodies read with our own (decompressed) limits.
    let sdk = Router::new()
        .route("/api/{project_id}/envelope/", post(ingest::endpoints::envelope))
        .route("/api/{project_id}/envelope",  post(ingest::endpoints::envelope))
        .route("/api/{project_id}/store/",    post(ingest::endpoints::store))
        .route("/api/{project_id}/store",     post(ingest::endpoints::store))
        .layer(DefaultBodyLimit::disable())
        .layer(ingest::cors());
    // A DSN whose base URL has a path (`https://host/sentry/42`) posts under that prefix.
    let prefix = url::Url::parse(&state.config.public_url())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let sdk = if prefix.is_empty() { sdk } else { sdk.clone().merge(Router::new().nest(&prefix, sdk)) };

    // Sentry-compatible web API (bearer tokens).
    let api = Router::new()
        .route("/api/0/organizations/",                                 get(api::organizations::list))
        .route("/api/0/organizations/{org}/projects/",                  get(api::organizations::projects))
        .route("/api/0/organizations/{org}/issues/",                    get(api::issue_list::org_list))
        .route("/api/0/organizations/{org}/issues/{issue_id}/",         get(api::issues::show).put(api::issues::update).delete(api::issues::delete))
        .route("/api/0/projects/{org}/{project}/issues/",               get(api::issue_list::list).put(api::issues::bulk_update).delete(api::issues::bulk_delete))
        .route("/api/0/projects/{org}/{project}/events/{event_id}/",    get(api::issues::project_event))
        .route("/api/0/issues/{issue_id}/",                             get(api::issues::show).put(api::issues::update).delete(api::issues::delete))
        .route("/api/0/issues/{issue_id}/events/",                      get(api::issues::events))
        .route("/api/0/issues/{issue_id}/events/latest/",               get(api::issues::latest_event))
        .route("/api/0/issues/{issue_id}/tags/{key}/",                  get(api::issues::tag_values))
        .route("/api/0/issues/{issue_id}/rules/",                       get(api::rules::issue_rules))
        .route("/api/0/projects/{org}/{project}/rules/",                get(api::rules::list).post(api::rules::create))
        .route("/api/0/projects/{org}/{project}/rules/{rule_id}/",      get(api::rules::show).put(api::rules::update).delete(api::rules::delete))
        .route("/api/0/projects/{org}/{project}/rules/{rule_id}/test/", post(api::rules::send_test))
        .route("/api/0/projects/{org}/{project}/rules/{rule_id}/deliveries/", get(api::rules::deliveries));

    // Web UI behind the login: every route here needs a session, and every POST its CSRF token
    // (checked once in `require_session`).
    use web::{auth, issue_actions, issue_page, issues, projects, releases, settings};
    let pages = Router::new()
        .route("/",                                                          get(web::home))
        .route("/logout",                                                    get(auth::confirm).post(auth::logout))
        .route("/organizations/{org}/issues/",                               get(issues::stream))
        .route("/organizations/{org}/issues/bulk/",                          post(issues::bulk))
        .route("/organizations/{org}/issues/{issue_id}/",                    get(issue_page::latest))
        .route("/organizations/{org}/issues/{issue_id}/actions/",            post(issue_actions::act))
        .route("/organizations/{org}/issues/{issue_id}/events/{event_id}/",  get(issue_page::event))
        .route("/organizations/{org}/issues/{issue_id}/events/{event_id}/json/", get(issue_page::raw_json))
        .route("/organizations/{org}/projects/",                             get(projects::list).post(projects::create))
        .route("/organizations/{org}/releases/",                             get(releases::list))
        .route("/organizations/{org}/releases/{version}/",                   get(releases::show))
        .route("/organizations/{org}/environments/",                         get(releases::environments))
        .route("/settings/account/tokens/",                                  get(settings::account::list).post(settings::account::create))
        .route("/settings/account/tokens/{id}/revoke/",                      post(settings::account::revoke))
        .route("/settings/{org}/members/",                                   get(settings::users::list).post(settings::users::create))
        .route("/settings/{org}/projects/{project}/",                        get(settings::project::general).post(settings::project::save_general))
        .route("/settings/{org}/projects/{project}/keys/",                   get(settings::project::keys).post(settings::project::create_key))
        .route("/settings/{org}/projects/{project}/keys/{key_id}/",          post(settings::project::update_key))
        .route("/settings/{org}/projects/{project}/keys/{key_id}/revoke/",   post(settings::project::revoke_key))
        .route("/settings/{org}/projects/{project}/members/",                get(settings::project::members).post(settings::project::save_member))
        .route("/settings/{org}/projects/{project}/environments/",           get(settings::project::environments).post(settings::project::save_environment))
        .route("/settings/{org}/projects/{project}/filters/",                get(settings::project::filters).post(settings::project::save_filters))
        .route("/settings/{org}/projects/{project}/grouping/",               get(settings::grouping::show).post(settings::grouping::save))
        .route("/settings/{org}/projects/{project}/alerts/",                 get(settings::alerts::list))
        .route("/settings/{org}/projects/{project}/alerts/new/",             get(settings::alerts::new_form).post(settings::alerts::create))
        .route("/settings/{org}/projects/{project}/alerts/{rule_id}/",       get(settings::alerts::edit_form).post(settings::alerts::update))
        .route("/settings/{org}/projects/{project}/alerts/{rule_id}/delete/", post(settings::alerts::delete))
        .route("/settings/{org}/projects/{project}/alerts/{rule_id}/test/",  post(settings::alerts::test))
        .route_layer(middleware::from_fn_with_state(state.clone(), web::session::require_session));

    Router::new()
        .merge(sdk)
        .merge(api)
        .merge(pages)
        // operations
        .route("/_health",           get(health::health))
        .route("/_ready",            get(health::ready))
        .route("/metrics",           get(health::metrics))
        // web UI without a session
        .route("/login",             get(web::auth::form).post(web::auth::submit))
        .route("/setup/{token}",     get(web::setup::form).post(web::setup::submit))
        .route("/static/{*path}",    get(web::assets::serve))
        .fallback(web::not_found)
        .layer(middleware::from_fn(telemetry::track_http))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Open the configured database and bring its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let options = ConnectOptions {
        max_connections: config.database.max_connections,
        acquire_timeout: Duration::from_secs(config.database.acquire_timeout_secs),
    };
    let store = Store::connect(&config.database_url(), &options).await?;
    store.migrate().await?;
    Ok(store)
}

/// `faultline serve`: migrate, bootstrap, listen, and shut down gracefully on SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    bootstrap::first_start(&config, &store).await?;
    let listener =
        TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    let public_url = config.public_url();
    tracing::info!(
        listen = %config.listen,
        database = store.backend_name(),
        "Faultline is up: UI at {public_url}/ — create a project and print its DSN with `faultline project create SLUG`"
    );
    let state = AppState::new(config, store.clone());
    let alerts = notify::spawn(state.clone());
    let ignores = ignore_sweep::spawn(store.clone());
    // Responses go out as soon as they are written, not after the client's delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(state.clone()).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("stopped accepting requests; draining queued writes and alerts");
    state.drain().await;
    // Before the alert tasks: the evaluator's last pass sees the facts of a final sweep.
    ignores.stop().await;
    alerts.stop().await;
    tracing::info!("closing the database");
    store.close().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
