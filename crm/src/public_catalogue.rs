//! The public catalogue: the services of every active body, filtered by body, area and
//! channel and searched by words. Read in a [`PublicScope`], which sees nothing else.
//!
//! Search on PostgreSQL is its full text with the `italian` configuration (migration 16).
//! SQLite has no Italian stemmer, so each word of the query is reduced to its Snowball
//! stem here and matched as a prefix in the FTS5 index: `certificati` finds `certificato`.

use civitas_tenants::PublicScope;
use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use unicode_normalization::UnicodeNormalization;

use crate::catalogue::Service;
use crate::channels::Channel;
use crate::{Error, Result};

/// What a caller asks of the catalogue; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct PublicFilter {
    /// A body's slug.
    pub body: Option<String>,
    /// A thematic area, matched whole and without regard to case.
    pub area: Option<String>,
    /// Only services a citizen can ask for on this channel.
    pub channel: Option<Channel>,
    /// Words every service found must contain (in any form on PostgreSQL; by stem on SQLite).
    pub words: Option<String>,
    /// One service, by its code (with `body`, the service a page shows).
    pub code: Option<String>,
}

/// A service and the body that offers it.
#[derive(Clone, Debug)]
pub struct PublicService {
    pub body_slug: String,
    pub body_name: String,
    pub service: Service,
}

const MAX_WORDS: usize = 8;
const MAX_QUERY: usize = 200;

/// The words of a query, lower-case, without accents; VALIDATION if it is too long.
fn words(q: &str) -> Result<Vec<String>> {
    if q.chars().count() > MAX_QUERY {
        return Err(Error::Validation(format!(
            "search: at most {MAX_QUERY} characters"
        )));
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(MAX_WORDS)
        .collect();
    Ok(words)
}

fn without_accents(w: &str) -> String {
    w.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// An FTS5 query that every word must match, each by its Italian stem as a prefix. Only
/// letters and digits reach it, each term quoted, so no input is FTS5 syntax.
fn fts5_query(words: &[String]) -> String {
    let stemmer = Stemmer::create(Algorithm::Italian);
    words
        .iter()
        .map(|w| {
            let word = without_accents(w);
            // Snowball rewrites some endings (residenza → resident): the part of the stem
            // the word itself begins with is the prefix every form shares.
            let stem: String = without_accents(&stemmer.stem(w))
                .chars()
                .zip(word.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect();
            let term = if stem.chars().count() >= 3 {
                stem
            } else {
                word
            };
            format!("\"{term}\"*")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds a statement's text and values, numbering placeholders as the backend wants.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}

/// One page of the catalogue: `first` services after the first `offset`, and whether more
/// follow. Ordered by relevance when searching, else by body, area and name.
pub async fn page(
    scope: &PublicScope,
    filter: &PublicFilter,
    offset: u64,
    first: u64,
) -> Result<(Vec<PublicService>, bool)> {
    let backend = scope.conn().get_database_backend();
    let mut q = Sql {
        backend,
        text: String::new(),
        values: vec![],
    };
    let words = match &filter.words {
        Some(w) => words(w)?,
        None => vec![],
    };
    let searching = !words.is_empty();
    let mut from = "services s JOIN tenants t ON t.id = s.tenant_id".to_owned();
    let mut rank = String::new();
    let mut conds = vec!["t.status = 'active'".to_owned()];
    if searching {
        match backend {
            DbBackend::Postgres => {
                let p = q.bind(words.join(" "));
                conds.push(format!("s.search @@ plainto_tsquery('italian', {p})"));
                rank = format!("ts_rank(s.search, plainto_tsquery('italian', {p})) DESC, ");
            }
            _ => {
                from.push_str(" JOIN services_fts f ON f.rowid = s.rowid");
                let p = q.bind(fts5_query(&words));
                conds.push(format!("services_fts MATCH {p}"));
                rank = "bm25(services_fts) ASC, ".to_owned();
            }
        }
    }
    if let Some(b) = &filter.body {
        let p = q.bind(b.clone());
        conds.push(format!("t.slug = {p}"));
    }
    if let Some(a) = &filter.area {
        let p = q.bind(a.trim().to_owned());
        conds.push(format!("lower(s.area) = lower({p})"));
    }
    if let Some(code) = &filter.code {
        let p = q.bind(code.clone());
        conds.push(format!("s.code = {p}"));
    }
    if let Some(c) = filter.channel {
        let p = q.bind(format!("%,{},%", c.as_str()));
        conds.push(format!(
            "(s.channels = '' OR (',' || s.channels || ',') LIKE {p})"
        ));
    }
    let limit = q.bind((first + 1) as i64);
    let skip = q.bind(offset as i64);
    q.text = format!(
        "SELECT s.tenant_id, s.id, s.code, s.name, s.area, s.description, s.created_at, \
         s.channels, s.sla_hours, s.custom_fields, t.slug AS body_slug, \
         t.display_name AS body_name \
         FROM {from} WHERE {} ORDER BY {rank}t.slug, s.area, s.name, s.id LIMIT {limit} OFFSET {skip}",
        conds.join(" AND ")
    );
    let rows = scope
        .conn()
        .query_all_raw(Statement::from_sql_and_values(backend, q.text, q.values))
        .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        found.push(PublicService {
            body_slug: row.try_get("", "body_slug")?,
            body_name: row.try_get("", "body_name")?,
            service: Service::from_query_result(row, "")?,
        });
    }
    let more = found.len() as u64 > first;
    found.truncate(first as usize);
    Ok((found, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_becomes_quoted_italian_stems_and_nothing_else() {
        let w = words("Certificati di residenza; \"OR\" *").expect("words");
        assert_eq!(w, ["certificati", "di", "residenza", "or"]);
        let q = fts5_query(&w);
        assert!(q.starts_with("\"certific"), "{q}");
        assert!(q.contains("\"residen\"*"), "{q}");
        assert_eq!(q.matches('"').count(), 2 * w.len(), "{q}");
        assert_eq!(fts5_query(&["città".into()]), "\"citt\"*");
        assert_eq!(fts5_query(&["di".into()]), "\"di\"*");
    }

    #[test]
    fn a_query_too_long_is_refused() {
        assert!(words(&"a".repeat(201)).is_err());
    }
}
