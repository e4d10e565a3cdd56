//! Resource limits for everything locksmith decodes from outside: images,
//! envelopes, UR parts and sequences, upstream JSON, ceremony plans and
//! transcripts. Everything from the online side is hostile (threat-model.md),
//! so every decoder checks a size cap before it allocates and a nesting
//! cap before it recurses, and reports a clear error instead of aborting.
//!
//! Each limit is far above anything a real ceremony produces and far below
//! what would exhaust the offline machine (2 cores and a few GB is enough).
//! The reason for each value is written beside it.

/// Bytes of one decoded binary artifact (an envelope, what hex, base64 or
/// a UR decodes to, a reassembled multi-part message): 16 MiB. A chain
/// export of thousands of AUMs is well under 2 MiB.
pub const MAX_ARTIFACT_BYTES: u64 = 16 * 1024 * 1024;

/// Bytes of one input as read, by every command through the one front
/// door (`crate::input`): a file, standard input, inline text, each image
/// file of `--qr-in`. 64 MiB, the cap on upstream JSON
/// ([`MAX_JSON_BYTES`]), since `tailscale lock log --json=1` of a long
/// chain is the largest thing given; a phone photo is under 10 MiB.
pub const MAX_INPUT_BYTES: u64 = MAX_JSON_BYTES as u64;

/// Plaintext of one age-encrypted secrets file: 1 MiB (about three
/// thousand secrets; a ceremony makes at most 32).
pub const MAX_SECRETS_PLAINTEXT: usize = 1 << 20;

/// Bytes of one secret given on standard input or in a file (a PIN, a
/// disablement secret, an auth key): 4096, far above any of them.
pub const MAX_SECRET_BYTES: usize = 4096;

/// Nesting depth of CBOR read from outside (envelopes, fountain parts,
/// raw artifacts before the core decodes them). The deepest real artifact
/// is an AUM with a State (map > array of keys > map > meta map > text):
/// 6 levels. A deeper item is refused before the decoder recurses.
pub const MAX_CBOR_DEPTH: usize = 16;

/// Width or height of one image, in pixels: 16384. A 48-megapixel phone
/// photo is 8000 x 6000; a QR frame locksmith writes is under 2000.
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// Pixels of one image (or of a GIF's logical screen): 50 million, a
/// 48-megapixel photo with room. As RGBA that is 200 MB, decoded one image
/// at a time.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;

/// Bytes the image decoders may allocate for one image: 512 MiB (RGBA of
/// [`MAX_IMAGE_PIXELS`] plus the decoders' working buffers).
pub const MAX_IMAGE_ALLOC: u64 = 512 * 1024 * 1024;

/// Scans times pixels of one JPEG: 500 million. A progressive JPEG is
/// decoded scan by scan over the whole image, so a small file with many
/// scans over a large canvas costs seconds per few dozen scans (a 3 KB
/// file with 29 scans over 4334 x 10061 pixels took 2.7 s, found by the
/// `image_limits` fuzz campaign; the fourth campaign found a 2 KB one with
/// 18 over the same canvas, 785 million, just under the first cap of 800
/// million, taking 6 s niced on a loaded machine). A 48-megapixel
/// progressive photo has about 10 scans (480 million); a QR photo far
/// fewer.
pub const MAX_JPEG_SCAN_PIXELS: u64 = 500_000_000;

/// Pixels of the image the QR search reads at full detail: 16 million.
/// rxing's search costs time in proportion to the pixels it reads, and
/// locksmith retries an image that holds no readable code (rescaled,
/// inverted, blurred), so a larger image (a 48-megapixel photo, or any
/// hostile file up to [`MAX_IMAGE_PIXELS`]) is searched at a reduced size
/// of at most this many pixels: a code filling a tenth of a 48-megapixel
/// photo's width still has about 5 pixels a module there.
pub const MAX_QR_SEARCH_PIXELS: u64 = 16_000_000;

/// Longest side of the copies the QR search retries on (rescaled,
/// inverted, blurred): 1200 pixels, for an image whose longest side is over
/// [`QR_RETRY_ABOVE_SIDE`]. The retries are for photos of screens and
/// paper, where the code fills much of the frame; they used to run at full
/// size, so a 1 KB JPEG of 122 x 11520 pixels cost 1.7 s of CPU (found
/// by the `qr_image` fuzz campaign). A retry copy whose shorter side falls
/// under [`MIN_QR_SEARCH_SIDE`] is not searched at all.
pub const QR_RETRY_SIDE: u32 = 1200;

