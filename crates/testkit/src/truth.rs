//! Reading the corpus truth files and our JSON dumps: a binary string is a
//! JSON string when it is UTF-8, else `{"base64": "..."}`.

use serde_json::Value;

/// The bytes of a binary string as the truth and the dump write it.
pub fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) => base64(o["base64"].as_str().expect("base64 string")),
        _ => panic!("not a binary string: {v}"),
    }
}

/// Standard base64 (padding optional).
pub fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 {c}"),
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        acc = acc << 6 | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::base64("AGJpbv9rZXmA"), b"\0bin\xffkey\x80");
        assert_eq!(super::base64("YQ=="), b"a");
    }
}
