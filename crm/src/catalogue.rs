//! The service catalogue of a body: what citizens can ask it for, by thematic area.

use chrono::Utc;
use civitas_tenants::{Error as TenancyError, Scope};
use sea_orm::{ActiveValue::Set, QueryOrder};
use uuid::Uuid;

use crate::Result;
use crate::entity::service;

pub use service::Model as Service;

#[derive(Clone, Debug)]
pub struct NewService {
    pub code: String,
    pub name: String,
    pub area: String,
    pub description: String,
}

impl NewService {
    fn validate(&self) -> Result<(), TenancyError> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 40
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(TenancyError::Validation(
                "code must be 1 to 40 characters of A-Z, 0-9, '-' or '_'".into(),
            ));
        }
        for (field, v) in [("name", &self.name), ("area", &self.area)] {
            if v.trim().is_empty() || v.chars().count() > 200 {
                return Err(TenancyError::Validation(format!(
                    "{field} must be 1 to 200 characters"
                )));
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
        ..Default::default()
    };
    scope.insert(row).await.map_err(|e| {
        TenancyError::conflict_on_unique(
            e,
            format!("a service with code {} already exists", new.code),
        )
        .into()
    })
}

pub async fn list(scope: &Scope) -> Result<Vec<Service>> {
    Ok(scope
        .find::<service::Entity>()
        .order_by_asc(service::Column::Area)
        .order_by_asc(service::Column::Code)
        .all(scope.conn())
        .await?)
}
