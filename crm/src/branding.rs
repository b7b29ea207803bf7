//! A body's look in the portal: its primary colour (tenant settings,
//! `branding.primaryColour`) and its logo (uploaded, kept in the file store; the settings
//! name its digest). The colour must keep white text readable on it (WCAG 2.1 AA, 4.5:1),
//! since the header and the buttons put white text on it.

use serde_json::{Value, json};

use crate::{Error, Result};

/// The least contrast ratio of white text on the primary colour.
pub const MIN_CONTRAST: f64 = 4.5;

/// The largest logo, in bytes.
pub const MAX_LOGO: usize = 256 * 1024;

/// Logo types: raster images only. An SVG can carry scripts and links; a raster cannot.
pub const LOGO_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Colour {
    /// `#rrggbb`, either case.
    pub fn parse(s: &str) -> Option<Colour> {
        let hex = s.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let at = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Colour {
            r: at(0)?,
            g: at(2)?,
            b: at(4)?,
        })
    }

    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// WCAG 2.1 relative luminance.
    fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(self.r) + 0.7152 * lin(self.g) + 0.0722 * lin(self.b)
    }

    /// The contrast ratio of white on this colour (1 to 21).
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }

    /// The colour darkened by `by` (0 to 1): hover and pressed states, the slim header.
    pub fn darker(self, by: f64) -> Colour {
        let d = |c: u8| (f64::from(c) * (1.0 - by)).round() as u8;
        Colour {
            r: d(self.r),
            g: d(self.g),
            b: d(self.b),
        }
    }
}

/// The logo the settings name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub sha256: String,
    pub media_type: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    pub colour: Option<Colour>,
    pub logo: Option<Logo>,
}

impl Branding {
    /// The branding in a body's settings; VALIDATION naming the setting that is wrong.
    pub fn of(settings: &Value) -> Result<Branding> {
        let Some(b) = settings.get("branding").filter(|b| !b.is_null()) else {
            return Ok(Branding::default());
        };
        if !b.is_object() {
            return Err(Error::Validation("branding must be an object".into()));
        }
        let colour = match b.get("primaryColour") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let c = Colour::parse(s).ok_or_else(|| {
                    Error::Validation(format!(
                        "branding.primaryColour: {s:?} is not a colour like #1f5f8b"
                    ))
                })?;
                let ratio = c.contrast_with_white();
                if ratio < MIN_CONTRAST {
                    return Err(Error::Validation(format!(
                        "branding.primaryColour: white text on {} has a contrast of {ratio:.1}:1, \
                         below the {MIN_CONTRAST}:1 accessibility requires; choose a darker colour",
                        c.hex()
                    )));
                }
                Some(c)
            }
            Some(_) => {
                return Err(Error::Validation(
                    "branding.primaryColour must be a string like #1f5f8b".into(),
                ));
            }
        };
        let logo = b.get("logo").and_then(|l| {
            Some(Logo {
                sha256: l.get("sha256")?.as_str()?.to_owned(),
                media_type: l.get("mediaType")?.as_str()?.to_owned(),
            })
        });
        Ok(Branding { colour, logo })
    }

    /// The style sheet that puts the colour on the portal's header, links and buttons
    /// (Bootstrap Italia 2's rules and variables); empty without a colour.
    pub fn css(&self) -> String {
        let Some(c) = self.colour else {
            return String::new();
        };
        let (main, dark, darker) = (c.hex(), c.darker(0.15).hex(), c.darker(0.25).hex());
        format!(
            ":root{{--bs-primary:{main};--bs-primary-rgb:{r},{g},{b};--bs-link-color:{main};--bs-link-color-rgb:{r},{g},{b};--bs-link-hover-color:{dark}}}\n\
             .it-header-center-wrapper,.it-header-navbar-wrapper{{background:{main}}}\n\
             .it-header-slim-wrapper{{background:{dark}}}\n\
             .btn-primary{{--bs-btn-bg:{main};--bs-btn-border-color:{main};--bs-btn-hover-bg:{dark};--bs-btn-hover-border-color:{dark};--bs-btn-active-bg:{darker};--bs-btn-active-border-color:{darker};--bs-btn-disabled-bg:{main};--bs-btn-disabled-border-color:{main}}}\n",
            r = c.r,
            g = c.g,
            b = c.b,
        )
    }
}

