#!/usr/bin/env bash
# Packs the run folders of a sweep into one compressed archive for results/: each run's
# config.toml, metrics.csv, episodes.csv, diagnostics.csv (where written), summary.json and
# train.log (no checkpoints, no
# TensorBoard events, no plots), enough for `hrl report` to redo every table and figure:
#
#   results/archive_runs.sh sweeps/minatar-hr results/minatar-hr/runs.tar.gz
#   mkdir -p /tmp/runs && tar -xzf results/minatar-hr/runs.tar.gz -C /tmp/runs
#   hrl report /tmp/runs/minatar-hr --out /tmp/minatar-hr-report
set -euo pipefail
if [[ $# -ne 2 || ! -d "$1" ]]; then
    echo "usage: $0 SWEEP_DIR OUT.tar.gz   (SWEEP_DIR: a folder of run folders)" >&2
    exit 2
fi
sweep="$(cd "$1" && pwd)"
out="$2"
parent="$(dirname "$sweep")"
name="$(basename "$sweep")"
list="$(mktemp)"
trap 'rm -f "$list" "$out.tmp"' EXIT
(cd "$parent" && find "$name" -mindepth 2 -maxdepth 2 -type f \
    \( -name config.toml -o -name metrics.csv -o -name episodes.csv -o -name diagnostics.csv \
       -o -name summary.json \
       -o -name train.log \) | LC_ALL=C sort) > "$list"
if [[ ! -s "$list" ]]; then
    echo "$1 has no run folders (no */config.toml)" >&2
    exit 1
fi
tar -C "$parent" --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' \
    -cf - -T "$list" | gzip -9n > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out: $(wc -l < "$list") files, $(du -h "$out" | cut -f1)"
