//! Hostile ZIP files: entries that escape the workspace, links out of the
//! archive and ZIP bombs are refused before anything is stored.

use crate::common::*;

/// Imports `zip` as workspace `evil`, expecting exit 1; returns stderr.
fn refused(k: &Kollega, zip: &std::path::Path) -> String {
    let err = k.import_fails(zip, "evil", &[]);
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("hint: ")), "{err}");
    err
}

/// Whether `stderr` names `entry`, as written or quoted with escapes.
fn names_entry(stderr: &str, entry: &str) -> bool {
    stderr.contains(entry) || stderr.contains(&format!("{entry:?}"))
}

#[test]
fn zip_entries_escaping_the_workspace_are_refused_and_nothing_is_stored() {
    for (entry, why) in [
        ("../evil.txt", "climbs out"),
        ("/abs.txt", "absolute"),
        ("C:/x.txt", "drive letter"),
        ("a\\..\\..\\x.txt", "climbs out"),
        ("docs/../../evil.txt", "climbs out"),
    ] {
        // Batches of one file, so the good file before the bad entry is
        // committed before the import fails; it must still be undone.
        let k = Kollega::new().env("KOLLEGA_IMPORT_BATCH_FILES", "1");
        let zip = k.scratch("evil.zip");
        write_zip(
            &zip,
            &[
                ZipEntry::File("a-good.txt", b"fine\n"),
                ZipEntry::File(entry, b"pwned\n"),
                ZipEntry::File("z-good.txt", b"fine too\n"),
            ],
        );

        let err = refused(&k, &zip);

        assert!(names_entry(&err, entry), "{entry}: {err}");
        assert!(err.contains(why), "{entry}: {err}");
        k.assert_nothing_stored();
        assert!(
            !k.scratch("evil.txt").exists() && !k.data.join("evil.txt").exists(),
            "{entry} was written out"
        );
    }
}

#[test]
fn zip_symlink_pointing_outside_the_archive_is_refused_and_nothing_is_stored() {
    let k = Kollega::new().env("KOLLEGA_IMPORT_BATCH_FILES", "1");
    let zip = k.scratch("evil.zip");
    write_zip(
        &zip,
        &[
            ZipEntry::File("a-good.txt", b"fine\n"),
            ZipEntry::File("app/page.tsx", b"export {};\n"),
            ZipEntry::Symlink("app/passwd", "../../etc/passwd"),
            ZipEntry::File("z-good.txt", b"fine too\n"),
        ],
    );
    // The test's own ZIP really holds a link (S_IFLNK), not a file.
    {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        let link = archive.by_name("app/passwd").unwrap();
        assert_eq!(link.unix_mode().unwrap() & 0o170000, 0o120000);
    }

    let err = refused(&k, &zip);

    assert!(names_entry(&err, "app/passwd"), "{err}");
    assert!(err.contains("../../etc/passwd"), "{err}");
    assert!(err.contains("outside the archive"), "{err}");
    k.assert_nothing_stored();
}

#[test]
fn zip_symlink_inside_the_archive_is_skipped_as_a_link() {
    let k = Kollega::new();
    let zip = k.scratch("links.zip");
    write_zip(
        &zip,
        &[
            ZipEntry::File("app/page.tsx", b"export {};\n"),
            ZipEntry::Symlink("app/alias.tsx", "page.tsx"),
        ],
    );

    let report = k.import(&zip, "links", &[]);

    assert_eq!(report["filesCount"], 1);
    assert_eq!(
        skipped(&report),
        vec![("app/alias.tsx".to_string(), "symlink".to_string(), None)]
    );
}

#[test]
fn zip_with_more_entries_than_max_zip_entries_is_refused() {
    let k = Kollega::new().env("KOLLEGA_MAX_ZIP_ENTRIES", "10");
    let zip = k.scratch("many.zip");
    let names: Vec<String> = (0..11).map(|i| format!("src/file{i:02}.ts")).collect();
    let entries: Vec<ZipEntry<'_>> = names
        .iter()
        .map(|n| ZipEntry::File(n, b"export {};\n"))
        .collect();
    write_zip(&zip, &entries);

    let err = refused(&k, &zip);

    assert!(err.contains("11 entries"), "{err}");
    assert!(err.contains("limit of 10"), "{err}");
    assert!(err.contains("max_zip_entries"), "{err}");
    assert!(err.contains("KOLLEGA_MAX_ZIP_ENTRIES"), "{err}");
    k.assert_nothing_stored();

    // Ten entries are within the limit.
    let ok = k.scratch("ten.zip");
    write_zip(&ok, &entries[..10]);
    assert_eq!(k.import(&ok, "ten", &[])["filesCount"], 10);
}

#[test]
fn zip_unpacking_to_more_than_max_zip_bytes_is_refused() {
    let k = Kollega::new().env("KOLLEGA_MAX_ZIP_BYTES", "1000");
    let zip = k.scratch("large.zip");
    let a: Vec<u8> = (0..600).map(|i| b'a' + (i * 7 % 26) as u8).collect();
    let b: Vec<u8> = (0..600).map(|i| b'a' + (i * 11 % 26) as u8).collect();
    write_zip(
        &zip,
        &[ZipEntry::File("a.txt", &a), ZipEntry::File("b.txt", &b)],
    );

    let err = refused(&k, &zip);

    assert!(err.contains("more than 1000 bytes"), "{err}");
    assert!(err.contains("max_zip_bytes"), "{err}");
    assert!(err.contains("KOLLEGA_MAX_ZIP_BYTES"), "{err}");
    k.assert_nothing_stored();
}

#[test]
fn highly_compressed_zip_entry_is_refused_as_a_bomb() {
    let k = Kollega::new();
    let zip = k.scratch("bomb.zip");
    let bomb = vec![b'a'; 2 * 1024 * 1024];
    write_zip(
        &zip,
        &[
            ZipEntry::File("README.md", b"# hi\n"),
            ZipEntry::File("bomb.txt", &bomb),
        ],
    );
    let packed = {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        archive.by_name("bomb.txt").unwrap().compressed_size()
    };
    let ratio = bomb.len() as u64 / packed;
    assert!(ratio > 200, "the test's bomb is only {ratio}:1");

    let err = refused(&k, &zip);

    assert!(names_entry(&err, "bomb.txt"), "{err}");
    assert!(err.contains(&format!("{ratio}:1")), "ratio {ratio}: {err}");
    assert!(err.contains("limit of 200:1"), "{err}");
    assert!(err.contains("max_zip_ratio"), "{err}");
    k.assert_nothing_stored();
}

#[test]
fn a_file_that_is_not_a_zip_or_folder_is_refused() {
    let k = Kollega::new();
    let not_zip = k.scratch("notes.zip");
    std::fs::write(&not_zip, b"just text, not an archive\n").unwrap();
    let err = k.import_fails(&not_zip, "notes", &[]);
    assert!(err.contains("neither a folder nor a ZIP file"), "{err}");

    let truncated = k.scratch("truncated.zip");
    let good = k.scratch("good.zip");
    write_zip(&good, &[ZipEntry::File("a.txt", b"hello\n")]);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = k.import_fails(&truncated, "truncated", &[]);
    assert!(err.contains("not a readable ZIP file"), "{err}");

    let missing = k.scratch("missing");
    let err = k.import_fails(&missing, "missing", &[]);
    assert!(err.contains("cannot read"), "{err}");
    k.assert_nothing_stored();
}
