"""MinAtar through hadamard_rl against the `minatar` package (1.0.15), step by step.

The reference is `Environment(game, sticky_action_prob=0.1, difficulty_ramping=True)` after
`seed(s)` and `reset()`, reset again after each terminal, as in crates/hrl-env's fixtures. Its
`state()` is `[10, 10, C]` bool; ours is `[C, 10, 10]` uint8, compared after a transpose. The
reference's one terminal flag is our `terminated or truncated` (Freeway's time limit is a
truncation here).
"""

import numpy as np
import pytest
from minatar import Environment

import hadamard_rl

GAMES = ["breakout", "asterix", "freeway", "seaquest", "space_invaders"]


def reference(game, seed):
    env = Environment(game, sticky_action_prob=0.1, difficulty_ramping=True)
    env.seed(seed)
    env.reset()
    return env


def state(env):
    return env.state().transpose(2, 0, 1).astype(np.uint8)


@pytest.mark.parametrize("game", GAMES)
def test_single_env_equals_minatar_step_by_step(game):
    seed, steps = 3, 3000
    ours = hadamard_rl.HrlEnv(f"minatar/{game}")
    theirs = reference(game, seed)
    observation, _ = ours.reset(seed=seed)
    np.testing.assert_array_equal(observation, state(theirs))
    actions = np.random.default_rng(100 + GAMES.index(game)).integers(6, size=steps)
    episodes = 0
    for t, action in enumerate(actions):
        observation, reward, terminated, truncated, _ = ours.step(action)
        their_reward, their_terminal = theirs.act(int(action))
        assert (reward, terminated or truncated) == (their_reward, their_terminal), f"step {t}"
        np.testing.assert_array_equal(observation, state(theirs), err_msg=f"step {t}")
        if their_terminal:
            episodes += 1
            theirs.reset()
            np.testing.assert_array_equal(ours.reset()[0], state(theirs), err_msg=f"reset {t}")
    assert episodes > 0 or game == "freeway"


@pytest.mark.parametrize("game", GAMES)
def test_vector_env_copies_equal_minatar_seeded_with_env_seed(game):
    num_envs, seed, steps = 3, 11, 1000
    envs = hadamard_rl.make_vec(f"minatar/{game}", num_envs, seed=seed)
    refs = [reference(game, hadamard_rl.env_seed(seed, i)) for i in range(num_envs)]
    observations, _ = envs.reset()
    for i, ref in enumerate(refs):
        np.testing.assert_array_equal(observations[i], state(ref))
    returns, lengths = np.zeros(num_envs), np.zeros(num_envs, dtype=np.int64)
    rng = np.random.default_rng(7)
    ended = 0
    for t in range(steps):
        actions = rng.integers(6, size=num_envs)
        observations, rewards, terminations, truncations, infos = envs.step(actions)
        for i, ref in enumerate(refs):
            reward, terminal = ref.act(int(actions[i]))
            returns[i] += reward
            lengths[i] += 1
            assert rewards[i] == reward, f"step {t} copy {i}"
            assert bool(terminations[i] or truncations[i]) == terminal, f"step {t} copy {i}"
            if terminal:
                ended += 1
                assert infos["_final_obs"][i] and infos["_episode"][i]
                np.testing.assert_array_equal(infos["final_obs"][i], state(ref))
                assert infos["episode"]["r"][i] == returns[i]
                assert infos["episode"]["l"][i] == lengths[i]
                returns[i], lengths[i] = 0, 0
                ref.reset()
            else:
                assert not infos or not infos["_episode"][i]
            np.testing.assert_array_equal(observations[i], state(ref), err_msg=f"step {t}")
    assert ended > 0 or game == "freeway"
