//! Disablement secrets and the values derived from them.
//!
//! Compatibility rule: upstream derives a disablement value with
//! `argon2.Key` from golang.org/x/crypto, which is **Argon2i** (not
//! Argon2id), version 0x13, time 4, memory 16 MiB, 4 lanes, 32-byte output,
//! and a fixed salt. Secrets of any length are accepted by the KDF;
//! locksmith generates 32-byte secrets as upstream does.

use zeroize::Zeroizing;

/// The fixed Argon2 salt upstream uses.
pub const DISABLEMENT_SALT: &[u8] = b"tailscale network-lock disablement salt";
/// Length of a disablement value (and of the secrets locksmith generates).
pub const DISABLEMENT_LENGTH: usize = 32;

/// Derives the disablement value for `secret`.
pub fn disablement_kdf(secret: &[u8]) -> [u8; DISABLEMENT_LENGTH] {
    let params = argon2::Params::new(16 * 1024, 4, 4, Some(DISABLEMENT_LENGTH))
        .expect("constant Argon2 parameters are valid");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params);
    let mut out = [0u8; DISABLEMENT_LENGTH];
    // Only fails for out-of-range lengths, which the constants rule out,
    // and for secrets over 2^32 bytes, which no input path allows.
    // The `zeroize` feature wipes Argon2's working memory when it is freed.
    argon
        .hash_password_into(secret, DISABLEMENT_SALT, &mut out)
        .expect("constant Argon2 parameters are valid");
    out
}

/// `disablement:<lowercase hex>`, as `tailscale lock disablement-kdf` prints.
pub fn value_text(value: &[u8]) -> String {
    format!("disablement:{}", super::hex::lower(value))
}

/// `disablement-secret:<UPPERCASE hex>`, as `tailscale lock init` prints.
pub fn secret_text(secret: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(format!("disablement-secret:{}", super::hex::upper(secret)))
}
