//! One typed configuration tree, loaded once and passed in explicitly.
//!
//! Layers, later ones win:
//!
//! 1. defaults (the `Default` impls below),
//! 2. a TOML file: `--config FILE` if given (it must exist), else `config/faultline.toml` if present,
//! 3. environment: `FAULTLINE_<KEY>` for top-level keys (`FAULTLINE_LISTEN`, `FAULTLINE_DATA_DIR`),
//!    `FAULTLINE_<SECTION>__<KEY>` for nested ones (`FAULTLINE_INGEST__QUEUE_CAPACITY`), and the plain
//!    `DATABASE_URL`,
//! 4. command-line flags (`--listen`, `--database-url`, `--data-dir`).
//!
//! `config/faultline.example.toml` documents every key. Secrets (the database URL's password, the admin
//! password) are wrapped so that they never show up in `Debug` output or logs.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

use crate::secrets::{DatabaseUrl, Secret};

/// Where the optional default config file lives, relative to the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "config/faultline.toml";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds to.
    pub listen: SocketAddr,
    /// Public base URL, used in DSNs, setup links and Slack messages. Defaults to `http://{listen}`.
    pub url: Option<String>,
    /// Directory for the embedded SQLite database and other local state.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to a SQLite file under `data_dir`.
    pub database_url: Option<DatabaseUrl>,
    /// Let alert webhooks reach loopback and private addresses (tests, closed networks).
    pub allow_private_webhooks: bool,
    /// E-mail of the admin created on first start when there are no users yet.
    pub admin_email: Option<String>,
    /// Password of that admin; without it a one-time setup link is printed instead.
    pub admin_password: Option<Secret>,
    /// Slug of the organization created on first start.
    pub default_org: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    #[serde(deserialize_with = "addresses_or_ranges")]
    pub trusted_proxies: Vec<IpNet>,
    /// Logging.
    pub log: LogConfig,
    /// Database pools.
    pub database: DatabaseConfig,
    /// Ingest limits and the batching writer.
    pub ingest: IngestConfig,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (human) or `json` (one object per line).
    pub format: LogFormat,
    /// A tracing filter such as `info` or `faultline=debug,sqlx=warn`; `RUST_LOG` wins when set.
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Database pool settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Most connections in the (read) pool.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection (and for the first connect) before giving up.
    pub acquire_timeout_secs: u64,
}

/// Ingest settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Envelopes waiting for the batching writer at most; beyond it SDKs get 429.
    pub queue_capacity: usize,
    /// Most events committed in one transaction.
    pub batch_max_events: usize,
    /// How long the writer waits to fill a batch once it has one event, in milliseconds.
    pub batch_max_wait_ms: u64,
    /// Batching writers (0 = the backend's default: 1 on SQLite, which has one writer, 2 on PostgreSQL).
    pub writers: usize,
    /// Default per-key rate limit in events per minute (0 = unlimited); a key's own limit wins.
    pub default_rate_limit_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            url: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            allow_private_webhooks: false,
            admin_email: None,
            admin_password: None,
            default_org: "default".to_owned(),
            trusted_proxies: Vec::new(),
            log: LogConfig::default(),
            database: DatabaseConfig::default(),
            ingest: IngestConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, level: "info".to_owned() }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout_secs: 10 }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 10_000,
            batch_max_events: 500,
            batch_max_wait_ms: 2,
            writers: 0,
            default_rate_limit_per_minute: 0,
        }
    }
}

/// Values from the command line that override every other layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `--listen ADDR`.
    pub listen: Option<SocketAddr>,
    /// `--database-url URL`.
    pub database_url: Option<String>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named by `--config` does not exist.
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    /// The file, the environment or a flag holds a value that does not fit.
    #[error("invalid configuration")]
    Invalid(#[source] config::ConfigError),
    /// A value parses but makes no sense.
    #[error("invalid configuration: {0}")]
    Value(String),
}

impl Config {
    /// Load the layered configuration from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(overrides, std::env::vars())
    }

    /// Load the layered configuration with an explicit environment (tests use this).
    pub fn load_from(
        overrides: &Overrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        match &overrides.config_file {
            Some(path) if !path.exists() => return Err(ConfigError::Missing(path.clone())),
            Some(path) => builder = builder.add_source(toml_file(path)),
            None => builder = builder.add_source(toml_file(Path::new(DEFAULT_CONFIG_FILE)).required(false)),
        }
        let env: config::Map<String, String> = env.into_iter().collect();
        let database_url = env.get("DATABASE_URL").cloned();
        builder = builder.add_source(
            config::Environment::with_prefix("FAULTLINE")
                .prefix_separator("_")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("trusted_proxies")
                .try_parsing(true)
                .ignore_empty(true)
                .source(Some(env)),
        );
        let set = |b: config::ConfigBuilder<_>, key: &str, value: Option<String>| match value {
            Some(v) => b.set_override(key, v),
            None => Ok(b),
        };
        builder = set(builder, "database_url", database_url).map_err(ConfigError::Invalid)?;
        builder = set(builder, "listen", overrides.listen.map(|a| a.to_string())).map_err(ConfigError::Invalid)?;
        builder = set(builder, "database_url", overrides.database_url.clone()).map_err(ConfigError::Invalid)?;
        let data_dir = overrides.data_dir.as_ref().map(|d| d.display().to_string());
        builder = set(builder, "data_dir", data_dir).map_err(ConfigError::Invalid)?;

        let config: Config = builder.build().and_then(config::Config::try_deserialize).map_err(ConfigError::Invalid)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Value(format!("url must start with http:// or https://, got {url:?}")));
        }
        if self.ingest.queue_capacity == 0 || self.ingest.batch_max_events == 0 {
            return Err(ConfigError::Value(
                "ingest.queue_capacity and ingest.batch_max_events must be positive".into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Value("database.max_connections must be positive".into()));
        }
        // Each writer holds a pooled connection for its transaction; reads need one left.
        if self.ingest.writers >= self.database.max_connections as usize {
            return Err(ConfigError::Value(format!(
                "ingest.writers ({}) must be below database.max_connections ({})",
                self.ingest.writers, self.database.max_connections
            )));
        }
        Ok(())
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The database URL in force: the configured one, or the SQLite file under `data_dir`.
    pub fn database_url(&self) -> DatabaseUrl {
        match &self.database_url {
            Some(url) => url.clone(),
            None => DatabaseUrl::new(format!("sqlite://{}", self.data_dir.join("faultline.db").display())),
        }
    }

    /// Whether `addr` is a configured trusted proxy.
    pub fn is_trusted_proxy(&self, addr: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&addr))
    }
}

