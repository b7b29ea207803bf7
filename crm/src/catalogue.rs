//! The service catalogue of a body: what citizens can ask it for, by thematic area.

use chrono::Utc;
use civitas_tenants::Scope;
use sea_orm::{ActiveValue::Set, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entity::service;
use crate::{Error, Result};

pub use service::Model as Service;

#[derive(Clone, Debug, Default)]
pub struct NewService {
    pub code: String,
    pub name: String,
    pub area: String,
    pub description: String,
    /// Channels the service accepts; empty: every channel.
    pub channels: Vec<String>,
    /// Hours from opening to the due time of its cases.
    pub sla_hours: Option<i32>,
    pub custom_fields: Vec<FieldDef>,
}

/// The type of a custom field of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Text,
    Number,
    Datetime,
    Select,
    MultiSelect,
}

/// A typed attribute that cases of a service carry (a plate number, a date of collection).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// The allowed values of `select` and `multi_select`.
    #[serde(default)]
    pub options: Vec<String>,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

impl FieldDef {
    fn validate(&self) -> Result<()> {
        let key_ok = !self.key.is_empty()
            && self.key.len() <= 40
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(invalid(format!(
                "custom field key {:?} must be 1 to 40 characters of a-z, 0-9, '_'",
                self.key
            )));
        }
        let choice = matches!(self.kind, FieldType::Select | FieldType::MultiSelect);
        if choice == self.options.is_empty() {
            return Err(invalid(format!(
                "custom field {}: options are for select and multi_select fields, which need them",
                self.key
            )));
        }
        Ok(())
    }

    /// Checks one value against the definition.
    fn check(&self, v: &serde_json::Value) -> Result<()> {
        use serde_json::Value;
        let ok = match (self.kind, v) {
            (FieldType::String, Value::String(s)) => s.chars().count() <= 200,
            (FieldType::Text, Value::String(s)) => s.chars().count() <= 10_000,
            (FieldType::Number, Value::Number(_)) => true,
            (FieldType::Datetime, Value::String(s)) => {
                chrono::DateTime::parse_from_rfc3339(s).is_ok()
            }
            (FieldType::Select, Value::String(s)) => self.options.contains(s),
            (FieldType::MultiSelect, Value::Array(a)) => a.iter().all(|x| {
                x.as_str()
                    .is_some_and(|s| self.options.iter().any(|o| o == s))
            }),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(invalid(format!(
                "custom field {}: {v} is not a valid {:?} value",
                self.key, self.kind
            )))
        }
    }
}

/// What is wrong with one custom field value, for a form to say next to the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// The service does not define the field.
    Unknown,
    /// A required field has no value.
    Required,
    /// The value is not of the field's type, or not one of its options.
    Invalid,
}

/// Every problem of a case's custom field values against its service's definitions, by
/// field key (unknown fields, missing required ones, values of the wrong type). `Err`
/// when the values are not a JSON object at all.
pub fn field_problems(
    defs: &[FieldDef],
    values: &serde_json::Value,
) -> Result<Vec<(String, FieldProblem)>> {
    let empty = serde_json::Map::new();
    let map = match values {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => &empty,
        _ => return Err(invalid("customFields must be a JSON object")),
    };
    let mut out: Vec<(String, FieldProblem)> = map
        .keys()
        .filter(|k| !defs.iter().any(|d| &d.key == *k))
        .map(|k| (k.clone(), FieldProblem::Unknown))
        .collect();
    for d in defs {
        match map.get(&d.key) {
            None | Some(serde_json::Value::Null) if d.required => {
                out.push((d.key.clone(), FieldProblem::Required));
            }
            None | Some(serde_json::Value::Null) => {}
            Some(v) if d.check(v).is_err() => out.push((d.key.clone(), FieldProblem::Invalid)),
            Some(_) => {}
        }
    }
    Ok(out)
}

