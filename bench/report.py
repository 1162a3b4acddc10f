"""Assembles what bench/run_all.sh measured into bench/results/benchmarks.json and BENCHMARKS.md.

Reads the folder the script filled (--work): NAME.cmd (the exact command of a measurement, one
line), NAME.json (its output, one JSON object, or JSON lines for bench/env_minatar.sh) and, for
`hrl train` runs, the run folder's metrics.csv and config.toml. Python standard library only, so
that the smoke mode (no peers installed) renders with the system's python3.

Usage: python3 bench/report.py --work DIR --json OUT.json --markdown OUT.md [--smoke]
"""

import argparse
import csv
import json
import os
import statistics


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def read_json(path):
    text = read_text(path)
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def machine(work, smoke):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": int(read_text(os.path.join(work, "threads")) or os.cpu_count()),
        "date": read_text(os.path.join(work, "date")),
        "commit": read_text(os.path.join(work, "commit")),
        "load_average_before": read_text(os.path.join(work, "loadavg.before")),
        "load_average_after": read_text(os.path.join(work, "loadavg.after")),
        "smoke": smoke,
    }


def window_sps(run_dir, warmup_steps):
    """Agent steps per second of an `hrl train` run between the first metrics row at or after
    `warmup_steps` and the last row (wall_time is taken at the end of each update)."""
    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        rows = [(float(r["step"]), float(r["wall_time"])) for r in csv.DictReader(f)]
    start = next((r for r in rows if r[0] >= warmup_steps), None)
    end = rows[-1] if rows else None
    if start is None or end is None or end[0] <= start[0]:
        return None
    return (end[0] - start[0]) / (end[1] - start[1])


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(ours, peer):
    return ours / peer if ours is not None and peer else None


def row(section, what, ours, peer, peer_name, unit, commands, target=None, note=None):
    return {"section": section, "what": what, "ours": ours, "peer": peer, "peer_name": peer_name,
            "unit": unit, "ratio": ratio(ours, peer), "target": target, "commands": commands,
            "note": note}


def env_rows(work):
    rows = []
    minatar = read_json(os.path.join(work, "env_minatar.json")) or []
    command = read_text(os.path.join(work, "env_minatar.cmd"))
    for game in minatar if isinstance(minatar, list) else [minatar]:
        name = game["game"]
        target = {"min_ratio": 20.0} if name == "breakout" else None
        rows.append(row("env", f"MinAtar {name}, 1 env, agent steps/s",
                        game["hrl_steps_per_second"], game.get("python_steps_per_second"),
                        "minatar 1.0.15", "steps/s", [command], target))
        rows.append(row("env", f"MinAtar {name}, {game['hrl_vec_num_envs']} envs (best of 1 and "
                        f"{game['hrl_vec_threads']} threads) vs 1 Python env",
                        max(game["hrl_vec_steps_per_second"],
                            game["hrl_vec_1_thread_steps_per_second"]),
                        game.get("python_steps_per_second"), "minatar 1.0.15", "steps/s",
                        [command], None,
                        f"1 thread {game['hrl_vec_1_thread_steps_per_second']:,.0f}, "
                        f"{game['hrl_vec_threads']} threads {game['hrl_vec_steps_per_second']:,.0f}"))
    atari = read_json(os.path.join(work, "env_atari.json"))
    command = read_text(os.path.join(work, "env_atari.cmd"))
    if atari:
        rates = atari["steps_per_second"]
        ours = rates.get("hadamard-rl")
        label = f"Atari Breakout, {atari['num_envs']} envs, {atari['threads']} threads"
        for name, rate in rates.items():
            if name == "hadamard-rl":
                continue
            target = {"min_ratio": 1.0} if name.startswith("envpool") else None
            rows.append(row("env", label + ", agent steps/s", ours, rate, name, "steps/s",
                            [command], target,
                            "per core = the same ratio: both use the same threads"
                            if target else None))
        if len(rates) == 1:
            rows.append(row("env", label + ", agent steps/s", ours, None, "envpool", "steps/s",
                            [command]))
    return rows


