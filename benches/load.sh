#!/usr/bin/env bash
# Load test (issue 8): requests/s, p99 and server CPU per request, measured in ONE run with wrk on
# loopback, against examples/bench_app.rs in release mode with logging off.
#
#   benches/load.sh                # ROUNDS=3 DURATION=4 (seconds per scenario and round)
#   ROUNDS=1 DURATION=10 benches/load.sh
#
# Scenarios are interleaved round by round (the machine is shared) and each figure is the median
# of its rounds. Server CPU per request = (utime + stime of the app process, from
# /proc/<pid>/stat, before/after) ÷ requests. Needs `wrk` (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
PORT=${BENCH_PORT:-8001}
SESSIONS=${BENCH_SESSIONS:-10000}
OUT=${BENCH_OUT:-target/bench-load}
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.wrk

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --example bench_app

BENCH_OUT=$OUT BENCH_PORT=$PORT BENCH_SESSIONS=$SESSIONS ROCKET_LOG_LEVEL=off \
    target/release/examples/bench_app >"$OUT/app.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    grep -q READY "$OUT/app.log" 2>/dev/null && break
    kill -0 $PID 2>/dev/null || { cat "$OUT/app.log"; exit 1; }
    sleep 0.1
done
grep -q READY "$OUT/app.log" || { echo "bench_app did not get ready" >&2; exit 1; }

COOKIE=$(cat "$OUT/cookie.txt")
URL=http://127.0.0.1:$PORT
CLK=$(getconf CLK_TCK)
# Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the `(comm)` field.
ticks() { sed 's/^.*) //' /proc/$PID/stat | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS/{print $2}' /proc/$PID/status; }
hwm_kb() { awk '/^VmHWM/{print $2}' /proc/$PID/status; }

cat >"$OUT/sessions.lua" <<'LUA'
local lines, i = {}, 0
function init(args)
  for l in io.lines(args[1]) do lines[#lines + 1] = l end
  i = math.random(#lines)
end
function request()
  i = i % #lines + 1
  return wrk.format(nil, nil, { ["Cookie"] = lines[i] })
end
LUA

# run NAME PATH MODE [DURATION]: MODE is none | cookie | sessions | html
run() {
    local name=$1 path=$2 mode=$3 dur=${4:-$DURATION} args=() tail=()
    case $mode in
        cookie) args=(-H "Cookie: $COOKIE") ;;
        sessions) args=(-s "$OUT/sessions.lua") tail=(-- "$OUT/sessions.txt") ;;
        html) args=(-H "Accept: text/html" -H "Sec-Fetch-Mode: navigate") ;;
    esac
    local t0 t1
    t0=$(ticks)
    wrk -t"$THREADS" -c"$CONNS" -d"${dur}s" --latency "${args[@]}" "$URL$path" "${tail[@]}" \
        >"$OUT/$name.wrk"
    t1=$(ticks)
    local n rps p99 bad
    n=$(awk '/requests in/{print $1}' "$OUT/$name.wrk")
    rps=$(awk '/^Requests\/sec/{print $2}' "$OUT/$name.wrk")
    p99=$(awk '$1=="99%"{print $2}' "$OUT/$name.wrk")
    bad=$(awk '/Non-2xx/{print $NF}' "$OUT/$name.wrk")
    local cpu
    cpu=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v c="$CLK" 'BEGIN{printf "%.1f", (b-a)/c*1e6/n}')
    echo "$name $rps $p99 $cpu ${bad:-0}" >>"$OUT/results.txt"
}

# Warm-up (not reported).
run warmup /guarded cookie 2 && : >"$OUT/results.txt"

SCENARIOS=(
    "bare /plain none"
    "cookie_unguarded /plain cookie"
    "guarded /guarded cookie"
    "page_signed_in / cookie"
    "page_visitor / none"
    "protected_visitor_303 /protected html"
)
for r in $(seq 1 "$ROUNDS"); do
    for s in "${SCENARIOS[@]}"; do
        # shellcheck disable=SC2086
        run $s
    done
done
RSS_BEFORE=$(rss_kb)
run same_session_x10k /guarded cookie "$((DURATION * 2))"
RSS_SAME=$(rss_kb)
run distinct_sessions_10k /guarded sessions "$((DURATION * 2))"
RSS_AFTER=$(rss_kb)
run distinct_sessions_10k_again /guarded sessions "$((DURATION * 2))"
RSS_AFTER2=$(rss_kb)

