"""purejaxql side of the PQN parity comparison: runs purejaxql's own `pqn_minatar.py` training
function on a gymnax MinAtar game and writes every finished episode's return per update.

purejaxql is not a package: PUREJAXQL_DIR is a checkout of its repository (github
mttga/purejaxql; the report names the commit). Its `config/alg/pqn_minatar.yaml` is used as is,
apart from TOTAL_TIMESTEPS (the budget), ENV_NAME, NUM_SEEDS and SEED, and with test rollouts
during training off (they do not touch the training state). Nothing of purejaxql is copied: the
module is imported from the checkout, and two of its module-level names are replaced before
`make_train` is called:
- `LogWrapper` by a subclass that also reports, per environment step, the return of an episode
  that just finished (0 otherwise), so that the per-update means purejaxql already computes give
  the exact sum and count of finished episodes (mean * NUM_STEPS * NUM_ENVS);
- `wandb`, which purejaxql imports at the top but calls only when WANDB_MODE is not "disabled",
  by an empty module when the package is not installed.

Usage: python purejaxql_pqn.py --env Breakout-MinAtar --steps 1000000 --seeds 3 --out FILE.csv
Writes FILE.csv (side, env, seed, step, episodes, return_sum: one row per seed and update, step
counted in agent steps at the update's end) and FILE.json (CPU seconds, wall seconds, versions).
"""

import argparse
import csv
import json
import os
import resource
import sys
import time
import types


def cpu_seconds():
    """User + system CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="gymnax name, e.g. Breakout-MinAtar")
    parser.add_argument("--steps", type=int, required=True, help="agent steps per seed")
    parser.add_argument("--seeds", type=int, default=3, help="seeds vmapped in one program")
    parser.add_argument("--seed", type=int, default=0, help="the base PRNG key")
    parser.add_argument("--out", required=True, help="CSV to write (a .json beside it)")
    parser.add_argument("--commit", default="unknown", help="the checkout's commit, for the record")
    args = parser.parse_args()

    root = os.environ.get("PUREJAXQL_DIR")
    if not root or not os.path.isfile(os.path.join(root, "purejaxql", "pqn_minatar.py")):
        sys.exit("PUREJAXQL_DIR must name a checkout of github mttga/purejaxql "
                 "(purejaxql/pqn_minatar.py not found there)")
    sys.path.insert(0, root)
    try:
        import wandb  # noqa: F401
    except ImportError:
        sys.modules["wandb"] = types.ModuleType("wandb")

    import jax
    import jax.numpy as jnp
    import numpy as np
    import yaml
    from gymnax.wrappers.purerl import LogWrapper

    import purejaxql.pqn_minatar as reference

    class EpisodeLog(LogWrapper):
        """purejaxql's LogWrapper, plus the return of each episode as it finishes."""

        def step(self, key, state, action, params=None):
            obs, state, reward, done, info = super().step(key, state, action, params)
            info["finished_return"] = jnp.where(
                info["returned_episode"], info["returned_episode_returns"], 0.0
            )
            return obs, state, reward, done, info

    reference.LogWrapper = EpisodeLog

    with open(os.path.join(root, "purejaxql", "config", "config.yaml")) as f:
        config = yaml.safe_load(f)
    with open(os.path.join(root, "purejaxql", "config", "alg", "pqn_minatar.yaml")) as f:
        alg = yaml.safe_load(f)
    alg.update(TOTAL_TIMESTEPS=float(args.steps), ENV_NAME=args.env, TEST_DURING_TRAINING=False)
    config.pop("alg", None)
    config = {**config, **alg, "NUM_SEEDS": args.seeds, "SEED": args.seed, "WANDB_MODE": "disabled"}
    # Hydra would have turned "1e7" into a float; yaml.safe_load leaves exponent forms as strings.
    for key in ("TOTAL_TIMESTEPS", "TOTAL_TIMESTEPS_DECAY"):
        config[key] = float(config[key])

    cpu0, wall0 = cpu_seconds(), time.time()
    rngs = jax.random.split(jax.random.PRNGKey(args.seed), args.seeds)
    train = jax.jit(jax.vmap(reference.make_train(config)))
    out = jax.block_until_ready(train(rngs))
    cpu, wall = cpu_seconds() - cpu0, time.time() - wall0

    metrics = out["metrics"]
    per_update = config["NUM_STEPS"] * config["NUM_ENVS"]
    steps = np.asarray(metrics["env_step"])  # [seeds, updates]
    counts = np.rint(np.asarray(metrics["returned_episode"]) * per_update).astype(np.int64)
    sums = np.asarray(metrics["finished_return"], dtype=np.float64) * per_update
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["side", "env", "seed", "step", "episodes", "return_sum"])
        for s in range(args.seeds):
            for u in range(steps.shape[1]):
                writer.writerow(["purejaxql", args.env, s, int(steps[s, u]), int(counts[s, u]),
                                 f"{sums[s, u]:.6g}"])
    info = {
        "side": "purejaxql",
        "commit": args.commit,
        "env": args.env,
        "seeds": args.seeds,
        "agent_steps_per_seed": int(steps[0, -1]),
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "includes_jit_compile": True,
        "config": {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool))},
        "jax": jax.__version__,
    }
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(json.dumps({k: info[k] for k in ("env", "seeds", "agent_steps_per_seed",
                                           "cpu_seconds", "wall_seconds")}))


if __name__ == "__main__":
    main()
