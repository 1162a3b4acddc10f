"""Merges per-seed parity CSV files (side, env, seed, step, episodes, return_sum) into one, and
their CPU-time files (FILE.cpu beside each: "USER SYSTEM" seconds, bash's `time` with
TIMEFORMAT='%3U %3S', on its last line) into the JSON beside the merged file.

Usage: python merge.py --out FILE.csv --agent-steps N SEED_FILE.csv...
"""

import argparse
import csv
import json
import os


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--agent-steps", type=int, required=True, help="per seed")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    rows, cpu_seconds, header = [], 0.0, None
    side = env = None
    for path in args.files:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            for row in reader:
                rows.append(row)
                side, env = row[0], row[1]
        with open(os.path.splitext(path)[0] + ".cpu") as f:
            user, system = (float(x) for x in f.read().strip().splitlines()[-1].split())
        cpu_seconds += user + system
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    info = {"side": side, "env": env, "seeds": len(args.files),
            "agent_steps_per_seed": args.agent_steps, "cpu_seconds": cpu_seconds}
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(json.dumps(info))


if __name__ == "__main__":
    main()
