#!/usr/bin/env python3
"""Runs every case of kollega's vim table through real vim and writes the
expected text and cursor to tests/vim/cases.json.

    python3 tests/vim/generate.py            # needs vim on the PATH

Each case is an initial text, a cursor (0-based line, column in chars) and
the keys in vim's notation (<Esc>, <C-v>, <C-r>, <CR>, <BS>; <Sync> ends an
undo step, as a pause between typed keys does: vim runs the keys between
two <Sync>s as one `:normal`, which would otherwise be one undo step). Vim
runs as
`vim -u NONE -N -es` with these options, which kollega follows:

    shiftwidth=N expandtab   the indent unit kollega detects in the text
                             (2 for "prose", 4 for the others)
    autoindent               `o`/`O` keep the line's indent, as kollega does
    nojoinspaces             `J` puts one space after a period
    nofixendofline           a file without a final newline keeps none

In `vim -es` the window's top line is the cursor's line when the keys start
and the window is 23 lines high; the Rust test gives H, M and L the same
window. The table is committed: the test needs no vim.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases.json")

SPECIAL = ["<Esc>", "<C-v>", "<C-r>", "<CR>", "<BS>"]

TEXTS = {
    "prose": "foo bar.baz  qux\n  indented line(with) {braces}\nlast-line end\n",
    "paras": "one two\nthree\n\nfour five six\nseven\n\n\neight\n",
    "utf8": "héllo wörld 日本語 text\nçà va? ünïcode\n",
    "pairs": "call(\"arg one\", 'x y') [a, [b]] {k: (v)}\n",
    "tags": "<div><p>hello <b>bold</b></p></div>\n",
    "code": "fn main() {\n    let x = (1 +\n        2);\n    if x {\n        y();\n    }\n}\n",
    "empty": "",
    "blank": "\n\n\n",
    "noeol": "abc def\nghi",
    "words": "alpha beta gamma\ndelta epsilon\nzeta eta theta\niota kappa\n",
}


# The indent unit kollega detects in each text, which `>` and `<` use.
SHIFTWIDTH = {"prose": 2}


def case(name, text, line, col, keys):
    return {"name": name, "text": TEXTS[text], "line": line, "col": col, "keys": keys,
            "sw": SHIFTWIDTH.get(text, 4)}


def cases():
    out = []
    motions = [
        "h", "l", "j", "k", "w", "W", "b", "B", "e", "E", "0", "^", "$",
        "gg", "G", "fa", "Fa", "ta", "Ta", "fa;", "fa,", "ta;", "%", "{", "}",
        "H", "M", "L", "2w", "3l", "2j", "2k", "2e", "2b", "3G", "2$", "2fa",
        "5h", "9l", "9j", "9w", "2}", "2{",
    ]
    operators = ["", "d", "c", "y", "gu", "gU", ">", "<"]
    starts = {
        "prose": [(0, 5), (1, 4)],
        "paras": [(3, 5)],
        "code": [(1, 8)],
        "utf8": [(0, 13)],
    }
    for text, positions in starts.items():
        for (line, col) in positions:
            for op in operators:
                for motion in motions:
                    keys = op + motion
                    if op == "c":
                        keys += "XY<Esc>"
                    if op == "y":
                        keys += "P"
                    out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    # Counts before the operator, before the motion, and both.
    for keys in ["2dw", "d2w", "2d2w", "3dd", "2yyP", "2cwZ<Esc>", "3x", "2X", "5dd",
                 "9dd", "2>>", "3<<", "2guu", "gUU", "2J", "3J", "9J", "2D", "2C!<Esc>",
                 "3s-<Esc>", "2S-<Esc>", "2Yp", "3~", "9~", "3rx", "9rx", "2p", "3P",
                 "2ix<Esc>", "3ax<Esc>", "2Ay<Esc>", "2Iz<Esc>", "2oq<Esc>", "2Oq<Esc>"]:
        for text, (line, col) in [("words", (0, 6)), ("words", (2, 0)), ("prose", (1, 4))]:
            out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    # Text objects under every operator.
    objects = ["iw", "aw", "iW", "aW", 'i"', 'a"', "i'", "a'", "i(", "a(", "ib", "ab",
               "i{", "a{", "iB", "aB", "i[", "a[", "it", "at", "2iw", "3aw"]
    for text, positions in {
        "pairs": [(0, 7), (0, 18), (0, 35)],
        "tags": [(0, 16)],
        "code": [(1, 14)],
        "prose": [(1, 16)],
    }.items():
        for (line, col) in positions:
            for op in ["d", "c", "y", "v"]:
                for obj in objects:
                    keys = op + obj
                    if op == "c":
                        keys += "Z<Esc>"
                    elif op == "y":
                        keys += "P"
                    elif op == "v":
                        keys += "d"
                    out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    # Single-key changes, repeat, undo, registers, marks.
    singles = [
        "x", "X", "D", "C!<Esc>", "s!<Esc>", "S!<Esc>", "Yp", "YP", "r!", "J", "~", "~~~",
        "A!<Esc>", "I!<Esc>", "o!<Esc>", "O!<Esc>", "a!<Esc>", "i!<Esc>", "ddp", "ddP",
        "yyp", "yyP", "ywP", "yiwp", "xp", "dwP", "dw.", "dw..", "3dw.", "dw2.", "x..",
        "ciwnew<Esc>w.", "A;<Esc>j.", "o+<Esc>.", "ddj.", ">>.", "J.", "~.", "rz.", "3rz.",
        "dwu", "dwu<C-r>", "ciwZZ<Esc>u", "dd<Sync>jdd<Sync>u", "dd<Sync>jdd<Sync>u<Sync>u", "x<Sync>x<Sync>u", "A12<Esc>u",
        "3xu", "ddu<C-r>", "oa<CR>b<Esc>", "ia<BS>b<Esc>", "ciwab<BS>c<Esc>.",
        '"ayiwj"ap', '"ayyj"aP', '"Ayyj"ayy"aP', '"ayiww"Ayiw"ap', '"adwu"ap',
        '"bdd"ap', 'yiwdd"0P', 'ddyiw"1p', '"_ddp', 'yyjdd"0p', 'dwdw"2P',
        "maj'ad", "majd'a", "mbjjd`b", "mx2w`x", "maG'a", "majx`a", "wma0d`a",
        "*", "#", "*n", "#N", "w*", "*dn", "**", "zz", "zt", "zb", "jzzx",
        "<Esc>x", "3<Esc>x", "d<Esc>x", "dXx", "gZx", "\"x", "zqx", "3", "d3",
    ]
    for text, positions in {"words": [(0, 6)], "prose": [(2, 0)], "paras": [(3, 5)],
                            "utf8": [(0, 7)], "blank": [(1, 0)], "noeol": [(1, 1)]}.items():
        for (line, col) in positions:
            for keys in singles:
                out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    # Visual modes.
    visual = [
        "vld", "vjd", "vwy P", "vey$p", "vjy", "vec!<Esc>", "vj>", "vj<", "vjU", "vju", "vj~",
        "vjJ", "vlx", "vhd", "vbd", "vlohd", "v$d", "vjrx", "vjD", "vjX", "vjY P", "vjC!<Esc>",
        "vjs!<Esc>", "vjS!<Esc>", "vl.", "vl\"ay\"aP", "viwd", "vawd", "vi(d", "veyvep",
        "Vd", "Vjd", "Vy P", "Vjc!<Esc>", "Vj>", "Vkd", "VGd", "Vggd", "VjJ", "VjU", "Vjp",
        "<C-v>jd", "<C-v>jld", "<C-v>2jly P", "<C-v>jlc!<Esc>", "<C-v>jI!<Esc>",
        "<C-v>j$d", "<C-v>jwd", "<C-v>jlx", "<C-v>jlr.", "<C-v>jlU", "<C-v>jl~",
        "<C-v>jA!<Esc>", "<C-v>jlyP", "<C-v>jl>", "vjVd", "Vv$d", "v<Esc>x", "V<Esc>x",
        "<C-v><Esc>x", "v3ld", "v2jd", "vgg d", "vGd", "v%d", "vfad", "vtad",
    ]
    for text, positions in {"words": [(0, 6), (1, 2)], "utf8": [(0, 2)],
                            "code": [(1, 4)]}.items():
        for (line, col) in positions:
            for keys in visual:
                keys = keys.replace(" ", "")
                out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    # Edges: empty lines, end of file, counts past the end.
    for text, (line, col) in [("blank", (0, 0)), ("blank", (2, 0)), ("empty", (0, 0)),
                              ("noeol", (1, 2)), ("paras", (7, 0)), ("paras", (5, 0)),
                              ("words", (3, 9))]:
        for keys in ["dd", "x", "X", "dw", "de", "db", "dj", "dk", "d$", "d0", "D", "J",
                     "p", "P", "yyp", "99dd", "99x", "99j", "99k", "99w", "99b", "99e",
                     "dG", "dgg", "cw!<Esc>", "cc!<Esc>", "o!<Esc>", "O!<Esc>", "A!<Esc>",
                     "99J", "d}", "d{", "c}!<Esc>", ">>", "<<", "gUU", "~", "r!", "wi!<Esc>",
                     "99l", "99h", "l", "h", "$", "^", "0", "e", "E", "B", "W", "G", "gg"]:
            out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    # Indentation, finds up to brackets, visual puts and inserts.
    more = [
        "cc!<Esc>", "S!<Esc>", "o!<Esc>", "O!<Esc>", "J", ">>", "<<", "3>>", "3<<", "r<CR>",
        'ci"x<Esc>', "dt)", "ct)x<Esc>", "df(", "d2j", "2dj", "yiwwviwp", "yiwwviwP", "cit!<Esc>",
        "dat", "VjIx<Esc>", "VjAx<Esc>", "vjIx<Esc>", "vjAx<Esc>", "v$y$p", "Vjyjp", "Vjyp",
        "yyVp", "ywvep", "de.", "d2e.", "cwx<Esc>2.", "A!<Esc>j.", "I!<Esc>j.", "3.", "J..",
        "ma3jd'a", "ma3jy`aP", ">2j", "<2j", "2~", "gUiw", "g~iw", "guaw", "gUe.",
    ]
    for text, positions in {"code": [(4, 8), (1, 4), (3, 7)], "pairs": [(0, 0), (0, 9)],
                            "tags": [(0, 2)], "words": [(1, 0)]}.items():
        for (line, col) in positions:
            for keys in more:
                out.append(case(f"{text}@{line}:{col} {keys}", text, line, col, keys))
    return out


def vim_string(keys):
    """The keys as the body of a vim double-quoted string."""
    out = ""
    i = 0
    while i < len(keys):
        token = next((s for s in SPECIAL if keys.startswith(s, i)), None)
        if token:
            out += "\\" + token
            i += len(token)
        else:
            c = keys[i]
            out += "\\" + c if c in '\\"' else c
            i += 1
    return out


def char_col(line_text, byte_col):
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def run(c, workdir):
    src = os.path.join(workdir, "in.txt")
    dst = os.path.join(workdir, "out.txt")
    pos = os.path.join(workdir, "pos.txt")
    for path in (dst, pos):
        if os.path.exists(path):
            os.remove(path)
    with open(src, "wb") as f:
        f.write(c["text"].encode("utf-8"))
    lines = c["text"].split("\n")
    line_text = lines[c["line"]] if c["line"] < len(lines) else ""
    byte_col = len(line_text[: c["col"]].encode("utf-8")) + 1
    script = os.path.join(workdir, "case.vim")
    with open(script, "w", encoding="utf-8") as f:
        f.write(
            f"set nomore shiftwidth={c['sw']} expandtab autoindent nojoinspaces nofixendofline\n"
            f"call cursor({c['line'] + 1}, {byte_col})\n"
            + "".join(
                f"silent! exe \"normal! {vim_string(part)}\"\nlet &undolevels = &undolevels\n"
                for part in c["keys"].split("<Sync>")
            )
            +
            f"call writefile([line('.'), col('.')], '{pos}')\n"
            f"silent! w! {dst}\n"
            "qa!\n"
        )
    subprocess.run(
        ["vim", "-u", "NONE", "-N", "-es", "-i", "NONE", "-n", src, "-S", script],
        check=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, timeout=20,
    )
    with open(dst, "rb") as f:
        text = f.read().decode("utf-8")
    with open(pos, encoding="utf-8") as f:
        lnum, col = (int(x) for x in f.read().split())
    out_lines = text.split("\n")
    cursor_text = out_lines[lnum - 1] if lnum - 1 < len(out_lines) else ""
    return text, lnum - 1, char_col(cursor_text, col - 1)


def main():
    all_cases = cases()
    seen = set()
    table = []
    with tempfile.TemporaryDirectory() as workdir:
        for c in all_cases:
            if c["name"] in seen:
                continue
            seen.add(c["name"])
            text, line, col = run(c, workdir)
            del c["sw"]
            c["expect"] = {"text": text, "line": line, "col": col}
            table.append(c)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in table))
        f.write("\n]\n")
    print(f"{len(table)} cases written to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
