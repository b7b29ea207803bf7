//! GeoReport v2's two formats from one tree: JSON (arrays and objects) and XML (a root
//! element, one element per item, one child per field; empty fields as empty elements).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// A value of an answer.
pub enum Node {
    Text(Option<String>),
    Number(f64),
    Bool(bool),
    /// Items, each an element named `item` in XML.
    List(&'static str, Vec<Node>),
    Object(Vec<(&'static str, Node)>),
}

impl Node {
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(Some(s.into()))
    }

    pub fn maybe(s: Option<impl Into<String>>) -> Node {
        Node::Text(s.map(Into::into))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `services.json` into `services` and its format.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        match ext {
            "json" => Some((stem, Format::Json)),
            "xml" => Some((stem, Format::Xml)),
            _ => None,
        }
    }
}

fn json(n: &Node) -> Value {
    match n {
        Node::Text(t) => t.clone().map(Value::String).unwrap_or(Value::Null),
        Node::Number(x) if x.fract() == 0.0 && x.abs() < 9e15 => Value::from(*x as i64),
        Node::Number(x) => serde_json::Number::from_f64(*x)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Node::Bool(b) => Value::Bool(*b),
        Node::List(_, items) => Value::Array(items.iter().map(json).collect()),
        Node::Object(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert((*k).to_owned(), json(v));
            }
            Value::Object(m)
        }
    }
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn xml(name: &str, n: &Node, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match n {
        Node::Text(t) => escape(t.as_deref().unwrap_or_default(), out),
        Node::Number(x) => out.push_str(&x.to_string()),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::List(item, items) => {
            for i in items {
                xml(item, i, out);
            }
        }
        Node::Object(fields) => {
            for (k, v) in fields {
                xml(k, v, out);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// The answer in `format`; `root` names the XML document's element.
pub fn respond(status: StatusCode, format: Format, root: &str, n: &Node) -> Response {
    match format {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            json(n).to_string(),
        )
            .into_response(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            xml(root, n, &mut out);
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

/// The spec's error answer: `[{"code": 400, "description": "…"}]`.
pub fn error(status: StatusCode, format: Format, description: &str) -> Response {
    let n = Node::List(
        "error",
        vec![Node::Object(vec![
            ("code", Node::Number(f64::from(status.as_u16()))),
            ("description", Node::text(description)),
        ])],
    );
    respond(status, format, "errors", &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_nests_items() {
        let n = Node::List(
            "service",
            vec![Node::Object(vec![
                ("service_code", Node::text("A&B")),
                ("metadata", Node::Bool(true)),
                ("keywords", Node::Text(None)),
            ])],
        );
        let mut out = String::new();
        xml("services", &n, &mut out);
        assert_eq!(
            out,
            "<services><service><service_code>A&amp;B</service_code><metadata>true</metadata><keywords></keywords></service></services>"
        );
        assert_eq!(
            json(&n).to_string(),
            r#"[{"keywords":null,"metadata":true,"service_code":"A&B"}]"#
        );
    }
}
