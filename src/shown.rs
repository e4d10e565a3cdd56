//! Outside text made safe to show in a message: control characters
//! (except tab), bidirectional overrides and isolates, and other invisible
//! formatting characters are written as `\u{…}` escapes, so a hostile file
//! name or argument cannot reorder or hide what the terminal shows.

use std::borrow::Cow;

/// True for characters that must not reach a terminal raw.
pub fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'   // zero-width space/joiners, LRM, RLM
                | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
                | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
                | '\u{2066}'..='\u{2069}' // bidi isolates
                | '\u{feff}'              // byte-order mark / zero-width no-break space
                | '\u{00ad}'              // soft hyphen
                | '\u{034f}'              // combining grapheme joiner
                | '\u{061c}'              // Arabic letter mark
                | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
                | '\u{17b4}' | '\u{17b5}' // Khmer inherent vowels (invisible)
                | '\u{180b}'..='\u{180f}' // Mongolian variation selectors, vowel separator
                | '\u{2028}' | '\u{2029}' // line and paragraph separators
                | '\u{206a}'..='\u{206f}' // deprecated formatting characters
                | '\u{fe00}'..='\u{fe0f}' // variation selectors
                | '\u{fff9}'..='\u{fffb}' // interlinear annotations
                | '\u{1d173}'..='\u{1d17a}' // musical formatting controls
                | '\u{e0000}'..='\u{e0fff}' // tags and variation selectors supplement
        )
}

/// Text that came from outside this machine's own making: anything read
/// from a file, an export, a deeplink, an envelope, a QR code or the online
/// side (peer IDs, DNS names, meta values, labels, file names).
///
/// Invariant: its `Display` and `Debug` escape every hostile character
/// ([`is_hostile`]), so it cannot reach a terminal raw through `format!`.
/// The raw text is reachable only through [`Untrusted::raw_for_json`] (and
/// `Serialize`, which writes it as a JSON string, where serde escapes
/// control characters itself): JSON output carries the exact bytes.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Untrusted(String);

impl Untrusted {
    /// Wraps outside text.
    pub fn new(text: impl Into<String>) -> Self {
        Untrusted(text.into())
    }

    /// The raw text, for JSON output and comparisons only; never for a
    /// terminal.
    pub fn raw_for_json(&self) -> &str {
        &self.0
    }

    /// Whether the text holds a character the escaper rewrites.
    pub fn has_hostile(&self) -> bool {
        self.0.chars().any(is_hostile)
    }
}

impl From<String> for Untrusted {
    fn from(s: String) -> Self {
        Untrusted(s)
    }
}

impl From<&str> for Untrusted {
    fn from(s: &str) -> Self {
        Untrusted(s.to_string())
    }
}

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&escape(&self.0))
    }
}

/// Quoted and escaped (`"…"`), with `"` and `\` escaped too, so the quotes
/// a summary puts around a value cannot be closed from inside it.
impl std::fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if is_hostile(c) => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

impl serde::Serialize for Untrusted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// `text` with hostile characters escaped; borrowed when there are none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hostile(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for a terminal, whole lines at a time: every hostile character
/// except the line feed is escaped. The last line of defence at the
/// terminal sinks (text on standard output, the confirmation summary, the
/// error message), so outside text that reached a message without going
/// through [`Untrusted`] still cannot move the cursor, recolour, retitle,
/// erase or reorder what is shown. JSON output does not pass through it.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_hostile(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&escape(body));
        out.push_str(nl);
    }
    Cow::Owned(out)
}

/// [`escape`], cut to at most `max` characters (then `…`).
pub fn escape_short(text: &str, max: usize) -> String {
    let escaped = escape(text);
    if escaped.chars().count() <= max {
        return escaped.into_owned();
    }
    let mut out: String = escaped.chars().take(max).collect();
    out.push('…');
    out
}

/// A path for a message, escaped.
pub fn path(p: &std::path::Path) -> String {
    escape(&p.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bidi_and_controls_only() {
        assert_eq!(escape("plain/path.aum"), "plain/path.aum");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("evil\u{202e}gnp.aum"), "evil\\u{202e}gnp.aum");
        assert_eq!(escape("a\u{0}b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
        assert_eq!(escape("tab\tok é ü 鍵"), "tab\tok é ü 鍵");
    }

    #[test]
    fn untrusted_escapes_in_display_and_debug_only() {
        let evil = Untrusted::new("a\u{1b}[2K\u{1b}]0;x\u{7}\u{9b}1A\u{202e}\u{200b}\u{2028}\"q\\");
        let shown = evil.to_string();
        assert!(!shown.chars().any(is_hostile), "{shown}");
        assert_eq!(
            shown,
            "a\\u{1b}[2K\\u{1b}]0;x\\u{7}\\u{9b}1A\\u{202e}\\u{200b}\\u{2028}\"q\\"
        );
        let debug = format!("{evil:?}");
        assert!(!debug.chars().any(is_hostile), "{debug}");
        assert!(debug.ends_with("\\\"q\\\\\""), "{debug}");
        assert_eq!(format!("{:?}", Untrusted::new("plain")), "\"plain\"");
        // JSON keeps the exact text (serde escapes it as JSON requires).
        let json = serde_json::to_string(&evil).unwrap_or_default();
        let back: String = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, evil.raw_for_json());
        assert!(!json.contains('\u{1b}'));
    }

    #[test]
    fn every_class_of_invisible_or_control_character_is_hostile() {
        for c in [
            '\u{0}',
            '\u{7}',
            '\u{8}',
            '\n',
            '\r',
            '\u{1b}',
            '\u{7f}',
            '\u{80}',
            '\u{9b}',
            '\u{9d}',
            '\u{9f}',
            '\u{ad}',
            '\u{61c}',
            '\u{200b}',
            '\u{200d}',
            '\u{200e}',
            '\u{202a}',
            '\u{202e}',
            '\u{2028}',
            '\u{2029}',
            '\u{2066}',
            '\u{2069}',
            '\u{feff}',
            '\u{e0001}',
            '\u{fe0f}',
        ] {
            assert!(is_hostile(c), "{:x}", u32::from(c));
        }
        for c in ['a', ' ', '\t', 'é', '鍵', '-', '.'] {
            assert!(!is_hostile(c), "{c}");
        }
    }

    #[test]
    fn terminal_text_keeps_line_feeds_and_escapes_everything_else() {
        let text = "line one\n\u{1b}[1A\u{1b}[2Kfake\r\u{9b}2J\u{202e}x\u{200b}\n\u{1b}]0;t\u{7}\n";
        let shown = for_terminal(text);
        assert_eq!(shown.lines().count(), 3, "{shown}");
        assert!(
            !shown.chars().any(|c| c != '\n' && is_hostile(c)),
            "{shown}"
        );
        assert!(shown.starts_with("line one\n\\u{1b}[1A"), "{shown}");
        assert!(matches!(for_terminal("plain\ttext\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_cuts_after_escaping() {
        assert_eq!(escape_short("abcdef", 3), "abc…");
        assert_eq!(escape_short("abc", 3), "abc");
    }
}
