//! The sheet font keeps 0 apart from O, and 1 apart from l and I: checked on
//! the glyph outlines of the font the PDF and HTML sheets embed.

use locksmith::secrets::font::SHEET_FONT;

#[derive(Default)]
struct Outline {
    contours: usize,
    points: Vec<(f32, f32)>,
}

impl ttf_parser::OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.points.push((x, y));
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.points.push((x, y));
    }
    fn quad_to(&mut self, _: f32, _: f32, x: f32, y: f32) {
        self.points.push((x, y));
    }
    fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, x: f32, y: f32) {
        self.points.push((x, y));
    }
    fn close(&mut self) {
        self.contours += 1;
    }
}

fn outline(face: &ttf_parser::Face, c: char) -> (Outline, ttf_parser::Rect) {
    let id = face.glyph_index(c).expect("glyph present");
    let mut o = Outline::default();
    let bbox = face
        .outline_glyph(id, &mut o)
        .expect("glyph has an outline");
    (o, bbox)
}

#[test]
fn zero_and_capital_o_differ() {
    let face = ttf_parser::Face::parse(SHEET_FONT, 0).expect("font parses");
    let (zero, zb) = outline(&face, '0');
    let (oh, ob) = outline(&face, 'O');
    eprintln!(
        "0: {} contours {:?}; O: {} contours {:?}",
        zero.contours, zb, oh.contours, ob
    );
    assert!(
        zero.contours > oh.contours,
        "the zero must carry a mark inside (dot or slash): 0 has {} contours, O has {}",
        zero.contours,
        oh.contours
    );
}

#[test]
fn one_and_ell_differ() {
    let face = ttf_parser::Face::parse(SHEET_FONT, 0).expect("font parses");
    let (one, b1) = outline(&face, '1');
    let (ell, bl) = outline(&face, 'l');
    let (eye, bi) = outline(&face, 'I');
    eprintln!(
        "1: {b1:?} {} pts; l: {bl:?} {} pts; I: {bi:?}",
        one.points.len(),
        ell.points.len()
    );
    assert_ne!(one.points, ell.points);
    assert_ne!(one.points, eye.points);
    // `l` is taller than `1` (ascender vs figure height) in this font.
    assert!(
        bl.y_max > b1.y_max,
        "l reaches the ascender, 1 stops at figure height"
    );
}
