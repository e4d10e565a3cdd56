//! The QR code of a sheet: it holds the secret's `disablement-secret:` text
//! (error correction level M). Decoding a photo or scan of it uses rxing.

use std::path::Path;

use zeroize::Zeroizing;

use super::error::SecretsError;
use super::secret::{parse_secret_hex, DisablementSecret};
pub use crate::exchange::QrMatrix;
use crate::exchange::{Ecc, ExchangeError};

/// Modules of quiet zone around the code, as the standard asks.
pub const QUIET_ZONE: usize = 4;

/// The QR code of `secret`'s `disablement-secret:` text.
pub fn secret_qr(secret: &DisablementSecret) -> Result<QrMatrix, SecretsError> {
    let text = secret.text();
    QrMatrix::encode_text(text.as_bytes(), Ecc::M)
        .map_err(|e| SecretsError::QrEncode(e.to_string()))
}

/// Reads the QR code in the image at `path` (PNG or JPEG: a photo or a
/// scan of the sheet) and returns the secret it holds. The image goes
/// through the one QR decoder ([`crate::exchange::qr_decode`]), with its
/// size and pixel limits.
pub fn secret_from_qr_image(path: &Path) -> Result<DisablementSecret, SecretsError> {
    let input = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|e| SecretsError::io(path, "opening the image", e))?;
    if meta.len() > crate::limits::MAX_INPUT_BYTES {
        return Err(SecretsError::BadImage {
            input,
            reason: format!(
                "larger than {} bytes; give the photo or scan of one sheet",
                crate::limits::MAX_INPUT_BYTES
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| SecretsError::io(path, "reading the image", e))?;
    if !crate::exchange::qr_decode::is_image(&bytes) {
        return Err(SecretsError::BadImage {
            input,
            reason: "not a PNG or JPEG image; give a PNG or JPEG file".into(),
        });
    }
    let codes =
        crate::exchange::qr_decode::decode_image_file(&bytes, &input).map_err(|e| match e {
            ExchangeError::QrNotFound { .. } => SecretsError::NoQrCode {
                input: input.clone(),
                reason: "no readable code".into(),
            },
            other => SecretsError::BadImage {
                input: input.clone(),
                reason: format!("{other}; give a PNG or JPEG file"),
            },
        })?;
    codes
        .into_iter()
        .map(Zeroizing::new)
        .find_map(|code| std::str::from_utf8(&code).ok().and_then(parse_secret_hex))
        .ok_or(SecretsError::QrNotASecret { input })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_has_a_sane_size() {
        let s = DisablementSecret::generate().unwrap();
        let q = secret_qr(&s).unwrap();
        assert!(q.size() >= 21 && q.size() <= 57, "width {}", q.size());
        assert!(!format!("{q:?}").contains("true"), "no modules in Debug");
        // Finder pattern corner is dark.
        assert!(q.is_dark(0, 0));
    }
}
