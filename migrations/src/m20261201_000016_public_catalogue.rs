//! The public catalogue: every active body's services, readable by anyone, searchable by
//! words. On PostgreSQL a transaction marked `app.public` (and bound to no tenant and no
//! person) reads `services` of every tenant and nothing else; the words are a generated
//! `tsvector` with the `italian` configuration. On SQLite an FTS5 index kept by triggers
//! (Italian stems are matched as prefixes by the query, see `crm::public_catalogue`).

use sea_orm_migration::prelude::*;

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_UP: &[&str] = &[
    "ALTER TABLE services ADD COLUMN search tsvector GENERATED ALWAYS AS ( \
       setweight(to_tsvector('italian', name), 'A') \
       || setweight(to_tsvector('italian', area), 'B') \
       || setweight(to_tsvector('italian', description), 'C')) STORED",
    "CREATE INDEX ix_services_search ON services USING gin (search)",
    "CREATE POLICY public_read ON services FOR SELECT \
       USING (current_setting('app.public', true) = 'on')",
];

const PG_DOWN: &[&str] = &[
    "DROP POLICY public_read ON services",
    "ALTER TABLE services DROP COLUMN search",
];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE services_fts USING fts5(name, area, description, \
       content='services', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER services_fts_insert AFTER INSERT ON services BEGIN \
       INSERT INTO services_fts(rowid, name, area, description) \
       VALUES (new.rowid, new.name, new.area, new.description); END",
    "CREATE TRIGGER services_fts_delete AFTER DELETE ON services BEGIN \
       INSERT INTO services_fts(services_fts, rowid, name, area, description) \
       VALUES ('delete', old.rowid, old.name, old.area, old.description); END",
    "CREATE TRIGGER services_fts_update AFTER UPDATE ON services BEGIN \
       INSERT INTO services_fts(services_fts, rowid, name, area, description) \
       VALUES ('delete', old.rowid, old.name, old.area, old.description); \
       INSERT INTO services_fts(rowid, name, area, description) \
       VALUES (new.rowid, new.name, new.area, new.description); END",
    "INSERT INTO services_fts(services_fts) VALUES ('rebuild')",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER services_fts_update",
    "DROP TRIGGER services_fts_delete",
    "DROP TRIGGER services_fts_insert",
    "DROP TABLE services_fts",
];

fn statements(m: &SchemaManager<'_>, pg: &[&str], sqlite: &[&str]) -> Vec<String> {
    let list = if rls::is_postgres(m) { pg } else { sqlite };
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::exec_all(m, &statements(m, PG_UP, SQLITE_UP)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::exec_all(m, &statements(m, PG_DOWN, SQLITE_DOWN)).await
    }
}
