//! The encodings a stored file may have come in. The store keeps every
//! file's text as UTF-8 and, for a file that was not UTF-8, the name of its
//! encoding (`files.encoding`); everything that writes a file back out
//! (export, takeover, the jobs' working copy) encodes it here, so the bytes
//! are the ones that came in.
//!
//! Besides UTF-8 only Windows-1252 is recognised: it is what editors on
//! Windows save "ANSI" text in, and it decodes every printable Latin-1
//! (ISO-8859-1) byte to the same character. The five bytes it leaves
//! undefined, and control characters other than tab, line feed, form feed
//! and carriage return, make a file binary, so decoding and encoding again
//! always gives the same bytes.

use std::borrow::Cow;

/// The stored name of Windows-1252 (as the WHATWG Encoding Standard spells it).
pub const WINDOWS_1252: &str = "windows-1252";

/// Characters of the bytes 0x80..=0x9F in Windows-1252; `None` where the
/// encoding leaves a byte undefined. Every other byte is its Latin-1 code point.
const HIGH_CONTROLS: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// A file's bytes as text: UTF-8 as it is (encoding `None`), else
/// Windows-1252 when every byte is a plausible character of it. `None` when
/// the bytes are not text (a NUL byte, or neither encoding fits).
pub fn decode(bytes: Vec<u8>) -> Option<(String, Option<&'static str>)> {
    if bytes.contains(&0) {
        return None;
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return Some((text, None)),
        Err(e) => e.into_bytes(),
    };
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    for &b in &bytes {
        let c = match b {
            b'\t' | b'\n' | b'\r' | 0x0c => char::from(b),
            0x00..=0x1f | 0x7f => return None,
            0x80..=0x9f => HIGH_CONTROLS[usize::from(b - 0x80)]?,
            _ => char::from(b),
        };
        text.push(c);
    }
    Some((text, Some(WINDOWS_1252)))
}

/// A character that the file's encoding cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ch:?} (U+{code:04X}) cannot be written in {encoding}, the encoding of the file")]
pub struct Unrepresentable {
    pub ch: char,
    pub code: u32,
    pub encoding: String,
}

/// `text` in `encoding` (`None` is UTF-8): the bytes a file is written back as.
pub fn encode<'a>(text: &'a str, encoding: Option<&str>) -> Result<Cow<'a, [u8]>, Unrepresentable> {
    let Some(encoding) = encoding else {
        return Ok(Cow::Borrowed(text.as_bytes()));
    };
    if text.is_ascii() {
        return Ok(Cow::Borrowed(text.as_bytes()));
    }
    let unrepresentable = |ch: char| Unrepresentable {
        ch,
        code: u32::from(ch),
        encoding: encoding.to_string(),
    };
    if encoding != WINDOWS_1252 {
        // An encoding this build does not know: nothing is guessed.
        return text
            .chars()
            .find(|c| !c.is_ascii())
            .map_or(Ok(Cow::Borrowed(text.as_bytes())), |c| {
                Err(unrepresentable(c))
            });
    }
    let mut bytes = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let code = u32::from(ch);
        let byte = if code < 0x80 || (0xa0..=0xff).contains(&code) {
            u8::try_from(code).ok()
        } else {
            HIGH_CONTROLS
                .iter()
                .position(|c| *c == Some(ch))
                .and_then(|i| u8::try_from(0x80 + i).ok())
        };
        bytes.push(byte.ok_or_else(|| unrepresentable(ch))?);
    }
    Ok(Cow::Owned(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_stays_and_windows_1252_round_trips_byte_for_byte() {
        assert_eq!(decode("caf\u{e9}".into()), Some(("caf\u{e9}".into(), None)));
        let legacy = b"\x93quoted\x94 \x80 caf\xe9\r\n\t\x0c".to_vec();
        let (text, encoding) = decode(legacy.clone()).unwrap();
        assert_eq!(text, "\u{201c}quoted\u{201d} \u{20ac} caf\u{e9}\r\n\t\x0c");
        assert_eq!(encoding, Some(WINDOWS_1252));
        assert_eq!(encode(&text, encoding).unwrap().as_ref(), legacy.as_slice());
        // Every defined byte round trips.
        let all: Vec<u8> = (0x20..=0xffu8)
            .filter(|b| *b != 0x7f && !matches!(b, 0x81 | 0x8d | 0x8f | 0x90 | 0x9d))
            .collect();
        let (text, encoding) = decode(all.clone()).unwrap();
        assert_eq!(encode(&text, encoding).unwrap().as_ref(), all.as_slice());
    }

    #[test]
    fn binary_stays_binary() {
        assert_eq!(decode(b"a\x00b".to_vec()), None);
        assert_eq!(decode(b"caf\xe9\x01".to_vec()), None);
        assert_eq!(decode(b"\xe9\x81".to_vec()), None);
        assert_eq!(decode(b"\x89PNG\r\n\x1a\n".to_vec()), None);
    }

    #[test]
    fn a_character_the_encoding_lacks_is_refused_not_lost() {
        let err = encode("caf\u{e9} \u{1f44b}", Some(WINDOWS_1252)).unwrap_err();
        assert_eq!(err.ch, '\u{1f44b}');
        assert!(err.to_string().contains("windows-1252"), "{err}");
        assert_eq!(encode("abc", Some("koi8-r")).unwrap().as_ref(), b"abc");
        assert!(encode("\u{e9}", Some("koi8-r")).is_err());
    }
}
