//! CBOR for locksmith's own exchange formats (the envelope, node exports,
//! spare pages, fountain part headers and the structural guess at a raw
//! artifact's kind). They are read and written by the strict core codec
//! ([`crate::tka::cbor`]): one parser, one set of limits (nesting, array
//! and map sizes), definite lengths and shortest-form heads on the way out.
//! The only other CBOR code in the tree is the `minicbor` decoding of the
//! `ur` crate's own fountain `Part` type, which that crate's API requires.

pub use crate::tka::cbor::{parse, CborProblem, Encoder, Value};

// The exchange formats' depth cap is the core parser's.
const _: () = assert!(crate::limits::MAX_CBOR_DEPTH == crate::tka::cbor::MAX_NESTED_LEVELS);

/// An unsigned integer value.
pub fn uint(n: u64) -> Value {
    Value::Unsigned(n)
}

/// The value as an unsigned integer, if it is one.
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Unsigned(n) => Some(*n),
        _ => None,
    }
}

/// The entry under integer key `key` of a map's entries.
pub fn map_get(entries: &[(Value, Value)], key: u64) -> Option<&Value> {
    entries
        .iter()
        .find_map(|(k, v)| (as_u64(k) == Some(key)).then_some(v))
}

/// Encodes `value` with definite lengths and shortest-form heads, map
/// entries in their given order. `None` for what cannot be written back
/// faithfully: text that is not UTF-8, floats and other simple values.
pub fn encode(value: &Value) -> Option<Vec<u8>> {
    let mut e = Encoder::new();
    write(&mut e, value)?;
    Some(e.into_bytes())
}

fn write(e: &mut Encoder, value: &Value) -> Option<()> {
    match value {
        Value::Unsigned(n) => e.uint(*n),
        Value::Negative(n) => e.head(1, *n),
        Value::Bytes(b) => e.bytes(b),
        Value::Text(t) => e.text(std::str::from_utf8(t).ok()?),
        Value::Array(items) => {
            e.array_header(items.len());
            for item in items {
                write(e, item)?;
            }
        }
        Value::Map(entries) => {
            e.map_header(entries.len());
            for (k, v) in entries {
                write(e, k)?;
                write(e, v)?;
            }
        }
        Value::Bool(b) => e.head(7, if *b { 21 } else { 20 }),
        Value::Null => e.null(),
        Value::Undefined => e.head(7, 23),
        Value::OtherPrimitive => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_it_parses() {
        let v = Value::Array(vec![
            uint(0),
            uint(24),
            uint(70_000),
            Value::Negative(9),
            Value::Bytes(vec![1, 2, 3]),
            Value::Text(b"lks".to_vec()),
            Value::Map(vec![(uint(5), Value::Bool(true)), (uint(1), Value::Null)]),
            Value::Undefined,
            Value::Bool(false),
        ]);
        let bytes = encode(&v).expect("encodable");
        assert_eq!(&bytes[..4], &[0x89, 0x00, 0x18, 24]);
        assert_eq!(parse(&bytes).expect("parses"), v);
    }

    #[test]
    fn refuses_what_it_cannot_write_back() {
        assert_eq!(encode(&Value::OtherPrimitive), None);
        assert_eq!(encode(&Value::Text(vec![0xff])), None);
    }
}
