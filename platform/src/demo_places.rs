//! The demo city's geography, so that Open311 works out of the box: Roma Capitale's
//! territory, Municipio I and II inside it, a pothole category that Roma and Municipio I
//! take (Municipio II does not: its reports stay with Roma), Roma's rule that sends bin
//! reports to AMA, and anonymous reports allowed at Roma (docs/open311.md).

use civitas_crm::areas::{self, NewArea};
use civitas_crm::catalogue::{self, FieldDef, FieldType, NewService};
use civitas_crm::routing_rules;
use civitas_tenants::{Db, Tenant, TenantContext, TenantSlug, registry};
use serde_json::json;

fn square(w: f64, s: f64, e: f64, n: f64) -> String {
    json!({ "type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]] })
        .to_string()
}

async fn body(db: &Db, s: &str) -> anyhow::Result<Tenant> {
    registry::find_by_slug(db, &TenantSlug::parse(s)?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo body {s}"))
}

fn pothole() -> NewService {
    NewService {
        code: "STRADE-BUCA".into(),
        name: "Buca stradale".into(),
        area: "Strade".into(),
        description: "Segnalazione di una buca nella carreggiata o sul marciapiede.".into(),
        custom_fields: vec![FieldDef {
            key: "depth_cm".into(),
            label: "Profondità (cm)".into(),
            kind: FieldType::Number,
            required: false,
            options: Vec::new(),
        }],
        ..Default::default()
    }
}

pub(crate) async fn load(db: &Db) -> anyhow::Result<()> {
    let now = db.clock().now();
    let ama = body(db, "ama").await?;
    for (slug, area, takes_potholes) in [
        ("roma", square(12.23, 41.65, 12.86, 42.10), true),
        ("municipio-i", square(12.44, 41.87, 12.52, 41.93), true),
        ("municipio-ii", square(12.52, 41.90, 12.58, 41.96), false),
    ] {
        let t = body(db, slug).await?;
        let scope = db.scope(&TenantContext::system(t.clone(), "demo")).await?;
        let name = format!("Territorio {}", t.display_name);
        areas::define(
            &scope,
            NewArea {
                name,
                geojson: area,
            },
            "system:demo",
            now,
        )
        .await?;
        if takes_potholes {
            catalogue::create(&scope, pothole()).await?;
        }
        if slug == "roma" {
            routing_rules::add(&scope, "RIF-SEGN", ama.id, 0, "system:demo", now).await?;
            let mut settings = t.settings.clone();
            settings["open311"] = json!({ "anonymous": true });
            registry::set_settings(&scope, t.id, settings).await?;
        }
        scope.commit().await?;
    }
    Ok(())
}
