//! Organizations, projects and their DSN keys.

/// The columns of a [`crate::store::Project`], joined with its organization's slug.
macro_rules! project_select {
    () => {
        "SELECT p.id, p.organization_id, o.slug AS organization_slug, p.slug, p.name, p.platform, p.created_at \
         FROM projects p JOIN organizations o ON o.id = p.organization_id"
    };
}

/// The columns of a [`crate::store::ProjectKey`].
macro_rules! key_columns {
    () => {
        "id, project_id, public_key, label, enabled, rate_limit_per_minute, created_at"
    };
}

macro_rules! projects {
    () => {
        async fn ping(&self) -> $crate::store::StoreResult<()> {
            sqlx::query("SELECT 1").execute(self.reader()).await?;
            Ok(())
        }

        async fn create_organization(&self, slug: &str, name: &str) -> $crate::store::StoreResult<$crate::store::Organization> {
            Ok(sqlx::query_as("INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id, slug, name, created_at")
                .bind(slug)
                .bind(name)
                .bind($crate::store::Millis::now())
                .fetch_one(self.writer())
                .await?)
        }

        async fn find_organization(&self, slug: &str) -> $crate::store::StoreResult<Option<$crate::store::Organization>> {
            Ok(sqlx::query_as("SELECT id, slug, name, created_at FROM organizations WHERE slug = $1")
                .bind(slug)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn list_organizations(&self) -> $crate::store::StoreResult<Vec<$crate::store::Organization>> {
            Ok(sqlx::query_as("SELECT id, slug, name, created_at FROM organizations ORDER BY slug")
                .fetch_all(self.reader())
                .await?)
        }

        async fn create_project(&self, project: &$crate::store::NewProject) -> $crate::store::StoreResult<$crate::store::Project> {
            let mut tx = self.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO projects (organization_id, slug, name, platform, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(project.organization_id)
            .bind(&project.slug)
            .bind(&project.name)
            .bind(&project.platform)
            .bind($crate::store::Millis::now())
            .fetch_one(&mut *tx)
            .await?;
            let created = sqlx::query_as(concat!($crate::store::ops::project_select!(), " WHERE p.id = $1"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(created)
        }

        async fn find_project(&self, org_slug: &str, slug: &str) -> $crate::store::StoreResult<Option<$crate::store::Project>> {
            Ok(sqlx::query_as(concat!($crate::store::ops::project_select!(), " WHERE o.slug = $1 AND p.slug = $2"))
                .bind(org_slug)
                .bind(slug)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn find_project_by_id(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::store::Project>> {
            Ok(sqlx::query_as(concat!($crate::store::ops::project_select!(), " WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn list_projects(&self, organization_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::Project>> {
            Ok(sqlx::query_as(concat!($crate::store::ops::project_select!(), " WHERE p.organization_id = $1 ORDER BY p.slug"))
                .bind(organization_id)
                .fetch_all(self.reader())
                .await?)
        }

        async fn create_project_key(&self, project_id: i64, public_key: &str, label: &str) -> $crate::store::StoreResult<$crate::store::ProjectKey> {
            Ok(sqlx::query_as(concat!(
                "INSERT INTO project_keys (project_id, public_key, label, enabled, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
                $crate::store::ops::key_columns!()
            ))
            .bind(project_id)
            .bind(public_key)
            .bind(label)
            .bind(true)
            .bind($crate::store::Millis::now())
            .fetch_one(self.writer())
            .await?)
        }

        async fn find_project_key(&self, public_key: &str) -> $crate::store::StoreResult<Option<$crate::store::ProjectKey>> {
            Ok(sqlx::query_as(concat!("SELECT ", $crate::store::ops::key_columns!(), " FROM project_keys WHERE public_key = $1"))
                .bind(public_key)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn list_project_keys(&self, project_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::ProjectKey>> {
            Ok(sqlx::query_as(concat!("SELECT ", $crate::store::ops::key_columns!(), " FROM project_keys WHERE project_id = $1 ORDER BY id"))
                .bind(project_id)
                .fetch_all(self.reader())
                .await?)
        }

        async fn update_project_key(
            &self,
            id: i64,
            enabled: bool,
            rate_limit_per_minute: Option<i64>,
        ) -> $crate::store::StoreResult<$crate::store::ProjectKey> {
            sqlx::query_as(concat!(
                "UPDATE project_keys SET enabled = $2, rate_limit_per_minute = $3 WHERE id = $1 RETURNING ",
                $crate::store::ops::key_columns!()
            ))
            .bind(id)
            .bind(enabled)
            .bind(rate_limit_per_minute)
            .fetch_optional(self.writer())
            .await?
            .ok_or($crate::store::StoreError::NotFound)
        }
    };
}

pub(crate) use {key_columns, project_select, projects};