def train_rows(work, spec):
    rows = []
    for case in spec:
        name, algo, env = case["name"], case["algo"], case["env"]
        ours_runs = [window_sps(os.path.join(work, "train", f"{name}.hrl.{i}"),
                                case["warmup_steps"]) for i in range(case["repeats"])]
        ours_cmd = read_text(os.path.join(work, f"{name}.hrl.cmd"))
        peer_runs = [read_json(os.path.join(work, f"{name}.peer.{i}.json"))
                     for i in range(case["repeats"])]
        peer_cmd = read_text(os.path.join(work, f"{name}.peer.cmd"))
        pending = read_text(os.path.join(work, f"{name}.pending"))
        ours = median(ours_runs)
        peer = median([p["sps"] for p in peer_runs if p])
        what = (f"{algo.upper()} {env}, {case['steps']} agent steps "
                f"(measured after {case['warmup_steps']}), steps/s")
        target = {"min_ratio": 3.0} if (algo, env) == ("ppo", "minatar/breakout") else None
        note = (f"median of {case['repeats']} runs each" if case["repeats"] > 1 else "one run each")
        if pending:
            note = "PENDING: " + pending.split(";", 1)[0]
        rows.append(row("train", what, ours, peer, case["peer_name"], "steps/s",
                        [c for c in (ours_cmd, peer_cmd) if c], target, note))
        case["ours_runs"], case["peer_runs"] = ours_runs, [p and p["sps"] for p in peer_runs]
    # PQN against our own PPO and DQN on each environment, at equal agent steps (and frames).
    by_name = {(r["algo"], r["env"]): r for r in spec}
    for env in sorted({c["env"] for c in spec}):
        pqn = next((r for r in rows if r["what"].startswith(f"PQN {env},")), None)
        for other in ("ppo", "dqn"):
            base = next((r for r in rows if r["what"].startswith(f"{other.upper()} {env},")), None)
            if pqn and base and (other, env) in by_name:
                rows.append(row("pqn", f"PQN vs our {other.upper()}, {env}, steps/s", pqn["ours"],
                                base["ours"], f"hadamard-rl {other.upper()}", "steps/s",
                                pqn["commands"][:1] + base["commands"][:1], None, base["note"]
                                if base["note"] and base["note"].startswith("PENDING") else None))
    return rows


def net_rows(work):
    ours = read_json(os.path.join(work, "net_hrl.json"))
    peer = read_json(os.path.join(work, "net_torch.json"))
    ours_cmd = read_text(os.path.join(work, "net_hrl.cmd"))
    peer_cmd = read_text(os.path.join(work, "net_torch.cmd"))
    rows = []
    if not ours:
        return rows, {}
    peer_cases = {(c["network"], c["mode"], c["batch"]): c for c in (peer or {}).get("cases", [])}
    for case in ours["cases"]:
        key = (case["network"], case["mode"], case["batch"])
        other = peer_cases.get(key)
        peer_ms = other["median_ms"] if other else None
        # Time ratio written as speed: PyTorch's time over ours (above 1: we are faster).
        target = ({"min_ratio": 0.8} if case["network"] == "nature" and case["mode"] == "train"
                  else None)
        r = row("net", f"{case['network']} {case['mode']}, batch {case['batch']}",
                case["median_ms"], peer_ms, "PyTorch", "ms", [c for c in (ours_cmd, peer_cmd) if c],
                target)
        r["ratio"] = peer_ms / case["median_ms"] if peer_ms else None
        r["gflops_ours"] = case["gflops"]
        r["gflops_peer"] = case["flops"] / (peer_ms * 1e6) if peer_ms else None
        rows.append(r)
    rows += sgemm_rows(work)
    peak = {"hrl_matmul": ours.get("matmul"), "hrl_threads": ours.get("threads"),
            "hrl_matmul_1_thread": (read_json(os.path.join(work, "net_hrl_1.json")) or {})
            .get("matmul"),
            "torch_matmul": (peer or {}).get("matmul"), "torch": (peer or {}).get("torch"),
            "commands": [c for c in (ours_cmd, read_text(os.path.join(work, "net_hrl_1.cmd")),
                                     peer_cmd) if c]}
    return rows, peak


def sgemm_rows(work):
    """The one-thread MinAtar training steps against the one-thread sgemm rate of the same run."""
    measured = read_json(os.path.join(work, "net_hrl_sgemm.json"))
    if not measured or not measured.get("matmul"):
        return []
    command = read_text(os.path.join(work, "net_hrl_sgemm.cmd"))
    sgemm = measured["matmul"]
    rows = []
    for case in measured["cases"]:
        how = ("the fused step DQN takes" if case["mode"] == "train"
               else "burn's autodiff")
        target = {"min_ratio": 0.5} if case["mode"] == "train" else None
        rows.append(row("sgemm", f"{case['network']} {case['mode']} ({how}), batch "
                        f"{case['batch']}, 1 thread, GFLOP/s", case["gflops"], sgemm["gflops"],
                        f"1-thread sgemm {sgemm['size']}, same run", "GFLOP/s", [command],
                        target, f"{case['median_ms']:.3f} ms per step"))
    return rows


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:.3g} ms" if value < 10 else f"{value:.0f} ms"
    return f"{value:,.0f}"


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def status(r):
    t = r.get("target")
    if not t:
        return ""
    if r["ratio"] is None:
        return f"target >= {t['min_ratio']}x: not measured"
    met = r["ratio"] >= t["min_ratio"]
    return f"target >= {t['min_ratio']}x: **{'met' if met else 'missed'}**"


SECTIONS = [
    ("env", "Environment throughput", "ours / peer (higher: we are faster)"),
    ("train", "End-to-end training throughput", "ours / peer"),
    ("pqn", "PQN against our other agents (equal agent steps)", "PQN / other"),
    ("net", "Network microbenchmarks (median ms per call)", "PyTorch time / ours"),
    ("sgemm", "Training step against the machine's sgemm rate (one thread)", "ours / sgemm"),
]


