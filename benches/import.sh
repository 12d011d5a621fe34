#!/usr/bin/env bash
# Import / export / ls benchmark for kollega, measured side by side with
# common peer tools on the same machine and the same input:
#
#   import  vs  git init + git add -A + git commit   (copy of the same tree)
#   export  vs  zip -qr                              (same tree)
#   ls      with 50 workspaces (median of 20 runs)
#
# Usage:
#   benches/import.sh                       # builds target/release/kollega if missing
#   KOLLEGA_BIN=/path/to/kollega benches/import.sh
#
# Optional knobs (defaults match the published numbers):
#   BENCH_REPS=3        repetitions of import/export and their peers (median reported)
#   BENCH_DIRS=100      directories in the generated tree
#   BENCH_FILES=100     files per directory
#   BENCH_LS_RUNS=20    timed runs of `kollega ls`
#
# Requirements: bash, python3, git, zip, GNU time (/usr/bin/time).
# Progress goes to stderr; the markdown report goes to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REPS="${BENCH_REPS:-3}"
DIRS="${BENCH_DIRS:-100}"
FILES="${BENCH_FILES:-100}"
LS_RUNS="${BENCH_LS_RUNS:-20}"
LS_WORKSPACES=50

source benches/common.sh

# --- prerequisites ----------------------------------------------------------

missing=()
command -v zip >/dev/null 2>&1 || missing+=("zip")
[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (GNU time)")
if ((${#missing[@]} > 0)); then
    die "missing: ${missing[*]}. Install with: apt-get install -y zip time"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install -y python3)"
command -v git >/dev/null 2>&1 || die "git is required (apt-get install -y git)"
/usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null \
    || die "/usr/bin/time is not GNU time (needs -f/-o). Install with: apt-get install -y zip time"


# --- scratch space ----------------------------------------------------------

TMP="$(mktemp -d "${TMPDIR:-/tmp}/kollega-bench.XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

TREE="$TMP/tree"
DATA="$TMP/data"

# --- helpers ----------------------------------------------------------------

# measure NAME CMD...: run CMD under GNU time; sets LAST_SECS and LAST_RSS_KB.
LAST_SECS=""
LAST_RSS_KB=""
measure() {
    local name="$1"
    shift
    local out="$TMP/time.out"
    if ! /usr/bin/time -f '%e %M' -o "$out" "$@"; then
        cat "$out" >&2 || true
        die "$name failed: $*"
    fi
    read -r LAST_SECS LAST_RSS_KB < <(tail -n 1 "$out")
}

# median NUM...: median of the arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "0"; exit }
            if (NR % 2) { print v[(NR + 1) / 2] }
            else { printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }
        }'
}

kb_to_mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

fmt_secs() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }

# --- test data --------------------------------------------------------------

log "generating $((DIRS * FILES)) files in $TREE"
python3 - "$TREE" "$DIRS" "$FILES" <<'PY'
"""Deterministic tree of varied ASCII text files (~10 KiB each)."""
import os
import random
import sys

root, ndirs, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

words = (
    "account action adapter agent alpha api array async await backend batch "
    "beta buffer build cache callback channel client cluster commit config "
    "context cursor data debug default delta deploy diff document draft "
    "engine error event export feature fetch field filter format frame "
    "gamma handler hash header index input install item job json kernel key "
    "label layout limit list loader local logger map merge message method "
    "model module network node number object offset option output owner "
    "package page parser patch path payload pipeline plugin policy pool "
    "port prefix process project query queue record region release render "
    "report request resolve response result retry route runtime schema "
    "scope script search server service session shell signal source stage "
    "state status stream string style switch table target task template "
    "tenant test thread token trace update upload user value vector version "
    "view worker workspace"
).split()
punct = [".", ",", ";", ":", "!", "?", " -", ""]

pool_rng = random.Random(20240715)


