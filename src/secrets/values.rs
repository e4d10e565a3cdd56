//! Disablement values for a set of secrets, through the core's KDF
//! (Argon2i, about 35 ms each), computed in parallel across cores. A
//! progress bar appears on a terminal once the work has run for a second.

use rayon::prelude::*;

use super::progress::LazyBar;
pub use super::progress::Progress;
use super::secret::DisablementSecret;
use crate::tka::disablement::DISABLEMENT_LENGTH;

/// A disablement value: public, stored in the authority's state.
pub type DisablementValue = [u8; DISABLEMENT_LENGTH];

/// The disablement value of each secret, in order, computed in parallel.
pub fn compute_values(secrets: &[DisablementSecret], progress: Progress) -> Vec<DisablementValue> {
    let bar = LazyBar::new(secrets.len(), progress, "deriving disablement values");
    let values = secrets
        .par_iter()
        .map(|secret| {
            let value = secret.value();
            bar.tick();
            value
        })
        .collect();
    bar.finish();
    values
}

/// The same, one after another on the calling thread (for comparison in
/// the benchmark).
pub fn compute_values_sequential(secrets: &[DisablementSecret]) -> Vec<DisablementValue> {
    secrets.iter().map(DisablementSecret::value).collect()
}

/// `disablement:<lowercase hex>`.
pub fn value_text(value: &DisablementValue) -> String {
    crate::tka::disablement::value_text(value)
}

/// Parses `disablement:<hex>` (or bare hex) into a value; `None` if it is
/// not 32 bytes of hex.
pub fn parse_value_text(text: &str) -> Option<DisablementValue> {
    let t = text.trim();
    let hex = t.strip_prefix("disablement:").unwrap_or(t);
    let bytes = crate::tka::hex::decode(hex)?;
    DisablementValue::try_from(bytes.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_equals_sequential() {
        let secrets = DisablementSecret::generate_many(3).unwrap();
        let par = compute_values(&secrets, Progress::Hidden);
        let seq = compute_values_sequential(&secrets);
        assert_eq!(par, seq);
        assert_ne!(par[0], par[1]);
    }

    #[test]
    fn value_text_parses() {
        let v = [7u8; 32];
        assert_eq!(parse_value_text(&value_text(&v)), Some(v));
        assert_eq!(parse_value_text("disablement:07"), None);
        assert_eq!(parse_value_text("disablement:zz"), None);
    }
}
