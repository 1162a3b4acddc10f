"""The gymnasium surface: registered ids, spaces, gymnasium's env checker, the vector API's
same-step autoreset, episode statistics, buffers, seeding and threads."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import hadamard_rl

SINGLE_IDS = [
    "hadamard_rl/MinAtar-Breakout-v1",
    "hadamard_rl/MinAtar-Asterix-v1",
    "hadamard_rl/MinAtar-Freeway-v1",
    "hadamard_rl/MinAtar-Seaquest-v1",
    "hadamard_rl/MinAtar-SpaceInvaders-v1",
    "hadamard_rl/CartPole-v1",
    "hadamard_rl/Atari-Breakout-v0",
    "hadamard_rl/Atari-SpaceInvaders-v0",
]


def test_env_ids_and_registered_ids():
    ids = hadamard_rl.env_ids()
    assert ids[:6] == [
        "minatar/breakout",
        "minatar/asterix",
        "minatar/freeway",
        "minatar/seaquest",
        "minatar/space_invaders",
        "cartpole",
    ]
    assert sum(i.startswith("atari/") for i in ids) == 104
    registered = hadamard_rl.registered_ids()
    assert len(registered) == len(ids)
    assert registered["hadamard_rl/Atari-MsPacman-v0"] == "atari/ms_pacman"
    for gym_id in SINGLE_IDS:
        assert gym_id in gym.registry


@pytest.mark.parametrize("gym_id", SINGLE_IDS)
def test_gymnasium_env_checker_passes(gym_id):
    env = gym.make(gym_id).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)


def test_atari_env_checker_passes_with_rendering():
    env = gym.make("hadamard_rl/Atari-Pong-v0", render_mode="rgb_array").unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)
    assert env.render().shape == (210, 160, 3)


@pytest.mark.parametrize(
    "env_id,shape,dtype,high,actions",
    [
        ("minatar/breakout", (4, 10, 10), np.uint8, 1, 6),
        ("minatar/seaquest", (10, 10, 10), np.uint8, 1, 6),
        ("cartpole", (4,), np.float32, None, 2),
        ("atari/breakout", (4, 84, 84), np.uint8, 255, 4),
    ],
)
def test_spaces_and_dtypes(env_id, shape, dtype, high, actions):
    envs = hadamard_rl.make_vec(env_id, 3)
    assert envs.single_observation_space.shape == shape
    assert envs.single_observation_space.dtype == dtype
    assert envs.observation_space.shape == (3, *shape)
    assert envs.single_action_space == gym.spaces.Discrete(actions)
    assert envs.action_space == gym.spaces.MultiDiscrete([actions] * 3)
    if high is not None:
        assert envs.single_observation_space.high.max() == high
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    observations, infos = envs.reset()
    assert observations.dtype == dtype and observations in envs.observation_space
    assert infos == {}


def test_atari_options_shape_the_observation():
    envs = hadamard_rl.make_vec("atari/pong", 2, frame_stack=2, screen_size=42, minimal_action_set=False)
    assert envs.single_observation_space.shape == (2, 42, 42)
    assert envs.single_action_space.n == 18


def test_same_step_autoreset_final_obs_and_episode_statistics():
    envs = hadamard_rl.make_vec("cartpole", 4, seed=2)
    observations, _ = envs.reset()
    returns, lengths = np.zeros(4), np.zeros(4, dtype=np.int64)
    previous = observations.copy()
    ended = 0
    for _ in range(300):
        observations, rewards, terminations, truncations, infos = envs.step(np.zeros(4, dtype=np.int64))
        returns += rewards
        lengths += 1
        dones = terminations | truncations
        if not dones.any():
            assert infos == {}
            previous = observations.copy()
            continue
        ended += dones.sum()
        np.testing.assert_array_equal(infos["_final_obs"], dones)
        np.testing.assert_array_equal(infos["_episode"], dones)
        assert infos["final_info"] == {}
        for i in range(4):
            if dones[i]:
                # The final observation is the terminal state; the returned one a fresh start.
                assert abs(infos["final_obs"][i][2]) > 0.2
                assert np.all(np.abs(observations[i]) <= 0.05)
                assert infos["episode"]["r"][i] == returns[i] and infos["episode"]["l"][i] == lengths[i]
                assert infos["episode"]["t"][i] >= 0
                returns[i], lengths[i] = 0, 0
            else:
                assert infos["final_obs"][i] is None
                assert infos["episode"]["r"][i] == 0 and infos["episode"]["l"][i] == 0
        previous = observations.copy()
    assert ended >= 4 and previous.shape == (4, 4)


def test_gymnasium_record_episode_statistics_agrees_when_ours_are_off():
    ours = hadamard_rl.make_vec("minatar/breakout", 4, seed=5)
    theirs = gym.wrappers.vector.RecordEpisodeStatistics(
        hadamard_rl.make_vec("minatar/breakout", 4, seed=5, episode_statistics=False)
    )
    ours.reset()
    theirs.reset()
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(500):
        actions = rng.integers(6, size=4)
        *_, our_infos = ours.step(actions)
        *_, their_infos = theirs.step(actions)
        assert ("episode" in our_infos) == ("episode" in their_infos)
        if "episode" in our_infos:
            seen += 1
            for key in ("r", "l"):
                np.testing.assert_array_equal(our_infos["episode"][key], their_infos["episode"][key])
            np.testing.assert_array_equal(our_infos["_episode"], their_infos["_episode"])
    assert seen > 0


def test_atari_reports_whole_game_scores():
    envs = hadamard_rl.make_vec("atari/breakout", 1, seed=0, max_episode_frames=4000)
    envs.reset()
    rng = np.random.default_rng(0)
    lives_episodes, games = 0, 0
    for _ in range(1500):
        *_, infos = envs.step(rng.integers(4, size=1))
        if "episode" in infos:
            lives_episodes += 1
            if "game_score" in infos:
                games += 1
                assert infos["_game_score"][0] and infos["game_score"][0] >= 0
    assert lives_episodes > games >= 1


def test_buffers_are_reused_unless_copy_is_asked():
    envs = hadamard_rl.make_vec("minatar/breakout", 2)
    first, _ = envs.reset()
    second, rewards, *_ = envs.step([0, 1])
    assert second is first
    assert envs.step([0, 1])[1] is rewards
    copying = hadamard_rl.make_vec("minatar/breakout", 2, copy=True)
    first, _ = copying.reset()
    second, *_ = copying.step([0, 1])
    assert second is not first


def test_seeding_repeats_and_later_resets_reseed_deterministically():
    def run(envs, seed=None):
        observations = [envs.reset(seed=seed)[0].copy()]
        rng = np.random.default_rng(0)
        for _ in range(50):
            observations.append(envs.step(rng.integers(6, size=3))[0].copy())
        return np.stack(observations)

    a = hadamard_rl.make_vec("minatar/asterix", 3, seed=9)
    b = hadamard_rl.make_vec("minatar/asterix", 3, seed=0)
    np.testing.assert_array_equal(run(a), run(b, seed=9))
    # reset() without a seed after stepping: new episodes, the same in both.
    later_a, later_b = run(a), run(b)
    np.testing.assert_array_equal(later_a, later_b)
    assert not np.array_equal(later_a, run(a, seed=9))
    np.testing.assert_array_equal(run(a, seed=9), run(b, seed=9))


def test_threads_do_not_change_results():
    def run(num_threads):
        envs = hadamard_rl.make_vec("minatar/seaquest", 8, seed=4, num_threads=num_threads)
        envs.reset()
        rng = np.random.default_rng(1)
        out = []
        for _ in range(200):
            observations, rewards, terminations, *_ = envs.step(rng.integers(6, size=8))
            out.append((observations.copy(), rewards.copy(), terminations.copy()))
        return out

    for (o1, r1, t1), (o2, r2, t2) in zip(run(1), run(3)):
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(t1, t2)


def test_gymnasium_make_vec_uses_the_native_vector_env():
    envs = gym.make_vec("hadamard_rl/MinAtar-Freeway-v1", num_envs=5, sticky_action_prob=0.0)
    assert isinstance(envs.unwrapped, hadamard_rl.HrlVectorEnv)
    assert envs.num_envs == 5
    observations, _ = envs.reset(seed=1)
    assert observations.shape == (5, 7, 10, 10)
    envs.step(envs.action_space.sample())
    envs.close()
