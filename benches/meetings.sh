#!/usr/bin/env bash
# Meetings benchmark: a large generated calendar imported and the 7-day
# dashboard listed, measured beside Python's `icalendar` (parsing) and
# `recurring_ical_events` (expanding) on the same file in the same run.
#
#   import    `kollega meetings import FILE.ics` into a fresh data dir
#             (read, structure check, parse, expand the series within the
#             import horizon, store in one transaction), then the same file
#             imported again (every meeting unchanged: a subscription refresh)
#   list      `kollega meetings --days 7` and `--days 7 --json` after the
#             import: the whole process, median of BENCH_LIST_RUNS
#   peer      icalendar.Calendar.from_ical, then recurring_ical_events
#             between the same horizon, then the next 7 days alone
#
# The calendar (deterministic, dated around today): BENCH_EVENTS single
# events and BENCH_SERIES recurring series in mixed zones: IANA zones with
# VTIMEZONE blocks, an IANA zone without one, Exchange's Windows zone names
# ("W. Europe Standard Time", "Pacific Standard Time") with VTIMEZONE
# blocks, UTC, floating and all-day times; EXDATEs, RECURRENCE-ID overrides
# (moved and cancelled), cancelled events, attendees and organizers, and
# long folded descriptions.
#
# Usage:
#   benches/meetings.sh                      # builds target/release/kollega if missing
#   KOLLEGA_BIN=/path/to/kollega benches/meetings.sh
#   BENCH_EVENTS=10000 BENCH_SERIES=1000 BENCH_REPS=3 BENCH_LIST_RUNS=20 benches/meetings.sh
#
# Python: python3 with `icalendar` and `recurring_ical_events`; when they
# are missing they are installed with pip into a venv under
# target/bench-venv. Requires GNU time (/usr/bin/time) for peak memory.
# Progress goes to stderr; the markdown report to stdout.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EVENTS="${BENCH_EVENTS:-10000}"
SERIES="${BENCH_SERIES:-1000}"
REPS="${BENCH_REPS:-3}"
LIST_RUNS="${BENCH_LIST_RUNS:-20}"
# The user's zone for the whole run: floating and all-day times are taken in it.
export TZ="${BENCH_TZ:-Europe/Stockholm}"

source benches/common.sh

command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install -y python3 python3-venv)"
[[ -x /usr/bin/time ]] && /usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null \
    || die "GNU time is required for peak memory (apt-get install -y time)"

PY=python3
if ! "$PY" -c 'import icalendar, recurring_ical_events' 2>/dev/null; then
    VENV="$ROOT/target/bench-venv"
    if ! "$VENV/bin/python" -c 'import icalendar, recurring_ical_events' 2>/dev/null; then
        log "installing icalendar and recurring-ical-events into $VENV"
        python3 -m venv "$VENV" || die "cannot make a venv (apt-get install -y python3-venv)"
        "$VENV/bin/pip" install -q icalendar recurring-ical-events >&2
    fi
    PY="$VENV/bin/python"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kollega-meetings-bench.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export KOLLEGA_CONFIG_DIR="$WORK/config"
mkdir -p "$KOLLEGA_CONFIG_DIR"

ICS="$WORK/calendar.ics"

# --- helpers ----------------------------------------------------------------

# measure NAME CMD...: runs CMD under GNU time; sets LAST_SECS and LAST_RSS_KB.
LAST_SECS=""
LAST_RSS_KB=""
measure() {
    local name="$1"
    shift
    local out="$WORK/time.out"
    if ! /usr/bin/time -f '%e %M' -o "$out" "$@"; then
        cat "$out" >&2 || true
        die "$name failed: $*"
    fi
    read -r LAST_SECS LAST_RSS_KB < <(tail -n 1 "$out")
}

median() { python3 -c 'import sys, statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }
mb() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 > 0 else 'n/a')"; }

# runs N CMD...: median wall milliseconds of N runs of CMD (one warm-up
# run first), timed from one python process.
runs() {
    python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
times = []
for _ in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.1f}")
PY
}

# --- the calendar -------------------------------------------------------------

log "generating $EVENTS events and $SERIES recurring series in $ICS"
python3 - "$ICS" "$EVENTS" "$SERIES" <<'PY'
"""A deterministic calendar dated around today, as calendar servers write them."""
import datetime as dt
import random
import sys

path, n_events, n_series = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261207)
today = dt.date.today()

