//! From learning episodes to games: on Atari with episodic life an episode is one life, and
//! papers report whole games, so the lives of a game are summed until it is over.

use hrl_env::FinishedEpisode;

/// A finished game.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Game {
    /// The score papers report: Atari's unclipped game score, elsewhere the return.
    pub score: f64,
    /// Sum of the rewards the agent learned from (clipped on Atari), over the whole game.
    pub episodic_return: f64,
    /// Agent steps of the whole game.
    pub episodic_length: u64,
    /// Atari's unclipped game score; `None` where it equals the return.
    pub game_score: Option<f64>,
}

/// Per environment, what the lives of its running game have gathered so far.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GameTally {
    running: Vec<(f64, u64)>,
}

impl GameTally {
    /// Adds finished learning episodes and returns the games they end, in order.
    pub fn add(&mut self, episodes: &[FinishedEpisode]) -> Vec<Game> {
        let mut games = Vec::new();
        for episode in episodes {
            if self.running.len() <= episode.env_index {
                self.running.resize(episode.env_index + 1, (0.0, 0));
            }
            let (ret, length) = &mut self.running[episode.env_index];
            *ret += episode.stats.episodic_return;
            *length += episode.stats.episodic_length;
            if let Some(score) = episode.stats.full_game_score() {
                games.push(Game {
                    score,
                    episodic_return: *ret,
                    episodic_length: *length,
                    game_score: episode.stats.game_score,
                });
                *ret = 0.0;
                *length = 0;
            }
        }
        games
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hrl_env::EpisodeStats;

    fn life(env_index: usize, ret: f64, length: u64, game: f64, over: bool) -> FinishedEpisode {
        FinishedEpisode {
            env_index,
            stats: EpisodeStats {
                episodic_return: ret,
                episodic_length: length,
                game_score: Some(game),
                continues_game: !over,
            },
        }
    }

    #[test]
    fn lives_are_summed_per_environment_until_the_game_is_over() {
        let mut tally = GameTally::default();
        assert!(tally.add(&[life(1, 2.0, 10, 20.0, false)]).is_empty());
        let games = tally.add(&[life(0, 1.0, 5, 7.0, true), life(1, 3.0, 4, 45.0, true)]);
        assert_eq!(
            games,
            vec![
                Game {
                    score: 7.0,
                    episodic_return: 1.0,
                    episodic_length: 5,
                    game_score: Some(7.0)
                },
                Game {
                    score: 45.0,
                    episodic_return: 5.0,
                    episodic_length: 14,
                    game_score: Some(45.0)
                },
            ]
        );
        // A MinAtar episode is a game.
        let minatar = FinishedEpisode {
            env_index: 1,
            stats: EpisodeStats {
                episodic_return: 3.0,
                episodic_length: 9,
                game_score: None,
                continues_game: false,
            },
        };
        assert_eq!(
            tally.add(&[minatar]),
            vec![Game {
                score: 3.0,
                episodic_return: 3.0,
                episodic_length: 9,
                game_score: None
            }]
        );
    }
}
