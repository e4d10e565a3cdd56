//! x509 placeholder
