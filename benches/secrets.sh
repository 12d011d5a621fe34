#!/usr/bin/env bash
# Secret-scan benchmark: `kollega import` of two generated trees of the same
# size, one of plain code and one dense with tokens that start a secret rule
# without being a secret (CSS `sk-` classes, `eyJ` fixtures, URLs, `key-`
# slugs, string concatenations). The difference between the two is what
# the scan's candidates cost; each import also includes the scan of every
# byte. Pass a second binary to compare scanners side by side; the peer is
# detect-secrets when it is installed.
#
# Usage:
#   benches/secrets.sh                                # target/release/kollega
#   KOLLEGA_BIN=/path/to/kollega BASELINE_BIN=/path/to/old/kollega benches/secrets.sh
#
# Knobs: BENCH_FILES=2000 (files per tree), BENCH_FILE_KB=16, BENCH_REPS=3,
# BENCH_PEER_REPS=1.
# Progress goes to stderr; the markdown report goes to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FILES="${BENCH_FILES:-2000}"
FILE_KB="${BENCH_FILE_KB:-16}"
REPS="${BENCH_REPS:-3}"
# detect-secrets takes minutes a tree: one run each unless asked.
PEER_REPS="${BENCH_PEER_REPS:-1}"

source benches/common.sh

command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install -y python3)"

if [[ -n "${BASELINE_BIN:-}" && ! -x "$BASELINE_BIN" ]]; then
    die "BASELINE_BIN=$BASELINE_BIN is not an executable file"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log "generating two trees of $FILES files of ${FILE_KB} KiB in $WORK"
python3 - "$WORK" "$FILES" "$FILE_KB" <<'PY'
import os, random, sys
work, files, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(7)
alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
def word(n): return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
def plain_line():
    return f"export function {word(8)}({word(5)}: number) {{ return {word(6)} * {rnd.randint(1, 999)}; }}\n"
def dense_line():
    b64 = "".join(rnd.choice(alnum) for _ in range(24))
    choice = rnd.randrange(6)
    if choice == 0:
        return f'<div className="sk-{word(6)}-{word(7)}-{word(5)}-{rnd.randint(1,99)}" />\n'
    if choice == 1:
        return f'expect(decode("ey' + f'J{b64}.ey' + f'J{b64}.{b64}")).toBe(1);\n'
    if choice == 2:
        return f'const url = "https://{word(6)}.example.com:{rnd.randint(1000,9999)}/{word(5)}?q={word(4)}";\n'
    if choice == 3:
        return f'const slug = "key-{word(8)}-{word(6)}" + "-" + "{word(5)}";\n'
    if choice == 4:
        return f'const label = "SKU-{rnd.randint(1000,9999)}" + " " + \'{word(7)}\';\n'
    return f"// see _authToken docs and hooks.slack.com/{word(6)} for {word(8)}\n"
for name, line in (("plain", plain_line), ("dense", dense_line)):
    for i in range(files):
        d = os.path.join(work, name, f"src{i % 50}")
        os.makedirs(d, exist_ok=True)
        out, size = [], 0
        while size < kb * 1024:
            l = line(); out.append(l); size += len(l)
        with open(os.path.join(d, f"f{i}.ts"), "w") as f:
            f.write("".join(out))
PY

bytes_of() { du -sb "$1" | cut -f1; }

# Median wall time of REPS imports of $2 by binary $1, each into a fresh store.
time_import() {
    local bin="$1" tree="$2" times=()
    for ((r = 0; r < REPS; r++)); do
        local data="$WORK/data-$r"
        rm -rf "$data"
        local start end
        start=$(date +%s.%N)
        # A scanner that takes every file for a secret stores nothing and
        # fails: that is a false-positive count, not a time.
        if ! "$bin" --data-dir "$data" import "$tree" --name bench >/dev/null 2>&1; then
            echo "failed"
            return
        fi
        end=$(date +%s.%N)
        times+=("$(python3 -c "print($end - $start)")")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p"
}

echo "| binary | tree | MB | import s (median of $REPS) | MB/s |"
echo "| --- | --- | --- | --- | --- |"
for bin in "$KOLLEGA" ${BASELINE_BIN:+"$BASELINE_BIN"}; do
    for tree in plain dense; do
        mb=$(python3 -c "print(round($(bytes_of "$WORK/$tree") / 1e6, 1))")
        log "import $tree with $bin"
        s=$(time_import "$bin" "$WORK/$tree")
        if [[ "$s" == failed ]]; then
            echo "| $bin | $tree | $mb | import failed (every file skipped) | – |"
            continue
        fi
        echo "| $bin | $tree | $mb | $(python3 -c "print(round($s, 2))") | $(python3 -c "print(round($mb / $s, 1))") |"
    done
done

# The peer: Yelp's detect-secrets (`pip install detect-secrets`), scanning
# the same trees with its default plugins. It only scans, where kollega's
# import also hashes and stores every file.
if command -v detect-secrets >/dev/null 2>&1; then
    echo
    echo "| peer | tree | MB | scan s (median of $PEER_REPS) | MB/s |"
    echo "| --- | --- | --- | --- | --- |"
    for tree in plain dense; do
        mb=$(python3 -c "print(round($(bytes_of "$WORK/$tree") / 1e6, 1))")
        log "detect-secrets scan $tree"
        times=()
        for ((r = 0; r < PEER_REPS; r++)); do
            start=$(date +%s.%N)
            (cd "$WORK/$tree" && detect-secrets scan --all-files . >/dev/null)
            end=$(date +%s.%N)
            times+=("$(python3 -c "print($end - $start)")")
        done
        s=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((PEER_REPS + 1) / 2))p")
        echo "| detect-secrets $(detect-secrets --version) | $tree | $mb | $(python3 -c "print(round($s, 2))") | $(python3 -c "print(round($mb / $s, 1))") |"
    done
else
    log "detect-secrets not found (pip install detect-secrets): no peer figures"
fi