def markdown(result, limits_text):
    m = result["machine"]
    out = ["# Benchmarks", ""]
    if m["smoke"]:
        out += ["**Smoke run**: tiny budgets and no peers; these numbers mean nothing. "
                "`bench/run_all.sh` (no flag) gives the real table.", ""]
    out += [
        "Produced by `bench/run_all.sh` in one run on one machine, ours and the peers side by "
        "side with the same environments, hyperparameters, networks and thread counts. Every "
        "figure below comes from the command printed in its row (commands run from the "
        "repository root; `$VENV` is the virtual environment the script makes, `$WORK` its "
        "scratch folder). Raw numbers: [`bench/results/benchmarks.json`]"
        "(bench/results/benchmarks.json).",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; threads used: {m['threads']}",
        f"- date: {m['date']}; commit: `{m['commit']}`",
        f"- load average before / after: {m['load_average_before']} / "
        f"{m['load_average_after']} (the machine was shared with other work: absolute numbers "
        "are noisy, ratios less so)",
        "",
    ]
    peak = result.get("peak") or {}
    if peak.get("hrl_matmul") or peak.get("torch_matmul"):
        out += ["## Machine sgemm peak (float32 square product)", "",
                "| library | threads | size | GFLOP/s |", "|---|---|---|---|"]
        for entry, threads in ((peak.get("hrl_matmul_1_thread"), 1),
                               (peak.get("hrl_matmul"), peak.get("hrl_threads"))):
            if entry:
                out.append(f"| burn 0.22.1 Flex (ours) | {threads} | {entry['size']} | "
                           f"{entry['gflops']:.0f} |")
        for entry in peak.get("torch_matmul") or []:
            out.append(f"| PyTorch {peak.get('torch')} (MKL) | {entry['threads']} | "
                       f"{entry['size']} | {entry['gflops']:.0f} |")
        out += ["", "Commands: " + "; ".join(f"`{c}`" for c in peak["commands"]), ""]
    targets = [r for r in result["rows"] if r.get("target")]
    if targets:
        out += ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
        for r in targets:
            out.append(f"| {r['what']}: ours >= {r['target']['min_ratio']}x "
                       f"{r['peer_name']} | {fmt_ratio(r['ratio'])} | "
                       f"{status(r).split(': ', 1)[-1]} |")
        out.append("")
    footnotes = []
    for key, title, ratio_name in SECTIONS:
        rows = [r for r in result["rows"] if r["section"] == key]
        if not rows:
            continue
        out += [f"## {title}", ""]
        if key == "net":
            out += ["| case | ours | PyTorch | " + ratio_name + " | ours GFLOP/s | PyTorch "
                    "GFLOP/s | target | commands |", "|---|---|---|---|---|---|---|---|"]
        else:
            out += [f"| what | ours | peer | {ratio_name} | target | notes | commands |",
                    "|---|---|---|---|---|---|---|"]
        for r in rows:
            refs = []
            for c in r["commands"]:
                if c not in footnotes:
                    footnotes.append(c)
                refs.append(f"[{footnotes.index(c) + 1}]")
            refs = " ".join(refs)
            if key == "net":
                g_peer = "n/a" if r["gflops_peer"] is None else f"{r['gflops_peer']:.1f}"
                out.append(f"| {r['what']} | {fmt(r['ours'], 'ms')} | {fmt(r['peer'], 'ms')} | "
                           f"{fmt_ratio(r['ratio'])} | {r['gflops_ours']:.1f} | {g_peer} | "
                           f"{status(r)} | {refs} |")
            else:
                out.append(f"| {r['what']} | {fmt(r['ours'], r['unit'])} | "
                           f"{fmt(r['peer'], r['unit'])} ({r['peer_name']}) | "
                           f"{fmt_ratio(r['ratio'])} | {status(r)} | {r['note'] or ''} | "
                           f"{refs} |")
        out.append("")
    out += ["## Commands", ""]
    out += [f"{i + 1}. `{c}`" for i, c in enumerate(footnotes)]
    out += ["", limits_text.strip(), ""]
    return "\n".join(out)


def python_section():
    """The table `bench/python_env.sh` last wrote (the environments used from Python), if any."""
    table = read_text(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                   "python_env.md"))
    if not table:
        return ""
    return ("\n## From Python: `hadamard_rl` against minatar, envpool and ale-py\n\n"
            "Command: `bash bench/python_env.sh` (a separate run; its own machine notes below).\n\n"
            + table.strip() + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--notes", help="a markdown file appended to BENCHMARKS.md")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    net, peak = net_rows(args.work)
    spec = read_json(os.path.join(args.work, "train.json")) or []
    rows = env_rows(args.work) + train_rows(args.work, spec) + net
    result = {"machine": machine(args.work, args.smoke), "peak": peak, "rows": rows,
              "train_runs": spec}
    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    notes = read_text(args.notes) if args.notes else ""
    with open(args.markdown, "w") as f:
        f.write(markdown(result, notes or ""))
        f.write(python_section())
    missing = [r["what"] for r in rows if r["ours"] is None and not (r["note"] or "")
               .startswith("PENDING")]
    if missing:
        raise SystemExit("no figure of ours for: " + "; ".join(missing))


if __name__ == "__main__":
    main()