/// The longest side above which the retries run on a copy reduced to
/// [`QR_RETRY_SIDE`]: 1600 pixels. Smaller images are retried at their own
/// size (and ones under 500 pixels also at twice it).
pub const QR_RETRY_ABOVE_SIDE: u32 = 1600;

/// The shortest side of an image that can hold a QR code worth searching
/// for: 21 pixels, one pixel a module of the smallest code (version 1).
pub const MIN_QR_SEARCH_SIDE: u32 = 21;

/// Pixels the QR search reads in one image, over every pass: 40 million
/// (the image at most [`MAX_QR_SEARCH_PIXELS`], three retries of at most
/// [`QR_RETRY_SIDE`] squared, and, once a code is found, the multi-code
/// pass over the image again: 36.3 million, with room). Checked by the
/// search's own work counter (`qr_decode::search_image`), so one image
/// costs a bounded amount of CPU whatever its header says.
pub const MAX_QR_SEARCH_WORK: u64 = 40_000_000;

/// Frames of one animated GIF: 10000. locksmith's own animations have
/// twice as many frames as parts: 202 for a 20 KB export, about 2000 for
/// a 1 MB chain at high density.
pub const MAX_GIF_FRAMES: usize = 10_000;

/// Pixels decoded across all frames of one animation: 2.5 billion (10000
/// frames of 500 x 500). Bounds the time a hostile GIF can cost, since
/// frames are decoded one at a time and memory is bounded per frame.
pub const MAX_ANIMATION_PIXELS: u64 = 2_500_000_000;

/// The image caps above as one value, which the image decoders
/// (`exchange::qr_decode::load_still_within`, `for_each_gif_frame_within`)
/// take as a parameter. Every command decodes under [`ImageLimits::DEFAULT`];
/// the `image_limits` fuzz target runs the same checks and decoders under
/// much smaller caps of its own, so that it spends its executions on the
/// decoders' parsing rather than on decoding tens of megapixels that the
/// caps allow by design (the caps themselves are tested at their real
/// values in tests/exchange_limits.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Width or height of one image or GIF screen.
    pub side: u32,
    /// Pixels of one image or GIF screen.
    pub pixels: u64,
    /// Bytes a decoder may allocate for one image.
    pub alloc: u64,
    /// Scans times pixels of one JPEG.
    pub jpeg_scan_pixels: u64,
    /// Frames of one GIF.
    pub gif_frames: usize,
    /// Pixels decoded across all frames of one GIF.
    pub animation_pixels: u64,
}

impl ImageLimits {
    /// The caps every command uses.
    pub const DEFAULT: ImageLimits = ImageLimits {
        side: MAX_IMAGE_SIDE,
        pixels: MAX_IMAGE_PIXELS,
        alloc: MAX_IMAGE_ALLOC,
        jpeg_scan_pixels: MAX_JPEG_SCAN_PIXELS,
        gif_frames: MAX_GIF_FRAMES,
        animation_pixels: MAX_ANIMATION_PIXELS,
    };
}

/// Image files taken from one directory of frames, or from one command
/// line: 10000, the same bound as frames of a GIF.
pub const MAX_FRAME_FILES: usize = 10_000;

/// QR codes found in one image: 16. A photo of a sheet may show a few
/// numbered pages; more means something is off.
pub const MAX_CODES_PER_IMAGE: usize = 16;

/// Characters of one UR part (one QR code): 8192. A QR code holds at most
/// 4296 alphanumeric characters.
pub const MAX_UR_PART_CHARS: usize = 8_192;

/// Parts a multi-part sequence may claim: 16384 (a 16 MiB message at
/// 1 KB a part). The reassembler allocates per claimed part, so this is
/// checked before anything else.
pub const MAX_PARTS: usize = 16_384;

/// Interleaved multi-part sequences tracked at once while reading frames:
/// 8. One is the artifact; a few more are stale codes left on a screen.
pub const MAX_SEQUENCES: usize = 8;

/// Spare pages plus data pages of a printed (static) set: 256, the most a
/// Reed-Solomon code over GF(2^8) has (see exchange/spare_pages.rs).
pub const MAX_STATIC_PAGES: usize = 256;

/// Bytes of one upstream JSON document (`tailscale lock log|status
/// --json=1`): 64 MiB, the general input cap (input.rs). A log of 10000
/// AUMs is about 10 MiB.
pub const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;

