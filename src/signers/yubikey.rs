//! placeholder
use super::spec::YubiKeySpec;
use super::{GenerateOptions, KeyInfo, SignersError, TokenInfo};
use crate::tka::signer::{KeyCustody, Signer, SignerError};
pub struct YubiKeySigner;
impl YubiKeySigner {
    pub fn open(_s: &YubiKeySpec) -> Result<Self, SignersError> {
        Err(SignersError::Spec("todo".into()))
    }
}
impl Signer for YubiKeySigner {
    fn public_key(&self) -> [u8; 32] {
        [0; 32]
    }
    fn custody(&self) -> KeyCustody {
        KeyCustody::Hardware
    }
    fn describe(&self) -> String {
        String::new()
    }
    fn sign_digest(&mut self, _d: &[u8; 32]) -> Result<[u8; 64], SignerError> {
        Err(SignerError::new("todo"))
    }
}
pub fn generate(_s: &YubiKeySpec, _o: &GenerateOptions) -> Result<KeyInfo, SignersError> {
    Err(SignersError::Spec("todo".into()))
}
pub fn show(_s: &YubiKeySpec) -> Result<KeyInfo, SignersError> {
    Err(SignersError::Spec("todo".into()))
}
pub fn list_cards() -> Result<(Vec<TokenInfo>, Vec<String>), SignersError> {
    Ok((vec![], vec![]))
}
