//! What a form sends: its fields by name (a urlencoded body or a multipart one), and the
//! translation of the text a browser sends into the typed values of a service's custom
//! fields. Whether a value is allowed is the domain's rule, not decided here.

use civitas_crm::catalogue::{FieldDef, FieldType};
use serde_json::{Map, Value};

/// A form's fields, in the order sent; a name may repeat (checkboxes).
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value, trimmed; empty when not sent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_owned()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Italy's clock, for the `datetime-local` inputs (which carry no zone).
const ZONE: chrono_tz::Tz = chrono_tz::Europe::Rome;

/// The custom field values of a request form (inputs named `cf.<key>`), typed as the
/// service defines them. Text that does not read as its type is passed on as text, for the
/// domain to refuse next to the field.
pub fn custom_values(defs: &[FieldDef], form: &Fields) -> Value {
    let mut out = Map::new();
    for d in defs {
        let name = format!("cf.{}", d.key);
        let value = match d.kind {
            FieldType::MultiSelect => {
                let chosen: Vec<Value> = form
                    .all(&name)
                    .into_iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String(v.to_owned()))
                    .collect();
                (!chosen.is_empty()).then_some(Value::Array(chosen))
            }
            _ => {
                let raw = form.text(&name);
                (!raw.is_empty()).then(|| typed(d.kind, raw))
            }
        };
        if let Some(v) = value {
            out.insert(d.key.clone(), v);
        }
    }
    Value::Object(out)
}

fn typed(kind: FieldType, raw: String) -> Value {
    match kind {
        FieldType::Number => raw
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(raw)),
        FieldType::Datetime => chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|t| t.and_local_timezone(ZONE).earliest())
            .map(|t| Value::String(t.to_rfc3339()))
            .unwrap_or(Value::String(raw)),
        _ => Value::String(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(key: &str, kind: FieldType) -> FieldDef {
        FieldDef {
            key: key.into(),
            label: key.into(),
            kind,
            required: false,
            options: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn form_text_becomes_typed_values() {
        let defs = [
            def("plate", FieldType::String),
            def("km", FieldType::Number),
            def("at", FieldType::Datetime),
            def("days", FieldType::MultiSelect),
            def("empty", FieldType::Text),
        ];
        let form = Fields(
            [
                ("cf.plate", " AB123CD "),
                ("cf.km", "12,5"),
                ("cf.at", "2026-07-01T09:30"),
                ("cf.days", "a"),
                ("cf.days", "b"),
                ("cf.empty", ""),
                ("cf.unknown", "x"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
        );
        let v = custom_values(&defs, &form);
        assert_eq!(
            v,
            serde_json::json!({
                "plate": "AB123CD", "km": 12.5, "at": "2026-07-01T09:30:00+02:00",
                "days": ["a", "b"],
            })
        );
        let bad = Fields(vec![("cf.km".into(), "twelve".into())]);
        assert_eq!(custom_values(&defs, &bad)["km"], "twelve");
    }
}
