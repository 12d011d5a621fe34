//! A fetched page's bytes as text, by the charset its `Content-Type`
//! names: UTF-8 (the default), or ISO-8859-1 and its labels, read as
//! windows-1252 as browsers do (the WHATWG Encoding Standard maps them so).
//! A byte that is not valid in the charset becomes U+FFFD: a page is kept
//! lossily rather than refused.

/// windows-1252's characters at 0x80..=0x9F; the five it leaves undefined
/// map to the C1 control of the same number, as the standard says.
const C1: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// The labels read as windows-1252.
const LATIN: [&str; 10] = [
    "iso-8859-1",
    "iso8859-1",
    "iso_8859-1",
    "latin1",
    "l1",
    "windows-1252",
    "cp1252",
    "x-cp1252",
    "us-ascii",
    "ascii",
];

/// The `charset` parameter of a `Content-Type` value, lowercased.
fn charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })
}

/// `bytes` as text in the charset `content_type` names; never fails.
pub(crate) fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let latin = content_type
        .and_then(charset)
        .is_some_and(|c| LATIN.contains(&c.as_str()));
    if latin {
        return bytes
            .iter()
            .map(|&b| match b {
                0x80..=0x9F => C1[usize::from(b - 0x80)],
                _ => char::from(b),
            })
            .collect();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_pages_are_decoded_by_their_charset_and_bad_utf8_kept_lossily() {
        let latin = b"Geb\xfchren: 10 \x80 \x96 Stra\xdfe";
        assert_eq!(
            decode(latin, Some("text/html; charset=ISO-8859-1")),
            "Gebühren: 10 € – Straße"
        );
        assert_eq!(
            decode(latin, Some("text/html;charset=\"windows-1252\"")),
            "Gebühren: 10 € – Straße"
        );
        // No charset, or UTF-8 named: not valid UTF-8, so kept lossily.
        assert_eq!(decode(b"Geb\xfchren", Some("text/html")), "Geb\u{FFFD}hren");
        assert_eq!(decode(b"Geb\xfchren", None), "Geb\u{FFFD}hren");
        assert_eq!(
            decode("Gebühren".as_bytes(), Some("text/html; charset=utf-8")),
            "Gebühren"
        );
    }
}
