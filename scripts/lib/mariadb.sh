# Throwaway MariaDB server for the MySQL import tests. Sourced, not run.
# mariadb_start creates a data directory in a temporary directory, starts mariadbd on
# a private port and unix socket (as the mysql user when root), loads the time zone
# Europe/Berlin and makes it the server's zone (so a session that does not set UTC
# sees local times, as on the Python bridge's servers), creates a user with a
# password, exports SMILES_TEST_MYSQL_URL, and registers mariadb_stop at exit.
# shellcheck shell=bash

mariadb_start() {
  command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] \
    || die "mariadbd not found (is the mariadb-server package installed?)"
  MY_TMP="$(mktemp -d /tmp/smiles-mariadb.XXXXXX)"
  export MY_TMP
  chmod 755 "$MY_TMP"
  local user_args=()
  if [[ $(id -u) -eq 0 ]]; then chown mysql:mysql "$MY_TMP"; user_args=(--user=mysql); fi
  say "starting a throwaway MariaDB in $MY_TMP"
  mariadb-install-db --no-defaults "${user_args[@]}" --datadir="$MY_TMP/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$MY_TMP/install.log" 2>&1 \
    || { cat "$MY_TMP/install.log"; die "mariadb-install-db failed"; }
  local port; port="$(pg_free_port)"
  /usr/sbin/mariadbd --no-defaults "${user_args[@]}" --datadir="$MY_TMP/data" \
    --socket="$MY_TMP/mysqld.sock" --pid-file="$MY_TMP/mysqld.pid" --port="$port" \
    --bind-address=127.0.0.1 --skip-log-bin --innodb-buffer-pool-size=128M \
    --innodb-flush-log-at-trx-commit=2 --log-error="$MY_TMP/error.log" >/dev/null 2>&1 &
  MY_PID=$!
  export MY_PID
  trap 'mariadb_stop; pg_stop' EXIT
  local i
  for i in $(seq 1 100); do
    mariadb --no-defaults -S "$MY_TMP/mysqld.sock" -u root -e "SELECT 1" >/dev/null 2>&1 && break
    kill -0 "$MY_PID" 2>/dev/null || { cat "$MY_TMP/error.log"; die "MariaDB did not start"; }
    sleep 0.2
  done
  [[ $i -lt 100 ]] || { cat "$MY_TMP/error.log"; die "MariaDB did not answer"; }
  local password="smiles-$RANDOM$RANDOM"
  { mariadb-tzinfo-to-sql /usr/share/zoneinfo/Europe/Berlin Europe/Berlin 2>/dev/null
    echo "SET GLOBAL time_zone = 'Europe/Berlin';"
    echo "CREATE USER 'smiles'@'%' IDENTIFIED BY '$password';"
    echo "GRANT ALL ON *.* TO 'smiles'@'%';"
  } | mariadb --no-defaults -S "$MY_TMP/mysqld.sock" -u root mysql \
    || die "cannot set up the throwaway MariaDB"
  export SMILES_TEST_MYSQL_URL="mysql://smiles:$password@127.0.0.1:$port/"
  export SMILES_TEST_MYSQL_SOCKET="$MY_TMP/mysqld.sock"
  printf '    %s ready on port %s\n' \
    "$(mariadb --no-defaults -S "$MY_TMP/mysqld.sock" -u root -N -e 'SELECT version()')" "$port"
}

mariadb_stop() {
  [[ -n "${MY_TMP:-}" && -d "$MY_TMP" ]] || return 0
  kill "${MY_PID:-0}" 2>/dev/null && wait "${MY_PID}" 2>/dev/null || true
  rm -rf "$MY_TMP"
  MY_TMP=""
}
