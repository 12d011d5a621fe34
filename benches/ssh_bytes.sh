#!/usr/bin/env bash
# Bytes written to the terminal per typed key, beside vim in the same run:
# what a user on a slow SSH link pays for every character.
#
# Each editor runs in a pseudo-terminal of 100x30 on a copy of the same
# TypeScript file, once for each of four lines (a short declaration, a
# signature, a call, a long object literal), the cursor at the line's start.
# After start-up settles, a quarter of the 200 characters is typed one at a
# time (BENCH_KEY_MS apart, so each gets a frame of its own, as when a
# person types), and every byte the editor writes from the first key until
# it falls quiet is counted:
#
#   kollega          the release build, `kollega open DIR file.ts:LINE`
#   vim -u NONE      no syntax highlighting
#   vim syntax on    `vim -u NONE -N -c 'syntax on'`
#
# All run with TERM=xterm-256color and no COLORTERM (256 colours, as over a
# plain SSH session); kollega is measured once more with COLORTERM=truecolor.
#
# Usage:
#   benches/ssh_bytes.sh             # builds target/release/kollega if missing
#   KOLLEGA_BIN=/path/to/kollega BENCH_KEYS=200 BENCH_KEY_MS=40 benches/ssh_bytes.sh
#   BENCH_DUMP=/tmp/out benches/ssh_bytes.sh   # also keeps each editor's typed bytes there
#
# Needs python3 (its pty module gives the pseudo-terminal) and vim.
# Progress goes to stderr; the report to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

KEYS="${BENCH_KEYS:-200}"
KEY_MS="${BENCH_KEY_MS:-40}"

source benches/common.sh

command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v vim >/dev/null 2>&1 || die "vim is required (apt-get install -y vim)"

WORK="$(mktemp -d /tmp/kollega-ssh-bytes.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

log "measuring $KEYS keys, ${KEY_MS} ms apart, at 100x30"
python3 - "$KOLLEGA" "$WORK" "$KEYS" "$KEY_MS" <<'PY'
import fcntl, os, pty, select, shutil, signal, struct, sys, termios, time

kollega, work, keys, key_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
COLS, ROWS = 100, 30
LINES = [12, 15, 19, 28]

SOURCE = """import { readFile } from "node:fs/promises";
import type { Request, Response } from "./http";

/** One task as the API returns it. */
export interface Task {
  id: number;
  title: string;
  done: boolean;
  tags: string[];
}

const tasks: Task[] = [];
let nextId = 1;

export async function loadTasks(path: string): Promise<Task[]> {
  const text = await readFile(path, "utf8");
  const parsed = JSON.parse(text) as Task[];
  for (const task of parsed) {
    tasks.push({ ...task, id: nextId++ });
  }
  return tasks;
}

export function handle(req: Request, res: Response): void {
  if (req.method === "GET") {
    res.json(tasks.filter((t) => !t.done));
  } else if (req.method === "POST") {
    const task: Task = { id: nextId++, title: String(req.body.title), done: false, tags: [] };
    tasks.push(task);
    res.status(201).json(task);
  } else {
    res.status(405).end();
  }
}
"""

def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)

def measure(name, line, keys, argv, env_extra, enter):
    folder = os.path.join(work, f"{name.replace(' ', '-')}-{line}")
    os.makedirs(folder)
    with open(os.path.join(folder, "tasks.ts"), "w") as f:
        f.write(SOURCE)
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR", "TMUX")}
    env.update({"TERM": "xterm-256color", "KOLLEGA_DATA_DIR": folder + ".data",
                "KOLLEGA_CONFIG_DIR": folder + ".config", "HOME": folder + ".home"})
    env.update(env_extra)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(folder)
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    total = 0
    captured = bytearray()

    def drain(quiet, limit):
        """Reads until nothing came for `quiet` seconds (or `limit` passed)."""
        nonlocal total
        start = last = time.monotonic()
        while True:
            now = time.monotonic()
            if now - last >= quiet or now - start >= limit:
                return
            r, _, _ = select.select([fd], [], [], min(quiet, 0.05))
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return
                if not data:
                    return
                total += len(data)
                captured.extend(data)
                last = time.monotonic()

    drain(1.5, 20)
    for key in enter:
        os.write(fd, key)
        drain(0.3, 5)
    before = total
    for i in range(keys):
        os.write(fd, b"x")
        end = time.monotonic() + key_ms / 1000
        while time.monotonic() < end:
            drain(0.01, max(0.0, end - time.monotonic()))
    drain(1.0, 10)
    written = total - before
    if os.environ.get("BENCH_DUMP"):
        # The bytes written while typing, to see where they go.
        with open(os.path.join(os.environ["BENCH_DUMP"], f"{name.replace(' ', '-')}-{line}.out"), "wb") as f:
            f.write(captured[len(captured) - written:])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            drain(0.1, 0.2)
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        except ChildProcessError:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    log(f"{name}, line {line}: {written} bytes for {keys} keys")
    return written

editors = [
    ("kollega", lambda line: [kollega, "open", ".", f"tasks.ts:{line}"], {}, []),
    ("vim -u NONE", lambda line: ["vim", "-u", "NONE", "-N", f"+{line}", "tasks.ts"], {}, [b"0", b"i"]),
    ("vim syntax on", lambda line: ["vim", "-u", "NONE", "-N", "-c", "syntax on", f"+{line}", "tasks.ts"], {}, [b"0", b"i"]),
    ("kollega (COLORTERM=truecolor)", lambda line: [kollega, "open", ".", f"tasks.ts:{line}"], {"COLORTERM": "truecolor"}, []),
]
per_line = max(1, keys // len(LINES))
rows = []
for name, argv, env_extra, enter in editors:
    counts = [measure(name, line, per_line, argv(line), env_extra, enter) for line in LINES]
    rows.append((name, [c / per_line for c in counts], sum(counts) / (per_line * len(LINES))))

print(f"## Bytes to the terminal per typed key ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
print(f"{per_line * len(LINES)} keys, {per_line} at the start of each of lines {', '.join(map(str, LINES))} of a TypeScript file; 100x30, TERM=xterm-256color.\n")
print("| editor | " + " | ".join(f"line {l}" for l in LINES) + " | all |")
print("|---|" + "---:|" * (len(LINES) + 1))
for name, lines, total in rows:
    print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in lines) + f" | {total:.1f} |")
PY
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(vim --version | head -1)"