/// `10.0.0.0/8` or a bare `127.0.0.1` (a one-address range).
fn addresses_or_ranges<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    let items = Vec::<String>::deserialize(deserializer)?;
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("{item:?} is not an IP address or CIDR range")))
        })
        .collect()
}

fn toml_file(path: &Path) -> config::File<config::FileSourceFile, config::FileFormat> {
    config::File::from(path).format(config::FileFormat::Toml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_apply_without_file_or_env() {
        let config = Config::load_from(&Overrides::default(), env(&[])).expect("defaults load");
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.public_url(), "http://127.0.0.1:9000");
        assert!(config.database_url().expose().starts_with("sqlite://"));
    }

    #[test]
    fn environment_overrides_file_and_flags_override_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1000\"\nurl = \"https://errors.example.com/\"\n[ingest]\nqueue_capacity = 5\n",
        )
        .expect("write");
        let overrides = Overrides { config_file: Some(file.clone()), ..Overrides::default() };
        let config = Config::load_from(
            &overrides,
            env(&[
                ("FAULTLINE_LISTEN", "127.0.0.1:2000"),
                ("FAULTLINE_INGEST__BATCH_MAX_EVENTS", "7"),
                ("FAULTLINE_TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1"),
                ("FAULTLINE_ADMIN_EMAIL", ""),
                ("DATABASE_URL", "postgres://u:pw@db/x"),
            ]),
        )
        .expect("loads");
        assert_eq!(config.listen.to_string(), "127.0.0.1:2000");
        assert_eq!(config.public_url(), "https://errors.example.com");
        assert_eq!(config.ingest.queue_capacity, 5);
        assert_eq!(config.ingest.batch_max_events, 7);
        assert!(config.is_trusted_proxy("10.1.2.3".parse().expect("ip")));
        assert!(!config.is_trusted_proxy("192.168.0.1".parse().expect("ip")));
        assert!(config.is_trusted_proxy("127.0.0.1".parse().expect("ip")), "a bare address is a range of one");
        assert_eq!(config.admin_email, None, "an empty variable counts as unset");
        assert_eq!(config.database_url().expose(), "postgres://u:pw@db/x");

        let overrides = Overrides {
            config_file: Some(file),
            listen: Some("127.0.0.1:3000".parse().expect("addr")),
            ..Overrides::default()
        };
        let config = Config::load_from(&overrides, env(&[("FAULTLINE_LISTEN", "127.0.0.1:2000")])).expect("loads");
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn writers_must_leave_a_connection_for_reads() {
        let load =
            |writers: &str| Config::load_from(&Overrides::default(), env(&[("FAULTLINE_INGEST__WRITERS", writers)]));
        assert_eq!(load("7").expect("7 writers, 8 connections").ingest.writers, 7);
        let err = load("8").expect_err("8 writers would take all 8 connections").to_string();
        assert!(err.contains("ingest.writers (8) must be below database.max_connections (8)"), "{err}");
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let config = Config::load_from(
            &Overrides::default(),
            env(&[("FAULTLINE_ADMIN_PASSWORD", "hunter2"), ("DATABASE_URL", "postgres://u:s3cret@db/x")]),
        )
        .expect("loads");
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("postgres://u:***@db/x"), "{debug}");
    }

    fn chain(err: &ConfigError) -> String {
        crate::telemetry::Chain(err).to_string()
    }

    #[test]
    fn malformed_values_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listen = [").expect("write");
        let overrides = Overrides { config_file: Some(file), ..Overrides::default() };
        let err = Config::load_from(&overrides, env(&[])).expect_err("bad toml");
        assert!(err.to_string().starts_with("invalid configuration"), "{err}");

        let err = Config::load_from(&Overrides::default(), env(&[("FAULTLINE_LISTEN", "nope")])).expect_err("bad addr");
        assert!(chain(&err).contains("listen"), "{}", chain(&err));

        let missing = Overrides { config_file: Some("/nonexistent/f.toml".into()), ..Overrides::default() };
        let err = Config::load_from(&missing, env(&[])).expect_err("missing file");
        assert_eq!(err.to_string(), "config file /nonexistent/f.toml does not exist");
    }
}