def make_line(rng):
    kind = rng.randrange(4)
    if kind == 0:  # prose
        n = rng.randint(6, 16)
        text = " ".join(rng.choice(words) for _ in range(n))
        return text.capitalize() + rng.choice(punct)
    if kind == 1:  # code-like
        a, b, c = rng.sample(words, 3)
        return f"    const {a}_{b} = {c}({rng.randint(0, 9999)}, \"{rng.choice(words)}\");"
    if kind == 2:  # key/value
        return f"{rng.choice(words)}.{rng.choice(words)} = {rng.randint(0, 1 << 20)}"
    # log-like
    return (
        f"2024-07-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z "
        f"{rng.choice(['INFO', 'WARN', 'DEBUG', 'ERROR'])} "
        f"{rng.choice(words)}: {' '.join(rng.sample(words, 4))}"
    )


pool = [make_line(pool_rng) for _ in range(8192)]

for d in range(ndirs):
    dpath = os.path.join(root, f"dir{d:03d}")
    os.makedirs(dpath, exist_ok=True)
    for f in range(nfiles):
        rng = random.Random(d * 100003 + f)
        target = rng.randint(8 * 1024, 12 * 1024)
        parts = [f"# file dir{d:03d}/file{f:03d}.txt seed {rng.getrandbits(64):016x}\n"]
        size = len(parts[0])
        i = 0
        while size < target:
            for line in rng.choices(pool, k=32):
                s = f"{i:04d} {line} #{rng.getrandbits(24):06x}\n"
                parts.append(s)
                size += len(s)
                i += 1
                if size >= target:
                    break
        data = "".join(parts).encode("ascii")
        with open(os.path.join(dpath, f"file{f:03d}.txt"), "wb") as fh:
            fh.write(data)
PY
read -r TREE_FILES TREE_BYTES < <(find "$TREE" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { print n, s }')
TREE_MB="$(awk -v b="$TREE_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')"
log "tree: $TREE_FILES files, $TREE_MB MiB"

TINY="$TMP/tiny"
mkdir -p "$TINY/src"
printf '# tiny\n\nA tiny workspace for the ls benchmark.\n' >"$TINY/README.md"
printf 'export const answer = 42;\n' >"$TINY/src/index.ts"

# --- a-d: import / git, export / zip ----------------------------------------

import_s=(); import_rss=()
git_s=(); git_rss=()
export_s=(); export_rss=()
zip_s=(); zip_rss=()

for ((rep = 1; rep <= REPS; rep++)); do
    log "run $rep/$REPS"

    # a) kollega import (fresh data dir)
    rm -rf "$DATA"
    measure "kollega import" \
        "$KOLLEGA" --data-dir "$DATA" import "$TREE" --name bench --json >/dev/null
    import_s+=("$LAST_SECS"); import_rss+=("$LAST_RSS_KB")
    log "  import          ${LAST_SECS}s  ${LAST_RSS_KB} KB"

    # b) peer: git init + add + commit on a fresh copy of the tree
    GITCOPY="$TMP/gitcopy"
    rm -rf "$GITCOPY"
    cp -r "$TREE" "$GITCOPY"
    sync
    # shellcheck disable=SC2016  # arguments are expanded by the inner bash
    measure "git commit" \
        bash -c 'cd "$1" && git init -q &&
                 git -c gc.auto=0 add -A &&
                 git -c user.name=bench -c user.email=bench@example.com -c gc.auto=0 \
                     -c commit.gpgsign=false commit -q -m bench' \
        _ "$GITCOPY"
    git_s+=("$LAST_SECS"); git_rss+=("$LAST_RSS_KB")
    log "  git add+commit  ${LAST_SECS}s  ${LAST_RSS_KB} KB"
    rm -rf "$GITCOPY"

    # c) kollega export --zip (from the workspace imported in a)
    rm -f "$TMP/out.zip"
    measure "kollega export" \
        "$KOLLEGA" --data-dir "$DATA" export bench --zip "$TMP/out.zip"
    [[ -s "$TMP/out.zip" ]] || die "kollega export did not produce $TMP/out.zip"
    export_s+=("$LAST_SECS"); export_rss+=("$LAST_RSS_KB")
    log "  export --zip    ${LAST_SECS}s  ${LAST_RSS_KB} KB"

    # d) peer: zip -qr of the same tree
    rm -f "$TMP/peer.zip"
    # shellcheck disable=SC2016  # arguments are expanded by the inner bash
    measure "zip" bash -c 'cd "$1" && zip -qr "$2" .' _ "$TREE" "$TMP/peer.zip"
    zip_s+=("$LAST_SECS"); zip_rss+=("$LAST_RSS_KB")
    log "  zip -qr         ${LAST_SECS}s  ${LAST_RSS_KB} KB"
done

OUT_ZIP_MB="$(awk -v b="$(stat -c %s "$TMP/out.zip")" 'BEGIN { printf "%.1f", b / 1048576 }')"
PEER_ZIP_MB="$(awk -v b="$(stat -c %s "$TMP/peer.zip")" 'BEGIN { printf "%.1f", b / 1048576 }')"
rm -f "$TMP/out.zip" "$TMP/peer.zip"

# --- e: ls with 50 workspaces -----------------------------------------------

log "creating $((LS_WORKSPACES - 1)) more workspaces"
for ((n = 1; n < LS_WORKSPACES; n++)); do
    "$KOLLEGA" --data-dir "$DATA" import "$TINY" --name "ws-$n" --json >/dev/null \
        || die "kollega import of tiny workspace ws-$n failed"
done

log "timing $LS_RUNS runs of kollega ls"
LS_MS="$(python3 - "$KOLLEGA" "$DATA" "$LS_RUNS" <<'PY'
import statistics
import subprocess
import sys
import time

binary, data, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cmd = [binary, "--data-dir", data, "ls"]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)  # warm-up, not counted
samples = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    samples.append((time.perf_counter() - start) * 1000.0)
print(f"{statistics.median(samples):.1f}")
PY
)"
measure "kollega ls" "$KOLLEGA" --data-dir "$DATA" ls >/dev/null
LS_RSS_KB="$LAST_RSS_KB"