VTIMEZONES = {
    "Europe/Stockholm": """BEGIN:VTIMEZONE
TZID:Europe/Stockholm
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE""",
    "America/New_York": """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE""",
    "W. Europe Standard Time": """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE""",
    "Pacific Standard Time": """BEGIN:VTIMEZONE
TZID:Pacific Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0700
TZOFFSETTO:-0800
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0800
TZOFFSETTO:-0700
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE""",
}
# How a time is written: a zone (with or without its VTIMEZONE), UTC,
# floating or all-day; weights as a mixed work calendar has them.
KINDS = [
    ("Europe/Stockholm", 30), ("America/New_York", 10), ("W. Europe Standard Time", 12),
    ("Pacific Standard Time", 5), ("Asia/Tokyo", 5), ("UTC", 18), ("floating", 10),
    ("allday", 10),
]
WORDS = ("release review sync planning retro standup budget contract vendor design "
         "security audit hiring onboarding roadmap incident customer demo migration "
         "takeover backlog legal procurement quarterly board").split()
PEOPLE = [(f"Person {i}", f"person{i}@example.com") for i in range(300)]

out = []
w = out.append


def fold(line):
    """Folds a content line at 75 octets (ASCII here) as RFC 5545 says."""
    if len(line) <= 75:
        return line
    parts = [line[:75]]
    rest = line[75:]
    while rest:
        parts.append(" " + rest[:74])
        rest = rest[74:]
    return "\r\n".join(parts)


def kind():
    return rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]


def stamp(name, kind, day, minutes):
    """A DTSTART-like property at `day` + `minutes` written as `kind` says."""
    if kind == "allday":
        return f"{name};VALUE=DATE:{day:%Y%m%d}"
    t = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    if kind == "UTC":
        return f"{name}:{t:%Y%m%dT%H%M%S}Z"
    if kind == "floating":
        return f"{name}:{t:%Y%m%dT%H%M%S}"
    return f"{name};TZID={kind}:{t:%Y%m%dT%H%M%S}"


def people(n):
    chosen = rng.sample(PEOPLE, n + 1)
    name, email = chosen[0]
    w(f"ORGANIZER;CN={name}:mailto:{email}")
    for name, email in chosen[1:]:
        w(f"ATTENDEE;CN={name};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:{email}")


def title():
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))).capitalize()


def body(uid, k, day, start_min, dur_min, seq=0):
    w(f"UID:{uid}")
    w(f"DTSTAMP:{today:%Y%m%d}T080000Z")
    w(f"SEQUENCE:{seq}")
    w(stamp("DTSTART", k, day, start_min))
    if k == "allday":
        w(stamp("DTEND", k, day + dt.timedelta(days=1), 0))
    else:
        w(stamp("DTEND", k, day, start_min + dur_min))
    w(f"SUMMARY:{title()}")
    if rng.random() < 0.4:
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
        w(fold(f"DESCRIPTION:Agenda: {text}\\, and any other business."))
    if rng.random() < 0.5:
        w(f"LOCATION:Room {rng.randint(1, 40)}")
    if rng.random() < 0.7:
        people(rng.randint(1, 6))


w("BEGIN:VCALENDAR")
w("VERSION:2.0")
w("PRODID:-//kollega//meetings bench//EN")
w("CALSCALE:GREGORIAN")
for block in VTIMEZONES.values():
    out.extend(block.split("\n"))

n_overrides = n_exdates = 0
for i in range(n_events):
    k = kind()
    day = today + dt.timedelta(days=rng.randint(-30, 150))
    w("BEGIN:VEVENT")
    body(f"event-{i}@bench.example.com", k, day, rng.randrange(7 * 4, 18 * 4) * 15,
         rng.choice([15, 30, 45, 60, 90]))
    if rng.random() < 0.02:
        w("STATUS:CANCELLED")
    w("END:VEVENT")

