#!/usr/bin/env bash
# Patch apply benchmark, measured side by side with `git apply` on this
# machine: a git repository of 1,000 files (60 lines each, in 50 folders)
# and a patch of 5,000 hunks (5 per file) made by `git diff`, applied to a
# fresh copy of the files (a folder workspace, outside any repository) by
#
#   git apply PATCH
#   kollega patch import DIR PATCH --apply        (one process)
#   kollega patch import DIR PATCH  +  kollega patch apply ID --all
#
# kollega's apply is all or nothing across files (journaled in the store
# first, then each file written in place, taken back from the journal if
# cut short) and records a checkpoint for undo. Each run gets a fresh
# copy and (unless BENCH_STORE=kept) a fresh data directory (not timed);
# the results are checked equal once.
#
# Usage:
#   benches/patch_apply.sh                 # builds target/release/kollega if missing
#   KOLLEGA_BIN=/path/to/kollega benches/patch_apply.sh
#   BENCH_FILES=1000 BENCH_REPS=7 benches/patch_apply.sh
#   BENCH_SYNC=1 benches/patch_apply.sh      # each fresh copy synced to disk first
#   KOLLEGA_BEFORE=/path/to/old/kollega benches/patch_apply.sh
#                                   # also times that build's import --apply
#                                   # in each run, for a before and after
#   BENCH_STORE=kept benches/patch_apply.sh
#                                   # one data directory for all runs (each
#                                   # build its own), as a store in use:
#                                   # each command then also checkpoints
#                                   # the WAL the one before it left
#
# Without BENCH_SYNC the files are applied to just after they were copied,
# still in the page cache (not yet allocated on disk); with it, after a
# `sync` (not timed), as the files of a working tree that has been there
# a while. The two differ in what replacing or truncating a file costs the
# file system (freeing its blocks, and discarding them on a disk mounted
# with `discard`).
#
# Progress goes to stderr; the report to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FILES="${BENCH_FILES:-1000}"
REPS="${BENCH_REPS:-5}"
HUNKS_PER_FILE=5
LINES=60

source benches/common.sh

command -v git >/dev/null 2>&1 || die "git is required"
command -v python3 >/dev/null 2>&1 || die "python3 is required"

WORK="$(mktemp -d /tmp/kollega-patch-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# Seconds one command takes, run from a python timer.
timed() {
    python3 - "$@" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.4f}")
