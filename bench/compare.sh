#!/usr/bin/env bash
# Two builds in the same run: each serves its own copy of the data set (a build with fewer
# migrations needs a database without the newer ones) and the scenario runs against them in
# turn, seed by seed, each followed by pgbench with that build's scripts. Alternating within
# one run is what makes the comparison worth more than the machine's ±15% drift between runs.
#   bench/compare.sh <baseline binary> <baseline db url> <candidate binary> <candidate db url> <data dir>
# Environment: SCENARIO (citizen-view), CLIENTS (32), RUN_SECONDS (10), SEEDS ("1 2 3").
set -euo pipefail
bins=("$1" "$3") dbs=("$2" "$4") names=(baseline candidate) ports=(8281 8282) data=$5
cd "$(dirname "$0")/.."
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for i in 0 1; do
  "${bins[$i]}" --config bench/server.toml --data-dir "$data" --database-url "${dbs[$i]}" \
    serve --dev --listen "127.0.0.1:${ports[$i]}" >"$data/compare-${names[$i]}.log" 2>&1 &
  pids+=($!)
done
sleep 3
for seed in ${SEEDS:-1 2 3}; do
  for i in 0 1; do
    echo "seed $seed ${names[$i]}"
    "${bins[$i]}" --data-dir "$data" --database-url "${dbs[$i]}" bench run \
      --url "http://127.0.0.1:${ports[$i]}" --scenario "${SCENARIO:-citizen-view}" \
      --clients "${CLIENTS:-32}" --seconds "${RUN_SECONDS:-10}" --warmup 3 --pgbench \
      --seed "$seed" | tail -2
  done
done
