//! The bundled fonts: their bytes (embedded with `include_bytes!`), the families a run may
//! name, the weight snapping and the fallback order.
//!
//! Owns the only way fonts enter a [`FontSystem`] in this crate. It must never load system
//! fonts or files at run time: the same text has to give the same pixels on every machine.

use std::sync::{Arc, OnceLock};

use cosmic_text::skrifa::{FontRef, MetadataProvider};
use cosmic_text::{Fallback, FontSystem, fontdb};
use unicode_script::Script;

/// Locale handed to cosmic-text; fixed so that shaping does not depend on the host's settings.
pub const LOCALE: &str = "en-US";

/// One bundled font file.
struct BundledFont {
    bytes: &'static [u8],
}

/// Every font this crate can draw with. See `assets/fonts/README.md` for their origin.
const BUNDLED_FONTS: &[BundledFont] = &[
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/Inter-Regular.otf"),
    },
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/Inter-Bold.otf"),
    },
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/NotoSansArabic-Regular.ttf"),
    },
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/NotoSansArabic-Bold.ttf"),
    },
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/NotoSansHebrew-Regular.ttf"),
    },
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/NotoSansHebrew-Bold.ttf"),
    },
    BundledFont {
        bytes: include_bytes!("../../../assets/fonts/NotoColorEmoji.ttf"),
    },
];

/// A family that is bundled; what a run's `family` string resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BundledFamily {
    Inter,
    NotoSansArabic,
    NotoSansHebrew,
    NotoColorEmoji,
}

impl BundledFamily {
    /// The family name as the font files spell it (what fontdb matches on).
    pub fn name(self) -> &'static str {
        match self {
            BundledFamily::Inter => "Inter",
            BundledFamily::NotoSansArabic => "Noto Sans Arabic",
            BundledFamily::NotoSansHebrew => "Noto Sans Hebrew",
            BundledFamily::NotoColorEmoji => "Noto Color Emoji",
        }
    }

    /// One family name (no commas), compared without case and surrounding quotes.
    fn from_single_name(name: &str) -> Option<BundledFamily> {
        let name = name.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        let known = [
            ("inter", BundledFamily::Inter),
            ("sans-serif", BundledFamily::Inter),
            ("sans", BundledFamily::Inter),
            ("system-ui", BundledFamily::Inter),
            ("ui-sans-serif", BundledFamily::Inter),
            // No monospace font is bundled; Inter stands in (see assets/fonts/README.md).
            ("monospace", BundledFamily::Inter),
            ("noto sans arabic", BundledFamily::NotoSansArabic),
            ("noto sans hebrew", BundledFamily::NotoSansHebrew),
            ("noto color emoji", BundledFamily::NotoColorEmoji),
            ("emoji", BundledFamily::NotoColorEmoji),
        ];
        known
            .iter()
            .find(|(known_name, _)| known_name.eq_ignore_ascii_case(name))
            .map(|(_, family)| *family)
    }
}

/// What a `family` string resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedFamily {
    pub family: BundledFamily,
    /// True when nothing in the string names a bundled family and Inter stands in.
    pub missing: bool,
}

/// Resolves a CSS-like family string ("Inter", "sans-serif", "Foo, sans-serif") to a bundled
/// family: the first comma-separated name that is bundled wins; none → Inter, `missing`.
pub fn resolve_family(family: &str) -> ResolvedFamily {
    if family.trim().is_empty() {
        return ResolvedFamily {
            family: BundledFamily::Inter,
            missing: false,
        };
    }
    let bundled = family
        .split(',')
        .filter(|name| !name.trim().is_empty())
        .find_map(BundledFamily::from_single_name);
    match bundled {
        Some(family) => ResolvedFamily {
            family,
            missing: false,
        },
        None => ResolvedFamily {
            family: BundledFamily::Inter,
            missing: true,
        },
    }
}

/// Weight of the regular faces.
pub const WEIGHT_REGULAR: u16 = 400;
/// Weight of the bold faces.
pub const WEIGHT_BOLD: u16 = 700;

/// Snaps a requested CSS weight (1..=1000) to a bundled face: below 550 → regular (400),
/// from 550 → bold (700). Every bundled text family has exactly these two weights, so the
/// same weight always finds a face in the primary family and in the fallbacks.
pub fn snap_weight(weight: u16) -> u16 {
    if weight >= 550 {
        WEIGHT_BOLD
    } else {
        WEIGHT_REGULAR
    }
}

/// Fallback order over the bundled fonts only: script-specific first, then everything.
struct BundledFallback;

impl Fallback for BundledFallback {
    fn common_fallback(&self) -> &[&'static str] {
        &[
            "Inter",
            "Noto Sans Arabic",
            "Noto Sans Hebrew",
            "Noto Color Emoji",
        ]
    }

    fn forbidden_fallback(&self) -> &[&'static str] {
        &[]
    }

    fn script_fallback(&self, script: Script, _locale: &str) -> &[&'static str] {
        match script {
            Script::Arabic => &["Noto Sans Arabic"],
            Script::Hebrew => &["Noto Sans Hebrew"],
            _ => &[],
        }
    }
}

/// A font database holding the bundled fonts and nothing else. The bytes are `'static`
/// and shared, not copied, by every database built here.
pub fn bundled_database() -> fontdb::Database {
    let mut db = fontdb::Database::new();
    for font in BUNDLED_FONTS {
        db.load_font_source(fontdb::Source::Binary(Arc::new(font.bytes)));
    }
    db.set_sans_serif_family(BundledFamily::Inter.name());
    db.set_serif_family(BundledFamily::Inter.name());
    db.set_monospace_family(BundledFamily::Inter.name());
    db.set_cursive_family(BundledFamily::Inter.name());
    db.set_fantasy_family(BundledFamily::Inter.name());
    db
}

/// A cosmic-text font system over the bundled fonts, locale [`LOCALE`], bundled fallback.
pub fn bundled_font_system() -> FontSystem {
    FontSystem::new_with_locale_and_db_and_fallback(
        LOCALE.to_owned(),
        bundled_database(),
        BundledFallback,
    )
}

/// Total size in bytes of the embedded font data.
pub fn bundled_font_bytes() -> usize {
    BUNDLED_FONTS.iter().map(|font| font.bytes.len()).sum()
}

/// Every code point some bundled font maps to a glyph, sorted.
fn coverage() -> &'static [u32] {
    static COVERAGE: OnceLock<Vec<u32>> = OnceLock::new();
    COVERAGE.get_or_init(|| {
        let mut code_points: Vec<u32> = BUNDLED_FONTS
            .iter()
            .filter_map(|font| FontRef::new(font.bytes).ok())
            .flat_map(|font| {
                font.charmap()
                    .mappings()
                    .map(|(code_point, _)| code_point)
                    .collect::<Vec<_>>()
            })
            .collect();
        code_points.sort_unstable();
        code_points.dedup();
        code_points
    })
}

/// True when some bundled font has a glyph for `c`.
pub fn is_covered(c: char) -> bool {
    coverage().binary_search(&u32::from(c)).is_ok()
}
