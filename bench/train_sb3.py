"""Stable-Baselines3 side of the end-to-end training benchmark: agent steps per second of SB3's
PPO (or DQN) on MinAtar Breakout or Atari Breakout, with hadamard-rl's hyperparameters and
network, measured over the steps after a warm-up, as bench/run_all.sh measures `hrl train`.

PPO: cleanrl's ppo_atari.py values (configs/ppo-minatar.toml, configs/ppo-atari.toml): 8 envs x
128 steps, 4 epochs x 4 minibatches (batch 256), lr 2.5e-4 annealed linearly to 0, Adam eps 1e-5,
gamma 0.99, GAE lambda 0.95, clip 0.1 with value clipping 0.1, entropy 0.01, value 0.5, gradient
norm 0.5, normalised advantages, orthogonal init (SB3's ortho_init: sqrt(2), actor 0.01, critic
1), heads straight on the shared torso. DQN: cleanrl's dqn_atari.py names, values taken from the
`[dqn]` table of a resolved hrl config.toml (--hrl-config) where given.

Networks: MinAtar conv16 k3 -> ReLU -> dense128 -> ReLU; Atari SB3's NatureCNN (the same Nature
CNN, 512 units). MinAtar through minatar's gymnasium wrapper (`MinAtar/Breakout-v1`: minimal
action set, sticky actions 0.1, difficulty ramping; observations made float [C, 10, 10]); Atari
through ale-py 0.12.1 `BreakoutNoFrameskip-v4` and SB3's AtariWrapper (30 no-ops, frame skip 4
with max-pool, episodic life, FIRE reset, 84x84 grayscale, clipped rewards) and 4 stacked frames.
Environments step in-process (DummyVecEnv); torch.set_num_threads(--threads).

Usage: python bench/train_sb3.py --algo ppo --env minatar/breakout --steps N --warmup-steps W
                                 [--threads T] [--hrl-config RUN/config.toml]
Prints one JSON object: steps, warm-up steps, seconds after the warm-up and steps per second.
"""

import argparse
import json
import os
import time
import tomllib

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env, make_vec_env
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import VecFrameStack


class MinAtarObs(gym.ObservationWrapper):
    """minatar's bool [10, 10, C] state as float32 [C, 10, 10], as hrl observes it."""

    def __init__(self, env):
        super().__init__(env)
        h, w, c = env.observation_space.shape
        self.observation_space = gym.spaces.Box(0.0, 1.0, (c, h, w), np.float32)

    def observation(self, observation):
        return np.ascontiguousarray(np.transpose(observation, (2, 0, 1)), dtype=np.float32)


class MinAtarCnn(BaseFeaturesExtractor):
    """conv16 k3 -> ReLU -> flatten 1024 -> dense128 -> ReLU (hrl's `minatar` torso)."""

    def __init__(self, observation_space, features_dim=128):
        super().__init__(observation_space, features_dim)
        c, h, w = observation_space.shape
        self.net = nn.Sequential(
            nn.Conv2d(c, 16, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(16 * (h - 2) * (w - 2), features_dim), nn.ReLU(),
        )

    def forward(self, observations):
        return self.net(observations)


class Clock(BaseCallback):
    """Wall-clock time at the first rollout that starts at or after the warm-up."""

    def __init__(self, warmup_steps):
        super().__init__()
        self.warmup_steps = warmup_steps
        self.start = None
        self.start_steps = None

    def _on_rollout_start(self):
        if self.start is None and self.num_timesteps >= self.warmup_steps:
            self.start, self.start_steps = time.perf_counter(), self.num_timesteps

    def _on_step(self):
        return True


def make_envs(env_id, num_envs, seed):
    if env_id.startswith("minatar/"):
        import minatar.gym

        minatar.gym.register_envs()
        game = env_id.split("/", 1)[1].title().replace("_", "")
        envs = make_vec_env(f"MinAtar/{game}-v1", n_envs=num_envs, seed=seed,
                            wrapper_class=MinAtarObs)
        return envs, {"features_extractor_class": MinAtarCnn}
    if env_id.startswith("atari/"):
        import ale_py

        gym.register_envs(ale_py)
        game = "".join(part.title() for part in env_id.split("/", 1)[1].split("_"))
        envs = VecFrameStack(make_atari_env(f"{game}NoFrameskip-v4", n_envs=num_envs, seed=seed),
                             n_stack=4)
        return envs, {}
    raise SystemExit(f"unknown environment {env_id}; use minatar/GAME or atari/GAME")


def linear_schedule(value):
    return lambda progress_remaining: progress_remaining * value


def ppo(envs, policy_kwargs, atari):
    return PPO(
        "CnnPolicy", envs, n_steps=128, batch_size=256, n_epochs=4,
        learning_rate=linear_schedule(2.5e-4), gamma=0.99, gae_lambda=0.95, clip_range=0.1,
        clip_range_vf=0.1, normalize_advantage=True, ent_coef=0.01, vf_coef=0.5,
        max_grad_norm=0.5, seed=0, device="cpu", verbose=0,
        policy_kwargs={"net_arch": [], "optimizer_kwargs": {"eps": 1e-5},
                       "normalize_images": atari, **policy_kwargs},
    )


def dqn(envs, policy_kwargs, atari, hrl_config):
    c = {}
    if hrl_config:
        with open(hrl_config, "rb") as f:
            c = tomllib.load(f).get("dqn", {})
    return DQN(
        "CnnPolicy", envs, learning_rate=c.get("learning_rate", 1e-4),
        buffer_size=c.get("buffer_size", 1_000_000), learning_starts=c.get("learning_starts", 80_000),
        batch_size=c.get("batch_size", 32), tau=c.get("tau", 1.0), gamma=c.get("gamma", 0.99),
        train_freq=c.get("train_frequency", 4), gradient_steps=1,
        target_update_interval=c.get("target_network_frequency", 1000),
        exploration_fraction=c.get("exploration_fraction", 0.1),
        exploration_initial_eps=c.get("start_e", 1.0), exploration_final_eps=c.get("end_e", 0.01),
        optimize_memory_usage=False, seed=0, device="cpu", verbose=0,
        policy_kwargs={"net_arch": [], "normalize_images": atari, **policy_kwargs},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=["ppo", "dqn"], required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--warmup-steps", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--hrl-config", help="a resolved hrl config.toml for DQN's values")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    atari = args.env.startswith("atari/")
    num_envs = args.num_envs
    if args.algo == "dqn" and args.hrl_config:
        with open(args.hrl_config, "rb") as f:
            num_envs = tomllib.load(f).get("dqn", {}).get("num_envs", 1)
    envs, policy_kwargs = make_envs(args.env, num_envs, seed=0)
    if args.algo == "ppo":
        model = ppo(envs, policy_kwargs, atari)
    else:
        model = dqn(envs, policy_kwargs, atari, args.hrl_config)
    clock = Clock(args.warmup_steps)
    model.learn(total_timesteps=args.steps, callback=clock)
    end = time.perf_counter()
    steps = model.num_timesteps
    if clock.start is None:
        raise SystemExit(f"the run ended ({steps} steps) before the warm-up of {args.warmup_steps}")
    seconds = end - clock.start
    print(json.dumps({
        "algo": args.algo, "env": args.env, "threads": args.threads, "num_envs": num_envs,
        "steps": steps, "warmup_steps": clock.start_steps, "seconds": seconds,
        "sps": (steps - clock.start_steps) / seconds,
    }))


if __name__ == "__main__":
    main()