/// Nesting depth of upstream JSON: 32. Upstream's log and status are at
/// most 6 levels deep (Messages > AUM > State > Keys > key > Meta).
/// serde_json's own limit is 128; this is checked first, with a clear
/// message.
pub const MAX_JSON_DEPTH: usize = 32;

/// Bytes of a ceremony plan (TOML): 1 MiB. The shipped plans are under
/// 10 KB.
pub const MAX_PLAN_BYTES: usize = 1024 * 1024;

/// Nesting depth of a ceremony plan: 8. A plan is `[vars]` and
/// `[[step]]` tables with arrays of strings: 3 levels.
pub const MAX_PLAN_DEPTH: usize = 8;

/// Bytes of a ceremony plan's state file (JSON): 1 MiB.
pub const MAX_PLAN_STATE_BYTES: usize = 1024 * 1024;

/// Bytes of a transcript: 256 MiB. A record is about 2 KB; this is over
/// 100000 records.
pub const MAX_TRANSCRIPT_BYTES: u64 = 256 * 1024 * 1024;

/// Bytes of one transcript line: 1 MiB (a record with hundreds of inputs).
pub const MAX_TRANSCRIPT_LINE_BYTES: usize = 1024 * 1024;

/// Nesting depth of one transcript record (JSON): 16. A record is 4
/// levels deep (record > body > inputs > entry).
pub const MAX_TRANSCRIPT_DEPTH: usize = 16;

/// Which syntax [`nesting_depth`] scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON: `{}` and `[]`, strings in `"` with backslash escapes.
    Json,
    /// TOML: `{}` and `[]` (table headers count as one level), basic
    /// strings in `"` with escapes, literal strings in `'`, `#` comments.
    Toml,
}

/// The deepest bracket nesting in `text`, outside strings (and comments),
/// stopping early once `max` is exceeded. Cheap and non-recursive, so it
/// runs before a recursive parser sees the text. Unbalanced text is left
/// to the parser to reject.
pub fn nesting_depth(text: &[u8], syntax: Syntax, max: usize) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        match b {
            b'"' | b'\'' if b == b'"' || syntax == Syntax::Toml => {
                // Skip the string (multi-line TOML strings: each quote run
                // toggles, which nets out the same).
                i += 1;
                while i < text.len() && text[i] != b {
                    if b == b'"' && text[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'#' if syntax == Syntax::Toml => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > max {
                    return deepest;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Checks `text` against a size and a depth cap; the error says which.
pub fn check_text(
    text: &[u8],
    what: &str,
    syntax: Syntax,
    max_bytes: usize,
    max_depth: usize,
) -> Result<(), String> {
    if text.len() > max_bytes {
        return Err(format!(
            "{what} is {} bytes, over the {max_bytes}-byte limit; is this the right file?",
            text.len()
        ));
    }
    let depth = nesting_depth(text, syntax, max_depth);
    if depth > max_depth {
        return Err(format!(
            "{what} nests more than {max_depth} levels deep; real ones nest a few levels, so this was made to exhaust the parser"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings_and_comments() {
        assert_eq!(
            nesting_depth(br#"{"a": "[[[[", "b": [1]}"#, Syntax::Json, 10),
            2
        );
        assert_eq!(nesting_depth(br#"{"a\"[[": 1}"#, Syntax::Json, 10), 1);
        assert_eq!(
            nesting_depth(
                b"a = '[[[' # [[[\n[[step]]\nrun = [\"x\"]\n",
                Syntax::Toml,
                10
            ),
            2
        );
        let deep = "[".repeat(100_000);
        assert_eq!(nesting_depth(deep.as_bytes(), Syntax::Json, 32), 33);
        assert!(check_text(deep.as_bytes(), "x", Syntax::Json, 1 << 20, 32).is_err());
        assert!(check_text(b"[1]", "x", Syntax::Json, 2, 32).is_err());
        assert!(check_text(b"[1]", "x", Syntax::Json, 3, 32).is_ok());
    }
}

/// The largest scrypt work factor (log2 N) accepted when an age file is
/// decrypted with a passphrase (software key files, disablement-secret
/// files). age's default ceiling is derived from timing the machine, so the
/// same file was refused on a loaded machine; a fixed 2^22 (16 times what
/// age uses when it encrypts, about 4 GiB·s of work) keeps a crafted file
/// from stalling the tool for minutes and never refuses a file age made.
pub const SCRYPT_MAX_LOG_N: u8 = 22;
