//! The plain-text sheet, for a line printer: ASCII only, one page per
//! secret separated by form feeds, text within 80 columns. The QR code is
//! drawn with `#` pairs (up to 90 columns with its quiet zone: use a
//! 132-column printer or a small font); the typed lines are what counts.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::qr::QUIET_ZONE;
use super::sheet::Sheet;

/// Renders the sheets as plain text.
pub fn render_text(sheets: &[&Sheet]) -> Zeroizing<String> {
    // Reserved up front: growing would leave copies of the secrets behind.
    let mut out = Zeroizing::new(String::with_capacity(16 * 1024 * sheets.len().max(1)));
    for (n, sheet) in sheets.iter().enumerate() {
        if n > 0 {
            out.push('\x0c');
        }
        page(&mut out, sheet);
    }
    out
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

fn page(out: &mut String, sheet: &Sheet) {
    let rule = "=".repeat(72);
    push_line(out, &rule);
    push_line(out, &sheet.title().to_uppercase());
    push_line(out, &rule);
    for l in sheet.authority_lines() {
        push_line(out, &l);
    }
    push_line(out, "");
    push_line(
        out,
        "SECRET (hex, 4 lines of 4 groups; the letter is the line's check letter)",
    );
    push_line(out, "");
    for l in &sheet.lines {
        let _ = writeln!(
            out,
            "    {}:  {}   {}",
            l.number,
            l.groups.as_str(),
            l.check
        );
    }
    push_line(out, "");
    push_line(out, "Same secret, as typed to `tailscale lock disable`:");
    out.push_str("  ");
    out.push_str(&sheet.secret_text);
    out.push('\n');
    push_line(out, "");
    push_line(out, "It matches this disablement value of the authority:");
    push_line(out, &format!("  {}", sheet.value_text));
    push_line(out, "");
    for l in sheet.instructions() {
        push_line(out, &l);
    }
    push_line(out, "");
    push_line(out, "QR code of the disablement-secret text:");
    let q = &sheet.qr;
    let side = q.size() + 2 * QUIET_ZONE;
    for y in 0..side {
        let mut row = String::with_capacity(2 * side);
        for x in 0..side {
            let dark = x >= QUIET_ZONE
                && y >= QUIET_ZONE
                && x < QUIET_ZONE + q.size()
                && y < QUIET_ZONE + q.size()
                && q.is_dark((x - QUIET_ZONE) as isize, (y - QUIET_ZONE) as isize);
            row.push_str(if dark { "##" } else { "  " });
        }
        push_line(out, row.trim_end());
    }
}
