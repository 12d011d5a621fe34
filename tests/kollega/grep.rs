//! `kollega grep`: the matching lines of a stored workspace and of a
//! folder, literal and smart-cased by default, with bad patterns and
//! names refused.

use crate::common::{Kollega, assert_code, assert_success, stderr, stdout, tree, write_tree};

fn shop(k: &Kollega) -> std::path::PathBuf {
    let src = k.scratch("shop");
    write_tree(
        &src,
        &tree([
            ("lib/cart.ts", "export const useCart = () => cart;\n"),
            ("app/page.tsx", "const total = CART.total;\n// cart\n"),
            ("node_modules/x/cart.js", "cart\n"),
            ("logo.png", "cart\0binary"),
        ]),
    );
    src
}

#[test]
fn a_stored_workspace_and_a_folder_answer_alike() {
    let k = Kollega::new();
    let src = shop(&k);
    assert_success(&k.run(["import", src.to_str().unwrap(), "--name", "shop"]));
    let stored = k.run(["grep", "shop", "cart"]);
    assert_success(&stored);
    let expected = "app/page.tsx:1:15:const total = CART.total;\n\
                    app/page.tsx:2:4:// cart\n\
                    lib/cart.ts:1:17:export const useCart = () => cart;\n";
    assert_eq!(stdout(&stored), expected);
    let folder = k.run(["grep", src.to_str().unwrap(), "cart"]);
    assert_success(&folder);
    assert_eq!(
        stdout(&folder),
        expected,
        "node_modules and binaries are left out"
    );
    // A capital makes the case exact; a regex only when asked for.
    let json = k.json(["grep", "shop", "Cart", "--json"]);
    assert_eq!(json["matches"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["matches"][0]["path"], "lib/cart.ts");
    assert_eq!(json["filesMatched"], 1);
    let regex = k.run(["grep", "shop", "^const", "--regex"]);
    assert_eq!(
        stdout(&regex),
        "app/page.tsx:1:1:const total = CART.total;\n"
    );
    assert_code(&k.run(["grep", "shop", "^const"]), 1);
}

#[test]
fn nothing_found_bad_patterns_and_unknown_names() {
    let k = Kollega::new();
    let src = shop(&k);
    let none = k.run(["grep", src.to_str().unwrap(), "absent"]);
    assert_code(&none, 1);
    assert_eq!(stdout(&none), "");
    let bad = k.run(["grep", src.to_str().unwrap(), "a(", "--regex"]);
    assert_code(&bad, 2);
    assert!(
        stderr(&bad).contains("not a valid regular expression"),
        "{}",
        stderr(&bad)
    );
    let empty = k.run(["grep", src.to_str().unwrap(), ""]);
    assert_code(&empty, 2);
    let unknown = k.run(["grep", "nowhere", "x"]);
    assert_code(&unknown, 2);
    assert!(stderr(&unknown).contains("no workspace or folder named"));
    let limited = k.run(["grep", src.to_str().unwrap(), "cart", "--max", "1"]);
    assert_eq!(stdout(&limited).lines().count(), 1);
    assert!(stderr(&limited).contains("stopped after 1"));
}
