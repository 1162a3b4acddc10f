#!/usr/bin/env bash
# Checks that `cargo build --workspace`, `cargo test --workspace` and `cargo build --bin hrl`
# resolve the same features for every unit the `hrl` binary is built from, so that building one
# after another compiles nothing twice (not burn, not ALE). Cargo's unit hash is the package plus
# its features, so equal feature sets mean shared build artefacts. Prints the units that differ
# and exits 1 if any do.
#
#   bash bench/check_one_build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

features() {
    cargo tree --quiet "$@" --prefix none --no-dedupe -f '{p} [{f}]' |
        sed 's/ (\*)$//; s/ (proc-macro)//' | grep -v '^$' | sort -u
}

binary=$(features -p hrl-cli -e normal,build)
status=0
for edges in normal,build normal,build,dev; do
    workspace=$(features --workspace -e "$edges")
    # A feature the workspace adds to a shared package shows up as a binary unit it lacks.
    missing=$(comm -23 <(echo "$binary") <(echo "$workspace"))
    if [[ -n "$missing" ]]; then
        echo "check_one_build: units of the hrl binary built with other features by the workspace (-e $edges):"
        echo "$missing"
        echo "the workspace's features for them:"
        grep -F -f <(cut -d' ' -f1,2 <<<"$missing") <<<"$workspace"
        status=1
    fi
done
if [[ $status -ne 0 ]]; then
    echo "add the workspace's features to the feature-unification dependencies (hrl-cli, ale-sys)"
    exit 1
fi
echo "check_one_build: the workspace (build and test) and the hrl binary resolve the same features ($(wc -l <<<"$binary") units)"
