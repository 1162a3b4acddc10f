"""Atari through hadamard_rl against ale-py 0.12.1's own emulator interface.

With sticky actions off, one frame per step and no preprocessing that acts (no no-ops, no fire
reset, no episodic life, no clipping), our environment must drive ALE exactly as
`ALEInterface` does for the same seed and actions: the raw RGB screen (`render()` against
`getScreenRGB()`), the reward, the game-over flag and the lives, frame by frame, across game
overs and resets.
"""

import ale_py
import numpy as np
import pytest
from ale_py import roms

import hadamard_rl

RAW = dict(
    frame_skip=1,
    noop_max=0,
    fire_reset=False,
    episodic_life=False,
    clip_rewards=False,
    max_pool=False,
    frame_stack=1,
    sticky_action_prob=0.0,
)


def reference(game, seed):
    ale = ale_py.ALEInterface()
    ale.setLoggerMode(ale_py.LoggerMode.Error)
    ale.setInt("random_seed", seed)
    ale.setFloat("repeat_action_probability", 0.0)
    ale.setInt("max_num_frames_per_episode", 108_000)
    ale.loadROM(roms.get_rom_path(game))
    ale.reset_game()
    return ale


@pytest.mark.parametrize("game,frames", [("breakout", 2500), ("space_invaders", 1500)])
def test_raw_frames_equal_ale_py(game, frames):
    seed = 5
    ours = hadamard_rl.HrlEnv(f"atari/{game}", render_mode="rgb_array", **RAW)
    theirs = reference(game, seed)
    minimal = theirs.getMinimalActionSet()
    assert ours.action_space.n == len(minimal)
    ours.reset(seed=seed)
    np.testing.assert_array_equal(ours.render(), theirs.getScreenRGB())
    actions = np.random.default_rng(1).integers(len(minimal), size=frames)
    games = 0
    for t, action in enumerate(actions):
        _, reward, terminated, truncated, info = ours.step(action)
        their_reward = theirs.act(minimal[action])
        assert reward == their_reward, f"frame {t}"
        assert terminated == theirs.game_over(with_truncation=False), f"frame {t}"
        assert not truncated
        assert info["lives"] == theirs.lives(), f"frame {t}"
        np.testing.assert_array_equal(ours.render(), theirs.getScreenRGB(), err_msg=f"frame {t}")
        if terminated:
            games += 1
            ours.reset()
            theirs.reset_game()
            np.testing.assert_array_equal(ours.render(), theirs.getScreenRGB())
    assert games > 0 or game != "breakout"


def test_vector_copies_equal_single_envs_with_the_default_preprocessing():
    num_envs, seed, steps = 2, 3, 300
    envs = hadamard_rl.make_vec("atari/breakout", num_envs, seed=seed, num_threads=2)
    singles = [hadamard_rl.HrlEnv("atari/breakout") for _ in range(num_envs)]
    observations, _ = envs.reset()
    for i, single in enumerate(singles):
        np.testing.assert_array_equal(
            observations[i], single.reset(seed=hadamard_rl.env_seed(seed, i))[0]
        )
    assert observations.shape == (num_envs, 4, 84, 84)
    rng = np.random.default_rng(0)
    lives_lost = 0
    for t in range(steps):
        actions = rng.integers(4, size=num_envs)
        observations, rewards, terminations, truncations, infos = envs.step(actions)
        for i, single in enumerate(singles):
            observation, reward, terminated, truncated, _ = single.step(actions[i])
            assert (rewards[i], terminations[i], truncations[i]) == (reward, terminated, truncated)
            if terminated or truncated:
                lives_lost += 1
                np.testing.assert_array_equal(infos["final_obs"][i], observation)
                observation, _ = single.reset()
            np.testing.assert_array_equal(observations[i], observation, err_msg=f"step {t}")
    assert lives_lost > 0
