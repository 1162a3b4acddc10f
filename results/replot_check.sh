#!/usr/bin/env bash
# Re-plots every committed report from its run archives with the burn-free `hrl-report` binary
# and checks that every file comes out byte-identical: results/NAME/runs*.tar.gz (one archive
# per sweep: runs.tar.gz, or runs-A.tar.gz, runs-B.tar.gz, ... for a report over several
# sweeps) are unpacked into sweeps/ in a scratch folder and reported there exactly as
# `hrl report sweeps/SWEEP... --out results/NAME` made it, the sweeps in name order (the random
# baselines are measured again, with the same seed). A results folder without a report.md or
# an archive (a sweep still running) is skipped and said so. Exits 1 on the first report that
# differs.
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
    archives=("$dir"runs*.tar.gz)
    if [[ ! -f "$dir/report.md" || ! -f "${archives[0]}" ]]; then
        echo "replot_check: $name: no report.md and runs*.tar.gz, skipped"
        continue
    fi
    mkdir -p "$scratch/$name/sweeps"
    for archive in "${archives[@]}"; do
        tar -xzf "$archive" -C "$scratch/$name/sweeps"
    done
    sweeps=$(cd "$scratch/$name" && find sweeps -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort)
    # shellcheck disable=SC2086 # one argument per sweep folder
    (cd "$scratch/$name" && "$report" $sweeps --out out > report.log 2>&1) || {
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
