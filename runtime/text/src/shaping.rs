//! Turning a string into one shaped line: input sanitising (one line, bounded length, no
//! control characters), size validation, and the cosmic-text call that does kerning,
//! ligatures, font fallback, bidi and ellipsis.
//!
//! Owns the rules that make `measure` and `layout` agree: the same sanitising, the same
//! size limits and the same line height. It must not rasterize or touch the atlas.

use std::borrow::Cow;

use cosmic_text::{
    Attrs, AttrsList, BufferLine, CacheKeyFlags, Ellipsize, EllipsizeHeightLimit, Family,
    FontSystem, Hinting, LayoutLine, LineEnding, Shaping, Weight, Wrap,
};

use crate::fonts::{BundledFamily, is_covered};

/// Longest text shaped, in bytes (the draw-list limit); the rest is ignored.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Line height as a multiple of the font size.
pub const LINE_HEIGHT_EM: f32 = 1.2;
/// Largest font size honoured, px; larger sizes are treated as this.
pub const MAX_FONT_SIZE_PX: f32 = 16_384.0;
/// Tab stops, in spaces (tabs become spaces before shaping; kept for cosmic-text).
const TAB_WIDTH: u16 = 4;

/// A font size that can be shaped: finite and above zero, capped at [`MAX_FONT_SIZE_PX`].
pub fn usable_size(size: f32) -> Option<f32> {
    (size.is_finite() && size > 0.0).then(|| size.min(MAX_FONT_SIZE_PX))
}

/// A `max_width` that limits anything: finite and not negative. `None` = no limit.
pub fn usable_max_width(max_width: Option<f32>) -> Option<f32> {
    max_width
        .filter(|width| width.is_finite())
        .map(|width| width.max(0.0))
}

/// Text made safe to shape as one line, with a map back to the caller's byte offsets.
pub struct LineText<'a> {
    pub text: Cow<'a, str>,
    /// Original byte offset of each byte of `text`; empty when `text` is the input unchanged.
    origin: Vec<u32>,
}

impl LineText<'_> {
    /// The caller's byte offset for byte `offset` of the sanitised text.
    pub fn original_offset(&self, offset: usize) -> u32 {
        if self.origin.is_empty() {
            return offset.min(self.text.len()) as u32;
        }
        match self.origin.get(offset) {
            Some(&original) => original,
            None => self.origin.last().map_or(0, |&last| last + 1),
        }
    }
}

/// Drawn for characters no bundled font has ("□", a box like the usual missing-glyph mark).
pub const REPLACEMENT_CHAR: char = '\u{25A1}';

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Unicode's Default_Ignorable_Code_Point: joiners, variation selectors, bidi controls, tags.
/// The shaper hides these; they must reach it unchanged (emoji sequences depend on them).
fn is_default_ignorable(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F | 0x200B..=0x200F
            | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF
    )
}

/// What `single_line` puts in place of `c`: itself, another char, or nothing.
fn clean_char(c: char) -> Option<char> {
    if is_line_break(c) {
        Some(' ')
    } else if c.is_control() {
        None
    } else if c == ' ' || c.is_ascii_graphic() || is_default_ignorable(c) || is_covered(c) {
        Some(c)
    } else {
        Some(REPLACEMENT_CHAR)
    }
}

/// The first [`MAX_TEXT_BYTES`] of `text`, cut on a char boundary: all that is ever shaped.
pub fn within_limit(text: &str) -> &str {
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cuts `text` to [`MAX_TEXT_BYTES`] on a char boundary, turns tabs and line breaks into
/// spaces, drops other control characters and replaces characters that no bundled font has
/// with [`REPLACEMENT_CHAR`] (so the shaper never searches every font for them: that search
/// grows with the square of the text length).
pub fn single_line(text: &str) -> LineText<'_> {
    let text = within_limit(text);
    if text.chars().all(|c| clean_char(c) == Some(c)) {
        return LineText {
            text: Cow::Borrowed(text),
            origin: Vec::new(),
        };
    }
    let mut clean = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        let Some(kept) = clean_char(c) else {
            continue;
        };
        clean.push(kept);
        origin.extend(std::iter::repeat_n(offset as u32, kept.len_utf8()));
    }
    LineText {
        text: Cow::Owned(clean),
        origin,
    }
}

