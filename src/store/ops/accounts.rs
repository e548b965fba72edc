//! Users, login sessions, API tokens and the one-time setup token.
//!
//! Secrets never reach the database in the clear: sessions, API tokens and setup tokens are stored as
//! SHA-256 hex of the value the client holds; passwords as Argon2 PHC strings.

macro_rules! accounts {
    () => {
        async fn create_user(&self, user: &$crate::store::NewUser) -> $crate::store::StoreResult<$crate::store::User> {
            Ok(sqlx::query_as(
                "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, email, is_admin, created_at",
            )
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(user.is_admin)
            .bind($crate::store::Millis::now())
            .fetch_one(self.writer())
            .await?)
        }

        async fn find_user(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::store::User>> {
            Ok(sqlx::query_as("SELECT id, email, is_admin, created_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn find_user_credentials(
            &self,
            email: &str,
        ) -> $crate::store::StoreResult<Option<($crate::store::User, Option<String>)>> {
            let row: Option<(i64, String, bool, $crate::store::Millis, Option<String>)> =
                sqlx::query_as("SELECT id, email, is_admin, created_at, password_hash FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(self.reader())
                    .await?;
            Ok(row.map(|(id, email, is_admin, created_at, hash)| ($crate::store::User { id, email, is_admin, created_at }, hash)))
        }

        async fn count_users(&self) -> $crate::store::StoreResult<i64> {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(self.reader()).await?;
            Ok(n)
        }

        async fn create_session(&self, session: &$crate::store::NewSession) -> $crate::store::StoreResult<()> {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&session.token_hash)
                .bind(session.user_id)
                .bind(&session.csrf_token)
                .bind($crate::store::Millis::now())
                .bind(session.expires_at)
                .execute(self.writer())
                .await?;
            Ok(())
        }

        async fn find_session(
            &self,
            token_hash: &str,
            now: $crate::store::Millis,
        ) -> $crate::store::StoreResult<Option<($crate::store::User, $crate::store::Session)>> {
            let row: Option<(i64, String, bool, $crate::store::Millis, String, $crate::store::Millis)> = sqlx::query_as(
                "SELECT u.id, u.email, u.is_admin, u.created_at, s.csrf_token, s.expires_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(self.reader())
            .await?;
            Ok(row.map(|(id, email, is_admin, created_at, csrf_token, expires_at)| {
                (
                    $crate::store::User { id, email, is_admin, created_at },
                    $crate::store::Session { user_id: id, csrf_token, expires_at },
                )
            }))
        }

        async fn delete_session(&self, token_hash: &str) -> $crate::store::StoreResult<()> {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(self.writer()).await?;
            Ok(())
        }

        async fn create_api_token(&self, token: &$crate::store::NewApiToken) -> $crate::store::StoreResult<$crate::store::ApiToken> {
            Ok(sqlx::query_as(
                "INSERT INTO api_tokens (user_id, token_hash, name, scopes, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id, user_id, name, scopes, created_at, last_used_at",
            )
            .bind(token.user_id)
            .bind(&token.token_hash)
            .bind(&token.name)
            .bind(&token.scopes)
            .bind($crate::store::Millis::now())
            .fetch_one(self.writer())
            .await?)
        }

        async fn use_api_token(
            &self,
            token_hash: &str,
            now: $crate::store::Millis,
        ) -> $crate::store::StoreResult<Option<($crate::store::User, $crate::store::ApiToken)>> {
            let token: Option<$crate::store::ApiToken> = sqlx::query_as(
                "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
                 RETURNING id, user_id, name, scopes, created_at, last_used_at",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(self.writer())
            .await?;
            let Some(token) = token else { return Ok(None) };
            let user: Option<$crate::store::User> = sqlx::query_as("SELECT id, email, is_admin, created_at FROM users WHERE id = $1")
                .bind(token.user_id)
                .fetch_optional(self.writer())
                .await?;
            Ok(user.map(|user| (user, token)))
        }

        async fn list_api_tokens(&self, user_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::ApiToken>> {
            Ok(sqlx::query_as(
                "SELECT id, user_id, name, scopes, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(self.reader())
            .await?)
        }

        async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> $crate::store::StoreResult<()> {
            let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
                .bind(token_id)
                .bind(user_id)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn create_setup_token(&self, token_hash: &str, expires_at: $crate::store::Millis) -> $crate::store::StoreResult<()> {
            sqlx::query("INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)")
                .bind(token_hash)
                .bind($crate::store::Millis::now())
                .bind(expires_at)
                .execute(self.writer())
                .await?;
            Ok(())
        }

        async fn check_setup_token(&self, token_hash: &str, now: $crate::store::Millis) -> $crate::store::StoreResult<bool> {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .fetch_one(self.reader())
                .await?;
            Ok(n > 0)
        }

        async fn complete_setup(
            &self,
            token_hash: &str,
            now: $crate::store::Millis,
            admin: &$crate::store::NewUser,
        ) -> $crate::store::StoreResult<$crate::store::User> {
            let mut tx = self.begin_write().await?;
            let used = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if used.rows_affected() == 0 {
                // Roll back explicitly: a dropped transaction leaves its connection idle in the
                // transaction, holding locks, until the pool reuses it.
                tx.rollback().await?;
                return Err($crate::store::StoreError::NotFound);
            }
            let user = sqlx::query_as(
                "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, email, is_admin, created_at",
            )
            .bind(&admin.email)
            .bind(&admin.password_hash)
            .bind(admin.is_admin)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            // Every other setup token dies with the first admin.
            sqlx::query("DELETE FROM setup_tokens").execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(user)
        }
    };
}

pub(crate) use accounts;
