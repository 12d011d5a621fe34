#!/usr/bin/env bash
# Job engine benchmark, measured side by side with peers on this machine:
#
#   queue     1,000 `true` commands queued one by one from the command line and
#             run by a background daemon, one at a time:
#               kollega run --detach + kollega worker   vs   pueue add + pueued
#   stream    `seq 10000000` through `kollega run` (output to /dev/null, the
#             whole log gzipped under the data dir, the tail in the store)
#             vs `seq 10000000 | gzip -1 > file`
#   empty     the fixed cost of one foreground job: `kollega run DIR -- true`
#             (median of 20) beside `sh -c true`
#
# Usage:
#   benches/jobs.sh                       # builds target/release/kollega if missing
#   KOLLEGA_BIN=/path/to/kollega benches/jobs.sh
#   BENCH_JOBS=1000 BENCH_SEQ=10000000 BENCH_REPS=3 benches/jobs.sh
#
# pueue: taken from PATH, or installed with `cargo install pueue --locked`
# when missing (crates.io). Progress goes to stderr; the report to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

JOBS="${BENCH_JOBS:-1000}"
SEQ="${BENCH_SEQ:-10000000}"
REPS="${BENCH_REPS:-3}"

source benches/common.sh

command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v gzip >/dev/null 2>&1 || die "gzip is required"


if ! command -v pueued >/dev/null 2>&1; then
    log "installing pueue from crates.io (cargo install pueue --locked)"
    cargo install pueue --locked >&2
fi
PUEUE="$(command -v pueue)"
PUEUED="$(command -v pueued)"

