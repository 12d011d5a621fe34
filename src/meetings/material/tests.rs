use super::*;
use crate::meetings::fixture::{fill, meeting};
use crate::store::Store;

#[test]
fn basic_sends_the_calendar_details_and_no_text_of_the_meeting() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let id = meeting(&mut store.conn, "s", 1_000_000, Consent::Basic);
    fill(&mut store.conn, id, "SECRET-BASIC");
    for purpose in [Purpose::Pre, Purpose::Post] {
        let m = gather(&store.conn, id, purpose).unwrap().unwrap();
        let text = m.render(100_000);
        assert!(!text.contains("SECRET-BASIC"), "{text}");
        assert!(!text.contains("PASSCODE"), "the link is never sent: {text}");
        assert!(text.contains("Meeting: Vendor review"), "{text}");
        assert!(text.contains("Boss (organizer), ann@example.com"), "{text}");
        assert!(text.contains("AGENDA: pick a vendor"), "{text}");
        assert!(text.contains("Where: Room 4"), "{text}");
        assert!(m.withheld.any());
    }
    let m = gather(&store.conn, id, Purpose::Post).unwrap().unwrap();
    assert_eq!(
        m.withheld.describe(),
        "1 note(s), 1 transcript(s), 1 decision(s), 1 action item(s)"
    );
    assert!(gather(&store.conn, 999, Purpose::Pre).unwrap().is_none());
}

#[test]
fn plus_sends_the_text_and_other_meetings_only_as_their_consent_allows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    // Two earlier meetings of the series: one plus, one basic.
    let open = meeting(&mut store.conn, "s", 1_000, Consent::Plus);
    fill(&mut store.conn, open, "SHARED");
    let closed = meeting(&mut store.conn, "s", 2_000, Consent::Basic);
    fill(&mut store.conn, closed, "PRIVATE");
    let id = meeting(&mut store.conn, "s", 1_000_000, Consent::Plus);
    fill(&mut store.conn, id, "OWN");

    let pre = gather(&store.conn, id, Purpose::Pre).unwrap().unwrap();
    let text = pre.render(100_000);
    assert!(text.contains("note OWN"), "{text}");
    assert!(
        !text.contains("transcript OWN"),
        "a pre-brief has no transcript"
    );
    assert!(text.contains("1970-01-01: decision SHARED"), "{text}");
    assert!(
        text.contains("action SHARED (owner: ann@example.com, open)"),
        "{text}"
    );
    assert!(!text.contains("PRIVATE"), "{text}");
    assert_eq!(
        pre.withheld.related, 2,
        "the basic meeting's action and decision"
    );

    let post = gather(&store.conn, id, Purpose::Post).unwrap().unwrap();
    let text = post.render(100_000);
    assert!(text.contains("transcript OWN"), "{text}");
    assert!(
        !text.contains("SHARED") && !text.contains("PRIVATE"),
        "{text}"
    );
    // A small budget cuts the transcript, and says so.
    let short = post.render(text.len() - 5);
    assert!(
        short.contains("more characters of the transcript left out"),
        "{short}"
    );
}
