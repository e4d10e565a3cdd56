//! The font of the PDF and HTML sheets: DejaVu Sans Mono, copied unmodified
//! from Debian's fonts-dejavu-core (Bitstream Vera licence, which permits
//! embedding; see assets/fonts/LICENSE-DejaVu.txt). Its zero carries a
//! dot, so 0 and O differ, and its 1 (flag and foot) differs from l
//! (curved tail); `tests/secrets_font.rs` checks the glyph outlines.

/// The TrueType font file.
pub const SHEET_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// PostScript name of the font.
pub const SHEET_FONT_NAME: &str = "DejaVuSansMono";

/// Advance width of every glyph, in 1/1000 em (1233 of 2048 units).
pub const SHEET_FONT_ADVANCE: u32 = 602;
