//! The QR code of a sheet: it holds the secret's `disablement-secret:` text
//! (error correction level M). Decoding a photo or scan of it uses rxing.

use std::path::Path;

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

use super::error::SecretsError;
use super::secret::{parse_secret_hex, DisablementSecret};

/// The modules of a QR code, row by row, `true` for dark. Wiped on drop
/// (the pattern encodes the secret).
pub struct QrMatrix {
    /// Modules per side (without quiet zone).
    pub width: usize,
    pub dark: Zeroizing<Vec<bool>>,
}

impl QrMatrix {
    /// Whether the module at column `x`, row `y` is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// Modules of quiet zone around the code, as the standard asks.
pub const QUIET_ZONE: usize = 4;

/// The QR code of `secret`'s `disablement-secret:` text.
pub fn secret_qr(secret: &DisablementSecret) -> Result<QrMatrix, SecretsError> {
    let text = secret.text();
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| SecretsError::QrEncode(e.to_string()))?;
    let width = code.width();
    let dark = Zeroizing::new(
        code.into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    );
    Ok(QrMatrix { width, dark })
}

/// Reads the QR code in the image at `path` (PNG or JPEG: a photo or a
/// scan of the sheet) and returns the secret it holds.
pub fn secret_from_qr_image(path: &Path) -> Result<DisablementSecret, SecretsError> {
    let input = path.display().to_string();
    let image = image::ImageReader::open(path)
        .map_err(|e| SecretsError::io(path, "opening the image", e))?
        .with_guessed_format()
        .map_err(|e| SecretsError::io(path, "reading the image", e))?
        .decode()
        .map_err(|e| SecretsError::BadImage {
            input: input.clone(),
            reason: format!("{e}; give a PNG or JPEG file"),
        })?;
    let luma = image.to_luma8();
    let (w, h) = luma.dimensions();
    let result =
        rxing::helpers::detect_in_luma(luma.into_raw(), w, h, Some(rxing::BarcodeFormat::QR_CODE))
            .map_err(|e| SecretsError::NoQrCode {
                input: input.clone(),
                reason: e.to_string(),
            })?;
    let text = Zeroizing::new(result.getText().to_owned());
    drop(result);
    parse_secret_hex(&text).ok_or(SecretsError::QrNotASecret { input })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_has_a_sane_size() {
        let s = DisablementSecret::generate().unwrap();
        let q = secret_qr(&s).unwrap();
        assert!(q.width >= 21 && q.width <= 57, "width {}", q.width);
        assert_eq!(q.dark.len(), q.width * q.width);
        // Finder pattern corner is dark.
        assert!(q.is_dark(0, 0));
    }
}