WORK="$(mktemp -d /tmp/kollega-jobs-bench.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Runs a command N times from one python process (so the timer's own start
# costs nothing) and prints the total seconds, or with "median" the median.
runs() {
    python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
mode, n, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.4f}" if mode == "median" else f"{sum(times):.3f}")
PY
}
now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
median() { python3 -c 'import sys, statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

# --- queue overhead ----------------------------------------------------------

kollega_queue() {
    local dir="$WORK/kq$1" data="$WORK/kq$1/data"
    mkdir -p "$dir/ws"
    export KOLLEGA_DATA_DIR="$data" KOLLEGA_CONFIG_DIR="$dir"
    "$KOLLEGA" ls >/dev/null
    "$KOLLEGA" worker --parallel 1 >"$dir/worker.log" 2>&1 &
    local worker=$!
    PIDS+=("$worker")
    sleep 0.5
    local t0 add t2
    t0="$(now)"
    add="$(runs total "$JOBS" "$KOLLEGA" run "$dir/ws" --detach -- true)"
    python3 - "$data/kollega.db" "$JOBS" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
want = int(sys.argv[2])
while db.execute("SELECT count(*) FROM jobs WHERE status = 'succeeded'").fetchone()[0] < want:
    time.sleep(0.01)
PY
    t2="$(now)"
    kill "$worker"; wait "$worker" 2>/dev/null || true
    unset KOLLEGA_DATA_DIR KOLLEGA_CONFIG_DIR
    echo "$add $(elapsed "$t0" "$t2")"
}

pueue_queue() {
    local dir="$WORK/pq$1"
    mkdir -p "$dir/data" "$dir/run" "$dir/ws"
    cat >"$dir/pueue.yml" <<EOF
shared:
  pueue_directory: $dir/data
  runtime_directory: $dir/run
  use_unix_socket: true
  unix_socket_path: $dir/pueue.sock
daemon:
  default_parallel_tasks: 1
EOF
    "$PUEUED" -c "$dir/pueue.yml" >"$dir/pueued.log" 2>&1 &
    local daemon=$!
    PIDS+=("$daemon")
    for _ in $(seq 50); do [[ -S "$dir/pueue.sock" ]] && break; sleep 0.1; done
    local t0 add t2
    t0="$(now)"
    add="$(runs total "$JOBS" "$PUEUE" -c "$dir/pueue.yml" add --working-directory "$dir/ws" -- true)"
    "$PUEUE" -c "$dir/pueue.yml" wait >/dev/null
    t2="$(now)"
    "$PUEUE" -c "$dir/pueue.yml" shutdown >/dev/null 2>&1 || true
    wait "$daemon" 2>/dev/null || true
    echo "$add $(elapsed "$t0" "$t2")"
}

# --- stream ------------------------------------------------------------------

kollega_stream() {
    local dir="$WORK/ks$1"
    mkdir -p "$dir/ws"
    export KOLLEGA_DATA_DIR="$dir/data" KOLLEGA_CONFIG_DIR="$dir"
    "$KOLLEGA" ls >/dev/null
    local out
    out="$( { /usr/bin/time -f '%e %M' "$KOLLEGA" run "$dir/ws" -- seq "$SEQ" >/dev/null; } 2>&1 | tail -1)"
    local gz
    gz="$(du -k "$dir/data/jobs/1/1.log.gz" | cut -f1)"
    unset KOLLEGA_DATA_DIR KOLLEGA_CONFIG_DIR
    echo "$out $gz"
}

peer_stream() {
    local dir="$WORK/ps$1"
    mkdir -p "$dir"
    local out
    out="$( { /usr/bin/time -f '%e %M' sh -c "seq $SEQ | gzip -1 > $dir/seq.gz"; } 2>&1 | tail -1)"
    echo "$out $(du -k "$dir/seq.gz" | cut -f1)"
}

kollega_empty() {
    local dir="$WORK/ke"
    mkdir -p "$dir/ws"
    export KOLLEGA_DATA_DIR="$dir/data" KOLLEGA_CONFIG_DIR="$dir"
    "$KOLLEGA" ls >/dev/null
    runs median 20 "$KOLLEGA" run "$dir/ws" -- true
    unset KOLLEGA_DATA_DIR KOLLEGA_CONFIG_DIR
}

peer_empty() { runs median 20 sh -c true; }

log "machine: $(nproc) cores, $(python3 -c 'import os; print(round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30))') GiB"
kq_add=(); kq_all=(); pq_add=(); pq_all=()
ks_t=(); ks_rss=(); ks_gz=(); ps_t=(); ps_gz=()
for ((r = 1; r <= REPS; r++)); do
    log "round $r/$REPS: queue of $JOBS jobs (kollega)"
    read -r a b <<<"$(kollega_queue "$r")"; kq_add+=("$a"); kq_all+=("$b")
    log "round $r/$REPS: queue of $JOBS jobs (pueue)"
    read -r a b <<<"$(pueue_queue "$r")"; pq_add+=("$a"); pq_all+=("$b")
    log "round $r/$REPS: seq $SEQ (kollega run)"
    read -r t m g <<<"$(kollega_stream "$r")"; ks_t+=("$t"); ks_rss+=("$m"); ks_gz+=("$g")
    log "round $r/$REPS: seq $SEQ | gzip -1"
    read -r t m g <<<"$(peer_stream "$r")"; ps_t+=("$t"); ps_gz+=("$g")
done
log "fixed cost of an empty job"
ke="$(kollega_empty)"
pe="$(peer_empty)"

KQA="$(median "${kq_add[@]}")"; KQ="$(median "${kq_all[@]}")"
PQA="$(median "${pq_add[@]}")"; PQ="$(median "${pq_all[@]}")"
KS="$(median "${ks_t[@]}")"; PS="$(median "${ps_t[@]}")"
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

cat <<EOF
| benchmark (median of $REPS) | kollega | peer | ratio |
| --- | --- | --- | --- |
| $JOBS \`true\` jobs: queue all from the CLI | ${KQA} s | pueue ${PQA} s | $(ratio "$KQA" "$PQA")× |
| $JOBS \`true\` jobs: queued and all run (1 at a time) | ${KQ} s | pueue ${PQ} s | $(ratio "$KQ" "$PQ")× |
| \`seq $SEQ\` through \`kollega run\` | ${KS} s (peak RSS $(median "${ks_rss[@]}") KiB, log $(median "${ks_gz[@]}") KiB gz) | \`seq | gzip -1\` ${PS} s ($(median "${ps_gz[@]}") KiB) | $(ratio "$KS" "$PS")× |
| empty job \`kollega run DIR -- true\` (median of 20) | $(python3 -c "print(f'{$ke*1000:.1f}')") ms | \`sh -c true\` $(python3 -c "print(f'{$pe*1000:.1f}')") ms | |
EOF
