//! Printable sheets: the PDF rendered by poppler's `pdftoppm` gives back
//! the secret through its QR code (decoded with rxing via `secrets verify
//! --qr-image`); the plain-text sheet's lines, typed back, verify; a typo
//! is pinned to its line; the HTML is self-contained.

mod secrets_common;

use std::process::Command;

use secrets_common::*;

struct Made {
    _dir: tempfile::TempDir,
    values: Vec<String>,
    sheets: Vec<String>,
}

fn make_sheets(count: usize) -> Made {
    let dir = tempfile::tempdir().unwrap();
    let sheet_dir = dir.path().join("sheets");
    let report = generate(&[
        "-n",
        &count.to_string(),
        "--sheet-dir",
        sheet_dir.to_str().unwrap(),
    ]);
    Made {
        values: strings(&report, "values"),
        sheets: strings(&report, "sheets"),
        _dir: dir,
    }
}

fn sheet(made: &Made, index: usize, ext: &str) -> String {
    made.sheets
        .iter()
        .find(|s| s.ends_with(&format!("-{index:02}of{:02}.{ext}", made.values.len())))
        .unwrap_or_else(|| panic!("sheet {index}.{ext} in {:?}", made.sheets))
        .clone()
}

fn verify_args(made: &Made) -> Vec<String> {
    made.values
        .iter()
        .flat_map(|v| ["--value".to_owned(), v.clone()])
        .collect()
}

