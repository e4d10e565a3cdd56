//! The HTML sheet: one self-contained file (font embedded as base64, QR
//! code as inline SVG, no external resource), one printed page per secret.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::font::SHEET_FONT;
use super::qr::QUIET_ZONE;
use super::sheet::Sheet;

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders the sheets as one HTML document.
pub fn render_html(sheets: &[&Sheet]) -> Zeroizing<String> {
    let font = data_encoding::BASE64.encode(SHEET_FONT);
    // Reserved up front: growing would leave copies of the secrets behind.
    let mut out = Zeroizing::new(String::with_capacity(
        font.len() + 64 * 1024 * (sheets.len() + 1),
    ));
    let title = sheets.first().map(|s| s.title()).unwrap_or_default();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:">
<title>{}</title>
<style>
@font-face {{ font-family: "SheetMono"; src: url(data:font/ttf;base64,{font}) format("truetype"); }}
body {{ font-family: "SheetMono", monospace; font-variant-numeric: slashed-zero; color: #000; background: #fff; margin: 0; }}
.page {{ padding: 15mm; page-break-after: always; break-after: page; }}
.page:last-child {{ page-break-after: auto; break-after: auto; }}
h1 {{ font-size: 16pt; margin: 0 0 4mm 0; }}
.authority, .instructions {{ font-size: 9pt; white-space: pre-wrap; margin: 0; }}
table.secret {{ font-size: 18pt; border-collapse: collapse; margin: 5mm 0; }}
table.secret td {{ padding: 1mm 3mm; }}
td.n {{ color: #444; }} td.c {{ font-weight: bold; border: 1px solid #000; text-align: center; }}
.text {{ font-size: 9pt; word-break: break-all; }}
svg {{ width: 60mm; height: 60mm; }}
</style></head><body>
"#,
        esc(&title)
    );
    for sheet in sheets {
        page(&mut out, sheet);
    }
    out.push_str("</body></html>\n");
    out
}

fn page(out: &mut String, sheet: &Sheet) {
    let _ = writeln!(
        out,
        "<section class=\"page\">\n<h1>{}</h1>",
        esc(&sheet.title())
    );
    let _ = writeln!(
        out,
        "<p class=\"authority\">{}</p>",
        esc(&sheet.authority_lines().join("\n"))
    );
    out.push_str("<table class=\"secret\">\n");
    for l in &sheet.lines {
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{}:</td><td class=\"g\">{}</td><td class=\"c\">{}</td></tr>",
            l.number,
            l.groups.as_str(),
            l.check
        );
    }
    out.push_str("</table>\n");
    let _ = writeln!(
        out,
        "<p class=\"text\">As typed to <code>tailscale lock disable</code>:<br><code>{}</code></p>",
        sheet.secret_text.as_str() // hex and ':' only: nothing to escape
    );
    let _ = writeln!(
        out,
        "<p class=\"text\">Matches the authority's disablement value:<br><code>{}</code></p>",
        esc(&sheet.value_text)
    );
    qr_svg(out, sheet);
    let _ = writeln!(
        out,
        "<p class=\"instructions\">{}</p>\n</section>",
        esc(&sheet.instructions().join("\n"))
    );
}

fn qr_svg(out: &mut String, sheet: &Sheet) {
    let q = &sheet.qr;
    let side = q.size() + 2 * QUIET_ZONE;
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the disablement secret\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for y in 0..q.size() {
        for x in 0..q.size() {
            if q.is_dark(x as isize, y as isize) {
                let _ = write!(out, "M{} {}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE);
            }
        }
    }
    out.push_str("\"/></svg>\n");
}
