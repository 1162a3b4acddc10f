"""Merges per-seed parity CSV files (side, env, seed, step, episodes, return_sum) into one, and
their CPU-time files (FILE.cpu beside each: "USER SYSTEM" seconds, bash's `time` with
TIMEFORMAT='%3U %3S', on its last line) into the JSON beside the merged file.

Usage: python merge.py --out FILE.csv --agent-steps N SEED_FILE.csv...
"""

import argparse
import csv
import os

import side_files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--agent-steps", type=int, required=True, help="per seed")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    rows, cpu_seconds = [], 0.0
    side = env = None
    for path in args.files:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                rows.append([row[column] for column in side_files.HEADER])
                side, env = row["side"], row["env"]
        cpu_seconds += side_files.cpu_seconds(os.path.splitext(path)[0] + ".cpu")
    info = {"side": side, "env": env, "seeds": len(args.files),
            "agent_steps_per_seed": args.agent_steps, "cpu_seconds": cpu_seconds}
    side_files.write(args.out, rows, info)


if __name__ == "__main__":
    main()
