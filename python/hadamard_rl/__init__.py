"""hadamard-rl's native Rust environments for gymnasium: bit-exact MinAtar, CartPole and Atari
(ALE 0.12.1 with cleanrl-style preprocessing), vectorised in Rust with the GIL released.

- ``make_vec(env_id, num_envs, seed=0, num_threads=1, **options)``: a
  ``gymnasium.vector.VectorEnv`` (same-step autoreset; see ``HrlVectorEnv``).
- ``gymnasium.make("hadamard_rl/MinAtar-Breakout-v1")`` and the other registered ids
  (``registered_ids()``): single ``gymnasium.Env``\\ s (``HrlEnv``); ``gymnasium.make_vec`` on
  them gives the native vector environment.
- ``env_ids()``: the native ids ``make_vec`` takes; ``option_names()``: its option keywords.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from . import _native
from ._env import HrlEnv
from ._vector import HrlVectorEnv

__all__ = [
    "HrlEnv",
    "HrlVectorEnv",
    "env_ids",
    "env_seed",
    "make_vec",
    "option_names",
    "registered_ids",
]

_MINATAR_NAMES = {
    "breakout": "Breakout",
    "asterix": "Asterix",
    "freeway": "Freeway",
    "seaquest": "Seaquest",
    "space_invaders": "SpaceInvaders",
}


def make_vec(
    env_id: str, num_envs: int, seed: int = 0, num_threads: int = 1, **options: Any
) -> HrlVectorEnv:
    """``num_envs`` copies of the native environment ``env_id`` (one of ``env_ids()``).

    ``options``: the environment options (``option_names()``: ``sticky_action_prob``,
    ``difficulty_ramping``, ``minimal_action_set``, ``max_episode_steps`` and, for Atari,
    ``noop_max``, ``frame_skip``, ``max_pool``, ``screen_size``, ``frame_stack``,
    ``episodic_life``, ``fire_reset``, ``clip_rewards``, ``max_episode_frames``, ``rom_dir``),
    plus ``copy`` and
    ``episode_statistics`` (see ``HrlVectorEnv``). Unknown ids and options, options the
    environment lacks, wrong types and bad values raise ``ValueError``.
    """
    return HrlVectorEnv(env_id, num_envs, seed, num_threads, **options)


def env_ids() -> list[str]:
    """Every native id: ``minatar/GAME`` (five games), ``cartpole``, ``atari/GAME`` (104)."""
    return _native.env_ids()


def env_seed(seed: int, env_index: int) -> int:
    """The 32-bit seed copy ``env_index`` of a vector environment seeded ``seed`` runs with."""
    return _native.env_seed(seed, env_index)


def option_names() -> list[str]:
    """The option keywords ``make_vec`` and ``HrlEnv`` accept."""
    return _native.option_names()


def _gym_id(env_id: str) -> str:
    if env_id == "cartpole":
        return "hadamard_rl/CartPole-v1"
    family, game = env_id.split("/")
    if family == "minatar":
        return f"hadamard_rl/MinAtar-{_MINATAR_NAMES[game]}-v1"
    # ale-py's own naming: `space_invaders` -> `SpaceInvaders`.
    return f"hadamard_rl/Atari-{game.title().replace('_', '')}-v0"


def registered_ids() -> dict[str, str]:
    """The gymnasium ids this package registers, each with its native id."""
    return {_gym_id(env_id): env_id for env_id in env_ids()}


for _gym, _env_id in registered_ids().items():
    gym.register(
        id=_gym,
        entry_point="hadamard_rl._env:HrlEnv",
        vector_entry_point="hadamard_rl._vector:HrlVectorEnv",
        kwargs={"env_id": _env_id},
    )
