//! Errors as clients see them: a message and a stable `extensions.code`.

use async_graphql::ErrorExtensions;

/// The machine-readable codes of the API. Stable: integrators match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    Validation,
    Conflict,
    TenantSuspended,
    BadRequest,
    PayloadTooLarge,
    RateLimited,
    Overloaded,
    GraphqlValidation,
    Internal,
}

impl Code {
    /// The HTTP status of a request refused before GraphQL runs (bad token, limits, a
    /// malformed body, an idempotency clash). Errors inside a GraphQL response travel with
    /// HTTP 200, as GraphQL over HTTP has it. One table, for every refusal.
    pub fn http_status(self) -> u16 {
        match self {
            Code::Unauthenticated => 401,
            Code::Forbidden | Code::TenantSuspended => 403,
            Code::NotFound => 404,
            Code::Validation | Code::BadRequest | Code::GraphqlValidation => 400,
            Code::Conflict => 409,
            Code::PayloadTooLarge => 413,
            Code::RateLimited => 429,
            Code::Overloaded => 503,
            Code::Internal => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::Validation => "VALIDATION",
            Code::Conflict => "CONFLICT",
            Code::TenantSuspended => "TENANT_SUSPENDED",
            Code::BadRequest => "BAD_REQUEST",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::RateLimited => "RATE_LIMITED",
            Code::Overloaded => "OVERLOADED",
            Code::GraphqlValidation => "GRAPHQL_VALIDATION",
            Code::Internal => "INTERNAL",
        }
    }
}

/// An error on its way to a client. It has no `Display` on purpose: async-graphql turns
/// anything displayable into an error message, and an internal error's text must not
/// reach a client by accident.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Why, where the code alone does not say (`RESTRICTED` with FORBIDDEN).
    pub reason: Option<&'static str>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            reason: None,
        }
    }

    pub fn forbidden() -> Self {
        ApiError::new(Code::Forbidden, "not allowed")
    }

    /// Logs the cause with the request's span and returns an error that says nothing of it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(Code::Internal, "internal error")
    }

    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code.as_str();
        let reason = self.reason;
        async_graphql::Error::new(self.message).extend_with(|_, e| {
            e.set("code", code);
            if let Some(r) = reason {
                e.set("reason", r);
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.into_graphql()
    }
}

impl From<civitas_tenants::Error> for ApiError {
    fn from(e: civitas_tenants::Error) -> Self {
        use civitas_tenants::Error as E;
        match e {
            E::Validation(m) => ApiError::new(Code::Validation, m),
            E::NotFound(what) => ApiError::new(Code::NotFound, format!("{what} not found")),
            E::Conflict(m) => ApiError::new(Code::Conflict, m),
            E::Forbidden => ApiError::forbidden(),
            E::TenantSuspended(slug) => {
                ApiError::new(Code::TenantSuspended, format!("tenant {slug} is suspended"))
            }
            E::Internal(db) => ApiError::internal(&db),
            E::Sealed(e) => ApiError::internal(&e),
        }
    }
}

impl From<civitas_policies::Error> for ApiError {
    fn from(e: civitas_policies::Error) -> Self {
        match e {
            civitas_policies::Error::Validation(m) => ApiError::new(Code::Validation, m),
            other => ApiError::internal(&other),
        }
    }
}

impl From<civitas_crm::Error> for ApiError {
    fn from(e: civitas_crm::Error) -> Self {
        use civitas_crm::Error as E;
        let code = match &e {
            E::Tenancy(_) | E::Policy(_) | E::Internal(_) => Code::Internal,
            E::Validation(_) => Code::Validation,
            E::NotFound(_) => Code::NotFound,
            E::Conflict(_) => Code::Conflict,
            E::Forbidden(_) | E::Restricted(_) => Code::Forbidden,
            E::Unauthenticated => Code::Unauthenticated,
            E::NoTenant => Code::BadRequest,
        };
        match e {
            E::Tenancy(e) => e.into(),
            E::Policy(e) => e.into(),
            E::Internal(m) => ApiError::internal(&m),
            E::Restricted(_) => ApiError {
                reason: Some("RESTRICTED"),
                ..ApiError::new(code, e.to_string())
            },
            other => ApiError::new(code, other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(&e)
    }
}
