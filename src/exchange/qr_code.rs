//! One QR code as a module matrix, with the error-correction level and
//! encoding mode chosen for the content: the `qrcode` crate picks the
//! optimal segmentation, so uppercase text (hex blobs, URs) goes out in
//! alphanumeric mode and binary envelopes in byte mode.

use qrcode::{bits::Bits, EcLevel, QrCode};
use zeroize::Zeroizing;

use super::error::{ExchangeError, Result};

/// Error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecc {
    /// ~7% of the code can be lost: densest; for screens.
    L,
    /// ~15%: for paper and photos.
    M,
    /// ~25%.
    Q,
    /// ~30%.
    H,
}

impl Ecc {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [Ecc; 4] = [Self::L, Self::M, Self::Q, Self::H];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::L => "l",
            Self::M => "m",
            Self::Q => "q",
            Self::H => "h",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::L => "~7% of the code can be lost: densest; for screens",
            Self::M => "~15%: for paper and photos",
            Self::Q => "~25%",
            Self::H => "~30%",
        }
    }
}

from_str_by_name!(Ecc, ExchangeError, "QR error-correction level");

impl Ecc {
    fn level(self) -> EcLevel {
        match self {
            Self::L => EcLevel::L,
            Self::M => EcLevel::M,
            Self::Q => EcLevel::Q,
            Self::H => EcLevel::H,
        }
    }
}

/// A rendered QR symbol: `size` x `size` modules, `true` = dark. The one
/// QR matrix type: exchange codes and disablement sheets both use it. The
/// modules are wiped on drop and left out of `Debug`, since a sheet's
/// pattern encodes a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct QrMatrix {
    size: usize,
    dark: Zeroizing<Vec<bool>>,
    version: i16,
    ecc: Ecc,
}

impl std::fmt::Debug for QrMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrMatrix")
            .field("size", &self.size)
            .field("version", &self.version)
            .field("ecc", &self.ecc)
            .finish_non_exhaustive()
    }
}

impl QrMatrix {
    /// Encodes `text` at level `ecc` with the `qrcode` crate's optimal
    /// segmentation whatever its case (disablement sheets: what a phone
    /// camera app shows is the text, not a byte segment to compare).
    pub fn encode_text(text: &[u8], ecc: Ecc) -> Result<Self> {
        let code = QrCode::with_error_correction_level(text, ecc.level()).map_err(|e| {
            ExchangeError::QrEncode {
                reason: format!("{} bytes do not fit one QR code: {e}", text.len()),
            }
        })?;
        Ok(Self::from_code(&code, ecc))
    }

    /// Encodes `content` at error-correction level `ecc`, in the smallest
    /// version that holds it.
    pub fn encode(content: &[u8], ecc: Ecc) -> Result<Self> {
        let too_big = |e: &dyn std::fmt::Display| {
            ExchangeError::QrEncode {
            reason: format!(
                "{} bytes do not fit one QR code at error correction {ecc:?} ({e}); use a multi-part sequence (`--qr gif|html`, or `--qr png|svg|pdf` with several frames) or a lower error-correction level",
                content.len()
            ),
        }
        };
        let code = if is_alphanumeric_text(content) {
            // Uppercase text: optimal segmentation (alphanumeric/numeric).
            QrCode::with_error_correction_level(content, ecc.level()).map_err(|e| too_big(&e))?
        } else {
            // Anything else goes out as one byte-mode segment, so that the
            // decoder's byte segment is exactly the content.
            let mut found = None;
            for v in 1..=40 {
                let mut bits = Bits::new(qrcode::Version::Normal(v));
                if bits.push_byte_data(content).is_ok() && bits.push_terminator(ecc.level()).is_ok()
                {
                    found = Some(bits);
                    break;
                }
            }
            let bits = found.ok_or_else(|| too_big(&"data too long"))?;
            QrCode::with_bits(bits, ecc.level()).map_err(|e| too_big(&e))?
        };
        Ok(Self::from_code(&code, ecc))
    }

    fn from_code(code: &QrCode, ecc: Ecc) -> Self {
        let size = code.width();
        let version = match code.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        };
        let dark = Zeroizing::new(
            code.to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
        );
        Self {
            size,
            dark,
            version,
            ecc,
        }
    }

    /// Modules per side (without quiet zone).
    pub fn size(&self) -> usize {
        self.size
    }

    /// QR version (1..=40).
    pub fn version(&self) -> i16 {
        self.version
    }

    /// Error-correction level.
    pub fn ecc(&self) -> Ecc {
        self.ecc
    }

    /// Whether module (x, y) is dark; modules outside the symbol (quiet
    /// zone) are light.
    pub fn is_dark(&self, x: isize, y: isize) -> bool {
        if x < 0 || y < 0 {
            return false;
        }
        let (x, y) = (x as usize, y as usize);
        x < self.size && y < self.size && self.dark.get(y * self.size + x).copied().unwrap_or(false)
    }
}

/// Whether every byte is in the QR alphanumeric set (0-9, A-Z, space, $%*+-./:).
pub fn is_alphanumeric_text(content: &[u8]) -> bool {
    !content.is_empty()
        && content
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b" $%*+-./:".contains(b))
}
