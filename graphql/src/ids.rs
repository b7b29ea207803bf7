//! Ids as clients send them: a malformed one is a VALIDATION error naming the argument.

use async_graphql::ID;

use crate::error::{ApiError, ApiResult, Code};

/// Reads `id` (the argument `field`) as the typed id `T`.
pub(crate) fn parse<T: From<uuid::Uuid>>(field: &str, id: &ID) -> ApiResult<T> {
    id.parse::<uuid::Uuid>()
        .map(T::from)
        .map_err(|_| ApiError::new(Code::Validation, format!("{field} is not a valid id")))
}

/// The same, for an optional argument.
pub(crate) fn parse_opt<T: From<uuid::Uuid>>(field: &str, id: Option<&ID>) -> ApiResult<Option<T>> {
    id.map(|i| parse(field, i)).transpose()
}

/// As [`parse`], for code that still works with bare UUIDs.
pub(crate) fn parse_id(field: &str, id: &ID) -> ApiResult<uuid::Uuid> {
    parse(field, id)
}
