//! JSON written straight into a buffer, for the response that dominates search load: a
//! LivePerson history page holds hundreds of messages, each a dozen short keys and
//! values. Through serde every key is a string to escape and every value a trait call;
//! here keys are copied as literal bytes and strings are escaped eight bytes at a step.
//! Types written this way also derive `Serialize`, and tests hold both outputs equal.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// Room reserved before writing: a typical search page (about 30 KiB at ten
/// conversations) is written without regrowing and copying the buffer.
pub(crate) const INITIAL_CAPACITY: usize = 64 * 1024;

/// A value that writes itself as JSON, byte for byte what serde_json writes for it.
pub trait WriteJson {
    /// Appends this value's JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>);
}

/// A `200 OK` JSON body written through [`WriteJson`].
pub struct WrittenJson<T>(pub T);

impl<T: WriteJson> IntoResponse for WrittenJson<T> {
    fn into_response(self) -> Response {
        let mut bytes = Vec::with_capacity(INITIAL_CAPACITY);
        self.0.write_json(&mut bytes);
        json_response(bytes)
    }
}

/// A `200 OK` response carrying JSON already written.
pub(crate) fn json_response(bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        bytes,
    )
        .into_response()
}

/// The JSON of `value` as a `String`, for tests and callers that want text.
pub fn to_string<T: WriteJson + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    value.write_json(&mut out);
    String::from_utf8(out).expect("WriteJson writes UTF-8")
}

/// A byte of `word` (eight string bytes) that JSON must escape: a control character,
/// `"` or `\`. The classic SWAR tests: a byte below 0x20, or equal to 0x22 or 0x5C.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    below_space | zero_byte(word ^ (ONES * b'"' as u64)) | zero_byte(word ^ (ONES * b'\\' as u64)) != 0
}

/// Appends `byte`'s escape, as serde_json spells it.
fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]),
    }
}

/// Appends `text` as a quoted JSON string.
pub fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut clean_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        if let Some(chunk) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if !needs_escape(word) {
                at += 8;
                continue;
            }
        }
        let byte = bytes[at];
        if byte < 0x20 || byte == b'"' || byte == b'\\' {
            out.extend_from_slice(&bytes[clean_from..at]);
            escape(out, byte);
            clean_from = at + 1;
        }
        at += 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.push(b'"');
}

/// Appends `ascii` quoted without looking for bytes to escape: only for text lethe
/// writes itself from digits and punctuation, or literals in its own code.
pub fn unescaped_ascii(out: &mut Vec<u8>, ascii: &[u8]) {
    debug_assert!(ascii
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'));
    out.reserve(ascii.len() + 2);
    out.push(b'"');
    out.extend_from_slice(ascii);
    out.push(b'"');
}

/// Appends a JSON integer.
pub fn integer(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        integer(out, *self);
    }
}

impl WriteJson for u64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        integer(out, *self);
    }
}

impl<T: WriteJson + ?Sized> WriteJson for &T {
    fn write_json(&self, out: &mut Vec<u8>) {
        (**self).write_json(out);
    }
}

impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Some(value) => value.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out);
        }
        out.push(b']');
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        self.as_slice().write_json(out);
    }
}

impl WriteJson for serde_json::Value {
    fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(&mut *out, self).expect("a JSON value always serialises into memory");
    }
}

/// Writes an object's members in order: `object(out, |o| { o.member("a", &1); … })`.
pub fn object(out: &mut Vec<u8>, members: impl FnOnce(&mut Members<'_>)) {
    out.push(b'{');
    let mut object = Members { out, first: true };
    members(&mut object);
    object.out.push(b'}');
}

/// The members of an object being written.
pub struct Members<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Members<'_> {
    /// Writes `"name":value`; `name` needs no escaping (every caller's is a literal).
    pub fn member(&mut self, name: &str, value: &(impl WriteJson + ?Sized)) {
        self.name(name);
        value.write_json(self.out);
    }

    /// Writes `"name":"value"` for a literal of lethe's code (a wire spelling such as
    /// `TEXT_PLAIN`): a message writes several, and none needs escaping.
    pub fn literal(&mut self, name: &str, value: &'static str) {
        self.name(name);
        unescaped_ascii(self.out, value.as_bytes());
    }

    /// Writes `"name":value` when `value` is present, as `skip_serializing_if`.
    pub fn member_if<T: WriteJson>(&mut self, name: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.member(name, value);
        }
    }

    /// Writes `"name":` with a name that needs escaping (one that came from data).
    pub fn escaped_member(&mut self, name: &str, value: &(impl WriteJson + ?Sized)) {
        self.separate();
        string(self.out, name);
        self.out.push(b':');
        value.write_json(self.out);
    }

    fn name(&mut self, name: &str) {
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_escape_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = (0u8..0x80).map(|b| format!("ab{}cdefghij", b as char)).collect();
        samples.extend([
            String::new(),
            "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} é 日本 😀 </script> \u{7f}".into(),
            "a".repeat(100) + "\u{1f}",
            "\"\"\"\"\"\"\"\"\\".into(),
            "1234567".into(),
            "12345678".into(),
            "123456789\n".into(),
        ]);
        for text in samples {
            assert_eq!(
                to_string(text.as_str()),
                serde_json::to_string(&text).unwrap(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn objects_options_lists_and_values_match_serde_json() {
        let mut out = Vec::new();
        object(&mut out, |o| {
            o.member("n", &-5i64);
            o.member("u", &u64::MAX);
            o.member_if("skipped", &None::<String>);
            o.member("null", &None::<String>);
            o.member("list", &vec![Some("x".to_owned()), None]);
            o.escaped_member("odd \"key\"", &json!({"z": 1, "a": [true, 2.5]}));
        });
        let expected = json!({
            "n": -5, "u": u64::MAX, "null": null, "list": ["x", null],
            "odd \"key\"": {"z": 1, "a": [true, 2.5]}
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }
}
