# Throwaway PostgreSQL cluster for tests and the demo. Sourced, not run.
# pg_start creates a cluster in a temporary directory on a private port and unix
# socket, exports PGHOST/PGPORT/PGUSER/PGDATABASE and SMILES_TEST_DATABASE_URL,
# and registers pg_stop to run at exit (also on failure or Ctrl-C).
# shellcheck shell=bash

pg_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -n "$dir" && -x "$dir/initdb" ]] || die "PostgreSQL server binaries not found (is the postgresql package installed?)"
  echo "$dir"
}

pg_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  die "no free TCP port found for PostgreSQL"
}

pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local bin; bin="$(pg_bin_dir)"
  PG_TMP="$(mktemp -d /tmp/smiles-pg.XXXXXX)"
  export PG_TMP
  chmod 755 "$PG_TMP"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$PG_TMP"; fi
  trap pg_stop EXIT
  trap 'exit 130' INT TERM
  say "starting a throwaway PostgreSQL ($(basename "$(dirname "$bin")")) in $PG_TMP"
  pg_as_owner "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log"; die "initdb failed"; }
  local port; port="$(pg_free_port)"
  # Tests that stop and restart the server reuse these options (SMILES_PG_OPTS).
  local opts="-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
  pg_as_owner "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 -o "$opts" start >/dev/null \
    || { cat "$PG_TMP/server.log"; die "PostgreSQL did not start"; }
  export PGHOST="$PG_TMP" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
  export SMILES_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  export SMILES_PG_BIN="$bin" SMILES_PG_DATA="$PG_TMP/data" SMILES_PG_OPTS="$opts"
  export SMILES_PG_LOG="$PG_TMP/server.log"
  psql -X -q -t -c "select 'PostgreSQL ' || current_setting('server_version') || ' ready on port $port'" \
    | sed 's/^ */    /' || die "cannot connect to the throwaway PostgreSQL"
}

pg_stop() {
  [[ -n "${PG_TMP:-}" && -d "$PG_TMP" ]] || return 0
  pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
  PG_TMP=""
}