/// `settings` with `branding.logo` set to `logo` (or removed), the rest as it was; what is
/// not an object is left for the settings' own check to refuse.
pub fn with_logo(mut settings: Value, logo: Option<&Logo>) -> Value {
    if !settings.is_object() || (logo.is_none() && settings.get("branding").is_none()) {
        return settings;
    }
    let branding = settings
        .as_object_mut()
        .map(|o| o.entry("branding").or_insert_with(|| json!({})));
    if let Some(b) = branding {
        if !b.is_object() {
            *b = json!({});
        }
        if let Some(o) = b.as_object_mut() {
            match logo {
                Some(l) => {
                    o.insert(
                        "logo".into(),
                        json!({ "sha256": l.sha256, "mediaType": l.media_type }),
                    );
                }
                None => {
                    o.remove("logo");
                }
            }
        }
    }
    settings
}

/// The logo's type by its content; VALIDATION for anything but a PNG, JPEG or WebP image of
/// at most [`MAX_LOGO`] bytes.
pub fn check_logo(bytes: &[u8]) -> Result<Logo> {
    if bytes.is_empty() || bytes.len() > MAX_LOGO {
        return Err(Error::Validation(format!("logo: 1 to {MAX_LOGO} bytes")));
    }
    let media_type = infer::get(bytes)
        .map(|t| t.mime_type())
        .filter(|m| LOGO_TYPES.contains(m))
        .ok_or_else(|| {
            Error::Validation("logo: must be a PNG, JPEG or WebP image (by its content)".into())
        })?;
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    Ok(Logo {
        sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        media_type: media_type.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_colour_must_keep_white_text_readable() {
        // Bootstrap Italia's own blue passes; a light yellow does not.
        assert!(Branding::of(&json!({ "branding": { "primaryColour": "#0066CC" } })).is_ok());
        let pale = Branding::of(&json!({ "branding": { "primaryColour": "#ffd700" } }));
        assert!(matches!(pale, Err(Error::Validation(m)) if m.contains("contrast")));
        for bad in [json!("blue"), json!("#12345"), json!(12)] {
            let b = Branding::of(&json!({ "branding": { "primaryColour": bad } }));
            assert!(matches!(b, Err(Error::Validation(_))), "{bad}");
        }
        assert_eq!(Branding::of(&json!({})).ok(), Some(Branding::default()));
    }

    #[test]
    fn contrast_follows_wcag() {
        let black = Colour::parse("#000000").expect("black");
        assert!((black.contrast_with_white() - 21.0).abs() < 0.01);
        let grey = Colour::parse("#767676").expect("grey");
        assert!((grey.contrast_with_white() - 4.54).abs() < 0.01);
    }

    #[test]
    fn the_logo_is_kept_apart_from_the_rest() {
        let logo = Logo {
            sha256: "ab".into(),
            media_type: "image/png".into(),
        };
        let s = with_logo(
            json!({ "locale": "it-IT", "branding": { "primaryColour": "#0066cc" } }),
            Some(&logo),
        );
        assert_eq!(s["branding"]["primaryColour"], "#0066cc");
        assert_eq!(Branding::of(&s).expect("ok").logo, Some(logo));
        assert!(with_logo(s, None)["branding"].get("logo").is_none());
    }

    #[test]
    fn only_raster_images_are_logos() {
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        assert_eq!(check_logo(png).expect("png").media_type, "image/png");
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert!(check_logo(svg).is_err());
        assert!(check_logo(&[]).is_err());
    }
}
