//! Values that must never reach a log line or a `Debug` dump.
//!
//! [`Secret`] is `secrecy`'s string box (prints `[REDACTED]`). [`DatabaseUrl`] keeps the URL usable for
//! connecting but prints it with the password masked: `postgres://faultline:***@db:5432/faultline`.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string: `Debug` shows `[REDACTED]`; read it with `secrecy::ExposeSecret`.
pub type Secret = secrecy::SecretString;

/// A database URL whose password is masked when printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wrap a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme before `:` (`sqlite`, `postgres`, …), lowercased.
    pub fn scheme(&self) -> String {
        self.0.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default()
    }

    /// The URL with any password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                // Setting a password only fails for URLs that cannot have one, which have none.
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(DatabaseUrl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_masks_password_only() {
        let url = DatabaseUrl::new("postgres://u:pw@db:5432/x");
        assert_eq!(url.redacted(), "postgres://u:***@db:5432/x");
        assert_eq!(url.scheme(), "postgres");
        assert_eq!(DatabaseUrl::new("sqlite://./data/f.db").redacted(), "sqlite://./data/f.db");
    }
}

/// `n` random bytes from the OS generator, as lowercase hex (2·n characters).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::fill(buf.as_mut_slice());
    hex::encode(buf)
}

/// SHA-256 of a high-entropy token, as lowercase hex: what the database keeps instead of the token.
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

/// Hash a password with Argon2id (default parameters, random salt) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    use argon2::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Whether `password` matches a stored PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::PasswordVerifier;
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(phc) else {
        return false;
    };
    argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn random_hex_has_the_asked_length_and_differs() {
        let a = random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16));
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("correct horse", "not a phc string"));
    }

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
