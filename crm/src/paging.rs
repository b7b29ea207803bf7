//! Keyset pages of rows whose ids are time-ordered (UUID v7): newest first, resumed after
//! the last id seen, with one row more read to tell whether another page follows.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::Result;

/// The page of `query` of at most `first` rows after the id `after`, and whether more follow.
pub async fn newest_first<E, C>(
    conn: &C,
    query: Select<E>,
    id: E::Column,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<E::Model>, bool)>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let query = match after {
        Some(a) => query.filter(id.lt(a)),
        None => query,
    };
    let mut rows = query.order_by_desc(id).limit(first + 1).all(conn).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// The rows of an outbox query, locked on PostgreSQL with `FOR UPDATE SKIP LOCKED` so that
/// concurrent workers take different rows (SQLite's single writer already serialises them).
pub async fn take_due<E: EntityTrait>(
    scope: &civitas_tenants::Scope,
    query: Select<E>,
) -> Result<Vec<E::Model>> {
    use sea_orm::sea_query::{LockBehavior, LockType};
    let query = if scope.conn().get_database_backend() == sea_orm::DbBackend::Postgres {
        query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
    } else {
        query
    };
    Ok(query.all(scope.conn()).await?)
}
