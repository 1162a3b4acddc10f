"""What every parity side writes, in one place: FILE.csv (side, env, seed, step, episodes,
return_sum: the episodes that ended by each logged agent step since the previous one, and the sum
of their returns) and FILE.json beside it (CPU seconds and settings), which report.py reads; and
the CPU-time files the scripts' bash `time` writes."""

import csv
import json
import os

HEADER = ["side", "env", "seed", "step", "episodes", "return_sum"]


def cpu_seconds(path):
    """User + system seconds from a file whose last line is bash's `time` with
    TIMEFORMAT='%3U %3S' (the timed command's own output may come before it)."""
    with open(path) as f:
        user, system = (float(x) for x in f.read().strip().splitlines()[-1].split())
    return user + system


def write(out, rows, info):
    """Writes `rows` (in HEADER's order) to `out` and `info` to the JSON beside it; prints it."""
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(json.dumps(info))
