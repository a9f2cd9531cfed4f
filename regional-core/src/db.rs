//! The connection pool and schema migrations (embedded SQL files, applied in order at start,
//! each once, recorded in `schema_migrations`).

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::config::Secret;

/// Every migration, in order. A new schema change is a new file appended here.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (2, include_str!("../migrations/0002_order_lookups.sql")),
    (3, include_str!("../migrations/0003_promotions.sql")),
    (4, include_str!("../migrations/0004_refunds.sql")),
    (5, include_str!("../migrations/0005_accounts.sql")),
    (6, include_str!("../migrations/0006_mail.sql")),
    (7, include_str!("../migrations/0007_delivery.sql")),
    (8, include_str!("../migrations/0008_fulfilment.sql")),
    (9, include_str!("../migrations/0009_storefronts.sql")),
];

/// The latest schema version this build knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

pub fn pool(database_url: &Secret, size: usize) -> anyhow::Result<Pool> {
    let config: tokio_postgres::Config = database_url
        .expose()
        .parse()
        .context("failed to parse DATABASE_URL")?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .build()
        .context("failed to build the database pool")
}

/// Says at start when the server cannot give this core its whole pool: the connections
/// `max_connections` leaves free (minus the superuser reserve) are fewer than `size`.
/// Not an error (other cores on the server may not be busy), but under load the core would
/// wait for connections and answer 503s.
pub async fn check_headroom(pool: &Pool, size: usize) -> anyhow::Result<()> {
    let client = pool
        .get()
        .await
        .context("failed to connect to the database")?;
    let row = client
        .query_one(
            "SELECT current_setting('max_connections')::int
                  - current_setting('superuser_reserved_connections')::int
                  - (SELECT count(*) FROM pg_stat_activity)::int",
            &[],
        )
        .await
        .context("failed to read the server's connection limit")?;
    // This check's own connection is one the pool keeps.
    let free = usize::try_from(row.get::<_, i32>(0)).unwrap_or(0) + 1;
    if free < size {
        tracing::warn!(
            free,
            pool = size,
            "the database server has fewer free connections than this core's pool: lower MERIDIAN_DB_POOL or raise max_connections"
        );
    }
    Ok(())
}

/// Applies pending migrations under an advisory lock, so replicas starting together apply
/// each once.
pub async fn migrate(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool
        .get()
        .await
        .context("failed to connect to the database")?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(7000001)", &[])
        .await
        .context("failed to take the migration lock")?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .context("failed to create schema_migrations")?;
    for (version, sql) in MIGRATIONS {
        let applied = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?
            .is_some();
        if !applied {
            tx.batch_execute(sql)
                .await
                .with_context(|| format!("failed to apply migration {version}"))?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
            tracing::info!(version, "applied migration");
        }
    }
    tx.commit().await.context("failed to commit migrations")?;
    Ok(())
}

/// Whether the database answers and has every migration of this build.
pub async fn ready(pool: &Pool) -> anyhow::Result<()> {
    let client = pool.get().await.context("no database connection")?;
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .context("failed to read schema_migrations")?;
    let version: i32 = row.get(0);
    anyhow::ensure!(
        version >= latest_version(),
        "schema version {version}, expected {}",
        latest_version()
    );
    Ok(())
}

/// Queries through the connection's statement cache: each SQL text is prepared once per
/// connection instead of on every call, which halves the round trips of a checkout.
pub trait Cached: deadpool_postgres::GenericClient + Sync {
    fn execute_cached<'a>(
        &'a self,
        sql: &'a str,
        params: &'a [&'a (dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a {
        async move {
            let statement = self.prepare_cached(sql).await?;
            self.execute(&statement, params).await
        }
    }

    fn query_cached<'a>(
        &'a self,
        sql: &'a str,
        params: &'a [&'a (dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a {
        async move {
            let statement = self.prepare_cached(sql).await?;
            self.query(&statement, params).await
        }
    }

    fn query_one_cached<'a>(
        &'a self,
        sql: &'a str,
        params: &'a [&'a (dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, tokio_postgres::Error>> + Send + 'a {
        async move {
            let statement = self.prepare_cached(sql).await?;
            self.query_one(&statement, params).await
        }
    }

    fn query_opt_cached<'a>(
        &'a self,
        sql: &'a str,
        params: &'a [&'a (dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, tokio_postgres::Error>> + Send + 'a {
        async move {
            let statement = self.prepare_cached(sql).await?;
            self.query_opt(&statement, params).await
        }
    }
}

impl<T: deadpool_postgres::GenericClient + Sync> Cached for T {}
