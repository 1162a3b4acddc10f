"""One native environment as a ``gymnasium.Env``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import _native
from ._common import observation_space, with_rom_dir


class HrlEnv(gym.Env):
    """A native environment (``minatar/GAME``, ``cartpole`` or ``atari/GAME``), one episode at a
    time, registered with gymnasium as ``hadamard_rl/MinAtar-Breakout-v1`` and so on.

    Options are the keyword arguments ``hadamard_rl.option_names()`` lists; an option the
    environment lacks, an unknown one or a bad value is a ``ValueError``.

    Seeding: ``reset(seed=s)`` (``0 <= s < 2**32``) makes the environment behave like a fresh
    one seeded with ``s``, which for MinAtar is the ``minatar`` package's ``Environment`` after
    ``seed(s)``; ``reset()`` continues the random stream. The first ``reset()`` without a seed
    draws one from ``self.np_random``.

    Atari: ``render_mode="rgb_array"`` makes ``render()`` return the raw emulator screen,
    uint8 ``[210, 160, 3]``; ``info["lives"]`` holds the lives left.
    """

    # What gymnasium.make reads before making one; each instance narrows it to its own.
    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(self, env_id: str, render_mode: str | None = None, **options: Any) -> None:
        self._native = _native.Env(env_id, with_rom_dir(env_id, options))
        spec = self._native.spec
        self._atari = spec[0].startswith("atari/")
        # One rendered frame per agent step of `frame_skip` frames of the 60 Hz console.
        frame_skip = options.get("frame_skip") or 4
        self.metadata = {
            "render_modes": ["rgb_array"] if self._atari else [],
            "render_fps": max(1, round(60 / frame_skip)),
        }
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not supported by `{spec[0]}`; "
                f"it supports {self.metadata['render_modes'] or 'no render mode'}"
            )
        self.render_mode = render_mode
        self.observation_space = observation_space(spec)
        self.action_space = spaces.Discrete(spec[3])
        self._seeded = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"reset takes no options, got {sorted(options)}")
        super().reset(seed=seed)
        if seed is None and not self._seeded:
            seed = int(self.np_random.integers(2**32))
        self._seeded = True
        return self._native.reset(seed), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated = self._native.step(action)
        return observation, reward, terminated, truncated, self._info()

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._native.screen_rgb()
        return None

    def _info(self) -> dict[str, Any]:
        return {"lives": self._native.lives()} if self._atari else {}
