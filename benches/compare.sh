#!/usr/bin/env bash
# The guard's cost at a baseline git revision and in the working tree, measured in ONE
# interleaved run (machines here are shared: only figures from the same run compare).
#
#   benches/compare.sh REV            # e.g. benches/compare.sh HEAD~1
#   ROUNDS=5 DURATION=4 benches/compare.sh REV
#
# Builds examples/bench_app at REV (in a temporary git worktree, sharing target/ so that only
# the crate itself is compiled again) and in the working tree, starts both on loopback with
# logging off, and runs wrk (-t2 -c32) against each in turn, scenario by scenario, round by
# round. Server CPU per request = (utime + stime of the app, /proc/<pid>/stat) ÷ requests.
# The guard's own cost = CPU(guarded) − CPU(cookie_unguarded), the same Cookie header on both.
# Needs wrk and bc (Debian: apt-get install wrk bc).
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: benches/compare.sh REV}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4}
OUT=${BENCH_OUT:-target/bench-compare}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v bc >/dev/null || { echo "bc is missing: apt-get install bc" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT/base" "$OUT/cur"
ROOT=$(pwd)

git worktree add --detach --force "$OUT/src" "$REV" >/dev/null
trap 'git worktree remove --force "$OUT/src" 2>/dev/null || true' EXIT
(cd "$OUT/src" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --quiet --example bench_app)
cp target/release/examples/bench_app "$OUT/bench_app.base"
cargo build --release --quiet --example bench_app
cp target/release/examples/bench_app "$OUT/bench_app.cur"

PIDS=()
start() { # start NAME PORT
    BENCH_OUT="$OUT/$1" BENCH_PORT=$2 BENCH_SESSIONS=1 ROCKET_LOG_LEVEL=off \
        "$OUT/bench_app.$1" >"$OUT/$1/app.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$1=$!"
}
start base 8011
start cur 8012
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; git worktree remove --force "$OUT/src" 2>/dev/null || true' EXIT
for name in base cur; do
    for _ in $(seq 1 600); do
        grep -q READY "$OUT/$name/app.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q READY "$OUT/$name/app.log" || { cat "$OUT/$name/app.log"; exit 1; }
done

CLK=$(getconf CLK_TCK)
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
run() { # run APP PORT SCENARIO PATH
    local app=$1 port=$2 name=$3 path=$4 pid cookie t0 t1 n rps cpu
    pid=$(eval echo "\$PID_$app")
    cookie=$(cat "$OUT/$app/cookie.txt")
    t0=$(ticks "$pid")
    wrk -t2 -c32 -d"${DURATION}s" -H "Cookie: $cookie" "http://127.0.0.1:$port$path" >"$OUT/$app/$name.wrk"
    t1=$(ticks "$pid")
    n=$(awk '/requests in/{print $1}' "$OUT/$app/$name.wrk")
    rps=$(awk '/^Requests\/sec/{print $2}' "$OUT/$app/$name.wrk")
    cpu=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v c="$CLK" 'BEGIN{printf "%.2f", (b-a)/c*1e6/n}')
    echo "$app $name $rps $cpu" >>"$OUT/results.txt"
}
run base 8011 warmup /guarded
run cur 8012 warmup /guarded
: >"$OUT/results.txt"
for _ in $(seq 1 "$ROUNDS"); do
    for s in "cookie_unguarded /plain" "guarded /guarded" "page_signed_in /"; do
        # shellcheck disable=SC2086
        run base 8011 $s
        # shellcheck disable=SC2086
        run cur 8012 $s
    done
done

median() { # median APP SCENARIO COLUMN
    awk -v a="$1" -v s="$2" -v c="$3" '$1==a && $2==s {print $c}' "$OUT/results.txt" | sort -g |
        awk '{v[NR]=$1} END{if (NR) printf "%.2f", v[int((NR+1)/2)]}'
}
echo
echo "== guard cost, $REV (base) vs working tree (cur): wrk -t2 -c32, ${ROUNDS}×${DURATION}s, medians =="
printf '%-6s %-18s %10s %12s\n' app scenario "req/s" "CPU µs/req"
for app in base cur; do
    for s in cookie_unguarded guarded page_signed_in; do
        printf '%-6s %-18s %10s %12s\n' "$app" "$s" "$(median $app $s 3)" "$(median $app $s 4)"
    done
done
for app in base cur; do
    g=$(median $app guarded 4) u=$(median $app cookie_unguarded 4) p=$(median $app page_signed_in 4)
    gr=$(median $app guarded 3) ur=$(median $app cookie_unguarded 3)
    echo "$app: guard's own cost $(echo "$g - $u" | bc -l | xargs printf '%.2f') µs CPU" \
        "(page: $(echo "$p - $u" | bc -l | xargs printf '%.2f') µs);" \
        "guarded ÷ cookie_unguarded throughput $(echo "$gr / $ur" | bc -l | xargs printf '%.3f')," \
        "by CPU $(echo "$u / $g" | bc -l | xargs printf '%.3f')"
done
gb=$(echo "$(median base guarded 4) - $(median base cookie_unguarded 4)" | bc -l)
gc=$(echo "$(median cur guarded 4) - $(median cur cookie_unguarded 4)" | bc -l)
echo "cur ÷ base, guard's own CPU: $(echo "$gc / $gb" | bc -l | xargs printf '%.3f')"
