use sea_orm::{DbErr, SqlErr};

/// Errors of the tenancy layer. Each variant says which client-facing code it maps to;
/// `Internal` is logged by whoever turns it into a response and never shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("not allowed")]
    Forbidden,
    #[error("tenant {0} is suspended")]
    TenantSuspended(String),
    #[error("internal error: {0}")]
    Internal(#[from] DbErr),
    /// A stored secret that cannot be opened (internal, like `Internal`).
    #[error("internal error: {0}")]
    Sealed(#[from] crate::sealed::SealError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Turns a unique-constraint violation into a client error naming what clashed, and
    /// leaves every other database error internal.
    pub fn conflict_on_unique(err: DbErr, what: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(what.into()),
            _ => Error::Internal(err),
        }
    }
}
