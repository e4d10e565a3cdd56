//! CBOR as upstream's `tka` package speaks it.
//!
//! Encoding is fxamacker/cbor's CTAP2 canonical mode: shortest-form heads,
//! definite lengths only, no tags, map keys sorted bytewise by their
//! encoding (for text keys: shorter first, then bytewise).
//!
//! Decoding mirrors upstream's decoder options (`cborDecOpts` in tka.go) in
//! two passes, as fxamacker/cbor does:
//! 1. A well-formedness pass over the whole input ([`parse`]): truncation,
//!    trailing bytes, reserved additional information, stray breaks,
//!    indefinite lengths and tags anywhere (even inside fields that are
//!    later ignored), nesting deeper than 16, arrays over 4096 elements and
//!    maps over 1024 pairs are all rejected.
//! 2. Typed decoding into structs (`StructReader` and the `decode_*`
//!    helpers), which is lenient where upstream is lenient (non-minimal
//!    integers, keys out of order, unknown keys, a text key `"1"` matching
//!    field 1, arrays of small integers as byte strings, `null` and
//!    `undefined` as the zero value) and strict where it is strict
//!    (duplicate keys of the struct being decoded, type mismatches,
//!    integer overflow, invalid UTF-8 in a text string that is decoded).
//!
//! Compatibility rule: duplicate keys are only detected in maps that are
//! decoded into a struct or a Go map; duplicates inside the value of an
//! unknown, skipped field are not (upstream skips such values unparsed).

use std::collections::BTreeMap;

/// Upstream's `MaxNestedLevels`.
pub const MAX_NESTED_LEVELS: usize = 16;
/// Upstream's `MaxArrayElements`.
pub const MAX_ARRAY_ELEMENTS: u64 = 4096;
/// Upstream's `MaxMapPairs`.
pub const MAX_MAP_PAIRS: u64 = 1024;

/// Why a CBOR input was rejected (carried by [`super::Error::Cbor`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborProblem {
    #[error("empty input")]
    Empty,
    #[error("input ends in the middle of a CBOR item (truncated)")]
    Truncated,
    #[error("{count} bytes of extraneous data after the CBOR item, starting at byte {offset}")]
    TrailingBytes { count: usize, offset: usize },
    #[error("malformed CBOR at byte {offset}: {what}")]
    Malformed { offset: usize, what: &'static str },
    #[error("indefinite-length {what} at byte {offset} is not allowed")]
    IndefiniteLength { offset: usize, what: &'static str },
    #[error("CBOR tag at byte {offset} is not allowed")]
    Tag { offset: usize },
    #[error("CBOR nesting deeper than {MAX_NESTED_LEVELS} levels")]
    TooDeep,
    #[error("CBOR array with {0} elements exceeds the limit of {MAX_ARRAY_ELEMENTS}")]
    ArrayTooLong(u64),
    #[error("CBOR map with {0} pairs exceeds the limit of {MAX_MAP_PAIRS}")]
    MapTooLong(u64),
    #[error("duplicate map key {key} in {context}")]
    DuplicateKey { key: String, context: String },
    #[error("{context}: expected {expected}, found {found}")]
    Type {
        context: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{context}: integer {value} does not fit {target}")]
    Overflow {
        context: String,
        value: String,
        target: &'static str,
    },
    #[error("{context}: invalid UTF-8 in a text string")]
    InvalidUtf8 { context: String },
}

/// A well-formed CBOR data item, as parsed by [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the value is `-1 - n`.
    Negative(u64),
    Bytes(Vec<u8>),
    /// Major type 3, raw bytes: UTF-8 is checked only where a text string
    /// is actually decoded, as upstream does.
    Text(Vec<u8>),
    Array(Vec<Value>),
    /// Pairs in input order (duplicates are kept for typed decoding to judge).
    Map(Vec<(Value, Value)>),
    Bool(bool),
    Null,
    Undefined,
    /// Other simple values and floats, which no tka field accepts.
    OtherPrimitive,
}

impl Value {
    /// The CBOR type name used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Unsigned(_) => "positive integer",
            Value::Negative(_) => "negative integer",
            Value::Bytes(_) => "byte string",
            Value::Text(_) => "text string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Bool(_) | Value::OtherPrimitive => "primitive",
            Value::Null => "null",
            Value::Undefined => "undefined",
        }
    }

    /// `null` and `undefined` decode to the zero value of any field.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Null | Value::Undefined)
    }
}

