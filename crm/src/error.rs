/// Errors of the domain layer: the tenancy layer's, plus the policy store's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Tenancy(#[from] civitas_tenants::Error),
    #[error(transparent)]
    Policy(#[from] civitas_policies::Error),
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Tenancy(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
