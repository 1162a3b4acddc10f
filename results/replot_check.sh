#!/usr/bin/env bash
# Re-plots every committed report from its run archive with the burn-free `hrl-report` binary
# and checks that every file comes out byte-identical: results/NAME/runs.tar.gz is unpacked as
# sweeps/NAME in a scratch folder and reported there exactly as
# `hrl report sweeps/NAME --out results/NAME` made it (the random baselines are measured again,
# with the same seed). A results folder without a report.md
# (a sweep still running) is skipped and said so. Exits 1 on the first report that differs.
#
#   bash results/replot_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p hrl-report --features cli
report="$PWD/target/release/hrl-report"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for dir in results/*/; do
    name="$(basename "$dir")"
    if [[ ! -f "$dir/report.md" || ! -f "$dir/runs.tar.gz" ]]; then
        echo "replot_check: $name: no report.md and runs.tar.gz pair, skipped"
        continue
    fi
    mkdir -p "$scratch/$name/sweeps"
    tar -xzf "$dir/runs.tar.gz" -C "$scratch/$name/sweeps"
    (cd "$scratch/$name" && "$report" "sweeps/$name" --out out > report.log 2>&1) || {
        echo "replot_check: $name: hrl-report failed:"; cat "$scratch/$name/report.log"; exit 1; }
    differing=$(cd "$scratch/$name/out" && find . -type f | LC_ALL=C sort | while read -r f; do
        cmp -s "$f" "$OLDPWD/$dir/$f" || echo "$f"; done)
    if [[ -n "$differing" ]]; then
        echo "replot_check: $name: these files differ from the committed report:"
        echo "$differing"
        status=1
    else
        echo "replot_check: $name: $(cd "$scratch/$name/out" && find . -type f | wc -l) files byte-identical"
    fi
done
exit $status