#[test]
fn pdf_qr_decodes_back_to_the_secret() {
    if !have("pdftoppm") {
        return;
    }
    let made = make_sheets(2);
    let work = tempfile::tempdir().unwrap();
    for index in 1..=2 {
        let pdf = sheet(&made, index, "pdf");
        let prefix = work.path().join(format!("page{index}"));
        let status = Command::new("pdftoppm")
            .args(["-r", "150", "-png", "-singlefile"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(status.success(), "pdftoppm failed on {pdf}");
        let png = prefix.with_extension("png");
        assert!(png.exists());

        // Library: the QR holds exactly this sheet's secret.
        let secret = locksmith::secrets::qr::secret_from_qr_image(&png).unwrap();
        let text_sheet = std::fs::read_to_string(sheet(&made, index, "txt")).unwrap();
        assert!(text_sheet.contains(secret.text().as_str()));
        assert_eq!(
            locksmith::secrets::values::value_text(&secret.value()),
            made.values[index - 1]
        );

        // CLI: verify --qr-image names the matching value, never the secret.
        let out = locksmith()
            .args(["secrets", "verify", "--qr-image"])
            .arg(&png)
            .args(verify_args(&made))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.contains(&format!(
                "matches disablement value #{index}: {}",
                made.values[index - 1]
            )),
            "{stdout}"
        );
        assert!(!stdout.contains(&secret.hex_upper()[..16]));
    }
}

#[test]
fn typed_sheet_lines_verify_and_a_typo_names_its_line() {
    let made = make_sheets(3);
    for index in 1..=3 {
        let text = std::fs::read_to_string(sheet(&made, index, "txt")).unwrap();
        let lines = typed_lines(&text);
        assert_eq!(lines.len(), 4, "{text}");
        let out = locksmith()
            .args(["secrets", "verify", "--json"])
            .args(verify_args(&made))
            .write_stdin(lines.join("\n"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["result"], "matches");
        assert_eq!(json["index"], index);
        assert_eq!(json["value"], made.values[index - 1].as_str());
        assert_eq!(
            json.as_object().unwrap().len(),
            3,
            "nothing else, no secret"
        );
    }

    // One wrong character in each line in turn: the error names that line.
    let text = std::fs::read_to_string(sheet(&made, 2, "txt")).unwrap();
    let lines = typed_lines(&text);
    for bad_line in 0..4 {
        let mut typo = lines.clone();
        // "N:  XXXX ...": index 6 is the line's third hex digit.
        let mut chars: Vec<char> = typo[bad_line].chars().collect();
        let pos = 6;
        assert!(chars[pos].is_ascii_hexdigit());
        chars[pos] = if chars[pos] == '7' { '1' } else { '7' };
        typo[bad_line] = chars.into_iter().collect();
        let out = locksmith()
            .args(["secrets", "verify"])
            .args(verify_args(&made))
            .write_stdin(typo.join("\n"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains(&format!("line {}", bad_line + 1)) && stderr.contains("typo"),
            "line {}: {stderr}",
            bad_line + 1
        );
        for l in &lines {
            assert!(!stderr.contains(l.as_str()), "the typed text is not echoed");
        }
    }

    // The whole secret on one line works too; against other values: no match.
    let secret = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("disablement-secret:"))
        .unwrap()
        .to_owned();
    let out = locksmith()
        .args(["secrets", "verify", "--value", &made.values[0]])
        .write_stdin(format!("disablement-secret:{secret}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("NO MATCH"), "{stdout}");
    assert!(!stdout.contains(&secret));
}

#[test]
fn verify_needs_expected_values_and_says_so() {
    let out = locksmith()
        .args(["secrets", "verify"])
        .write_stdin("0000\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("--value"));
    let bad = locksmith()
        .args(["secrets", "verify", "--value", "disablement:12"])
        .write_stdin("0000\n")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8(bad.stderr)
        .unwrap()
        .contains("64 hex digits"));
}

#[test]
fn html_sheet_is_self_contained_and_shows_everything() {
    let made = make_sheets(1);
    let html = std::fs::read_to_string(sheet(&made, 1, "html")).unwrap();
    let text = std::fs::read_to_string(sheet(&made, 1, "txt")).unwrap();
    for l in typed_lines(&text) {
        let groups: String = l[3..].trim().chars().take(19).collect();
        assert!(html.contains(&groups), "{groups}");
    }
    assert!(html.contains(GENESIS));
    assert!(html.contains(&made.values[0]));
    assert!(html.contains("disablement-secret:"));
    assert!(html.contains("tailscale lock disable"));
    assert!(html.contains("<svg"));
    assert!(html.contains("url(data:font/ttf;base64,"));
    for external in ["src=\"http", "href=\"http", "url(http", "<script", "<link"] {
        assert!(!html.contains(external), "external resource: {external}");
    }
}

#[test]
fn pdf_embeds_the_sheet_font_and_shows_the_authority() {
    if !have("pdffonts") || !have("pdftotext") {
        return;
    }
    let made = make_sheets(1);
    let pdf = sheet(&made, 1, "pdf");
    let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap();
    assert!(fonts.status.success());
    let fonts = String::from_utf8(fonts.stdout).unwrap();
    let row = fonts
        .lines()
        .find(|l| l.starts_with("DejaVuSansMono"))
        .expect(&fonts);
    assert!(row.contains(" yes "), "font embedded: {row}");
    let text = Command::new("pdftotext")
        .args(["-layout", &pdf, "-"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains(GENESIS));
    assert!(text.contains(&made.values[0]));
    assert!(text.contains("tailscale lock disable"));
    assert!(text.contains("Disable Tailnet Lock"));
    let txt = std::fs::read_to_string(sheet(&made, 1, "txt")).unwrap();
    for l in typed_lines(&txt) {
        let groups: String = l[3..].trim().chars().take(19).collect();
        assert!(text.contains(&groups), "{groups} in\n{text}");
    }
}

#[test]
fn verification_record_tracks_who_verified_what() {
    let made = make_sheets(2);
    let work = tempfile::tempdir().unwrap();
    let record = work.path().join("verified.json");
    for (index, who) in [(2, "bob"), (1, "alice")] {
        let text = std::fs::read_to_string(sheet(&made, index, "txt")).unwrap();
        let out = locksmith()
            .args(["secrets", "verify", "--custodian", who, "--record"])
            .arg(&record)
            .args(verify_args(&made))
            .write_stdin(typed_lines(&text).join("\n"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let values: Vec<[u8; 32]> = made
            .values
            .iter()
            .map(|v| locksmith::secrets::values::parse_value_text(v).unwrap())
            .collect();
        let r = locksmith::secrets::VerificationRecord::load(&record).unwrap();
        let missing = r.unverified(&values);
        if who == "bob" {
            assert_eq!(missing, vec![1], "only #1 left after bob");
        } else {
            assert!(missing.is_empty(), "everyone verified");
        }
    }
    let r = locksmith::secrets::VerificationRecord::load(&record).unwrap();
    let who: Vec<(&str, usize)> = r
        .entries
        .iter()
        .map(|e| (e.custodian.as_str(), e.index))
        .collect();
    assert_eq!(who, vec![("bob", 2), ("alice", 1)]);
    assert!(r
        .entries
        .iter()
        .all(|e| e.method == locksmith::secrets::VerifyMethod::Typed));
    let json = std::fs::read_to_string(&record).unwrap();
    assert!(
        !json.contains("disablement-secret"),
        "the record holds no secret"
    );

    // --record without --custodian is refused by the parser.
    let out = locksmith()
        .args(["secrets", "verify", "--record"])
        .arg(&record)
        .args(verify_args(&made))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn qr_survives_a_photo_like_copy_and_bad_images_are_clear_errors() {
    if !have("pdftoppm") {
        return;
    }
    let made = make_sheets(1);
    let work = tempfile::tempdir().unwrap();
    let prefix = work.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(sheet(&made, 1, "pdf"))
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    // A "photo": smaller, turned, blurred, on a grey background, as JPEG.
    let page = image::open(prefix.with_extension("png"))
        .unwrap()
        .to_luma8();
    let small = image::imageops::resize(
        &page,
        page.width() * 7 / 10,
        page.height() * 7 / 10,
        image::imageops::FilterType::Triangle,
    );
    let turned = image::imageops::rotate90(&small);
    let blurred = image::imageops::blur(&turned, 0.8);
    let mut canvas = image::GrayImage::from_pixel(
        blurred.width() + 200,
        blurred.height() + 200,
        image::Luma([90]),
    );
    image::imageops::overlay(&mut canvas, &blurred, 100, 100);
    let photo = work.path().join("photo.jpg");
    let mut out = std::fs::File::create(&photo).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&canvas)
        .unwrap();
    drop(out);
    let secret = locksmith::secrets::qr::secret_from_qr_image(&photo).unwrap();
    assert_eq!(
        locksmith::secrets::values::value_text(&secret.value()),
        made.values[0]
    );

    // No QR code in the image: a clear error naming the file.
    let blank = work.path().join("blank.png");
    image::GrayImage::from_pixel(400, 400, image::Luma([255]))
        .save(&blank)
        .unwrap();
    let err = locksmith::secrets::qr::secret_from_qr_image(&blank)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("blank.png") && err.contains("no QR code found"),
        "{err}"
    );
    // Not an image at all.
    let text = work.path().join("notes.png");
    std::fs::write(&text, "hello").unwrap();
    let err = locksmith::secrets::qr::secret_from_qr_image(&text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("notes.png"), "{err}");
}

#[test]
fn interactive_prompt_asks_a_mistyped_line_again() {
    // Drive the terminal path (hidden line-by-line prompts) through a
    // pseudo-terminal made by script(1).
    if !have("script") {
        return;
    }
    let made = make_sheets(1);
    let text = std::fs::read_to_string(sheet(&made, 1, "txt")).unwrap();
    let lines = typed_lines(&text);
    let mut typo: Vec<char> = lines[1].chars().collect();
    typo[6] = if typo[6] == '7' { '1' } else { '7' };
    let typo: String = typo.into_iter().collect();
    let input = format!(
        "{}\n{typo}\n{}\n{}\n{}\n",
        lines[0], lines[1], lines[2], lines[3]
    );
    let bin = assert_cmd::cargo::cargo_bin("locksmith");
    let mut child = Command::new("script")
        .arg("-qec")
        .arg(format!(
            "{} secrets verify --value {}",
            bin.display(),
            made.values[0]
        ))
        .arg("/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("line 2: the check letter does not match"),
        "{shown}"
    );
    assert!(shown.contains("type line 2 again"), "{shown}");
    assert!(
        shown.contains("OK: the secret matches disablement value #1"),
        "{shown}"
    );
}

#[test]
fn one_sheet_file_holds_a_page_per_secret() {
    if !have("pdftoppm") || !have("pdfinfo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sheet_dir = dir.path().join("sheets");
    let report = generate(&[
        "-n",
        "3",
        "--sheet-dir",
        sheet_dir.to_str().unwrap(),
        "--single-sheet-file",
        "--sheet-format",
        "pdf,text",
    ]);
    let values = strings(&report, "values");
    let sheets = strings(&report, "sheets");
    assert_eq!(sheets.len(), 2, "{sheets:?}");
    let pdf = sheets.iter().find(|s| s.ends_with("-all03.pdf")).unwrap();
    let info = Command::new("pdfinfo").arg(pdf).output().unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 3")),
        "{info}"
    );
    let txt =
        std::fs::read_to_string(sheets.iter().find(|s| s.ends_with(".txt")).unwrap()).unwrap();
    assert_eq!(txt.matches('\x0c').count(), 2, "form feeds between 3 pages");
    // Page 2's QR code is secret 2.
    let prefix = dir.path().join("p2");
    let ok = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile", "-f", "2", "-l", "2"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success());
    let secret =
        locksmith::secrets::qr::secret_from_qr_image(&prefix.with_extension("png")).unwrap();
    assert_eq!(
        locksmith::secrets::values::value_text(&secret.value()),
        values[1]
    );
}
