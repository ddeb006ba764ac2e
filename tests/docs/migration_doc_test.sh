#!/usr/bin/env bash
# Runs every command block of MIGRATION.md, as written, against throwaway databases:
# a generated v1 SQLite file, the Python v2 fixture, an export. Only the user's
# host names and paths are swapped for the test's. Every ```sh block must carry a
# <!-- test: SCENARIO --> tag, so none escapes. Needs SMILES_CLI, SMILES_SOURCE_DIR
# SMILES_TEST_DATABASE_URL and SMILES_TEST_MYSQL_URL/_SOCKET (scripts/test sets them).
set -euo pipefail
: "${SMILES_CLI:?}" "${SMILES_SOURCE_DIR:?}"
admin="${SMILES_TEST_DATABASE_URL:?set by scripts/test: a PostgreSQL admin URL}"
base="${admin%/*}"
doc="$SMILES_SOURCE_DIR/MIGRATION.md"
tmp="$(mktemp -d /tmp/smiles-doc.XXXXXX)"
dbs=()
cleanup() {
  for d in "${dbs[@]}"; do psql -q "$admin" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/bin" "$tmp/data" "$tmp/backup" "$tmp/blocks"
ln -s "$SMILES_CLI" "$tmp/bin/hoymiles-smiles"
export PATH="$tmp/bin:$PATH"

python3 - "$doc" "$tmp/blocks" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("\n")
tag, n, block, untagged = None, 0, None, []
for i, line in enumerate(text, 1):
    m = re.match(r"<!-- test: ([a-z0-9-]+) -->", line)
    if block is not None:
        if line.startswith("```"):
            n += 1
            open(f"{sys.argv[2]}/{block[0]}.{n:03d}.sh", "w").write("\n".join(block[1]) + "\n")
            block = None
        else:
            block[1].append(line)
    elif m:
        tag = m.group(1)
    elif line.startswith("```sh"):
        if tag is None:
            untagged.append(i)
        block, tag = (tag or "untagged", []), None
    elif line.strip():
        tag = None if not line.startswith("<!--") else tag
if untagged:
    sys.exit(f"MIGRATION.md: sh blocks without a test tag at lines {untagged}")
PY

newdb() {
  local name="smiles_doc_$1_$$"
  psql -q "$admin" -c "CREATE DATABASE $name"
  dbs+=("$name")
  echo "$base/$name"
}
run_blocks() {  # run_blocks SCENARIO URL [URL2]: the scenario's blocks in order, one shell
  local script="$tmp/run-$1.sh" f
  echo 'set -euo pipefail' >"$script"
  for f in $(ls "$tmp/blocks/$1".*.sh | sort); do cat "$f" >>"$script"; done
  sed -i -e "s#postgresql://smiles:secret@db-host:5432/hoymiles#$2#g" \
    -e "s#postgresql://smiles:secret@new-host:5432/hoymiles#${3:-}#g" \
    -e "s#mysql://smiles:secret@old-host:3306/hoymiles#${MYSQL_SOURCE_URL:-}#g" \
    -e "s#/data/#$tmp/data/#g" -e "s#/backup/#$tmp/backup/#g" "$script"
  echo "--- $1: $(grep -c hoymiles-smiles "$script" || true) hoymiles-smiles commands"
  (cd "$tmp" && DATABASE_URL="$2" TIMEZONE=UTC bash "$script" >"$tmp/$1.log" 2>&1) ||
    { cat "$tmp/$1.log"; echo "FAIL: a command of scenario $1 failed"; exit 1; }
}
check() {
  [[ "$2" == "$3" ]] || { echo "FAIL: $1: got '$2', expected '$3'"; exit 1; }
  echo "ok: $1 ($2)"
}
q() { psql -At "$1" -c "$2"; }

for s in v1 v2 v2-rollback v2-restore archive mysql; do
  ls "$tmp/blocks/$s".*.sh >/dev/null 2>&1 || { echo "FAIL: no blocks tagged $s"; exit 1; }
done

# --- v1: SQLite import
odd="$(python3 "$SMILES_SOURCE_DIR/scripts/make-v1-db" "$tmp/data/hoymiles-smiles.db" --metrics 20000 --oddities)"
expected=$(python3 -c "import json,sys; o=json.loads(sys.argv[1]); print(20000 - o['rejects']['metrics'] - o['duplicates'])" "$odd")
url="$(newdb v1)"
run_blocks v1 "$url"
check "v1 backup written" "$(test -s "$tmp/backup/hoymiles-smiles.db" && echo yes)" yes
check "v1 metrics imported" "$(q "$url" "SELECT count(*) FROM system_metrics")" "$expected"
check "v1 verify passed twice" "$(grep -c 'verify: OK' "$tmp/v1.log")" 2
check "v1 dry run wrote nothing before the import" "$(grep -c 'dry run: nothing was written' "$tmp/v1.log")" 1
check "v1 timestamps read in Europe/Berlin" \
  "$(q "$url" "SELECT min(\"timestamp\") AT TIME ZONE 'UTC' FROM system_metrics")" "2024-03-30 11:00:00"

# --- v2: adoption, drop-legacy, then restore of the dump
fixture="$SMILES_SOURCE_DIR/tests/storage/fixtures/smiles_v2_postgres.sql"
url="$(newdb v2)"
psql -q "$url" -f "$fixture" -c "SET client_min_messages = warning" -c "DROP SCHEMA fixture_truth CASCADE" >/dev/null
run_blocks v2 "$url"
check "v2 adopted" "$(q "$url" "SELECT count(*) FROM inverter_data")" 16996
check "v2 times read in the server's zone" \
  "$(q "$url" "SELECT min(\"timestamp\") AT TIME ZONE 'UTC' FROM port_data")" "2025-10-25 00:00:00"
check "v2 legacy dropped" "$(q "$url" "SELECT count(*) FROM pg_namespace WHERE nspname = 'smiles_legacy_v2'")" 0
run_blocks v2-restore "$url"
check "v2 dump restored" "$(q "$url" "SELECT count(*) FROM public.inverter_data")" 55237
check "v2 tables kept aside" "$(q "$url" "SELECT count(*) FROM smiles_v2_rolled_back.inverter_data")" 16996
check "v2 restored shape" "$(q "$url" "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'inverter_data' AND column_name = 'id'")" 1

# --- v2: rollback of an adoption
url="$(newdb v2r)"
psql -q "$url" -f "$fixture" -c "SET client_min_messages = warning" -c "DROP SCHEMA fixture_truth CASCADE" >/dev/null
hoymiles-smiles db upgrade --database-url "$url" --timezone Europe/Berlin >/dev/null
run_blocks v2-rollback "$url"
check "v2 rolled back" "$(q "$url" "SELECT count(*) FROM public.inverter_data")" 55237
check "v2 tables kept aside" "$(q "$url" "SELECT count(*) FROM smiles_v2_rolled_back.inverter_data")" 16996

# --- export / import archive
src="$(newdb src)"
dst="$(newdb dst)"
hoymiles-smiles import sqlite "$tmp/data/hoymiles-smiles.db" --database-url "$src" --no-progress \
  --rejects "$tmp/rejects.csv" >/dev/null
run_blocks archive "$src" "$dst"
for t in system_metrics production_cache config_cache inverters; do
  check "archive $t" "$(q "$dst" "SELECT count(*) FROM $t")" "$(q "$src" "SELECT count(*) FROM $t")"
done
# --- v2 on MySQL/MariaDB: import
mysql_url="${SMILES_TEST_MYSQL_URL:?set by scripts/test: a MariaDB URL}"
mysql_db="smiles_doc_$$"
my() { mariadb --no-defaults -S "${SMILES_TEST_MYSQL_SOCKET:?}" -u root "$@"; }
my -e "CREATE DATABASE $mysql_db"
trap 'my -e "DROP DATABASE IF EXISTS $mysql_db" || true; cleanup' EXIT
my "$mysql_db" <"$SMILES_SOURCE_DIR/tests/storage/fixtures/smiles_v2_mysql.sql"
url="$(newdb mysql)"
MYSQL_SOURCE_URL="$mysql_url$mysql_db" run_blocks mysql "$url"
check "mysql dry run wrote nothing before the import" "$(grep -c 'dry run: nothing was written' "$tmp/mysql.log")" 1
check "mysql readings imported" "$(q "$url" "SELECT count(*) FROM port_data")" 720
check "mysql inverter rows collapsed" "$(q "$url" "SELECT count(*) FROM inverter_data")" 480
check "mysql verify passed" "$(grep -c 'verify: OK' "$tmp/mysql.log")" 1
pw="${mysql_url#mysql://*:}"; pw="${pw%%@*}"
[[ -n "$pw" && "$pw" != "$mysql_url" ]] || { echo "FAIL: no password in $mysql_url"; exit 1; }
check "mysql password never printed" "$(grep -c -F "$pw" "$tmp/mysql.log" || true)" 0

echo "every MIGRATION.md command ran"