/// Checks a case's custom field values against its service's definitions: no unknown
/// field, every required one present, every value of the right type.
pub fn validate_values(defs: &[FieldDef], values: &serde_json::Value) -> Result<()> {
    let Some((key, problem)) = field_problems(defs, values)?.into_iter().next() else {
        return Ok(());
    };
    Err(match problem {
        FieldProblem::Unknown => invalid(format!(
            "custom field {key} is not defined for this service"
        )),
        FieldProblem::Required => invalid(format!("custom field {key} is required")),
        FieldProblem::Invalid => {
            let d = defs.iter().find(|d| d.key == key);
            let v = values.get(&key).cloned().unwrap_or_default();
            invalid(format!(
                "custom field {key}: {v} is not a valid {:?} value",
                d.map(|d| d.kind).unwrap_or(FieldType::String)
            ))
        }
    })
}

/// The definitions a service row holds.
pub fn field_defs(s: &Service) -> Vec<FieldDef> {
    serde_json::from_value(s.custom_fields.clone()).unwrap_or_default()
}

/// The channels a service row accepts (empty: all).
pub fn channels(s: &Service) -> Vec<String> {
    s.channels
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

impl NewService {
    fn validate(&self) -> Result<()> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 40
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(Error::Validation(
                "code must be 1 to 40 characters of A-Z, 0-9, '-' or '_'".into(),
            ));
        }
        for (field, v) in [("name", &self.name), ("area", &self.area)] {
            if v.trim().is_empty() || v.chars().count() > 200 {
                return Err(Error::Validation(format!(
                    "{field} must be 1 to 200 characters"
                )));
            }
        }
        if self.sla_hours.is_some_and(|h| !(1..=24 * 365).contains(&h)) {
            return Err(invalid("slaHours must be between 1 and 8760"));
        }
        for c in &self.channels {
            crate::sharing::validate_channel(c)
                .map_err(|_| invalid(format!("unknown channel {c:?}")))?;
        }
        for (i, d) in self.custom_fields.iter().enumerate() {
            d.validate()?;
            if self.custom_fields[..i].iter().any(|e| e.key == d.key) {
                return Err(invalid(format!("custom field {} is defined twice", d.key)));
            }
        }
        Ok(())
    }
}

pub async fn create(scope: &Scope, new: NewService) -> Result<Service> {
    new.validate()?;
    let row = service::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(new.code.clone()),
        name: Set(new.name.trim().to_owned()),
        area: Set(new.area.trim().to_owned()),
        description: Set(new.description),
        created_at: Set(Utc::now()),
        channels: Set(new
            .channels
            .iter()
            .map(|c| c.trim().to_lowercase())
            .collect::<Vec<_>>()
            .join(",")),
        sla_hours: Set(new.sla_hours.unwrap_or(72)),
        custom_fields: Set(serde_json::to_value(&new.custom_fields).unwrap_or_default()),
        ..Default::default()
    };
    scope.insert(row).await.map_err(|e| {
        Error::conflict_on_unique(
            e,
            format!("a service with code {} already exists", new.code),
        )
    })
}

pub async fn by_code(scope: &Scope, code: &str) -> Result<Service> {
    use sea_orm::{ColumnTrait, QueryFilter};
    scope
        .find::<service::Entity>()
        .filter(service::Column::Code.eq(code))
        .one(scope.conn())
        .await?
        .ok_or_else(|| Error::NotFound("service"))
}

/// Copies the parent body's services (read beforehand in the parent's scope) into `scope`'s
/// body: those whose code the body does not have yet. Returns how many were copied.
pub async fn copy_from(parent: Vec<Service>, scope: &Scope) -> Result<usize> {
    let mine: Vec<String> = list(scope).await?.into_iter().map(|s| s.code).collect();
    let mut copied = 0;
    for s in parent {
        if mine.contains(&s.code) {
            continue;
        }
        let new = NewService {
            channels: channels(&s),
            custom_fields: field_defs(&s),
            sla_hours: Some(s.sla_hours),
            code: s.code,
            name: s.name,
            area: s.area,
            description: s.description,
        };
        create(scope, new).await?;
        copied += 1;
    }
    Ok(copied)
}

pub async fn list(scope: &Scope) -> Result<Vec<Service>> {
    Ok(scope
        .find::<service::Entity>()
        .order_by_asc(service::Column::Area)
        .order_by_asc(service::Column::Code)
        .all(scope.conn())
        .await?)
}
