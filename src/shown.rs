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
        )
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
    fn short_cuts_after_escaping() {
        assert_eq!(escape_short("abcdef", 3), "abc…");
        assert_eq!(escape_short("abc", 3), "abc");
    }
}
