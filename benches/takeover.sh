#!/usr/bin/env bash
# Takeover into git beside git itself, on the 10,000-file tree of
# benches/import.sh:
#
#   kollega takeover <tree> --git <repo>     vs   git init && git add -A && git commit
#
# Both start from the same tree on the same disk; median of BENCH_REPS runs.
# Usage: benches/takeover.sh   (KOLLEGA_BIN overrides target/release/kollega)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KOLLEGA="${KOLLEGA_BIN:-target/release/kollega}"
[[ -x "$KOLLEGA" ]] || cargo build --release >&2
KOLLEGA="$(cd "$(dirname "$KOLLEGA")" && pwd)/$(basename "$KOLLEGA")"
REPS="${BENCH_REPS:-5}"
TMP="$(mktemp -d /tmp/kollega-takeover-bench.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home"
mkdir -p "$HOME"

python3 - "$TMP/tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
words = "const let return function import export from value item list table row cell data".split()
for d in range(100):
    os.makedirs(os.path.join(root, f"dir{d:03}"))
    for n in range(100):
        lines = [" ".join(rng.choice(words) for _ in range(12)) + f" // {d}-{n}-{i}" for i in range(100)]
        with open(os.path.join(root, f"dir{d:03}", f"file{n:03}.ts"), "w") as f:
            f.write("\n".join(lines) + "\n")
PY

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ktimes=(); gtimes=(); ctimes=()
# Each run gets folders of its own and nothing is deleted until the end:
# ext4 slows down creating files right after a big delete ("recently
# deleted" inodes), which would otherwise punish whichever run comes next.
for i in $(seq "$REPS"); do
    R="$TMP/run$i"
    mkdir -p "$R"
    cp -r "$TMP/tree" "$R/peer"
    sync
    s=$(date +%s.%N)
    "$KOLLEGA" --data-dir "$R/data" takeover "$TMP/tree" --git "$R/repo" --name bench >/dev/null
    e=$(date +%s.%N); ktimes+=("$(echo "$e - $s" | bc)")
    sync
    s=$(date +%s.%N)
    (cd "$R/peer" && git init -q && git add -A && git -c gc.auto=0 commit -q -m bench)
    e=$(date +%s.%N); gtimes+=("$(echo "$e - $s" | bc)")
    sync
    s=$(date +%s.%N)
    cp -r "$TMP/tree" "$R/copy" && (cd "$R/copy" && git init -q && git add -A && git -c gc.auto=0 commit -q -m bench)
    e=$(date +%s.%N); ctimes+=("$(echo "$e - $s" | bc)")
    echo "[bench] run $i: kollega ${ktimes[-1]} s, git ${gtimes[-1]} s, cp+git ${ctimes[-1]} s" >&2
done
K=$(printf '%s\n' "${ktimes[@]}" | median)
G=$(printf '%s\n' "${gtimes[@]}" | median)
C=$(printf '%s\n' "${ctimes[@]}" | median)
echo "takeover of 10,000 files: kollega ${K} s, git init+add+commit ${G} s, ratio $(echo "scale=2; $K / $G" | bc) (median of $REPS)"
echo "same work as kollega (copy the tree into a new folder, then git init+add+commit): ${C} s, ratio $(echo "scale=2; $K / $C" | bc)"
echo "(kollega also writes the 10,000 files of the work tree; the first peer's tree was copied before its clock started)"
