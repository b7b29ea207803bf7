//! Every permission the API asks for is granted to some role by the default policies: a
//! check added without its grant would leave a capability no one in a new body can use.

use std::collections::BTreeSet;

/// The (object, action) pairs of `authorize(ctx, "object", "action")` in this crate's source.
fn asked_for() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.ends_with("permissions_test.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        // Calls may be split over lines by rustfmt: compare without white space.
        let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for call in flat.split("authorize(ctx,\"").skip(1) {
            let mut parts = call.splitn(3, '"');
            let (Some(object), Some(_), Some(rest)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Some(action) = rest.split('"').next() {
                found.insert((object.to_owned(), action.to_owned()));
            }
        }
    }
    found
}

#[test]
fn every_permission_the_api_asks_for_has_a_default_grant() {
    let rules = civitas_policies::default_tenant_rules("d");
    let granted = |object: &str, action: &str| {
        rules.iter().any(|(ptype, r)| {
            *ptype == "p"
                && (r[2] == object || r[2] == "*")
                && (r[3] == action || r[3] == "*")
                && r[0] != "platform_admin"
        })
    };
    let asked = asked_for();
    assert!(asked.len() > 25, "the scan found the checks: {asked:?}");
    let missing: Vec<_> = asked.iter().filter(|(o, a)| !granted(o, a)).collect();
    assert!(missing.is_empty(), "no role is granted: {missing:?}");
}