for i in range(n_series):
    k = kind()
    uid = f"series-{i}@bench.example.com"
    first = today - dt.timedelta(days=rng.randint(0, 60))
    start_min = rng.randrange(8 * 4, 17 * 4) * 15
    dur = rng.choice([15, 30, 45, 60])
    shape = rng.choices(["weekly", "workdays", "biweekly", "monthly"], [55, 15, 20, 10])[0]
    if shape == "workdays":
        first -= dt.timedelta(days=first.weekday())  # a Monday
        rule, step = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", 7
    elif shape == "weekly":
        rule, step = "FREQ=WEEKLY", 7
    elif shape == "biweekly":
        rule, step = "FREQ=WEEKLY;INTERVAL=2", 14
    else:
        first = first.replace(day=min(first.day, 28))
        rule, step = f"FREQ=MONTHLY;BYMONTHDAY={first.day}", None
    end = rng.random()
    if end < 0.3:
        rule += f";COUNT={rng.randint(5, 60)}"
    elif end < 0.5:
        until = first + dt.timedelta(days=rng.randint(30, 300))
        rule += f";UNTIL={until:%Y%m%d}T235959Z" if k != "allday" else f";UNTIL={until:%Y%m%d}"
    w("BEGIN:VEVENT")
    body(uid, k, first, start_min, dur)
    w(f"RRULE:{rule}")
    # Exceptions and overrides fall on occurrences of the rule: whole steps
    # from the first (weekday series step a week, so the weekday holds).
    picks = sorted(rng.sample(range(1, 8), 4)) if step else []
    if step and rng.random() < 0.4:
        for n in picks[:rng.randint(1, 2)]:
            w(stamp("EXDATE", k, first + dt.timedelta(days=n * step), start_min))
            n_exdates += 1
    w("END:VEVENT")
    if step and rng.random() < 0.5:
        for n in picks[2:2 + rng.randint(1, 2)]:
            day = first + dt.timedelta(days=n * step)
            w("BEGIN:VEVENT")
            if rng.random() < 0.25:
                body(uid, k, day, start_min, dur, seq=1)
                w("STATUS:CANCELLED")
            else:
                # Moved an hour later (an all-day one a day later).
                moved = day + dt.timedelta(days=1) if k == "allday" else day
                body(uid, k, moved, start_min + 60, dur, seq=1)
            w(stamp("RECURRENCE-ID", k, day, start_min))
            w("END:VEVENT")
            n_overrides += 1

w("END:VCALENDAR")
with open(path, "w", newline="") as f:
    f.write("\r\n".join(out) + "\r\n")
print(f"{n_overrides} overrides, {n_exdates} exdates", file=sys.stderr)
PY
ICS_MB="$(python3 -c "import os; print(f'{os.path.getsize(\"$ICS\") / 2**20:.1f}')")"
VEVENTS="$(grep -c '^BEGIN:VEVENT' "$ICS")"
log "calendar: $VEVENTS VEVENTs, $ICS_MB MiB"

# --- kollega ------------------------------------------------------------------

imp_s=(); imp_rss=()
for ((r = 1; r <= REPS; r++)); do
    DATA="$WORK/data$r"
    rm -rf "$DATA"
    measure "kollega meetings import" \
        "$KOLLEGA" --data-dir "$DATA" meetings import "$ICS" --json >"$WORK/import.json"
    imp_s+=("$LAST_SECS"); imp_rss+=("$LAST_RSS_KB")
    log "import $r/$REPS: ${LAST_SECS} s, ${LAST_RSS_KB} KiB"
done
read -r IMPORTED CANCELLED SKIPPED < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["imported"], r["cancelled"], len(r["skipped"]))' "$WORK/import.json")

DATA="$WORK/data1"
measure "kollega meetings import (again)" \
    "$KOLLEGA" --data-dir "$DATA" meetings import "$ICS" --json >"$WORK/again.json"
AGAIN_S="$LAST_SECS"; AGAIN_RSS="$LAST_RSS_KB"
UNCHANGED="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["unchanged"])' "$WORK/again.json")"
log "import again: ${AGAIN_S} s, $UNCHANGED unchanged"

LIST_MS="$(runs "$LIST_RUNS" "$KOLLEGA" --data-dir "$DATA" meetings --days 7)"
LIST_JSON_MS="$(runs "$LIST_RUNS" "$KOLLEGA" --data-dir "$DATA" meetings --days 7 --json)"
measure "kollega meetings --days 7" "$KOLLEGA" --data-dir "$DATA" meetings --days 7 --json >"$WORK/week.json"
LIST_RSS="$LAST_RSS_KB"
WEEK_N="$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/week.json")"
log "7 days: $WEEK_N meetings, ${LIST_MS} ms (text), ${LIST_JSON_MS} ms (json)"

# --- the peer: icalendar + recurring_ical_events --------------------------------

cat >"$WORK/peer.py" <<'PY'
"""Parses the calendar with icalendar, then expands it with
recurring_ical_events within the import's horizon (30 days back, 180
ahead) and within the next 7 days; prints the phase times as JSON."""
import datetime as dt
import json
import sys
import time
from importlib.metadata import version

