//! The store contract: every `Backend` operation, on whichever backend `TEST_DATABASE_URL` selects.

use faultline::secrets::hash_token;
use faultline::store::{Millis, NewApiToken, NewProject, NewSession, NewUser, StoreError};

use crate::support::TestDb;

#[tokio::test]
async fn organizations_projects_and_keys() {
    let db = TestDb::new().await;
    let store = &db.store;
    store.ping().await.unwrap();

    let org = store.create_organization("acme", "Acme").await.unwrap();
    assert_eq!((org.slug.as_str(), org.name.as_str()), ("acme", "Acme"));
    assert!(matches!(store.create_organization("acme", "Again").await, Err(StoreError::Conflict)));
    assert_eq!(store.find_organization("acme").await.unwrap(), Some(org.clone()));
    assert_eq!(store.find_organization("nope").await.unwrap(), None);
    store.create_organization("beta", "Beta").await.unwrap();
    let slugs: Vec<_> = store.list_organizations().await.unwrap().into_iter().map(|o| o.slug).collect();
    assert_eq!(slugs, ["acme", "beta"]);

    let new = |slug: &str| NewProject {
        organization_id: org.id,
        slug: slug.to_owned(),
        name: slug.to_uppercase(),
        platform: Some("python".to_owned()),
    };
    let web = store.create_project(&new("web")).await.unwrap();
    assert_eq!(web.organization_slug, "acme");
    assert_eq!(web.platform.as_deref(), Some("python"));
    assert!(matches!(store.create_project(&new("web")).await, Err(StoreError::Conflict)));
    let api = store.create_project(&new("api")).await.unwrap();
    assert_eq!(store.find_project("acme", "web").await.unwrap(), Some(web.clone()));
    assert_eq!(store.find_project("beta", "web").await.unwrap(), None);
    assert_eq!(store.find_project_by_id(api.id).await.unwrap(), Some(api.clone()));
    assert_eq!(store.find_project_by_id(-1).await.unwrap(), None);
    let listed: Vec<_> = store.list_projects(org.id).await.unwrap().into_iter().map(|p| p.slug).collect();
    assert_eq!(listed, ["api", "web"]);

    let key = store.create_project_key(web.id, "0123456789abcdef0123456789abcdef", "Default").await.unwrap();
    assert!(key.enabled);
    assert_eq!(key.rate_limit_per_minute, None);
    assert!(matches!(
        store.create_project_key(api.id, "0123456789abcdef0123456789abcdef", "Dup").await,
        Err(StoreError::Conflict)
    ));
    let second = store.create_project_key(web.id, "fedcba9876543210fedcba9876543210", "Frontend").await.unwrap();
    assert_eq!(store.find_project_key(&key.public_key).await.unwrap(), Some(key.clone()));
    assert_eq!(store.find_project_key("ffffffffffffffffffffffffffffffff").await.unwrap(), None);
    assert_eq!(store.list_project_keys(web.id).await.unwrap(), vec![key.clone(), second.clone()]);
    let updated = store.update_project_key(second.id, false, Some(600)).await.unwrap();
    assert!(!updated.enabled);
    assert_eq!(updated.rate_limit_per_minute, Some(600));
    assert!(matches!(store.update_project_key(-5, true, None).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn users_sessions_and_tokens() {
    let db = TestDb::new().await;
    let store = &db.store;
    assert_eq!(store.count_users().await.unwrap(), 0);
    let user = NewUser { email: "dev@example.com".into(), password_hash: Some("$argon2id$x".into()), is_admin: false };
    let dev = store.create_user(&user).await.unwrap();
    assert!(!dev.is_admin);
    assert!(matches!(store.create_user(&user).await, Err(StoreError::Conflict)));
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(store.find_user(dev.id).await.unwrap(), Some(dev.clone()));
    let (found, hash) = store.find_user_credentials("dev@example.com").await.unwrap().unwrap();
    assert_eq!((found, hash.as_deref()), (dev.clone(), Some("$argon2id$x")));
    assert_eq!(store.find_user_credentials("nobody@example.com").await.unwrap(), None);

    let now = Millis::now();
    let session = NewSession {
        token_hash: hash_token("cookie"),
        user_id: dev.id,
        csrf_token: "csrf".into(),
        expires_at: now.plus_secs(60),
    };
    store.create_session(&session).await.unwrap();
    let (who, found) = store.find_session(&session.token_hash, now).await.unwrap().unwrap();
    assert_eq!((who.id, found.csrf_token.as_str()), (dev.id, "csrf"));
    assert_eq!(store.find_session(&session.token_hash, now.plus_secs(61)).await.unwrap(), None, "expired");
    store.delete_session(&session.token_hash).await.unwrap();
    assert_eq!(store.find_session(&session.token_hash, now).await.unwrap(), None);

    let token = NewApiToken {
        user_id: dev.id,
        token_hash: hash_token("tok"),
        name: "ci".into(),
        scopes: "project:read".into(),
    };
    let created = store.create_api_token(&token).await.unwrap();
    assert_eq!(created.last_used_at, None);
    let (who, used) = store.use_api_token(&token.token_hash, now).await.unwrap().unwrap();
    assert_eq!((who.id, used.last_used_at), (dev.id, Some(now)));
    assert_eq!(store.use_api_token(&hash_token("other"), now).await.unwrap(), None);
    let second =
        store.create_api_token(&NewApiToken { token_hash: hash_token("tok2"), ..token.clone() }).await.unwrap();
    let ids: Vec<_> = store.list_api_tokens(dev.id).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, [second.id, created.id], "newest first");
    let other = store.create_user(&NewUser { email: "x@example.com".into(), ..user.clone() }).await.unwrap();
    assert!(matches!(store.revoke_api_token(other.id, created.id).await, Err(StoreError::NotFound)), "not theirs");
    store.revoke_api_token(dev.id, created.id).await.unwrap();
    assert_eq!(store.use_api_token(&token.token_hash, now).await.unwrap(), None);
}

#[tokio::test]
async fn setup_token_creates_the_first_admin_once() {
    let db = TestDb::new().await;
    let store = &db.store;
    let now = Millis::now();
    store.create_setup_token(&hash_token("setup"), now.plus_secs(60)).await.unwrap();
    assert!(store.check_setup_token(&hash_token("setup"), now).await.unwrap());
    assert!(!store.check_setup_token(&hash_token("setup"), now.plus_secs(120)).await.unwrap(), "expired");
    assert!(!store.check_setup_token(&hash_token("wrong"), now).await.unwrap());
    let admin = NewUser { email: "root@example.com".into(), password_hash: None, is_admin: true };
    assert!(matches!(store.complete_setup(&hash_token("wrong"), now, &admin).await, Err(StoreError::NotFound)));
    let user = store.complete_setup(&hash_token("setup"), now, &admin).await.unwrap();
    assert!(user.is_admin);
    assert!(
        matches!(store.complete_setup(&hash_token("setup"), now, &admin).await, Err(StoreError::NotFound)),
        "a setup token works once"
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
}
