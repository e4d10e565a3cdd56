//! Hex text helpers: lowercase for `tlpub:`/`nodekey:`/`disablement:` forms,
//! uppercase for the recovery blobs and disablement secrets upstream prints.

/// Lowercase hex of `bytes`.
pub fn lower(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Uppercase hex of `bytes`.
pub fn upper(bytes: &[u8]) -> String {
    data_encoding::HEXUPPER.encode(bytes)
}

/// Decodes hex in either case (as Go's `hex.DecodeString` does). `None` on
/// an odd length or a non-hex character.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE.decode(text.as_bytes()).ok()
}
