# Shared helpers for scripts/*. Sourced, not run.
# shellcheck shell=bash

SMILES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export SMILES_ROOT

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

jobs_count() { nproc 2>/dev/null || echo 2; }

# smiles_build <build-dir> [--target T] [extra cmake args...]: configure and build
# (everything, or only target T). Options not given keep the CMake defaults.
smiles_build() {
  local dir="$1"; shift
  local target=()
  if [[ "${1:-}" == "--target" ]]; then target=(--target "$2"); shift 2; fi
  say "configuring $dir ($*)"
  mkdir -p "$SMILES_ROOT/$dir"
  local log="$SMILES_ROOT/$dir/configure.log"
  cmake -S "$SMILES_ROOT" -B "$SMILES_ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$log" 2>&1 \
    || { cat "$log"; die "cmake configure failed for $dir"; }
  say "building $dir${target:+ (${target[1]})} with $(jobs_count) jobs"
  cmake --build "$SMILES_ROOT/$dir" -j "$(jobs_count)" "${target[@]}"
}
