"""Many native environments as one ``gymnasium.vector.VectorEnv``, stepped in Rust."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _native
from ._common import observation_space, with_rom_dir


class HrlVectorEnv(VectorEnv):
    """``num_envs`` copies of a native environment, stepped together in Rust with the GIL
    released (``num_threads`` worker threads); made by ``hadamard_rl.make_vec`` or by
    ``gymnasium.make_vec("hadamard_rl/...", num_envs)``.

    Autoreset is ``AutoresetMode.SAME_STEP`` (``metadata["autoreset_mode"]``): in the step
    where copy ``i``'s episode ends, ``terminations[i]`` or ``truncations[i]`` is set, the
    returned observation ``i`` is already the first of the next episode, and the last
    observation of the ended one is ``infos["final_obs"][i]`` (``infos["_final_obs"]`` masks
    the copies that ended; ``infos["final_info"]`` is ``{}``, the copies have no per-step
    info). Every action therefore counts; there is no reset step as in ``NEXT_STEP`` mode.

    Episode statistics (``episode_statistics=True``), as gymnasium's ``RecordEpisodeStatistics``
    writes them: in a step where episodes end, ``infos["episode"]`` holds ``r`` (return),
    ``l`` (length in agent steps) and ``t`` (seconds) per copy, 0 elsewhere, and
    ``infos["_episode"]`` the mask. On Atari with the default episodic life an episode is one
    life and ``r`` sums clipped rewards; ``infos["game_score"]`` (masked by
    ``infos["_game_score"]``) then gives the unclipped score of each whole game that ended.
    Pass ``episode_statistics=False`` to wrap the env in gymnasium's own wrapper instead.

    Buffers: with ``copy=False`` (default) ``reset`` and ``step`` return the same arrays every
    time, overwritten in place by the next call (no allocation per step); copy what you keep,
    or pass ``copy=True``. ``infos["final_obs"]`` entries are always copies.

    Seeding: copy ``i`` is seeded with ``hadamard_rl.env_seed(seed, i)`` (a 32-bit seed in
    numpy's ``RandomState`` convention, so one copy can be replayed with the ``minatar``
    package). The environment is reset with ``seed`` when made, so the first ``reset()``
    returns those episodes; ``reset(seed=s)`` reseeds every copy; a later ``reset()`` without
    a seed reseeds with the next value of a generator seeded by the last seed, so runs
    repeat exactly. Per-copy seed lists and reset options (``reset_mask``) are not supported.
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        seed: int = 0,
        num_threads: int = 1,
        *,
        copy: bool = False,
        episode_statistics: bool = True,
        render_mode: str | None = None,
        **options: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported by vector environments")
        for name, value in (("copy", copy), ("episode_statistics", episode_statistics)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"`{name}` must be True or False, got {value!r}")
        self._native = _native.VecEnv(
            env_id, num_envs, seed, num_threads, with_rom_dir(env_id, options)
        )
        spec = self._native.spec
        self._atari = spec[0].startswith("atari/")
        self.num_envs = int(num_envs)
        self.metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}
        self.render_mode = None
        self.single_observation_space = observation_space(spec)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.single_action_space = spaces.Discrete(spec[3])
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._copy = bool(copy)
        self._episode_statistics = bool(episode_statistics)
        self._observations = self._native.observations
        self._final_observations = self._native.final_observations
        self._rewards = self._native.rewards
        self._terminations = self._native.terminations
        self._truncations = self._native.truncations
        self._seed_stream = np.random.default_rng(seed)
        self._fresh = True
        self._episode_start = np.full(self.num_envs, time.perf_counter())

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"reset takes no options, got {sorted(options)}")
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(
                f"`seed` must be one non-negative integer (copy i gets env_seed(seed, i)), "
                f"got {seed!r}"
            )
        if seed is not None:
            self._native.reset(seed)
            self._seed_stream = np.random.default_rng(seed)
        elif not self._fresh:
            self._native.reset(int(self._seed_stream.integers(2**63)))
        super().reset(seed=seed)
        self._fresh = False
        self._episode_start[:] = time.perf_counter()
        return self._out(self._observations), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions)
        if actions.dtype.kind not in "iu":
            raise ValueError(f"actions must be integers, got an array of dtype {actions.dtype}")
        if actions.dtype != np.int64 or not actions.flags.c_contiguous:
            actions = np.ascontiguousarray(actions, dtype=np.int64)
        self._fresh = False
        ended = self._native.step(actions)
        infos = {} if ended is None else self._ended_infos(ended)
        return (
            self._out(self._observations),
            self._out(self._rewards),
            self._out(self._terminations),
            self._out(self._truncations),
            infos,
        )

    def close_extras(self, **kwargs: Any) -> None:
        del self._native

    def _out(self, array: np.ndarray) -> np.ndarray:
        return array.copy() if self._copy else array

    def _ended_infos(self, ended: list[tuple[int, float, int, float | None]]) -> dict[str, Any]:
        n = self.num_envs
        dones = np.zeros(n, dtype=np.bool_)
        final_obs = np.full(n, None, dtype=object)
        for i, _, _, _ in ended:
            dones[i] = True
            final_obs[i] = self._final_observations[i].copy()
        infos: dict[str, Any] = {
            "final_obs": final_obs,
            "_final_obs": dones,
            "final_info": {},
            "_final_info": dones.copy(),
        }
        if not self._episode_statistics:
            return infos
        now = time.perf_counter()
        returns, lengths, times = np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n)
        scores, scored = np.zeros(n), np.zeros(n, dtype=np.bool_)
        for i, episodic_return, length, game_score in ended:
            returns[i], lengths[i] = episodic_return, length
            times[i] = round(now - self._episode_start[i], 6)
            self._episode_start[i] = now
            if game_score is not None:
                scores[i], scored[i] = game_score, True
        infos["episode"] = {"r": returns, "l": lengths, "t": times}
        infos["_episode"] = dones.copy()
        if self._atari and scored.any():
            infos["game_score"], infos["_game_score"] = scores, scored
        return infos
