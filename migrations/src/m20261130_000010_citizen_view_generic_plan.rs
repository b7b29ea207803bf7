//! The citizen view's function keeps one plan for every choice of parts. PostgreSQL only.
//!
//! PL/pgSQL plans a statement with its arguments as constants five times, then switches to
//! one generic plan only if that plan is estimated no costlier than the constant ones. With
//! `p_cases` or `p_interactions` false, the constant plans fold their part away and look
//! cheaper than the generic plan, which keeps both parts behind `CASE WHEN`: so a view that
//! does not ask for cases or interactions was planned again on every call, and pgbench on
//! the view's profiles alone (0.1x, 8 clients) ran 3,350-3,960 calls/s against 6,330-6,530
//! for the whole view. With generic plans forced for the function, the profiles alone ran
//! 9,630-10,480 calls/s and the whole view was unchanged (docs/performance.md, item 21).
//! Whether a part is read is decided when the plan runs, as the generic plan always did.

use sea_orm_migration::prelude::*;

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = "ALTER FUNCTION civitas_citizen_view(uuid, text, uuid, boolean, boolean) \
    SET plan_cache_mode = force_generic_plan";
const DOWN: &str = "ALTER FUNCTION civitas_citizen_view(uuid, text, uuid, boolean, boolean) \
    RESET plan_cache_mode";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::on_postgres(m, UP).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::on_postgres(m, DOWN).await
    }
}
