"""The parity report: learning curves and final returns of hadamard-rl against a reference
implementation, from the CSV files the parity scripts write (side, env, seed, step, episodes,
return_sum; one row per seed and logged step) and the JSON beside each (CPU seconds, agent steps).

For every game and side:
- final return: per seed, the mean return of the episodes that ended in the last 10% of the run's
  agent steps; the row gives the mean over seeds and a 95% t-interval over seeds;
- learning curve: per seed, the mean return of the episodes that ended in each of BINS equal
  spans of agent steps; the figure shows the mean over seeds and the 95% t-band;
- agent steps per CPU-second: all seeds' agent steps over the side's CPU seconds (user + system,
  every thread; the reference's include its JIT compilation).
Two sides' intervals overlapping is reported as such, not as a test of equality.

Usage: python report.py --title TITLE --out DIR IN_DIR
Writes DIR/report.md, DIR/curves.png (matplotlib) and DIR/finals.csv.
"""

import argparse
import collections
import csv
import glob
import json
import math
import os

import numpy as np

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
       2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
       2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
BINS = 20
FINAL_FRACTION = 0.1


def interval(values):
    """Mean and 95% t half-width over `values` (NaN half-width for one value)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan
    t = T95[n - 2] if n - 1 <= len(T95) else 1.96
    return mean, t * float(values.std(ddof=1)) / math.sqrt(n)


def read_side(path):
    """{seed: [(step, episodes, return_sum)]} of one side's CSV, and its env and side names."""
    runs = collections.defaultdict(list)
    env = side = None
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            env, side = row["env"], row["side"]
            runs[int(row["seed"])].append(
                (int(row["step"]), int(row["episodes"]), float(row["return_sum"])))
    return side, env, runs


def mean_return(rows, lo, hi):
    """Mean return of the episodes logged at steps in (lo, hi]."""
    count = sum(n for step, n, _ in rows if lo < step <= hi)
    total = sum(s for step, _, s in rows if lo < step <= hi)
    return total / count if count else math.nan


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("inputs", help="the folder the parity script wrote")
    args = parser.parse_args()

    sides = []  # (env, side, runs, info, budget: the agent steps every seed reached)
    for path in sorted(glob.glob(os.path.join(args.inputs, "*.csv"))):
        if not os.path.exists(os.path.splitext(path)[0] + ".json"):
            continue  # not a side's file (finals.csv, written here)
        side, env, runs = read_side(path)
        if not runs:
            continue
        with open(os.path.splitext(path)[0] + ".json") as f:
            info = json.load(f)
        budget = min(max(step for step, _, _ in r) for r in runs.values())
        sides.append((env, side, runs, info, budget))
    if not sides:
        raise SystemExit(f"no parity CSV files in {args.inputs}")
    os.makedirs(args.out, exist_ok=True)

    finals, rows = {}, []
    for env, side, runs, info, budget in sides:
        per_seed = [mean_return(r, budget * (1 - FINAL_FRACTION), budget) for r in runs.values()]
        mean, half = interval(per_seed)
        finals[(env, side)] = (mean, half)
        steps_total = sum(max(step for step, _, _ in r) for r in runs.values())
        rate = steps_total / info["cpu_seconds"]
        rows.append((env, side, len(runs), budget, per_seed, mean, half, rate))

    with open(os.path.join(args.out, "finals.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["env", "side", "seeds", "agent_steps", "final_return_mean",
                         "final_return_ci95", "per_seed", "agent_steps_per_cpu_second"])
        for env, side, n, budget, per_seed, mean, half, rate in rows:
            writer.writerow([env, side, n, budget, f"{mean:.4f}", f"{half:.4f}",
                             " ".join(f"{x:.3f}" for x in per_seed), f"{rate:.0f}"])

    lines = [f"# {args.title}", "",
             "| game | side | seeds | agent steps | final return (95% CI) | per seed | "
             "intervals overlap | agent steps per CPU-second |",
             "|---|---|---:|---:|---|---|---|---:|"]
    by_env = collections.defaultdict(list)
    for row in rows:
        by_env[row[0]].append(row)
    for env, env_rows in by_env.items():
        for _, side, n, budget, per_seed, mean, half, rate in env_rows:
            others = [finals[(env, o[1])] for o in env_rows if o[1] != side]
            overlap = all(abs(mean - m) <= half + h for m, h in others) if others else None
            lines.append(
                f"| {env} | {side} | {n} | {budget:,} | {mean:.2f} ± {half:.2f} | "
                f"{' / '.join(f'{x:.2f}' for x in per_seed)} | "
                f"{'—' if overlap is None else ('yes' if overlap else 'no')} | {rate:,.0f} |")
    lines += ["", f"Final return: per seed, the mean return of the episodes that ended in the "
              f"last {FINAL_FRACTION:.0%} of the run; mean over seeds ± the 95% t-interval "
              "half-width. Steps per CPU-second: every seed's agent steps over the side's user + "
              "system CPU seconds.", ""]

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(by_env), figsize=(5.5 * len(by_env), 4), squeeze=False)
    for ax, env in zip(axes[0], by_env):
        for _, side, runs, _, budget in (s for s in sides if s[0] == env):
            edges = np.linspace(0, budget, BINS + 1)
            curves = np.array([[mean_return(r, lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]
                               for r in runs.values()])
            stats = [interval(curves[:, b]) for b in range(BINS)]
            centres = (edges[:-1] + edges[1:]) / 2
            mean = np.array([m for m, _ in stats])
            half = np.array([h for _, h in stats])
            ax.plot(centres, mean, label=f"{side} ({len(runs)} seeds)")
            ax.fill_between(centres, mean - half, mean + half, alpha=0.2)
        ax.set_title(env)
        ax.set_xlabel("agent steps")
        ax.set_ylabel("episode return")
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "curves.png"), dpi=110)
    lines += ["![learning curves](curves.png)", "",
              f"Curves: the mean return of the episodes that ended in each of {BINS} equal spans "
              "of agent steps, mean over seeds and 95% t-band.", ""]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
