#!/usr/bin/env bash
# Grep benchmark: `kollega grep` (release) beside ripgrep on the same
# generated folder of 10,000 source files (about 9 MB: TypeScript, TSX,
# JSON and Markdown, most under 1 KB, a few up to 20 KB), same patterns,
# output to /dev/null, page cache warm. Both print each matching line
# once with its path, line and the column of its first match
# (`rg --line-number --column --no-heading`), smart case.
#
#   rare      a literal found in 1 file of 200            (`useCartTotal`)
#   common    a literal on about a line in 30             (`export`)
#   regex     a regex found in about 1 file of 10          (`fetch\(["']/api/[a-z]+`)
#   none      a literal found nowhere                      (`zebraQuartz`)
#
# Then the same literals in the workstation (`benches/ui.rs grep`: alt-f,
# the text typed, from its last keystroke to the first answer and to
# every match drawn), beside rg's figure above.
#
# Usage: benches/grep.sh   (KOLLEGA_BIN overrides target/release/kollega;
# BENCH_TUI=0 leaves out the workstation's figures)
# Knobs: BENCH_FILES=10000, BENCH_REPS=9.
# ripgrep is installed when missing (apt-get, else cargo install into
# target/bench-tools). Progress goes to stderr; the markdown table to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FILES="${BENCH_FILES:-10000}"
REPS="${BENCH_REPS:-9}"

source benches/common.sh

command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install -y python3)"

RG="$(command -v rg || true)"
if [[ -z "$RG" && -x target/bench-tools/bin/rg ]]; then
    RG="$ROOT/target/bench-tools/bin/rg"
fi
if [[ -z "$RG" ]]; then
    log "ripgrep is missing: installing it"
    if command -v apt-get >/dev/null 2>&1 && apt-get install -y ripgrep >&2; then
        RG="$(command -v rg)"
    else
        cargo install ripgrep --locked --root target/bench-tools >&2
        RG="$ROOT/target/bench-tools/bin/rg"
    fi
fi
[[ -x "$RG" ]] || die "ripgrep not found after installing it"

WORK="$(mktemp -d /tmp/kollega-grep-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
TREE="$WORK/tree"

log "generating $FILES files in $TREE"
python3 - "$TREE" "$FILES" <<'PY'
import os, random, sys
tree, files = sys.argv[1], int(sys.argv[2])
rnd = random.Random(13)
def word(n=7): return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
def ts_line(i, f):
    c = rnd.randrange(12)
    if c == 0: return f"export function {word()}({word(4)}: number): number {{\n"
    if c == 1: return f"  const {word()} = await fetch('/api/{word(5)}');\n" if f % 10 == 0 else f"  const {word()} = {rnd.randint(0, 9999)};\n"
    if c == 2: return f"import {{ {word()} }} from './{word(6)}';\n"
    if c == 3: return f"  // {word()} {word(5)} {word(9)} {word(4)}\n"
    if c == 4: return f"  return {word()}.{word(5)}({word(4)}, {rnd.randint(0, 99)});\n"
    if c == 5: return "}\n"
    if c == 6: return f"  if ({word(5)} > {rnd.randint(0, 99)}) {{ {word(6)}(); }}\n"
    return f"  const {word()} = {word(6)}.map(({word(3)}) => {word(3)} * {rnd.randint(1, 9)});\n"
