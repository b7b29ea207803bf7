#!/usr/bin/env bash
# CPU time per request of the server and of PostgreSQL during one scenario run: steadier than
# throughput on a shared machine, whose speed moves by ±15% between runs while the ratio of
# the two moves far less. Same host only (reads /proc). Usage, with a server already running:
#   bench/cpu-per-request.sh <server pid> <data dir> <database url> [scenario] [seed]
set -euo pipefail
pid=$1 data=$2 db=$3 scenario=${4:-citizen-view} seed=${5:-1}
bin=${CIVITAS_BIN:-./target/release/civitas}
url=${CIVITAS_URL:-http://127.0.0.1:8280}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local t=0
  for p in $(pgrep -u postgres postgres); do t=$((t + $(ticks "$p"))); done
  echo "$t"
}
run() {
  "$bin" --data-dir "$data" --database-url "$db" bench run --url "$url" \
    --scenario "$scenario" --clients 32 --seconds "$1" --warmup 0 --seed "$seed" | tail -1
}
run 3 >/dev/null # warm the caches and the pool
s0=$(ticks "$pid") p0=$(pg_ticks)
line=$(run 15)
s1=$(ticks "$pid") p1=$(pg_ticks)
echo "$line"
rps=$(awk '{print $4}' <<<"$line")
hz=$(getconf CLK_TCK)
awk -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v r="$rps" -v hz="$hz" 'BEGIN {
  n = r * 15; us = 1e6 / hz
  printf "server %.0f us/request   postgres %.0f us/request   server/postgres %.2f\n", s * us / n, p * us / n, s / p
}'
