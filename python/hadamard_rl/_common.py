"""What the single and the vector environments share: spaces and the Atari ROM folder."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

# gymnasium's CartPole-v1 bounds: twice the termination thresholds, float32's max elsewhere.
_CARTPOLE_HIGH = np.array(
    [4.8, np.finfo(np.float32).max, 2 * 12 * 2 * np.pi / 360, np.finfo(np.float32).max],
    dtype=np.float32,
)


def observation_space(spec: tuple[str, list[int], str, int]) -> spaces.Box:
    """The observation space of one environment from the native spec."""
    env_id, shape, dtype, _ = spec
    if dtype == "float32":
        return spaces.Box(-_CARTPOLE_HIGH, _CARTPOLE_HIGH, dtype=np.float32)
    high = 1 if env_id.startswith("minatar/") else 255
    return spaces.Box(0, high, shape=tuple(shape), dtype=np.uint8)


def with_rom_dir(env_id: Any, options: dict[str, Any]) -> dict[str, Any]:
    """For Atari, adds the ROM folder of an installed ale-py when nothing else names one.

    The native search (``rom_dir``, ``$HRL_ROM_DIR``, ``$ALE_ROMS_DIR``, the ale-py sources
    the build used, an ale-py in an *activated* virtual environment) is kept as it is when
    any of the first three is set.
    """
    if not (isinstance(env_id, str) and env_id.startswith("atari/")):
        return options
    if options.get("rom_dir") is not None or os.environ.get("HRL_ROM_DIR") or os.environ.get(
        "ALE_ROMS_DIR"
    ):
        return options
    spec = importlib.util.find_spec("ale_py")
    for location in (spec.submodule_search_locations or []) if spec else []:
        roms = Path(location) / "roms"
        if roms.is_dir():
            return {**options, "rom_dir": str(roms)}
    return options
