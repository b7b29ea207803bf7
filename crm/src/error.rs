//! Errors of the domain layer. The domain's own refusals have their own variants; what the
//! tenancy layer or the policy store refuse passes through unchanged.

use std::borrow::Cow;

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule; the message names the field and the rule.
    #[error("{0}")]
    Validation(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input clashes with what exists (a duplicate, a state that forbids the change).
    #[error("{0}")]
    Conflict(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// The record is restricted (kept under a legal duty after its citizen asked for erasure,
    /// or restricted by them): no one may use it. FORBIDDEN with the reason `RESTRICTED`.
    #[error("{0} is restricted: it is kept only as the law requires and may not be used")]
    Restricted(&'static str),
    /// No valid bearer token came with the request.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The operation acts in a tenant and the request named none.
    #[error("no tenant: use a token issued for a tenant or send X-Civitas-Tenant")]
    NoTenant,
    /// A fault of the server, logged where it is turned into a response and never shown.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Tenancy(#[from] civitas_tenants::Error),
    #[error(transparent)]
    Policy(#[from] civitas_policies::Error),
}

impl Error {
    pub fn forbidden() -> Self {
        Error::Forbidden(Cow::Borrowed("not allowed"))
    }

    /// Turns a unique-constraint violation into a conflict naming what clashed, and leaves
    /// every other database error internal.
    pub fn conflict_on_unique(err: DbErr, what: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(what.into()),
            _ => Error::Tenancy(err.into()),
        }
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Error::Tenancy(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
