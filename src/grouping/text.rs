//! [`Text`]: the strings of component trees — leaf values and hints.
//!
//! One event's trees repeat the same strings many times: every frame appears in the app and the
//! system tree (and again in `tree`), and hints like `non app frame` or a rule's hint recur on
//! many frames. A `Text` is a `&'static str` (hint literals), a short string stored inline (most
//! module, file and function names), or a reference-counted `Arc<str>` whose clones share one
//! allocation: building a tree allocates little and copying one never copies its strings. It
//! dereferences to `str`, compares and hashes by content, and prints and serializes exactly like
//! a `String`.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// An immutable, cheaply cloned string.
#[derive(Clone)]
pub struct Text(Repr);

/// Longest string kept inline (the size of a `String`, less the length byte and the tag).
pub(crate) const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    /// `len` bytes of valid UTF-8.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Shared(Arc<str>),
}

impl Text {
    /// Copies `value`, inline if it is short.
    pub fn copied(value: &str) -> Self {
        match u8::try_from(value.len()) {
            Ok(len) if value.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..value.len()].copy_from_slice(value.as_bytes());
                Self(Repr::Inline { len, bytes })
            }
            _ => Self(Repr::Shared(Arc::from(value))),
        }
    }

    /// The string's bytes (cheaper than [`Text::as_str`] for inline strings: no UTF-8 check).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Static(s) => s.as_bytes(),
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Shared(s) => s.as_bytes(),
        }
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            // Always valid: the bytes were copied from a `str` (checked again, without `unsafe`).
            Repr::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Repr::Shared(s) => s,
        }
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Literals are used as they are, without allocating.
impl From<&'static str> for Text {
    fn from(value: &'static str) -> Self {
        Self(Repr::Static(value))
    }
}

impl From<String> for Text {
    fn from(value: String) -> Self {
        if value.len() <= INLINE { Self::copied(&value) } else { Self(Repr::Shared(Arc::from(value))) }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes.
        state.write(self.as_bytes());
        state.write_u8(0xff);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_behave_like_the_strings_they_hold() {
        let owned = Text::from(String::from("a \"b\""));
        let literal = Text::from("a \"b\"");
        assert_eq!(owned, literal);
        assert_eq!(format!("{owned:?}"), format!("{:?}", "a \"b\""));
        assert_eq!(serde_json::to_string(&literal).ok(), serde_json::to_string("a \"b\"").ok());
        assert_eq!(&*Text::copied("x"), "x");
        let long = "ü".repeat(20);
        assert_eq!(&*Text::copied(&long), long);
        assert_eq!(&*Text::copied(&long[..22]), &long[..22]);
        assert_eq!(Text::from(long.clone()), Text::copied(&long));
    }
}
