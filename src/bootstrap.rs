//! First start: make sure there is a default organization and a way to become admin.
//!
//! With no users in the database, the admin comes from `FAULTLINE_ADMIN_EMAIL` and
//! `FAULTLINE_ADMIN_PASSWORD` when both are set; otherwise a one-time setup link (valid 24 h) is
//! written to the log, and whoever opens it first creates the admin account.

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::secrets::{hash_password, hash_token, random_hex};
use crate::store::{Millis, NewUser, Organization, Store, StoreError};

/// How long a setup link stays valid.
const SETUP_LINK_SECS: i64 = 24 * 3600;

/// The organization every fresh install has, created if missing (safe when several nodes race).
pub async fn ensure_default_org(config: &Config, store: &Store) -> anyhow::Result<Organization> {
    let slug = &config.default_org;
    if let Some(org) = store.find_organization(slug).await? {
        return Ok(org);
    }
    match store.create_organization(slug, slug).await {
        Ok(org) => Ok(org),
        Err(StoreError::Conflict) => store
            .find_organization(slug)
            .await?
            .with_context(|| format!("organization {slug} vanished while being created")),
        Err(err) => Err(err.into()),
    }
}

/// Run the first-start steps; logs what it did.
pub async fn first_start(config: &Config, store: &Store) -> anyhow::Result<()> {
    let org = ensure_default_org(config, store).await?;
    if store.count_users().await? > 0 {
        return Ok(());
    }
    match (&config.admin_email, &config.admin_password) {
        (Some(email), Some(password)) => {
            let user = NewUser {
                email: email.trim().to_lowercase(),
                password_hash: Some(hash_password(password.expose_secret())?),
                is_admin: true,
            };
            match store.create_user(&user).await {
                Ok(_) | Err(StoreError::Conflict) => {}
                Err(err) => return Err(err.into()),
            }
            tracing::info!(user.email = %user.email, org = %org.slug, "created the admin account from FAULTLINE_ADMIN_EMAIL");
        }
        _ => {
            let token = random_hex(24);
            store.create_setup_token(&hash_token(&token), Millis::now().plus_secs(SETUP_LINK_SECS)).await?;
            let link = format!("{}/setup/{token}", config.public_url());
            tracing::warn!(
                "no users yet: open {link} within 24 hours to create the admin account \
                 (or set FAULTLINE_ADMIN_EMAIL and FAULTLINE_ADMIN_PASSWORD)"
            );
        }
    }
    Ok(())
}