/// Parses exactly one well-formed CBOR item under upstream's limits.
pub fn parse(input: &[u8]) -> Result<Value, super::Error> {
    if input.is_empty() {
        return Err(CborProblem::Empty.into());
    }
    let mut p = Parser { input, pos: 0 };
    let value = p.item(1)?;
    if p.pos != input.len() {
        return Err(CborProblem::TrailingBytes {
            count: input.len() - p.pos,
            offset: p.pos,
        }
        .into());
    }
    Ok(value)
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CborProblem> {
        let end = self.pos.checked_add(n).ok_or(CborProblem::Truncated)?;
        let slice = self
            .input
            .get(self.pos..end)
            .ok_or(CborProblem::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, CborProblem> {
        Ok(self.take(1)?[0])
    }

    /// Reads the argument of a head with additional information `ai`.
    /// Returns `None` for indefinite length (31).
    fn argument(&mut self, ai: u8, start: usize) -> Result<Option<u64>, CborProblem> {
        Ok(Some(match ai {
            0..=23 => u64::from(ai),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.fixed()?)),
            26 => u64::from(u32::from_be_bytes(self.fixed()?)),
            27 => u64::from_be_bytes(self.fixed()?),
            31 => return Ok(None),
            _ => {
                return Err(CborProblem::Malformed {
                    offset: start,
                    what: "reserved additional information",
                })
            }
        }))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], CborProblem> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn length(&mut self, ai: u8, start: usize, what: &'static str) -> Result<u64, CborProblem> {
        self.argument(ai, start)?
            .ok_or(CborProblem::IndefiniteLength {
                offset: start,
                what,
            })
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborProblem> {
        let start = self.pos;
        let initial = self.byte()?;
        let (major, ai) = (initial >> 5, initial & 0x1f);
        match major {
            0 => Ok(Value::Unsigned(self.length(ai, start, "integer")?)),
            1 => Ok(Value::Negative(self.length(ai, start, "integer")?)),
            2 | 3 => {
                let what = if major == 2 {
                    "byte string"
                } else {
                    "text string"
                };
                let len = self.length(ai, start, what)?;
                let len = usize::try_from(len).map_err(|_| CborProblem::Truncated)?;
                let data = self.take(len)?.to_vec();
                Ok(if major == 2 {
                    Value::Bytes(data)
                } else {
                    Value::Text(data)
                })
            }
            4 => {
                if depth > MAX_NESTED_LEVELS {
                    return Err(CborProblem::TooDeep);
                }
                let len = self.length(ai, start, "array")?;
                if len > MAX_ARRAY_ELEMENTS {
                    return Err(CborProblem::ArrayTooLong(len));
                }
                let mut items = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                if depth > MAX_NESTED_LEVELS {
                    return Err(CborProblem::TooDeep);
                }
                let len = self.length(ai, start, "map")?;
                if len > MAX_MAP_PAIRS {
                    return Err(CborProblem::MapTooLong(len));
                }
                let mut pairs = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    let k = self.item(depth + 1)?;
                    let v = self.item(depth + 1)?;
                    pairs.push((k, v));
                }
                Ok(Value::Map(pairs))
            }
            6 => {
                // Well-formedness first: a truncated tag head is truncation.
                self.argument(ai, start)?;
                Err(CborProblem::Tag { offset: start })
            }
            _ => match ai {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                23 => Ok(Value::Undefined),
                0..=19 => Ok(Value::OtherPrimitive),
                24 => {
                    if self.byte()? < 32 {
                        return Err(CborProblem::Malformed {
                            offset: start,
                            what: "invalid two-byte simple value",
                        });
                    }
                    Ok(Value::OtherPrimitive)
                }
                25 => self.take(2).map(|_| Value::OtherPrimitive),
                26 => self.take(4).map(|_| Value::OtherPrimitive),
                27 => self.take(8).map(|_| Value::OtherPrimitive),
                31 => Err(CborProblem::Malformed {
                    offset: start,
                    what: "unexpected \"break\" code",
                }),
                _ => Err(CborProblem::Malformed {
                    offset: start,
                    what: "reserved additional information",
                }),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Typed decoding
// ---------------------------------------------------------------------------

fn type_error(context: &str, expected: &'static str, found: &Value) -> CborProblem {
    CborProblem::Type {
        context: context.to_string(),
        expected,
        found: found.type_name(),
    }
}

/// A map key as fxamacker/cbor sees it when decoding a struct.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum StructKey {
    Field(u64),
    UnknownInt(i64),
    UnknownText(String),
}

/// Walks a CBOR map being decoded into a struct whose fields are keyed by
/// small integers (`keyasint`), with upstream's duplicate detection.
pub(crate) struct StructReader<'a> {
    fields: BTreeMap<u64, &'a Value>,
}

impl<'a> StructReader<'a> {
    /// Reads `value` as a struct with the given field numbers. `Ok(None)`
    /// for `null`/`undefined` (a nil pointer, or a zero struct).
    pub(crate) fn new(
        value: &'a Value,
        known: &[u64],
        context: &str,
    ) -> Result<Option<Self>, CborProblem> {
        let pairs = match value {
            Value::Map(pairs) => pairs,
            v if v.is_nil() => return Ok(None),
            other => return Err(type_error(context, "map", other)),
        };
        let mut seen: Vec<StructKey> = Vec::with_capacity(pairs.len());
        let mut fields = BTreeMap::new();
        for (k, v) in pairs {
            let key = match k {
                Value::Unsigned(n) => {
                    // Keys are compared as Go int64: a key above 2^63 wraps.
                    let as_int = *n as i64;
                    match known.iter().find(|&&f| f as i64 == as_int) {
                        Some(&f) => StructKey::Field(f),
                        None => StructKey::UnknownInt(as_int),
                    }
                }
                Value::Negative(n) => {
                    let Ok(n) = i64::try_from(*n) else {
                        return Err(CborProblem::Overflow {
                            context: context.to_string(),
                            value: format!("-1-{n}"),
                            target: "int64 map key",
                        });
                    };
                    StructKey::UnknownInt(-1 - n)
                }
                Value::Text(raw) => {
                    let text = std::str::from_utf8(raw).map_err(|_| CborProblem::InvalidUtf8 {
                        context: context.to_string(),
                    })?;
                    match known.iter().find(|f| f.to_string() == text) {
                        Some(&f) => StructKey::Field(f),
                        None => StructKey::UnknownText(text.to_string()),
                    }
                }
                other => return Err(type_error(context, "integer or text map key", other)),
            };
            if seen.contains(&key) {
                let shown = match &key {
                    StructKey::Field(f) => f.to_string(),
                    StructKey::UnknownInt(i) => i.to_string(),
                    StructKey::UnknownText(t) => format!("{t:?}"),
                };
                return Err(CborProblem::DuplicateKey {
                    key: shown,
                    context: context.to_string(),
                });
            }
            if let StructKey::Field(f) = key {
                fields.insert(f, v);
            }
            seen.push(key);
        }
        Ok(Some(StructReader { fields }))
    }

    /// The value of field `n`, if present.
    pub(crate) fn field(&self, n: u64) -> Option<&'a Value> {
        self.fields.get(&n).copied()
    }
}

/// Decodes an unsigned integer field of at most `max` (`null` is 0).
pub(crate) fn decode_uint(
    value: Option<&Value>,
    max: u64,
    target: &'static str,
    context: &str,
) -> Result<u64, CborProblem> {
    match value {
        None => Ok(0),
        Some(Value::Unsigned(n)) if *n <= max => Ok(*n),
        Some(Value::Unsigned(n)) => Err(CborProblem::Overflow {
            context: context.to_string(),
            value: n.to_string(),
            target,
        }),
        Some(v) if v.is_nil() => Ok(0),
        Some(other) => Err(type_error(context, "unsigned integer", other)),
    }
}

/// Decodes a pointer-to-unsigned field: absent or `null` is `None`.
pub(crate) fn decode_opt_uint(
    value: Option<&Value>,
    context: &str,
) -> Result<Option<u64>, CborProblem> {
    match value {
        None => Ok(None),
        Some(v) if v.is_nil() => Ok(None),
        Some(v) => decode_uint(Some(v), u64::MAX, "uint", context).map(Some),
    }
}

/// Decodes a `[]byte` field: `None` is Go's nil slice (absent, `null` or
/// `undefined`); an array of integers 0..=255 is accepted as bytes.
pub(crate) fn decode_bytes(
    value: Option<&Value>,
    context: &str,
) -> Result<Option<Vec<u8>>, CborProblem> {
    match value {
        None => Ok(None),
        Some(Value::Bytes(b)) => Ok(Some(b.clone())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| decode_uint(Some(item), 255, "uint8", context).map(|n| n as u8))
            .collect::<Result<Vec<u8>, _>>()
            .map(Some),
        Some(v) if v.is_nil() => Ok(None),
        Some(other) => Err(type_error(context, "byte string", other)),
    }
}

/// Decodes a Go `string`: `null` is the empty string.
pub(crate) fn decode_text(value: &Value, context: &str) -> Result<String, CborProblem> {
    match value {
        Value::Text(raw) => String::from_utf8(raw.clone()).map_err(|_| CborProblem::InvalidUtf8 {
            context: context.to_string(),
        }),
        v if v.is_nil() => Ok(String::new()),
        other => Err(type_error(context, "text string", other)),
    }
}

/// Decodes a `map[string]string` field: `None` is a nil map.
pub fn decode_text_map(
    value: Option<&Value>,
    context: &str,
) -> Result<Option<BTreeMap<String, String>>, super::Error> {
    Ok(text_map(value, context)?)
}

/// [`decode_text_map`], for the core's own struct decoders.
pub(crate) fn text_map(
    value: Option<&Value>,
    context: &str,
) -> Result<Option<BTreeMap<String, String>>, CborProblem> {
    let pairs = match value {
        None => return Ok(None),
        Some(Value::Map(pairs)) => pairs,
        Some(v) if v.is_nil() => return Ok(None),
        Some(other) => return Err(type_error(context, "map", other)),
    };
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        let key = match k {
            Value::Text(_) => decode_text(k, context)?,
            other => return Err(type_error(context, "text string map key", other)),
        };
        if out.contains_key(&key) {
            return Err(CborProblem::DuplicateKey {
                key: format!("{key:?}"),
                context: context.to_string(),
            });
        }
        let val = decode_text(v, context)?;
        out.insert(key, val);
    }
    Ok(Some(out))
}

