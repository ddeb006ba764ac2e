#!/usr/bin/env bash
# Checks the deployment files without a Docker engine: the compose file validates
# with the real docker-compose and .env.example, the Dockerfile's runtime stage
# installs every shared library the built binary links, Prometheus config and alert
# rules pass promtool, and the systemd unit passes systemd-analyze without a warning.
# Needs SMILES_CLI and SMILES_SOURCE_DIR.
set -euo pipefail
: "${SMILES_CLI:?}" "${SMILES_SOURCE_DIR:?}"
src="$SMILES_SOURCE_DIR"
tmp="$(mktemp -d /tmp/smiles-deploy.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# --- docker-compose: a user's copy with .env made from .env.example
mkdir -p "$tmp/project"
cp -r "$src/docker-compose.yml" "$src/deploy" "$tmp/project/"
cp "$src/.env.example" "$tmp/project/.env"
(cd "$tmp/project" && docker-compose config >"$tmp/compose.txt" 2>"$tmp/compose.err") ||
  { cat "$tmp/compose.err"; fail "docker-compose config"; }
(cd "$tmp/project" && docker-compose --profile monitoring config >"$tmp/compose-mon.txt" 2>"$tmp/compose.err") ||
  { cat "$tmp/compose.err"; fail "docker-compose --profile monitoring config"; }
for want in "condition: service_healthy" "pg_isready" "image: postgres:16" "dockerfile: deploy/Dockerfile" \
            "restart: unless-stopped" "DB_HOST: postgres" "DTU_HOST: 192.168.1.50" "POSTGRES_PASSWORD: change-me"; do
  grep -qF "$want" "$tmp/compose.txt" || fail "docker-compose config lacks '$want'"
done
sed -n '/^  prometheus:/,/^  [a-z]/p' "$tmp/compose.txt" | grep -q -- "- monitoring" ||
  fail "prometheus is not under the monitoring profile"
grep -q "prom/prometheus" "$tmp/compose-mon.txt" || fail "the monitoring profile has no prometheus"
ok "docker-compose config (with and without --profile monitoring)"
# Without a password the stack refuses to start rather than run with an empty one.
sed -i '/^DB_PASSWORD=/d' "$tmp/project/.env"
(cd "$tmp/project" && ! docker-compose config >/dev/null 2>&1) || fail "compose accepted an empty DB_PASSWORD"
ok "docker-compose refuses a missing DB_PASSWORD"

# --- Dockerfile: the runtime stage installs the package of every library the binary needs
runtime="$(sed -n '/^FROM debian:12-slim/,$p' "$src/deploy/Dockerfile")"
grep -q "^USER smiles" <<<"$runtime" || fail "the image does not run as a non-root user"
grep -A1 "^HEALTHCHECK" <<<"$runtime" | grep -q "/health" || fail "no HEALTHCHECK on /health"
grep -q '^VOLUME \["/data"\]' <<<"$runtime" || fail "no /data volume"
grep -q "^EXPOSE 8080" <<<"$runtime" || fail "8080 not exposed"
grep -q "scripts/build" "$src/deploy/Dockerfile" || fail "the build stage does not use scripts/build"
# The build stage copies every source folder the top-level CMakeLists.txt adds.
for dir in $(sed -n 's/^ *add_subdirectory(\([a-z]*\))$/\1/p' "$src/CMakeLists.txt") tests bench; do
  grep -q "^COPY $dir/ $dir/" "$src/deploy/Dockerfile" || fail "the Dockerfile does not copy $dir/"
done
# ...and what it copies is enough: the build context made of exactly its COPY lines
# configures as scripts/build configures it (a missing cmake/ once broke the image).
ctx="$tmp/context"
mkdir -p "$ctx"
while read -r from to; do
  [[ "$to" == "./" ]] && to="$from"
  mkdir -p "$ctx/$(dirname "$to")"
  cp -r "$src/$from" "$ctx/${to%/}"
done < <(sed -n '/^FROM debian:12 AS build/,/^FROM /s/^COPY \([^-][^ ]*\) \([^ ]*\)$/\1 \2/p' "$src/deploy/Dockerfile")
cmake -S "$ctx" -B "$ctx/build-release" -DCMAKE_BUILD_TYPE=Release -DSMILES_BUILD_TESTS=OFF \
  -DSMILES_BUILD_BENCH=OFF >"$tmp/configure.log" 2>&1 ||
  { tail -20 "$tmp/configure.log"; fail "the Dockerfile's build stage does not configure from what it copies"; }
ok "the Dockerfile's build stage configures from exactly what it copies"
for lib in $(readelf -d "$SMILES_CLI" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}'); do
  path="$(ldd "$SMILES_CLI" | awk -v l="$lib" '$1 == l {print $3}')"
  pkg="$( (dpkg -S "$path" || dpkg -S "$(realpath "$path")") 2>/dev/null | head -1 | cut -d: -f1)"
  [[ -n "$pkg" ]] || fail "no Debian package owns $path"
  case "$pkg" in libc6 | libstdc++6 | libgcc-s1) continue ;; esac  # in every Debian image
  case "$pkg" in libasan* | libubsan* | liblsan* | libtsan*) continue ;; esac  # sanitizer builds
  grep -qw -- "$pkg" <<<"$runtime" || fail "$lib ($pkg) is not installed by the Dockerfile's runtime stage"
done
ok "the runtime stage installs every library the binary links"

# --- Prometheus
promtool check config "$src/deploy/prometheus/prometheus.yml" >/dev/null || fail "promtool check config"
(cd "$src/deploy/prometheus" && promtool test rules alerts_test.yml) >"$tmp/rules.txt" 2>&1 ||
  { cat "$tmp/rules.txt"; fail "promtool test rules"; }
ok "promtool check config, promtool test rules"

# --- systemd: the unit as installed, pointing at this build
unit="$tmp/hoymiles-smiles.service"
sed -e "s#/usr/local/bin/hoymiles-smiles#$SMILES_CLI#" \
    -e "s#EnvironmentFile=/etc/hoymiles-smiles/env#EnvironmentFile=-/etc/hoymiles-smiles/env#" \
    "$src/deploy/systemd/hoymiles-smiles.service" >"$unit"
out="$(systemd-analyze verify "$unit" 2>&1 || echo "exit status $?")"
[[ -z "$out" ]] || { echo "$out"; fail "systemd-analyze verify"; }
for want in DynamicUser=yes ProtectSystem=strict StateDirectory=hoymiles-smiles SupplementaryGroups=dialout; do
  grep -qx "$want" "$unit" || fail "the unit lacks $want"
done
ok "systemd-analyze verify"
echo "deployment files checked"
