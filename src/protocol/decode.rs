//! Request bodies: `Content-Encoding` and the legacy store body.
//!
//! SDKs compress envelopes with `gzip` (Python without brotli, Node above 32 KiB), `br` (Python
//! with brotli), `deflate` or `zstd`; browsers send nothing. sentry-ruby sends an empty
//! `Content-Encoding` and old sentry-java sends `UTF-8`: both mean identity (protocol.md §2.5).
//!
//! Limits apply to the *decompressed* size, and decoding stops as soon as the output passes the
//! limit: a 10 GB gzip bomb costs at most `limit + 1` bytes of memory.

use std::io::Read;

use base64::Engine as _;
use bytes::Bytes;

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The `Content-Encoding` names a coding we do not speak (HTTP 415).
    #[error("unsupported content encoding {0:?}")]
    UnsupportedEncoding(String),
    /// The decoded body is larger than the limit (HTTP 413).
    #[error("body exceeds {limit} bytes after decoding")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The bytes are not a valid stream of that encoding (HTTP 400).
    #[error("invalid {encoding} body")]
    Invalid {
        /// The encoding that failed.
        encoding: &'static str,
        /// What the decoder reported.
        #[source]
        source: std::io::Error,
    },
    /// A legacy store body that is neither JSON nor base64 (HTTP 400).
    #[error("legacy store body is neither json nor base64")]
    InvalidBase64(#[source] base64::DecodeError),
}

/// One content coding we can undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    fn parse(token: &str) -> Result<Option<Self>, DecodeError> {
        let token = token.trim();
        Ok(Some(match token.to_ascii_lowercase().as_str() {
            "" | "identity" | "utf-8" | "utf8" => return Ok(None),
            "gzip" | "x-gzip" => Self::Gzip,
            "deflate" => Self::Deflate,
            "br" => Self::Brotli,
            "zstd" => Self::Zstd,
            _ => return Err(DecodeError::UnsupportedEncoding(token.to_owned())),
        }))
    }

    fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
            Self::Brotli => "br",
            Self::Zstd => "zstd",
        }
    }
}

/// Undoes `Content-Encoding` (possibly a list such as `gzip, br`, applied in order) and
/// enforces `limit` on the result. Identity bodies are returned without copying.
pub fn decode_body(content_encoding: Option<&str>, body: Bytes, limit: usize) -> Result<Bytes, DecodeError> {
    let codings = content_encoding
        .unwrap_or_default()
        .split(',')
        .filter_map(|token| Coding::parse(token).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let mut body = body;
    for coding in codings.into_iter().rev() {
        body = decompress(coding, &body, limit)?.into();
    }
    if body.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(body)
}

fn decompress(coding: Coding, input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let invalid = |source| DecodeError::Invalid { encoding: coding.name(), source };
    match coding {
        Coding::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(input), limit, coding),
        Coding::Deflate if is_zlib_header(input) => read_bounded(flate2::read::ZlibDecoder::new(input), limit, coding),
        Coding::Deflate => read_bounded(flate2::read::DeflateDecoder::new(input), limit, coding),
        Coding::Brotli => read_bounded(brotli::Decompressor::new(input, 8192), limit, coding),
        Coding::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(input).map_err(invalid)?;
            read_bounded(decoder, limit, coding)
        }
    }
}

/// Reads at most `limit + 1` bytes, so an oversized stream is detected without inflating it.
fn read_bounded(reader: impl Read, limit: usize, coding: Coding) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|source| DecodeError::Invalid { encoding: coding.name(), source })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

/// RFC 1950: compression method 8 and a header checksum divisible by 31. Anything else is
/// treated as raw deflate (RFC 1951), which some clients send despite the spec.
fn is_zlib_header(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// The body of the legacy `/api/{id}/store/` endpoint: JSON as is, or (old raven-js/raven-node)
/// base64 of JSON, or base64 of zlib-deflated JSON. `limit` bounds the inflated size.
pub fn legacy_store_body(body: Bytes, limit: usize) -> Result<Bytes, DecodeError> {
    if starts_with_brace(&body) {
        return Ok(body);
    }
    let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&compact))
        .map_err(DecodeError::InvalidBase64)?;
    if starts_with_brace(&decoded) {
        return Ok(decoded.into());
    }
    decompress(Coding::Deflate, &decoded, limit).map(Bytes::from)
}

