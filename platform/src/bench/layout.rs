//! Where the generated data set puts things. The generator, the load driver and the pgbench
//! scripts all derive ids from the same arithmetic, so that a driver picks a citizen and a
//! body that knows them without reading anything back.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The reference data set of the performance issue.
pub const REFERENCE: Layout = Layout {
    tenants: 100,
    persons: 1_000_000,
    profiles_per_person: 3,
    cases: 10_000_000,
    consents: 200_000,
};

const MANIFEST: &str = "bench-manifest.json";

/// The shape of a generated data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub tenants: u32,
    pub persons: u64,
    /// Bodies that hold a profile of each person (at most `tenants`).
    pub profiles_per_person: u32,
    pub cases: u64,
    pub consents: u64,
}

impl Layout {
    /// The reference size times `factor` (persons, cases and consents; tenants stay).
    pub fn scaled(factor: f64) -> Layout {
        let s = |n: u64| ((n as f64 * factor).round() as u64).max(1);
        Layout {
            persons: s(REFERENCE.persons),
            cases: s(REFERENCE.cases),
            consents: s(REFERENCE.consents),
            ..REFERENCE
        }
    }

    pub fn profiles_per_person(&self) -> u32 {
        self.profiles_per_person.clamp(1, self.tenants.max(1))
    }

    /// How far apart, in tenant numbers, the bodies holding one person are.
    pub fn stride(&self) -> u64 {
        (u64::from(self.tenants) / u64::from(self.profiles_per_person())).max(1)
    }

    /// The body holding the `k`th profile of person `p`.
    pub fn tenant_of(&self, p: u64, k: u32) -> u32 {
        ((p + u64::from(k) * self.stride()) % u64::from(self.tenants)) as u32
    }

    /// Every how many persons one has a sharing consent.
    pub fn consent_every(&self) -> u64 {
        (self.persons / self.consents.clamp(1, self.persons.max(1))).max(1)
    }

    pub fn has_consent(&self, p: u64) -> bool {
        p.is_multiple_of(self.consent_every()) && p / self.consent_every() < self.consents
    }

    pub fn save(&self, data_dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(MANIFEST);
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    pub fn load(data_dir: &Path) -> anyhow::Result<Layout> {
        let path = data_dir.join(MANIFEST);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (run `civitas bench generate` with the same --data-dir first)",
                path.display()
            )
        })?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// The slug of the `i`th generated body.
pub fn tenant_slug(i: u32) -> String {
    format!("bench-{i:04}")
}

/// The id of the `p`th generated person (pgbench computes the same in SQL).
pub fn person_id(p: u64) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-4000-8000-{p:012x}")).unwrap_or_default()
}

/// The SQL expression of [`person_id`] for a bigint expression.
pub fn person_id_sql(expr: &str) -> String {
    format!("('00000000-0000-4000-8000-' || lpad(to_hex({expr}), 12, '0'))::uuid")
}

/// The id of the file attached to a case of the `p`th person at the body of their first
/// profile (pgbench computes the same in SQL).
pub fn attachment_id(p: u64) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-4000-a000-{p:012x}")).unwrap_or_default()
}

/// The SQL expression of [`attachment_id`] for a bigint expression.
pub fn attachment_id_sql(expr: &str) -> String {
    format!("('00000000-0000-4000-a000-' || lpad(to_hex({expr}), 12, '0'))::uuid")
}

/// The file every generated attachment holds: a 100 KiB PDF (a scanned page is 50 to
/// 300 KiB). Content-addressed, it is stored once per body.
pub fn attachment_bytes() -> Vec<u8> {
    let mut b = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    b.resize(100 * 1024 - 6, b' ');
    b.extend_from_slice(b"%%EOF\n");
    b
}

/// The subject a generated citizen signs in with.
pub fn citizen_subject(fiscal_code: &str) -> String {
    format!("spid-{fiscal_code}")
}

/// Services every generated body offers: (code, name, SLA hours, custom fields as JSON).
pub const SERVICES: [(&str, &str, i32); 3] = [
    ("RITIRO-INGOMBRANTI", "Ritiro ingombranti", 72),
    ("CERTIFICATO-RESIDENZA", "Certificato di residenza", 24),
    ("SEGNALAZIONE-STRADE", "Segnalazione su strade", 120),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_held_by_distinct_bodies() {
        for layout in [
            REFERENCE,
            Layout::scaled(0.0001),
            Layout {
                tenants: 3,
                ..REFERENCE
            },
        ] {
            for p in 0..500 {
                let bodies: std::collections::BTreeSet<u32> = (0..layout.profiles_per_person())
                    .map(|k| layout.tenant_of(p, k))
                    .collect();
                assert_eq!(bodies.len() as u32, layout.profiles_per_person());
                assert!(bodies.iter().all(|t| *t < layout.tenants));
            }
        }
    }

    #[test]
    fn person_ids_round_trip() {
        assert_eq!(
            person_id(255).to_string(),
            "00000000-0000-4000-8000-0000000000ff"
        );
    }

    #[test]
    fn consents_match_the_requested_count() {
        let l = Layout::scaled(0.01);
        let n = (0..l.persons).filter(|p| l.has_consent(*p)).count() as u64;
        assert_eq!(n, l.consents);
    }
}
