//! Relay connections: every list of the API is one (`first`/`after`, `pageInfo`).

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ID, OutputType};
use civitas_crm::app::Page;

use crate::error::ApiResult;
use crate::ids::parse_opt;

pub(crate) type Conn<T> = Connection<String, T, EmptyFields, EmptyFields>;

/// The page `first`/`after` asks for, cursors being ids.
pub(crate) fn page<C: From<uuid::Uuid>>(first: i32, after: Option<String>) -> ApiResult<Page<C>> {
    let after = parse_opt("after", after.map(ID).as_ref())?;
    Ok(Page::new(first.into(), after)?)
}

/// A connection of `rows` (one page), each row's cursor its id.
pub(crate) fn connection<R, T: OutputType>(
    rows: Vec<R>,
    had_cursor: bool,
    more: bool,
    cursor: impl Fn(&R) -> String,
    node: impl Fn(R) -> T,
) -> Conn<T> {
    let mut conn = Connection::new(had_cursor, more);
    conn.edges
        .extend(rows.into_iter().map(|r| Edge::new(cursor(&r), node(r))));
    conn
}

/// The page `first`/`after` asks for of a list whose cursors are positions (rows with no
/// id of their own, or ranked by relevance): `after` is the position of the last row seen.
pub(crate) fn position_page(first: i32, after: Option<&str>) -> ApiResult<Page<u64>> {
    let after = after
        .map(|a| {
            a.parse::<u64>().map_err(|_| {
                civitas_crm::Error::Validation("after: not a cursor of this list".into())
            })
        })
        .transpose()?;
    Ok(Page::new(first.into(), after)?)
}

/// A connection of one page of a positioned list (see [`position_page`]).
pub(crate) fn positioned<R, T: OutputType>(
    rows: Vec<R>,
    page: Page<u64>,
    more: bool,
    node: impl Fn(R) -> T,
) -> Conn<T> {
    let start = page.after.unwrap_or(0);
    let rows: Vec<(u64, R)> = (start + 1..).zip(rows).collect();
    connection(
        rows,
        page.after.is_some(),
        more,
        |(n, _)| n.to_string(),
        |(_, r)| node(r),
    )
}