import icalendar
import recurring_ical_events

path = sys.argv[1]
t0 = time.perf_counter()
with open(path, "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
t1 = time.perf_counter()
now = dt.datetime.now(dt.timezone.utc)
horizon = recurring_ical_events.of(cal).between(now - dt.timedelta(days=30), now + dt.timedelta(days=180))
t2 = time.perf_counter()
today = dt.datetime.combine(dt.date.today(), dt.time())
week = recurring_ical_events.of(cal).between(today, today + dt.timedelta(days=7))
t3 = time.perf_counter()
print(json.dumps({
    "parse": t1 - t0, "expand": t2 - t1, "week": t3 - t2,
    "occurrences": len(horizon), "week_n": len(week),
    "icalendar": version("icalendar"), "rie": version("recurring-ical-events"),
}))
PY
peer_parse=(); peer_expand=(); peer_week=(); peer_total=(); peer_rss=()
for ((r = 1; r <= REPS; r++)); do
    measure "python icalendar" "$PY" "$WORK/peer.py" "$ICS" >"$WORK/peer.json"
    read -r p e wk PEER_OCC PEER_WEEK ICALV RIEV < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.3f %.3f %.3f" % (r["parse"], r["expand"], r["week"]), r["occurrences"], r["week_n"], r["icalendar"], r["rie"])' "$WORK/peer.json")
    peer_parse+=("$p"); peer_expand+=("$e"); peer_week+=("$wk")
    peer_total+=("$LAST_SECS"); peer_rss+=("$LAST_RSS_KB")
    log "python $r/$REPS: parse ${p} s, expand ${e} s, 7 days ${wk} s, ${LAST_SECS} s, ${LAST_RSS_KB} KiB"
done

# --- report -------------------------------------------------------------------

IMP="$(median "${imp_s[@]}")"
PP="$(median "${peer_parse[@]}")"; PE="$(median "${peer_expand[@]}")"
PW="$(median "${peer_week[@]}")"; PT="$(median "${peer_total[@]}")"
PPE="$(python3 -c "print(f'{$PP + $PE:.3f}')")"
PPW_MS="$(python3 -c "print(f'{($PP + $PW) * 1000:.0f}')")"
cpu_model="$(awk -F': *' '/^(model name|Hardware|cpu model)/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"

cat <<EOF
## kollega meetings benchmark

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), TZ=$TZ
- Calendar: $VEVENTS VEVENTs ($EVENTS single events, $SERIES recurring series and their overrides), $ICS_MB MiB;
  kollega stored $IMPORTED meetings ($CANCELLED cancelled, $SKIPPED skipped) within its horizon (30 days back, 180 ahead);
  recurring_ical_events found $PEER_OCC occurrences in the same horizon
- Peer: Python $("$PY" -c 'import platform; print(platform.python_version())'), icalendar $ICALV, recurring_ical_events $RIEV
- Machine: $(nproc) CPUs (nproc), ${cpu_model:-unknown}, $(uname -sr)

| operation (median of $REPS) | kollega | peer | ratio | peak RSS (kollega / peer) |
| --- | ---: | ---: | ---: | ---: |
| import: parse + expand + store vs icalendar parse + recurring_ical_events expand (same horizon) | ${IMP} s | ${PPE} s (parse ${PP} s, expand ${PE} s) | $(ratio "$IMP" "$PPE") | $(mb "$(median "${imp_rss[@]}")") MB / $(mb "$(median "${peer_rss[@]}")") MB |
| import again, nothing changed ($UNCHANGED unchanged) | ${AGAIN_S} s | | | $(mb "$AGAIN_RSS") MB |
| 7-day dashboard, $WEEK_N meetings: \`meetings --days 7\` (whole process, median of $LIST_RUNS) vs parse + recurring_ical_events 7 days | ${LIST_MS} ms | ${PPW_MS} ms (7 days alone $(python3 -c "print(f'{$PW * 1000:.0f}')") ms) | $(ratio "$LIST_MS" "$PPW_MS") | $(mb "$LIST_RSS") MB / |
| 7-day dashboard as JSON: \`meetings --days 7 --json\` | ${LIST_JSON_MS} ms | | | |

The peer's whole process (parse, horizon, 7 days): ${PT} s. Wall time and peak RSS from GNU time (MB = 1024 KB);
list times from Python's \`time.perf_counter\` around each process, one warm-up run first.
EOF
