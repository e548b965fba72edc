//! The records that cross the storage seam: plain Rust types, the same for every backend.
//!
//! Rows decode straight into these (`sqlx::FromRow` is derived generically, so one definition serves
//! SQLite and PostgreSQL). Time is [`Millis`]: unix milliseconds, which both databases store as a
//! 64-bit integer and every layer above can turn into a calendar date.

use serde::Serialize;
use time::OffsetDateTime;

/// A point in time as unix milliseconds (UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, sqlx::Type)]
#[sqlx(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// The current time.
    pub fn now() -> Self {
        Self::from(OffsetDateTime::now_utc())
    }

    /// As a calendar date-time; out-of-range values clamp to the epoch.
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// ISO 8601 with milliseconds and `Z`, as Sentry's API prints times.
    pub fn to_rfc3339(self) -> String {
        let dt = self.to_datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    /// The start of the hour this time falls in (the key of hourly rollups).
    pub fn hour_start(self) -> Self {
        Self(self.0 - self.0.rem_euclid(3_600_000))
    }

    /// This time plus a number of seconds.
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

impl From<OffsetDateTime> for Millis {
    fn from(dt: OffsetDateTime) -> Self {
        let ms = dt.unix_timestamp_nanos() / 1_000_000;
        Self(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

/// An organization: the top of the tenancy tree, owner of projects and releases.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Organization {
    /// Database id.
    pub id: i64,
    /// URL name, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: Millis,
}

/// A project: one application or service sending events under its own DSN keys.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    /// Database id; also the DSN's project id.
    pub id: i64,
    /// The owning organization.
    pub organization_id: i64,
    /// The owning organization's slug.
    pub organization_slug: String,
    /// URL name, unique within the organization.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Platform (`python`, `javascript`, …) if known.
    pub platform: Option<String>,
    /// When it was created.
    pub created_at: Millis,
}

/// What it takes to create a project.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// The owning organization.
    pub organization_id: i64,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Platform, if known.
    pub platform: Option<String>,
}

/// A DSN key of a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectKey {
    /// Database id.
    pub id: i64,
    /// The project whose events this key accepts.
    pub project_id: i64,
    /// The DSN's public key (32 hex digits).
    pub public_key: String,
    /// A human label ("Default", "Frontend").
    pub label: String,
    /// Disabled keys are refused at ingest.
    pub enabled: bool,
    /// Events per minute this key may send; `None` falls back to the configured default.
    pub rate_limit_per_minute: Option<i64>,
    /// When it was created.
    pub created_at: Millis,
}

/// A user account (its password hash stays inside the store and the login code).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login name, stored lowercased.
    pub email: String,
    /// Admins manage users and every project.
    pub is_admin: bool,
    /// When it was created.
    pub created_at: Millis,
}

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login e-mail (lowercased by the caller).
    pub email: String,
    /// Argon2 PHC string, or `None` for an account that cannot log in with a password yet.
    pub password_hash: Option<String>,
    /// Admin flag.
    pub is_admin: bool,
}

/// A login session, found by the SHA-256 of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    /// Whose session it is.
    pub user_id: i64,
    /// The CSRF token forms of this session must carry.
    pub csrf_token: String,
    /// When it stops being valid.
    pub expires_at: Millis,
}

/// What it takes to create a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 (hex) of the cookie value; the value itself is never stored.
    pub token_hash: String,
    /// The user.
    pub user_id: i64,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Expiry.
    pub expires_at: Millis,
}

/// An API token (bearer token for `/api/0/`), stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    /// Database id.
    pub id: i64,
    /// Whose token it is; it acts with this user's rights.
    pub user_id: i64,
    /// A human label.
    pub name: String,
    /// Space-separated scopes (`project:read project:write …`).
    pub scopes: String,
    /// When it was created.
    pub created_at: Millis,
    /// When it was last used, if ever.
    pub last_used_at: Option<Millis>,
}

/// What it takes to create an API token.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The user.
    pub user_id: i64,
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    /// A human label.
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
}

/// Connection pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Of those, idle ones.
    pub idle: u32,
}

mod alerts;
mod events;
pub use alerts::*;
pub use events::*;
mod web;
pub use web::*;
