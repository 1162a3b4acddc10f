"""Stable-Baselines3 side of the PPO and DQN parity comparisons: SB3's PPO or DQN on a MinAtar
game stepped by the `hadamard_rl` package (the same bit-exact environments `hrl train` steps),
with the hyperparameters of a resolved `hrl train` config.toml and the same network.

- Environments: `hadamard_rl.make_vec(env, num_envs, seed, **env_options)` behind a small SB3
  `VecEnv` adapter; both reset in the same step (SB3's convention, `terminal_observation` in the
  info, `TimeLimit.truncated` for cut-off episodes).
- Network: conv16 3x3 -> ReLU -> dense128 -> ReLU (`minatar` torso), heads straight on it
  (`net_arch=[]`). PPO: SB3's orthogonal initialisation (sqrt 2, actor 0.01, critic 1), as the
  preset's; DQN: PyTorch's default initialisation, as the preset's.
- PPO: cleanrl's values from `[ppo]` (n_steps, batch = num_envs * num_steps / num_minibatches,
  epochs, learning rate annealed to 0, Adam eps, gamma, GAE lambda, clip with value clipping,
  entropy and value coefficients, gradient norm).
- DQN: `[dqn]` values: replay, batch, learning starts, train frequency, target copy period, the
  exploration fraction of the run, Huber loss (SB3's only loss) and the optimiser: RMSprop with
  the preset's alpha, epsilon, centring (or Adam); no gradient clipping, as the preset.
Episode returns are summed here from the rewards, per environment, and written with the agent
step at which each episode ended.

Usage: python sb3_side.py --algo ppo --hrl-config RUN/config.toml --seed S --out FILE.csv
"""

import argparse
import csv
import math
import os
import sys
import tomllib

import numpy as np
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import VecEnv

import hadamard_rl

# The MinAtar network of the benchmarks' SB3 side (bench/train_sb3.py), the same here.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from train_sb3 import MinAtarCnn  # noqa: E402


class HrlVecEnv(VecEnv):
    """A `hadamard_rl` vector environment as an SB3 `VecEnv`, recording finished episodes."""

    def __init__(self, envs):
        self.envs = envs
        super().__init__(envs.num_envs, envs.single_observation_space, envs.single_action_space)
        self.actions = None
        self.returns = np.zeros(envs.num_envs)
        self.steps = 0
        self.episodes = []  # (agent step at the end, return)

    def reset(self):
        observations, _ = self.envs.reset()
        return np.array(observations, dtype=np.float32)

    def step_async(self, actions):
        self.actions = np.asarray(actions, dtype=np.int64)

    def step_wait(self):
        obs, rewards, terminated, truncated, info = self.envs.step(self.actions)
        self.steps += self.num_envs
        self.returns += rewards
        dones = np.logical_or(terminated, truncated)
        infos = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = np.array(info["final_obs"][i], dtype=np.float32)
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            self.episodes.append((self.steps, float(self.returns[i])))
            self.returns[i] = 0.0
        return np.array(obs, dtype=np.float32), rewards.astype(np.float32), dones, infos

    def close(self):
        self.envs.close()

    def get_attr(self, attr_name, indices=None):
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name, value, indices=None):
        setattr(self, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        raise NotImplementedError(f"{method_name}: not needed by the parity runs")

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._get_indices(indices))


def env_options(config):
    """The `[env_options]` of an hrl config as `hadamard_rl.make_vec` keywords (MinAtar's)."""
    options = dict(config.get("env_options", {}))
    options.pop("atari", None)
    return options


def ppo(envs, c, seed):
    batch = c["num_envs"] * c["num_steps"]
    lr = c["learning_rate"]
    return PPO(
        "CnnPolicy", envs, n_steps=c["num_steps"], batch_size=batch // c["num_minibatches"],
        n_epochs=c["update_epochs"],
        learning_rate=(lambda remaining: remaining * lr) if c["anneal_lr"] else lr,
        gamma=c["gamma"], gae_lambda=c["gae_lambda"], clip_range=c["clip_coef"],
        clip_range_vf=c["clip_coef"] if c["clip_vloss"] else None,
        normalize_advantage=c["norm_adv"], ent_coef=c["ent_coef"], vf_coef=c["vf_coef"],
        max_grad_norm=c["max_grad_norm"], seed=seed, device="cpu", verbose=0,
        policy_kwargs={"net_arch": [], "optimizer_kwargs": {"eps": c["adam_epsilon"]},
                       "normalize_images": False, "features_extractor_class": MinAtarCnn},
    )


def dqn(envs, c, seed):
    if c["loss"] != "huber":
        raise SystemExit(f"SB3's DQN has only the Huber loss; the config asks for {c['loss']}")
    if c["optimizer"] == "rmsprop":
        optimizer = torch.optim.RMSprop
        optimizer_kwargs = {"alpha": c["rmsprop_alpha"], "eps": c["rmsprop_epsilon"],
                            "centered": c["rmsprop_centered"], "momentum": c["rmsprop_momentum"]}
    else:
        optimizer, optimizer_kwargs = torch.optim.Adam, {"eps": c.get("adam_epsilon", 1e-8)}
    return DQN(
        "CnnPolicy", envs, learning_rate=c["learning_rate"], buffer_size=c["buffer_size"],
        learning_starts=c["learning_starts"], batch_size=c["batch_size"], tau=c["tau"],
        gamma=c["gamma"], train_freq=c["train_frequency"], gradient_steps=1,
        target_update_interval=c["target_network_frequency"],
        exploration_fraction=c["exploration_fraction"], exploration_initial_eps=c["start_e"],
        exploration_final_eps=c["end_e"], max_grad_norm=math.inf, seed=seed, device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": [], "normalize_images": False,
                       "features_extractor_class": MinAtarCnn,
                       "optimizer_class": optimizer, "optimizer_kwargs": optimizer_kwargs},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", choices=["ppo", "dqn"], required=True)
    parser.add_argument("--hrl-config", required=True, help="a resolved hrl config.toml")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--name", required=True, help="the game's name in the report")
    parser.add_argument("--out", required=True, help="CSV of this run's finished episodes")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with open(args.hrl_config, "rb") as f:
        config = tomllib.load(f)
    c = config[args.algo]
    if config["network"]["torso"] != "minatar" or config["repr"] != "relu":
        raise SystemExit("the SB3 side builds the MinAtar ReLU network only")
    envs = HrlVecEnv(hadamard_rl.make_vec(config["env"], c["num_envs"], seed=args.seed,
                                          **env_options(config)))
    model = (ppo if args.algo == "ppo" else dqn)(envs, c, args.seed)
    model.learn(total_timesteps=c["total_timesteps"])
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["side", "env", "seed", "step", "episodes", "return_sum"])
        for step, ret in envs.episodes:
            writer.writerow(["sb3", args.name, args.seed, step, 1, f"{ret:.6g}"])
    print(f"sb3 {args.algo} seed {args.seed}: {len(envs.episodes)} episodes, "
          f"{envs.steps} agent steps")


if __name__ == "__main__":
    main()
