"""hadamard-rl side of a parity comparison: the finished episodes of `hrl train` runs, in the
format the reference side writes (side, env, seed, step, episodes, return_sum: per logged step,
the number of episodes that finished by it since the previous one and the sum of their returns).

Usage: python hrl_episodes.py --env NAME --out FILE.csv RUN_DIR...
Each RUN_DIR is an `hrl train --out` folder (its config.toml names the seed) with RUN_DIR.cpu
beside it holding "USER SYSTEM" CPU seconds on its last line (bash's `time` with TIMEFORMAT='%3U %3S'). Writes
FILE.csv and FILE.json (CPU seconds, agent steps, the hrl commit). Standard library only.
"""

import argparse
import collections
import csv
import os
import subprocess
import tomllib

import side_files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="the name the report groups by")
    parser.add_argument("--out", required=True)
    parser.add_argument("--side", default="hrl")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()

    rows, cpu_seconds, agent_steps, seeds = [], 0.0, 0, []
    for run in sorted(args.runs):
        with open(os.path.join(run, "config.toml"), "rb") as f:
            config = tomllib.load(f)
        seed = config["seed"]
        seeds.append(seed)
        per_step = collections.OrderedDict()
        with open(os.path.join(run, "episodes.csv"), newline="") as f:
            for episode in csv.DictReader(f):
                count, total = per_step.get(int(episode["step"]), (0, 0.0))
                per_step[int(episode["step"])] = (count + 1, total + float(episode["episodic_return"]))
        with open(os.path.join(run, "metrics.csv"), newline="") as f:
            last_step = max(int(row["step"]) for row in csv.DictReader(f))
        agent_steps += last_step
        for step, (count, total) in per_step.items():
            rows.append([args.side, args.env, seed, step, count, f"{total:.6g}"])
        cpu_seconds += side_files.cpu_seconds(run.rstrip("/") + ".cpu")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    info = {"side": args.side, "commit": commit, "env": args.env, "seeds": len(seeds),
            "agent_steps_per_seed": agent_steps // max(len(seeds), 1), "cpu_seconds": cpu_seconds}
    side_files.write(args.out, rows, info)


if __name__ == "__main__":
    main()