/// What to shape.
#[derive(Clone, Copy, Debug)]
pub struct ShapeRequest<'a> {
    pub text: &'a str,
    pub family: BundledFamily,
    /// Already snapped to a bundled weight.
    pub weight: u16,
    /// Already validated with [`usable_size`].
    pub size: f32,
    /// Already validated with [`usable_max_width`].
    pub max_width: Option<f32>,
}

/// Reusable shaping state (one cosmic-text line).
pub struct Shaper {
    line: BufferLine,
}

impl Shaper {
    pub fn new() -> Shaper {
        Shaper {
            line: BufferLine::new(
                "",
                LineEnding::None,
                AttrsList::new(&Attrs::new()),
                Shaping::Advanced,
            ),
        }
    }

    /// Shapes `request.text` (already one line) and lays it out without wrapping, ellipsised
    /// at the end when wider than `max_width`. `None` for empty text.
    pub fn shape<'s>(
        &'s mut self,
        font_system: &mut FontSystem,
        request: &ShapeRequest<'_>,
    ) -> Option<&'s LayoutLine> {
        if request.text.is_empty() {
            return None;
        }
        let attrs = Attrs::new()
            .family(Family::Name(request.family.name()))
            .weight(Weight(request.weight))
            .cache_key_flags(CacheKeyFlags::DISABLE_HINTING);
        self.line.reset_new(
            request.text,
            LineEnding::None,
            AttrsList::new(&attrs),
            Shaping::Advanced,
        );
        let ellipsize = match request.max_width {
            Some(_) => Ellipsize::End(EllipsizeHeightLimit::Lines(1)),
            None => Ellipsize::None,
        };
        let lines = self.line.layout(
            font_system,
            request.size,
            request.max_width,
            Wrap::None,
            ellipsize,
            None,
            TAB_WIDTH,
            Hinting::Disabled,
        );
        lines.first()
    }

    /// Advance width and line height of `text` at `size` px in `family`, regular weight.
    pub fn measure(
        &mut self,
        font_system: &mut FontSystem,
        text: &str,
        family: BundledFamily,
        size: f32,
    ) -> (f32, f32) {
        let Some(size) = usable_size(size) else {
            return (0.0, 0.0);
        };
        let line_text = single_line(text);
        let request = ShapeRequest {
            text: &line_text.text,
            family,
            weight: crate::fonts::WEIGHT_REGULAR,
            size,
            max_width: None,
        };
        let width = self.shape(font_system, &request).map_or(0.0, |line| line.w);
        (finite_or_zero(width), size * LINE_HEIGHT_EM)
    }
}

pub fn finite_or_zero(value: f32) -> f32 {
    if value.is_finite() { value } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_replaces_breaks_and_drops_controls_keeping_offsets() {
        let line = single_line("a\nb\u{1}c\u{2028}d");
        assert_eq!(line.text, "a bc d");
        // "a b" then 'c' came from offset 4 (after the dropped U+0001 at 3).
        assert_eq!(line.original_offset(3), 4);
        assert_eq!(line.original_offset(4), 5);
        assert_eq!(line.original_offset(5), 8);
    }

    #[test]
    fn uncovered_characters_become_the_replacement_box_but_joiners_stay() {
        let line = single_line("a漢\u{200d}\u{fe0f}😀");
        assert_eq!(line.text, "a\u{25a1}\u{200d}\u{fe0f}😀");
        assert!(is_covered(REPLACEMENT_CHAR));
        assert_eq!(line.original_offset(1), 1);
        assert_eq!(line.original_offset(4), 4);
    }

    #[test]
    fn single_line_cuts_on_a_char_boundary() {
        let text = "é".repeat(3000);
        let line = single_line(&text);
        assert_eq!(line.text.len(), MAX_TEXT_BYTES);
        let odd = format!("a{}", "é".repeat(3000));
        assert_eq!(single_line(&odd).text.len(), MAX_TEXT_BYTES - 1);
    }

    #[test]
    fn unusable_sizes_are_refused() {
        assert_eq!(usable_size(0.0), None);
        assert_eq!(usable_size(-3.0), None);
        assert_eq!(usable_size(f32::NAN), None);
        assert_eq!(usable_size(f32::INFINITY), None);
        assert_eq!(usable_size(1e9), Some(MAX_FONT_SIZE_PX));
    }
}