fn starts_with_brace(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const JSON: &[u8] = br#"{"message":"hello"}"#;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).expect("in-memory write");
        encoder.finish().expect("in-memory write")
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("in-memory write");
        encoder.finish().expect("in-memory write")
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("in-memory write");
        encoder.finish().expect("in-memory write")
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            writer.write_all(data).expect("in-memory write");
        }
        out
    }

    fn decode(encoding: Option<&str>, body: Vec<u8>) -> Result<Bytes, DecodeError> {
        decode_body(encoding, Bytes::from(body), 1 << 20)
    }

    #[test]
    fn every_supported_coding_round_trips() {
        let cases: [(&str, Vec<u8>); 6] = [
            ("gzip", gzip(JSON)),
            ("x-gzip", gzip(JSON)),
            ("deflate", zlib(JSON)),
            ("deflate", raw_deflate(JSON)),
            ("br", brotli(JSON)),
            ("zstd", zstd::encode_all(JSON, 3).expect("in-memory encode")),
        ];
        for (encoding, body) in cases {
            let decoded = decode(Some(encoding), body).expect(encoding);
            assert_eq!(&decoded[..], JSON, "{encoding}");
        }
    }

    #[test]
    fn empty_identity_and_utf8_encodings_pass_the_body_through() {
        for encoding in [None, Some(""), Some("identity"), Some("UTF-8"), Some(" GZIP ")] {
            let body = if encoding == Some(" GZIP ") { gzip(JSON) } else { JSON.to_vec() };
            assert_eq!(&decode(encoding, body).expect("decodes")[..], JSON);
        }
    }

    #[test]
    fn stacked_codings_are_undone_in_reverse_order() {
        let body = brotli(&gzip(JSON));
        assert_eq!(&decode(Some("gzip, br"), body).expect("decodes")[..], JSON);
    }

    #[test]
    fn unknown_encodings_are_named_in_the_error() {
        let err = decode(Some("compress"), JSON.to_vec()).expect_err("unsupported");
        assert_eq!(err.to_string(), "unsupported content encoding \"compress\"");
    }

    #[test]
    fn garbage_is_an_invalid_body_for_each_coding() {
        for encoding in ["gzip", "deflate", "br", "zstd"] {
            let err = decode(Some(encoding), b"definitely not compressed".to_vec()).expect_err(encoding);
            assert!(matches!(err, DecodeError::Invalid { .. }), "{encoding}: {err}");
        }
    }

    #[test]
    fn gzip_bomb_is_cut_off_at_the_limit() {
        let bomb = gzip(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 64 << 10, "the bomb is tiny: {}", bomb.len());
        let err = decode_body(Some("gzip"), Bytes::from(bomb), 1 << 20).expect_err("too large");
        assert!(matches!(err, DecodeError::TooLarge { limit } if limit == 1 << 20));
    }

    #[test]
    fn bodies_exactly_at_the_limit_are_accepted() {
        let body = gzip(&[b'a'; 100]);
        assert_eq!(decode_body(Some("gzip"), Bytes::from(body), 100).expect("fits").len(), 100);
        let err = decode_body(None, Bytes::from_static(&[b'a'; 101]), 100).expect_err("too big");
        assert_eq!(err.to_string(), "body exceeds 100 bytes after decoding");
    }

    #[test]
    fn legacy_store_body_accepts_json_base64_and_base64_zlib() {
        let b64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
        let plain = legacy_store_body(Bytes::from_static(JSON), 1 << 20).expect("json");
        let based = legacy_store_body(Bytes::from(b64(JSON)), 1 << 20).expect("base64");
        let zipped = legacy_store_body(Bytes::from(b64(&zlib(JSON))), 1 << 20).expect("zlib");
        for body in [plain, based, zipped] {
            assert_eq!(&body[..], JSON);
        }
        assert!(legacy_store_body(Bytes::from_static(b"%%%"), 1 << 20).is_err());
    }
}
