//! The portal's words, in Fluent catalogues (`locales/<lang>/portal.ftl`): Italian first,
//! English second. Templates name a message; none holds words of its own.

use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    It,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::It, Lang::En];

    pub fn tag(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    /// `it`, `it-IT`, `en-GB`…; anything else is not ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header we speak, by quality; Italian
    /// when none.
    pub fn negotiate(accept: Option<&str>) -> Lang {
        let Some(accept) = accept else {
            return Lang::It;
        };
        let mut offered: Vec<(f32, Lang)> = accept
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let lang = Lang::from_tag(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        // Stable: among equal qualities the header's order decides.
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered.first().map(|(_, l)| *l).unwrap_or(Lang::It)
    }
}

const CATALOGUES: [(Lang, &str); 2] = [
    (Lang::It, include_str!("../locales/it/portal.ftl")),
    (Lang::En, include_str!("../locales/en/portal.ftl")),
];

pub struct Catalogue {
    bundles: HashMap<Lang, FluentBundle<FluentResource>>,
}

impl Catalogue {
    pub fn load() -> Result<Self, String> {
        let mut bundles = HashMap::new();
        for (lang, source) in CATALOGUES {
            let resource = FluentResource::try_new(source.to_owned())
                .map_err(|(_, e)| format!("{}: {e:?}", lang.tag()))?;
            let id = lang
                .tag()
                .parse()
                .map_err(|e| format!("{}: {e}", lang.tag()))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // The words go into HTML, where the isolation marks would only be noise.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|e| format!("{}: {e:?}", lang.tag()))?;
            bundles.insert(lang, bundle);
        }
        Ok(Catalogue { bundles })
    }

    /// The message `key` in `lang` with `args`; the key itself (logged) when missing, so
    /// that a page still renders.
    pub fn text(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let Some(bundle) = self.bundles.get(&lang) else {
            return key.to_owned();
        };
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(
                key,
                lang = lang.tag(),
                "no such message in the portal catalogue"
            );
            return key.to_owned();
        };
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            // Numbers stay numbers, so that plural selectors work.
            match v.parse::<f64>() {
                Ok(n) => fargs.set(*k, FluentValue::from(n)),
                Err(_) => fargs.set(*k, FluentValue::from(v.clone())),
            }
        }
        let mut errors = vec![];
        let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                key,
                lang = lang.tag(),
                ?errors,
                "formatting a portal message"
            );
        }
        text.into_owned()
    }

    #[cfg(test)]
    fn keys(&self, lang: Lang) -> std::collections::BTreeSet<String> {
        let source = CATALOGUES
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_message() {
        let c = Catalogue::load().expect("catalogues parse");
        let (it, en) = (c.keys(Lang::It), c.keys(Lang::En));
        assert!(it.len() > 50, "the Italian catalogue is loaded");
        let only_it: Vec<_> = it.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&it).collect();
        assert!(only_it.is_empty(), "missing in English: {only_it:?}");
        assert!(only_en.is_empty(), "missing in Italian: {only_en:?}");
    }

    #[test]
    fn every_message_a_template_names_exists() {
        let c = Catalogue::load().expect("catalogues parse");
        let known = c.keys(Lang::It);
        for (name, source) in crate::views::TEMPLATES {
            for (at, _) in source.match_indices("t(\"") {
                // `asset("…")` ends the same way.
                if source[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let piece = &source[at + 3..];
                let key = piece.split('"').next().unwrap_or_default();
                // A prefix joined to a value (`t("status-" ~ s)`) is checked by the pages.
                if key.ends_with('-') {
                    continue;
                }
                assert!(
                    known.contains(key),
                    "{name} names {key:?}, not in the catalogue"
                );
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_we_speak() {
        assert_eq!(Lang::negotiate(Some("en-GB,en;q=0.9,it;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(Some("de-DE, it;q=0.5, en;q=0.4")), Lang::It);
        assert_eq!(Lang::negotiate(Some("fr")), Lang::It);
        assert_eq!(Lang::negotiate(None), Lang::It);
    }
}
