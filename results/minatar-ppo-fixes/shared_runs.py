#!/usr/bin/env python3
"""Checks that the runs this study shares with results/minatar-ppo-hr (PPO without LayerNorm,
tanh, hr-tanh and relu, same settings and seeds) trained identically: for every run present in
both archives, metrics.csv and episodes.csv must be equal in every column but the timing ones
(sps, wall_time). Prints one line per run and a summary; exits 1 if any differ.

    python3 results/minatar-ppo-fixes/shared_runs.py
"""
import csv
import io
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OLD = HERE.parent / "minatar-ppo-hr" / "runs.tar.gz"
NEW = HERE / "runs-fixes.tar.gz"
TIMING = {"sps", "wall_time"}


def files(archive):
    """{(run, file): text} of an archive's metrics.csv and episodes.csv."""
    out = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) == 3 and parts[2] in ("metrics.csv", "episodes.csv"):
                out[(parts[1], parts[2])] = tar.extractfile(member).read().decode()
    return out


def without_timing(text):
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, name in enumerate(rows[0]) if name not in TIMING]
    return [[row[i] for i in keep] for row in rows]


def main():
    old, new = files(OLD), files(NEW)
    shared = sorted(key for key in new if key in old)
    runs = sorted({run for run, _ in shared})
    differing = [run for run in runs
                 if any(without_timing(old[(run, f)]) != without_timing(new[(run, f)])
                        for f in ("metrics.csv", "episodes.csv") if (run, f) in old)]
    for run in runs:
        print(f"{run}: {'DIFFERS' if run in differing else 'identical'}")
    print(f"{len(runs) - len(differing)} of {len(runs)} shared runs identical "
          f"(metrics.csv and episodes.csv but sps and wall_time)")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
