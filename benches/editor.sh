#!/usr/bin/env bash
# Editor benchmarks over the real update and render path (`benches/ui.rs`,
# the workstation driven in-process, frames drawn on a 100x30 test
# backend), beside vim for start-up:
#
#   keystroke   keystroke to frame, middle of a 1,000,000-line file, autosave on
#   jump-end    jump to the end of a 10,000-line TSX file, highlight and draw
#   open        open a 100 MB text file: first frame and peak RSS
#   typing      100 characters a second for 10 s with autosave writing drafts
#   long-line   a 1 MB minified file on one line: first frame, typing at its end
#   long-line-wrap  the same with soft wrap on: End's frame, typing at the end
#   search      f3 through the 10,000 matches of a 10,000-line TSX file
#   diff        a 5,000-line change in the changes view: first frame, paging
#   startup     start to first frame on a 10,000-file folder, beside vim -u NONE
#   idle RSS    the real TUI on the demo workspace in tmux, after 2 s idle
#
# Usage: benches/editor.sh   (KOLLEGA_BIN overrides target/release/kollega)
# Needs: python3, vim, script (util-linux), tmux.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KOLLEGA="${KOLLEGA_BIN:-target/release/kollega}"
[[ -x "$KOLLEGA" ]] || cargo build --release >&2
# The UI bench binary, built in the bench profile; its path from cargo.
UI_BENCH="$(cargo bench --bench ui --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ui" and m.get("executable"):
        print(m["executable"])')"
[[ -x "$UI_BENCH" ]] || { echo "error: cannot build the ui bench (cargo bench --bench ui --no-run)" >&2; exit 1; }
for tool in python3 vim script tmux; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing (apt-get install -y vim bsdutils tmux)" >&2; exit 1; }
done
KOLLEGA="$(cd "$(dirname "$KOLLEGA")" && pwd)/$(basename "$KOLLEGA")"

TMP="$(mktemp -d /tmp/kollega-editor-bench.XXXXXX)"
trap 'tmux -L kollega-bench kill-server 2>/dev/null || true; rm -rf "$TMP"' EXIT
export KOLLEGA_DATA_DIR="$TMP/data" KOLLEGA_CONFIG_DIR="$TMP/config"

echo "[bench] generating inputs in $TMP" >&2
python3 - "$TMP" <<'PY'
import os, sys
tmp = sys.argv[1]
big = os.path.join(tmp, "big"); os.makedirs(big)
with open(os.path.join(big, "lines.ts"), "w") as f:
    for i in range(1_000_000):
        f.write(f"export const value{i} = {i % 977}; // row {i}\n")
tsx = os.path.join(tmp, "tsx"); os.makedirs(tsx)
with open(os.path.join(tsx, "page.tsx"), "w") as f:
    for i in range(10_000):
        if i % 50 == 0:
            f.write(f"/* section {i}\n   notes */\n")
        f.write(f'export function Item{i}() {{ return <div className="item-{i}">{{"label {i}"}}</div>; }}\n')
huge = os.path.join(tmp, "huge"); os.makedirs(huge)
line = "lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor 0123456789\n"
with open(os.path.join(huge, "log.txt"), "w") as f:
    for _ in range(100 * 1024 * 1024 // len(line)):
        f.write(line)
minified = os.path.join(tmp, "minified"); os.makedirs(minified)
with open(os.path.join(minified, "bundle.min.js"), "w") as f:
    n = 0
    while f.tell() < 1024 * 1024:
        f.write(f'function f{n}(a,b){{return a.k{n}+"s{n}"*b}};var v{n}=[{n},"x",{{k:{n}}}];')
        n += 1
many = os.path.join(tmp, "many")
for d in range(100):
    os.makedirs(os.path.join(many, f"dir{d:03}"))
    for n in range(100):
        with open(os.path.join(many, f"dir{d:03}", f"file{n:03}.ts"), "w") as f:
            f.write(f"export const n = {d * 100 + n};\n" * 20)
PY

run() { "$UI_BENCH" "$@"; }
echo "[bench] keystroke" >&2;  KEY=$(run keystroke "$TMP/big" lines.ts)
echo "[bench] jump-end" >&2;   JUMP=$(run jump-end "$TMP/tsx" page.tsx)
echo "[bench] open 100 MB" >&2; OPEN=$(run open "$TMP/huge" log.txt)
echo "[bench] typing 10 s" >&2; TYPE=$(run typing "$TMP/tsx" page.tsx)
echo "[bench] 1 MB on one line" >&2; LONG=$(run long-line "$TMP/minified" bundle.min.js)
echo "[bench] 1 MB on one line, soft wrap" >&2; WRAP=$(run long-line-wrap "$TMP/minified" bundle.min.js)
echo "[bench] search" >&2; SEARCH=$(run search "$TMP/tsx" page.tsx)
echo "[bench] diff of 5,000 lines" >&2; DIFF=$(run diff "$TMP/tsx" page.tsx)

echo "[bench] start-up against vim" >&2
STARTUP=$(python3 - "$UI_BENCH" "$TMP/many" <<'PY'
import statistics, subprocess, sys, time
ui_bench, many = sys.argv[1], sys.argv[2]
def timed(cmd, runs=15):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append((time.perf_counter() - t) * 1e3)
    return statistics.median(out)
k = timed([ui_bench, "first-frame", many, "dir050/file050.ts"])
# vim in a pseudo-terminal (script), drawing the file and quitting.
v = timed(["script", "-qec", f"vim -u NONE -N -c 'redraw' -c 'qa!' {many}/dir050/file050.ts", "/dev/null"])
print(f'{{"kollega_ms": {k:.1f}, "vim_ms": {v:.1f}}}')
PY
)

echo "[bench] idle RSS on the demo workspace" >&2
tmux -L kollega-bench new-session -d -x 100 -y 30 "KOLLEGA_DATA_DIR=$TMP/demo-data $KOLLEGA"
sleep 3
PANE=$(tmux -L kollega-bench list-panes -F '#{pane_pid}')
if [[ "$(cat "/proc/$PANE/comm")" == kollega ]]; then PID=$PANE; else PID=$(pgrep -P "$PANE" kollega); fi
[[ "$(cat "/proc/$PID/comm")" == kollega ]] || { echo "error: kollega is not running in the bench pane" >&2; exit 1; }
sleep 2
IDLE_RSS=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status")
CPU_BEFORE=$(awk '{print $14+$15}' "/proc/$PID/stat"); sleep 5; CPU_AFTER=$(awk '{print $14+$15}' "/proc/$PID/stat")
tmux -L kollega-bench kill-server

cat <<MD
## Editor benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'))

- keystroke: $KEY
- jump-end: $JUMP
- open: $OPEN
- typing: $TYPE
- long-line: $LONG
- long-line-wrap: $WRAP
- search: $SEARCH
- diff: $DIFF
- start-up (median of 15, process start to first frame, 10,000-file folder): $STARTUP
- idle on the demo: RSS ${IDLE_RSS} MB, CPU ticks over 5 s idle: $((CPU_AFTER - CPU_BEFORE))
- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(vim --version | head -1)
MD
