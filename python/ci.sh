#!/usr/bin/env bash
# Builds the hadamard_rl wheel with maturin, installs it into a fresh virtual environment with
# the pinned test requirements and runs the Python tests (python/tests).
#
# Usage: python/ci.sh
# Environment: VENV (default ${TMPDIR:-/tmp}/hrl-py-ci-venv, made anew), CARGO_TARGET_DIR
#              (default: the workspace's target/, so the build reuses what cargo built).
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd .. && pwd)/target}"
venv="${VENV:-${TMPDIR:-/tmp}/hrl-py-ci-venv}"

rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --no-deps -r requirements-test.txt

wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
"$venv/bin/maturin" build --release --quiet --interpreter "$venv/bin/python" --out "$wheels"
"$venv/bin/pip" install --quiet --no-deps "$wheels"/*.whl

# From outside python/, so that the installed wheel is tested, not the source folder.
cd "$wheels"
"$venv/bin/pytest" -q -p no:cacheprovider "$here/tests"