/// Decodes a slice field: `None` is a nil slice.
pub(crate) fn decode_array<'a, T>(
    value: Option<&'a Value>,
    context: &str,
    mut element: impl FnMut(&'a Value) -> Result<T, CborProblem>,
) -> Result<Option<Vec<T>>, CborProblem> {
    match value {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(&mut element)
            .collect::<Result<Vec<T>, _>>()
            .map(Some),
        Some(v) if v.is_nil() => Ok(None),
        Some(other) => Err(type_error(context, "array", other)),
    }
}

// ---------------------------------------------------------------------------
// Canonical encoding
// ---------------------------------------------------------------------------

/// Writes CTAP2-canonical CBOR.
#[derive(Default)]
pub struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Encoder {
            out: Vec::with_capacity(128),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// A head with the shortest argument encoding.
    pub fn head(&mut self, major: u8, arg: u64) {
        let m = major << 5;
        if arg < 24 {
            self.out.push(m | arg as u8);
        } else if arg <= 0xff {
            self.out.extend_from_slice(&[m | 24, arg as u8]);
        } else if arg <= 0xffff {
            self.out.push(m | 25);
            self.out.extend_from_slice(&(arg as u16).to_be_bytes());
        } else if arg <= 0xffff_ffff {
            self.out.push(m | 26);
            self.out.extend_from_slice(&(arg as u32).to_be_bytes());
        } else {
            self.out.push(m | 27);
            self.out.extend_from_slice(&arg.to_be_bytes());
        }
    }

    pub fn uint(&mut self, n: u64) {
        self.head(0, n);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.out.extend_from_slice(b);
    }

    /// A Go `[]byte`: nil is `null`, empty is `0x40`.
    pub fn opt_bytes(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => self.bytes(b),
            None => self.null(),
        }
    }

    pub fn text(&mut self, s: &str) {
        self.head(3, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    pub fn null(&mut self) {
        self.out.push(0xf6);
    }

    pub fn array_header(&mut self, len: usize) {
        self.head(4, len as u64);
    }

    pub fn map_header(&mut self, len: usize) {
        self.head(5, len as u64);
    }

    /// A `map[string]string` with keys sorted by their encoding.
    pub fn text_map(&mut self, map: &BTreeMap<String, String>) {
        let mut entries: Vec<(Vec<u8>, &String)> = map
            .iter()
            .map(|(k, v)| {
                let mut e = Encoder::new();
                e.text(k);
                (e.into_bytes(), v)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.map_header(entries.len());
        for (k, v) in entries {
            self.out.extend_from_slice(&k);
            self.text(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tka::Error;

    fn hex(s: &str) -> Vec<u8> {
        crate::tka::hex::decode(s).unwrap()
    }

    #[test]
    fn heads_are_shortest() {
        for (n, want) in [
            (0u64, "00"),
            (23, "17"),
            (24, "1818"),
            (255, "18ff"),
            (256, "190100"),
            (65536, "1a00010000"),
            (1 << 32, "1b0000000100000000"),
        ] {
            let mut e = Encoder::new();
            e.uint(n);
            assert_eq!(e.into_bytes(), hex(want), "{n}");
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!(matches!(parse(&[]), Err(Error::Cbor(CborProblem::Empty))));
        assert!(matches!(
            parse(&hex("1c")),
            Err(Error::Cbor(CborProblem::Malformed {
                offset: 0,
                what: "reserved additional information"
            }))
        ));
        assert!(matches!(
            parse(&hex("ff")),
            Err(Error::Cbor(CborProblem::Malformed { .. }))
        ));
        assert!(matches!(
            parse(&hex("5f")),
            Err(Error::Cbor(CborProblem::IndefiniteLength { .. }))
        ));
        assert!(matches!(
            parse(&hex("c240")),
            Err(Error::Cbor(CborProblem::Tag { .. }))
        ));
        assert!(matches!(
            parse(&hex("4201")),
            Err(Error::Cbor(CborProblem::Truncated))
        ));
        assert!(matches!(
            parse(&hex("0000")),
            Err(Error::Cbor(CborProblem::TrailingBytes {
                count: 1,
                offset: 1
            }))
        ));
        assert!(matches!(
            parse(&hex("f801")),
            Err(Error::Cbor(CborProblem::Malformed { .. }))
        ));
        // A huge claimed length is truncation, not an allocation.
        assert!(matches!(
            parse(&hex("5bffffffffffffffff")),
            Err(Error::Cbor(CborProblem::Truncated))
        ));
        assert!(matches!(
            parse(&hex("9b0000000000001001")),
            Err(Error::Cbor(CborProblem::ArrayTooLong(4097)))
        ));
    }

    #[test]
    fn depth_limit_counts_containers() {
        let ok = [vec![0x81u8; 16], vec![0x00]].concat();
        assert!(parse(&ok).is_ok());
        let deep = [vec![0x81u8; 17], vec![0x00]].concat();
        assert!(matches!(
            parse(&deep),
            Err(Error::Cbor(CborProblem::TooDeep))
        ));
    }

    #[test]
    fn struct_reader_detects_duplicates() {
        let v = parse(&hex("a2010161310a")).unwrap();
        assert!(matches!(
            StructReader::new(&v, &[1], "t"),
            Err(CborProblem::DuplicateKey { .. })
        ));
        let v = parse(&hex("a209010902")).unwrap();
        assert!(matches!(
            StructReader::new(&v, &[1], "t"),
            Err(CborProblem::DuplicateKey { .. })
        ));
        let v = parse(&hex("a1410101")).unwrap();
        assert!(matches!(
            StructReader::new(&v, &[1], "t"),
            Err(CborProblem::Type { .. })
        ));
    }
}
