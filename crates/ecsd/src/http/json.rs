//! Request bodies, parsed with Huawei-shaped errors instead of the framework's plain-text
//! rejections (query strings: `app::query`).

use ecs_model::Error;
use ecs_types::Code;
use serde::de::DeserializeOwned;

/// Deepest nesting of objects and arrays accepted; the deepest legitimate body has 4 levels.
pub const MAX_DEPTH: usize = 32;

/// The deepest nesting in a JSON text (strings, and escapes inside them, do not count).
fn depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses a JSON body: an empty body is `Common.0002`, anything unparsable or nested deeper
/// than [`MAX_DEPTH`] `Ecs.0005` with an explanation (position and expected type).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::code(Code::Common0002));
    }
    if depth(body) > MAX_DEPTH {
        return Err(Error::invalid(format!("request body is illegal: nested deeper than {MAX_DEPTH} levels.")));
    }
    serde_json::from_slice(body).map_err(|e| Error::invalid(format!("request body is illegal: {e}.")))
}

/// Like [`parse`], but rejected with Nova's `badRequest` shape (for the `/v2.1` APIs).
pub fn parse_nova<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    parse(body).map_err(|e| Error::new(Code::NovaBadRequest, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert_eq!(depth(br#"{"a": [1, {"b": "[[[{{{"}]}"#), 3);
        assert_eq!(depth(br#"{"a": "\"[["}"#), 1);
        assert_eq!(depth(b"[]"), 1);
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse::<serde_json::Value>(deep.as_bytes()).unwrap_err().code, Code::Ecs0005);
        assert_eq!(parse::<serde_json::Value>(b"  ").unwrap_err().code, Code::Common0002);
    }
}