# Sizes as a Next.js export has them: many small files, a few large ones.
sizes = [60, 150, 300, 500, 800, 1200, 2500, 6000, 20000]
weights = [10, 18, 22, 18, 12, 9, 6, 3, 1]
for i in range(files):
    d = os.path.join(tree, f"pkg{i % 40:02}", f"mod{(i // 40) % 25:02}")
    os.makedirs(d, exist_ok=True)
    kind = rnd.choices(["ts", "tsx", "json", "md"], [55, 25, 10, 10])[0]
    size = rnd.choices(sizes, weights)[0]
    out, n = [], 0
    while n < size:
        if kind == "json": l = f'  "{word()}": "{word(12)}",\n'
        elif kind == "md": l = f"{word()} {word(4)} {word(9)} {word(3)} {word(6)} {word(5)}.\n"
        else: l = ts_line(i, i)
        out.append(l); n += len(l)
    if i % 200 == 0:
        out.insert(len(out) // 2, "  const total = useCartTotal(items);\n")
    with open(os.path.join(d, f"f{i}.{kind}"), "w") as fh:
        fh.write("{\n" + "".join(out) + "}\n" if kind == "json" else "".join(out))
PY
MB=$(find "$TREE" -type f -printf '%s\n' | python3 -c "import sys; print(round(sum(int(l) for l in sys.stdin) / 1e6, 1))")
DATA="$WORK/data"

median() { sort -n | sed -n "$(((REPS + 1) / 2))p"; }

# Median wall time (ms) of REPS runs of "$@", output thrown away; one
# warm-up run first so both read from the page cache.
time_ms() {
    "$@" >/dev/null 2>&1 || true
    for ((r = 0; r < REPS; r++)); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        echo $(((end - start) / 1000))
    done | median | python3 -c "import sys; print(round(int(sys.stdin.read()) / 1000, 1))"
}

# The same lines from both, or the figures mean nothing.
lines_of() { { "$@" 2>/dev/null || true; } | wc -l; }

echo "Grep over $FILES files ($MB MB), median of $REPS runs; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $("$RG" --version | head -1)"
echo
declare -A RG_MS
echo "| pattern | matching lines (kollega / rg) | kollega grep | rg | ratio | target |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for case in "rare useCartTotal" "common export" "regex fetch\\([\"']/api/[a-z]+" "none zebraQuartz"; do
    name="${case%% *}"
    pattern="${case#* }"
    flags=()
    [[ "$name" == regex ]] && flags=(--regex)
    kollega=("$KOLLEGA" --data-dir "$DATA" grep "$TREE" "$pattern" --max 1000000 "${flags[@]}")
    rg=("$RG" --no-config --no-heading --with-filename --line-number --column --color never --smart-case)
    if [[ "$name" == regex ]]; then rg+=(-e "$pattern" "$TREE"); else rg+=(--fixed-strings -e "$pattern" "$TREE"); fi
    log "$name: kollega"
    k=$(time_ms "${kollega[@]}")
    log "$name: rg"
    g=$(time_ms "${rg[@]}")
    kl=$(lines_of "${kollega[@]}")
    gl=$(lines_of "${rg[@]}")
    ratio=$(python3 -c "print(round($k / max($g, 0.1), 2))")
    echo "| $name \`$pattern\` | $kl / $gl | $k ms | $g ms | $ratio | ≤ 2.0 |"
    RG_MS[$name]=$g
done

[[ "${BENCH_TUI:-1}" == 1 ]] || exit 0
log "building the ui bench (cargo bench --bench ui --no-run)"
UI_BENCH="$(cargo bench --bench ui --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ui" and m.get("executable"):
        print(m["executable"])')"
[[ -x "$UI_BENCH" ]] || die "cannot build the ui bench (cargo bench --bench ui --no-run)"
echo
echo "| in the workstation | matches | keystroke to first answer | keystroke to all drawn | rg | ratio (all drawn / rg) |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for case in "rare useCartTotal" "common export" "none zebraQuartz"; do
    name="${case%% *}"
    pattern="${case#* }"
    log "$name: in the workstation"
    out=$(KOLLEGA_DATA_DIR="$WORK/ui-data" "$UI_BENCH" grep "$TREE" "$pattern")
    python3 -c '
import json, sys
out, name, pattern, rg = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
all_ms, first_ms, counts = out["all_drawn_ms"], out["first_answer_ms"], out["counts"]
print(f"| {name} `{pattern}` | {counts} | {first_ms:.1f} ms | {all_ms:.1f} ms | {rg} ms | {all_ms / max(rg, 0.1):.2f} |")
' "$out" "$name" "$pattern" "${RG_MS[$name]}"
done
