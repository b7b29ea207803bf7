#!/usr/bin/env bash
# The personal-data export's memory: one citizen of a generated data set is given more and
# more cases (each with its history), and for each size the server streams their export
# (`GET /export/my-data.json`) with its peak resident memory reset before and read after
# (/proc/PID/clear_refs, VmHWM). Bounded memory shows as a peak that does not grow with the
# number of cases.
#   bench/export-memory.sh <civitas binary> <owner db url> <data dir> [sizes...]
# The data set comes from `civitas bench generate`; the cases added are removed at the end.
# APP_DB: the URL the server uses (the application role, as in production); default: the
# owner's.
set -euo pipefail
bin=$1 db=$2 data=$3
shift 3
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000)
port=8283
cd "$(dirname "$0")/.."
q() { psql -qAt "$db" -c "$1"; }

# The first generated citizen with a case: their body, and the case the copies are made of.
id_of="('00000000-0000-4000-8000-' || lpad(to_hex(b.p), 12, '0'))::uuid"
read -r fc subject model < <(q "SELECT b.fiscal_code, b.subject, c.id FROM bench_citizens b
  JOIN cases c ON c.person_id = $id_of ORDER BY b.p LIMIT 1" | tr '|' ' ')
cols=$(q "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_name = 'cases' AND column_name NOT IN ('id', 'number', 'external_ref')")
ecols=$(q "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_name = 'case_events' AND column_name NOT IN ('id', 'case_id')")
eprefixed=$(q "SELECT string_agg('e.' || quote_ident(column_name), ', ' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_name = 'case_events' AND column_name NOT IN ('id', 'case_id')")
added() { q "SELECT count(*) FROM cases WHERE number LIKE 'EXPORT-%'"; }
add_to() {
  local have
  have=$(added)
  [ "$have" -lt "$1" ] || return 0
  q "WITH made AS (
       INSERT INTO cases (id, number, $cols)
       SELECT gen_random_uuid(), 'EXPORT-' || g, $cols FROM cases, generate_series($have + 1, $1) g
       WHERE id = '$model' RETURNING id)
     INSERT INTO case_events (id, case_id, $ecols)
     SELECT gen_random_uuid(), made.id, $eprefixed FROM made, case_events e WHERE e.case_id = '$model'" >/dev/null
}
pid=
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  q "DELETE FROM case_events WHERE case_id IN (SELECT id FROM cases WHERE number LIKE 'EXPORT-%')" >/dev/null
  q "DELETE FROM cases WHERE number LIKE 'EXPORT-%'" >/dev/null
}
trap cleanup EXIT

"$bin" --config bench/server.toml --data-dir "$data" --database-url "${APP_DB:-$db}" \
  serve --dev --listen "127.0.0.1:$port" >"$data/export-memory.log" 2>&1 &
pid=$!
sleep 3
token=$("$bin" --data-dir "$data" --database-url "$db" dev token --subject "$subject" --fiscal-code "$fc")
export_once() {
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/export/my-data.json" | wc -c
}
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$pid/status"; }
# One export first, so that what the first request allocates once is not counted.
export_once >/dev/null
printf '%8s %12s %10s %10s %8s\n' cases bytes rss_kib peak_kib seconds
for n in "${sizes[@]}"; do
  add_to "$n"
  echo 5 >"/proc/$pid/clear_refs"
  before=$(kib VmRSS)
  start=$(date +%s%N)
  bytes=$(export_once)
  end=$(date +%s%N)
  printf '%8s %12s %10s %10s %8s\n' "$(added)" "$bytes" "$before" "$(kib VmHWM)" \
    "$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
done