# --- report -----------------------------------------------------------------

m_import="$(median "${import_s[@]}")";  m_import_rss="$(median "${import_rss[@]}")"
m_git="$(median "${git_s[@]}")";        m_git_rss="$(median "${git_rss[@]}")"
m_export="$(median "${export_s[@]}")";  m_export_rss="$(median "${export_rss[@]}")"
m_zip="$(median "${zip_s[@]}")";        m_zip_rss="$(median "${zip_rss[@]}")"

cpu_model="$(awk -F': *' '/^(model name|Hardware|cpu model)/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
kollega_version="$("$KOLLEGA" --version 2>/dev/null | head -n 1 || true)"
zip_version="$({ zip -v 2>/dev/null | head -n 2 | tr '\n' ' '; } || true)"

cat <<EOF
## kollega import/export benchmark

- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- Input: $TREE_FILES text files in $DIRS directories, $TREE_MB MiB total
- Repetitions: $REPS for import/export and their peers (median shown); \`ls\` median of $LS_RUNS runs
- Binary: ${kollega_version:-unknown} (\`$KOLLEGA\`)

| operation | kollega | peer | ratio (kollega/peer) | peak RSS (kollega / peer) |
| --- | ---: | ---: | ---: | ---: |
| import tree vs \`git init && git add -A && git commit\` | $(fmt_secs "$m_import") | $(fmt_secs "$m_git") | $(ratio "$m_import" "$m_git") | $(kb_to_mb "$m_import_rss") MB / $(kb_to_mb "$m_git_rss") MB |
| \`export --zip\` vs \`zip -qr\` | $(fmt_secs "$m_export") | $(fmt_secs "$m_zip") | $(ratio "$m_export" "$m_zip") | $(kb_to_mb "$m_export_rss") MB / $(kb_to_mb "$m_zip_rss") MB |
| \`ls\` with $LS_WORKSPACES workspaces | $LS_MS ms | n/a | n/a | $(kb_to_mb "$LS_RSS_KB") MB / n/a |

Zip sizes: kollega $OUT_ZIP_MB MiB, zip -qr $PEER_ZIP_MB MiB.
Wall time and peak RSS from GNU time (\`%e\`, \`%M\`; RSS is the median of per-run peaks, MB = 1024 KB);
\`ls\` wall time from Python \`time.perf_counter\` around each process.

### Machine

- CPUs (nproc): $(nproc)
- Architecture: $(uname -m)
- CPU model: ${cpu_model:-unknown}
- Kernel: $(uname -sr)
- $(git --version)
- zip: ${zip_version:-unknown}
EOF
