# Shared by the benchmark scripts: messages, and the kollega binary to
# measure. Source it after `cd` to the repository root:
#   source benches/common.sh
# It sets KOLLEGA to an absolute path (peer commands run from other
# directories): KOLLEGA_BIN if given, else target/release/kollega, built
# with `cargo build --release` when missing.

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [[ -n "${KOLLEGA_BIN:-}" ]]; then
    KOLLEGA="$KOLLEGA_BIN"
    [[ -x "$KOLLEGA" ]] || die "KOLLEGA_BIN=$KOLLEGA is not an executable file"
else
    KOLLEGA="target/release/kollega"
    if [[ ! -x "$KOLLEGA" ]]; then
        log "building $KOLLEGA (cargo build --release)"
        cargo build --release >&2
    fi
    [[ -x "$KOLLEGA" ]] || die "$KOLLEGA not found after cargo build --release"
fi
KOLLEGA="$(cd "$(dirname "$KOLLEGA")" && pwd)/$(basename "$KOLLEGA")"