# Median of the rounds per scenario: name rps p99 cpu_us non2xx
median() {
    awk -v s="$1" -v col="$2" '$1==s{print $col}' "$OUT/results.txt" |
        sed 's/ms$/*1000/; s/us$//; s/s$/*1000000/' | bc -l 2>/dev/null | sort -g |
        awk '{v[NR]=$1} END{if (NR) printf "%.1f", v[int((NR+1)/2)]}'
}
command -v bc >/dev/null || { echo "bc is missing: apt-get install bc" >&2; exit 1; }

echo
echo "== load test $(date -u +%Y-%m-%dT%H:%MZ): wrk -t$THREADS -c$CONNS, ${ROUNDS}×${DURATION}s per scenario, median of rounds =="
source "$OUT/info.txt"
printf '%-28s %10s %10s %12s\n' scenario "req/s" "p99 µs" "CPU µs/req"
for s in bare cookie_unguarded guarded page_signed_in page_visitor protected_visitor_303 same_session_x10k distinct_sessions_10k distinct_sessions_10k_again; do
    printf '%-28s %10s %10s %12s\n' "$s" "$(median $s 2)" "$(median $s 3)" "$(median $s 4)"
done
ratio() { awk -v a="$(median "$1" "$3")" -v b="$(median "$2" "$3")" 'BEGIN{printf "%.3f", a/b}'; }
status() { awk -v x="$1" -v t="$2" -v op="$3" 'BEGIN{ok = (op==">=") ? x>=t : x<=t; print ok ? "met" : "MISSED"}'; }
echo
echo "== ratios and targets =="
R1=$(ratio cookie_unguarded bare 2)
R2=$(ratio guarded cookie_unguarded 2)
R3=$(ratio page_signed_in page_visitor 2)
CPU_G=$(median guarded 4)
CPU_P=$(median page_signed_in 4)
echo "cookie tax: cookie_unguarded ÷ bare throughput          $R1"
echo "guard:      guarded ÷ cookie_unguarded throughput       $R2   (≥ 0.90: $(status "$R2" 0.90 ">="))"
echo "page:       page_signed_in ÷ page_visitor throughput    $R3   (≥ 0.75: $(status "$R3" 0.75 ">="))"
# The same ratios from server CPU per request: what throughput would be with the server alone
# on the cores (wrk shares them here, and so do other jobs on a shared machine).
C1=$(awk -v a="$(median guarded 4)" -v b="$(median cookie_unguarded 4)" 'BEGIN{printf "%.3f", b/a}')
C2=$(awk -v a="$(median page_signed_in 4)" -v b="$(median page_visitor 4)" 'BEGIN{printf "%.3f", b/a}')
echo "guard, by CPU:  cookie_unguarded CPU ÷ guarded CPU          $C1   (≥ 0.90: $(status "$C1" 0.90 ">="))"
echo "page, by CPU:   page_visitor CPU ÷ page_signed_in CPU       $C2   (≥ 0.75: $(status "$C2" 0.75 ">="))"
echo "CPU:        signed-in request (page / guarded)          $CPU_P / $CPU_G µs   (≤ 32: $(status "$CPU_P" 32 "<="))"
echo "size:       session Cookie header $cookie_header_bytes B in $session_cookies cookie(s); Set-Cookie $set_cookie_bytes B   (≤ 2048: $(status "$cookie_header_bytes" 2048 "<="))"
echo "ignite:     $ignite_ms ms   (< 200: $(status "$ignite_ms" 200 "<="))"
echo "memory:     RSS $RSS_BEFORE kB before, $RSS_SAME kB after one session, $RSS_AFTER kB after $SESSIONS distinct sessions, $RSS_AFTER2 kB after them again (peak $(hwm_kb) kB)"
awk -v a="$RSS_SAME" -v b="$RSS_AFTER2" 'BEGIN{d=b-a; printf "            growth from distinct sessions: %d kB (flat = within 1 MB: %s)\n", d, (d<=1024 && d>=-1024) ? "met" : "MISSED"}'
echo "requests with distinct sessions: $(awk '/requests in/{print $1}' "$OUT/distinct_sessions_10k.wrk") + $(awk '/requests in/{print $1}' "$OUT/distinct_sessions_10k_again.wrk"), non-2xx: $(cat "$OUT"/distinct_sessions_10k*.wrk | awk '/Non-2xx/{n += $NF} END{print n + 0}')"
