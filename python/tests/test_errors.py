"""Bad arguments raise ValueError with a message naming the problem."""

import gymnasium as gym
import numpy as np
import pytest

import hadamard_rl


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        (("minatar/pong", 2), {}, "unknown environment id `minatar/pong`"),
        ((42, 2), {}, "`env_id` must be a string"),
        (("minatar/breakout", 2), {"frameskip": 4}, "unknown option `frameskip`; the options are: sticky_action_prob"),
        (("minatar/breakout", 2), {"sticky_action_prob": "high"}, "option `sticky_action_prob` must be a number, got 'high' (str)"),
        (("minatar/breakout", 2), {"sticky_action_prob": 1.5}, "sticky_action_prob must be in [0, 1], got 1.5"),
        (("minatar/breakout", 2), {"difficulty_ramping": 1}, "option `difficulty_ramping` must be True or False, got 1 (int)"),
        (("atari/breakout", 2), {"frame_skip": 2.5}, "option `frame_skip` must be a non-negative integer, got 2.5 (float)"),
        (("atari/breakout", 2), {"frame_skip": True}, "option `frame_skip` must be a non-negative integer, got True (bool)"),
        (("atari/breakout", 2), {"noop_max": -1}, "option `noop_max` must be a non-negative integer, got -1 (int)"),
        (("atari/breakout", 2), {"frame_skip": 0}, "frame_skip = 0 is invalid: it must be at least 1"),
        (("atari/breakout", 2), {"screen_size": 500}, "screen_size = 500 is invalid"),
        (("atari/breakout", 2), {"rom_dir": 3}, "option `rom_dir` must be a path"),
        (("atari/breakout", 2), {"difficulty_ramping": True}, "environment `atari/breakout` has no option `difficulty_ramping`"),
        (("minatar/breakout", 2), {"frame_skip": 4}, "environment `minatar/breakout` has no option `frame_skip`"),
        (("cartpole", 2), {"sticky_action_prob": 0.1}, "environment `cartpole` has no option `sticky_action_prob`"),
        (("atari/not_a_game", 2), {}, "not_a_game"),
        (("minatar/breakout", 0), {}, "num_envs must be at least 1"),
        (("minatar/breakout", -3), {}, "`num_envs` must be a non-negative integer, got -3 (int)"),
        (("minatar/breakout", 2.0), {}, "`num_envs` must be a non-negative integer, got 2.0 (float)"),
        (("minatar/breakout", 2), {"seed": -1}, "`seed` must be a non-negative integer"),
        (("minatar/breakout", 2), {"num_threads": 0}, "`num_threads` must be at least 1, got 0"),
        (("minatar/breakout", 2), {"copy": "yes"}, "`copy` must be True or False"),
    ],
)
def test_make_vec_rejects(args, kwargs, message):
    with pytest.raises(ValueError) as error:
        hadamard_rl.make_vec(*args, **kwargs)
    assert message in str(error.value)


def test_single_env_rejects_bad_options_and_seeds():
    with pytest.raises(ValueError, match="unknown option `sticky`"):
        gym.make("hadamard_rl/MinAtar-Breakout-v1", sticky=0.1)
    with pytest.raises(ValueError, match="environment `cartpole` has no option `frame_stack`"):
        hadamard_rl.HrlEnv("cartpole", frame_stack=4)
    with pytest.raises(ValueError, match="render_mode 'rgb_array' is not supported by `minatar/breakout`"):
        hadamard_rl.HrlEnv("minatar/breakout", render_mode="rgb_array")
    env = hadamard_rl.HrlEnv("minatar/breakout")
    with pytest.raises(ValueError, match=r"`seed` must be at most 4294967295, got 4294967296"):
        env.reset(seed=2**32)
    with pytest.raises(ValueError, match="reset takes no options"):
        env.reset(options={"reset_mask": [True]})


def test_step_rejects_bad_actions():
    env = hadamard_rl.HrlEnv("minatar/breakout", minimal_action_set=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 3 is out of range: this environment takes actions 0..3"):
        env.step(3)
    with pytest.raises(ValueError, match=r"`action` must be an integer, got 1.0 \(float\)"):
        env.step(1.0)
    envs = hadamard_rl.make_vec("minatar/breakout", 3)
    envs.reset()
    with pytest.raises(ValueError, match=r"action -1 is out of range"):
        envs.step([0, -1, 2])
    with pytest.raises(ValueError, match=r"1-D integer array of 3 actions, got shape \[2\]"):
        envs.step([0, 1])
    with pytest.raises(ValueError, match=r"1-D integer array of 3 actions, got shape \[1, 3\]"):
        envs.step([[0, 1, 2]])
    with pytest.raises(ValueError, match="actions must be integers, got an array of dtype float64"):
        envs.step(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="`seed` must be one non-negative integer"):
        envs.reset(seed=[1, 2, 3])


def test_only_atari_renders():
    with pytest.raises(ValueError, match="render_mode 'human' is not supported"):
        hadamard_rl.HrlEnv("atari/pong", render_mode="human")
    with pytest.raises(ValueError, match="not supported by vector environments"):
        hadamard_rl.make_vec("atari/pong", 1, render_mode="rgb_array")


def test_every_option_name_is_accepted_somewhere():
    values = {
        "sticky_action_prob": 0.0,
        "difficulty_ramping": False,
        "minimal_action_set": True,
        "noop_max": 0,
        "frame_skip": 2,
        "max_pool": False,
        "screen_size": 64,
        "frame_stack": 2,
        "episodic_life": False,
        "fire_reset": False,
        "clip_rewards": False,
        "max_episode_frames": 1000,
        "rom_dir": None,
        "max_episode_steps": 500,
    }
    assert sorted(values) == sorted(hadamard_rl.option_names())
    minatar = {
        k: values[k]
        for k in ("sticky_action_prob", "difficulty_ramping", "minimal_action_set", "max_episode_steps")
    }
    hadamard_rl.make_vec("minatar/breakout", 1, **minatar)
    atari = {k: v for k, v in values.items() if k != "difficulty_ramping"}
    envs = hadamard_rl.make_vec("atari/pong", 1, **atari)
    assert envs.single_observation_space.shape == (2, 64, 64)


def test_read_only_output_arrays_are_an_error_not_a_crash():
    envs = hadamard_rl.make_vec("minatar/breakout", 2)
    observations, _ = envs.reset()
    observations.flags.writeable = False
    with pytest.raises(ValueError, match="output arrays must stay writeable"):
        envs.step([0, 0])
    observations.flags.writeable = True
    envs.step([0, 0])