PY
}
median() { python3 -c 'import sys, statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

log "making a repository of $FILES files and a patch of $((FILES * HUNKS_PER_FILE)) hunks"
python3 - "$WORK/repo" "$FILES" "$LINES" <<'PY'
import os, sys
root, files, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(files):
    path = os.path.join(root, f"d{i % 50:02d}", f"file{i:04d}.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for n in range(lines):
            f.write(f"file {i} line {n}: some text that stays the same\n")
PY
export GIT_CONFIG_NOSYSTEM=1 HOME="$WORK/home"
mkdir -p "$HOME"
git -C "$WORK/repo" init -q -b main
git -C "$WORK/repo" -c user.name=bench -c user.email=bench@example.com add -A
git -C "$WORK/repo" -c user.name=bench -c user.email=bench@example.com commit -qm base
# Five changes per file, 12 lines apart: five hunks with 3 lines of context.
python3 - "$WORK/repo" "$FILES" "$HUNKS_PER_FILE" <<'PY'
import os, sys
root, files, hunks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(files):
    path = os.path.join(root, f"d{i % 50:02d}", f"file{i:04d}.txt")
    with open(path) as f:
        lines = f.readlines()
    for h in range(hunks):
        n = 5 + h * 12
        lines[n] = lines[n].rstrip("\n") + " (changed)\n"
        lines.insert(n + 1, f"an added line {h}\n")
    with open(path, "w") as f:
        f.writelines(lines)
PY
git -C "$WORK/repo" diff > "$WORK/patch.diff"
git -C "$WORK/repo" diff --stat | tail -1 >&2
git -C "$WORK/repo" checkout -q -- .
HUNKS="$(grep -c '^@@ ' "$WORK/patch.diff")"
[[ "$HUNKS" == "$((FILES * HUNKS_PER_FILE))" ]] || die "the patch has $HUNKS hunks, not $((FILES * HUNKS_PER_FILE))"

# A data directory for this run: a fresh one, or with BENCH_STORE=kept
# the one of the earlier runs (named by `$1`, one per build).
data_dir() {
    export KOLLEGA_DATA_DIR="$WORK/data-$1" KOLLEGA_CONFIG_DIR="$WORK/home"
    if [[ "${BENCH_STORE:-fresh}" != kept ]]; then
        rm -rf "$KOLLEGA_DATA_DIR"
    fi
}

# Makes the store of this run's data directory, untimed, if there is none
# yet (an open of a kept one would checkpoint its WAL here, untimed).
make_store() {
    [[ -e "$KOLLEGA_DATA_DIR/kollega.db" ]] || "$1" ls >/dev/null
}

fresh() {
    rm -rf "$1"
    mkdir -p "$1"
    (cd "$WORK/repo" && tar --exclude=.git -cf - .) | (cd "$1" && tar -xf -)
    if [[ "${BENCH_SYNC:-0}" == 1 ]]; then
        sync
    fi
}

git_times=()
kollega_times=()
at_once_times=()
before_times=()
import_times=()
apply_times=()
for rep in $(seq "$REPS"); do
    log "run $rep of $REPS"
    fresh "$WORK/by-git"
    git_times+=("$(cd "$WORK/by-git" && timed git apply "$WORK/patch.diff")")

    fresh "$WORK/at-once"
    data_dir at-once
    make_store "$KOLLEGA"
    at_once_times+=("$(timed "$KOLLEGA" patch import "$WORK/at-once" "$WORK/patch.diff" --apply)")

    if [[ -n "${KOLLEGA_BEFORE:-}" ]]; then
        fresh "$WORK/by-before"
        data_dir by-before
        make_store "$KOLLEGA_BEFORE"
        before_times+=("$(timed "$KOLLEGA_BEFORE" patch import "$WORK/by-before" "$WORK/patch.diff" --apply)")
    fi

    fresh "$WORK/by-kollega"
    data_dir by-kollega
    make_store "$KOLLEGA"
    t_import="$(timed "$KOLLEGA" patch import "$WORK/by-kollega" "$WORK/patch.diff")"
    id="$("$KOLLEGA" patch ls "$WORK/by-kollega" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["patches"][0]["id"])')"
    t_apply="$(timed "$KOLLEGA" patch apply "$id" --all)"
    import_times+=("$t_import")
    apply_times+=("$t_apply")
    kollega_times+=("$(python3 -c "print($t_import + $t_apply)")")
done

diff -r "$WORK/by-git" "$WORK/by-kollega" >/dev/null || die "kollega's result differs from git apply's"
diff -r "$WORK/by-git" "$WORK/at-once" >/dev/null || die "kollega's import --apply differs from git apply's"

echo "patch apply: $FILES files, $HUNKS hunks, $REPS runs (median seconds), files synced first: ${BENCH_SYNC:-0}, store: ${BENCH_STORE:-fresh}"
echo "  git apply                          $(median "${git_times[@]}")"
echo "  kollega patch import --apply       $(median "${at_once_times[@]}")"
if [[ -n "${KOLLEGA_BEFORE:-}" ]]; then
    echo "    the same, KOLLEGA_BEFORE's build   $(median "${before_times[@]}")"
fi
echo "  kollega patch import + apply --all $(median "${kollega_times[@]}")"
echo "    import                           $(median "${import_times[@]}")"
echo "    apply --all                      $(median "${apply_times[@]}")"
echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
