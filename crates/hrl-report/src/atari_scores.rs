//! Random and human reference scores of the 57 Atari games, for human-normalised scores
//! `HNS = (score - random) / (human - random)`.
//!
//! Provenance: the `ATARI_SCORES` dict of mttga/purejaxql `purejaxql/utils/atari_wrapper.py`
//! (the HR authors' Hadamax code has the same table in `purejaxql/atari_scores.py` and logs
//! normalised returns with it), copied into the project's paper notes (section 8); the values
//! are DQN Zoo's `dqn_zoo/atari_data.py` (also in google-deepmind/deepmind-research
//! `tandem_dqn/atari_data.py`), checked equal for all 57 games. There, both agents start each
//! episode after 1 to 30 no-ops and episodes are capped at 108,000 frames (30 minutes); random
//! picks actions uniformly, human is a professional game tester. Some other tables put Video
//! Pinball's random score at 0.0; this one has 16256.9.

/// One game: its ale-py ROM name (our env id is `atari/NAME`), the name the table uses, and the
/// random and human scores (game points, unclipped, whole games).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtariReference {
    /// ale-py ROM name, e.g. `bank_heist`.
    pub game: &'static str,
    /// The table's name, e.g. `BankHeist`.
    pub title: &'static str,
    /// Mean score of the uniform random policy.
    pub random: f64,
    /// Mean score of the human tester.
    pub human: f64,
}

const fn reference(
    game: &'static str,
    title: &'static str,
    random: f64,
    human: f64,
) -> AtariReference {
    AtariReference {
        game,
        title,
        random,
        human,
    }
}

/// The 57 games, in the table's order.
pub const ATARI_57: [AtariReference; 57] = [
    reference("alien", "Alien", 227.8, 7127.7),
    reference("amidar", "Amidar", 5.8, 1719.5),
    reference("assault", "Assault", 222.4, 742.0),
    reference("asterix", "Asterix", 210.0, 8503.3),
    reference("asteroids", "Asteroids", 719.1, 47388.7),
    reference("atlantis", "Atlantis", 12850.0, 29028.1),
    reference("bank_heist", "BankHeist", 14.2, 753.1),
    reference("battle_zone", "BattleZone", 2360.0, 37187.5),
    reference("beam_rider", "BeamRider", 363.9, 16926.5),
    reference("berzerk", "Berzerk", 123.7, 2630.4),
    reference("bowling", "Bowling", 23.1, 160.7),
    reference("boxing", "Boxing", 0.1, 12.1),
    reference("breakout", "Breakout", 1.7, 30.5),
    reference("centipede", "Centipede", 2090.9, 12017.0),
    reference("chopper_command", "ChopperCommand", 811.0, 7387.8),
    reference("crazy_climber", "CrazyClimber", 10780.5, 35829.4),
    reference("defender", "Defender", 2874.5, 18688.9),
    reference("demon_attack", "DemonAttack", 152.1, 1971.0),
    reference("double_dunk", "DoubleDunk", -18.6, -16.4),
    reference("enduro", "Enduro", 0.0, 860.5),
    reference("fishing_derby", "FishingDerby", -91.7, -38.7),
    reference("freeway", "Freeway", 0.0, 29.6),
    reference("frostbite", "Frostbite", 65.2, 4334.7),
    reference("gopher", "Gopher", 257.6, 2412.5),
    reference("gravitar", "Gravitar", 173.0, 3351.4),
    reference("hero", "Hero", 1027.0, 30826.4),
    reference("ice_hockey", "IceHockey", -11.2, 0.9),
    reference("jamesbond", "Jamesbond", 29.0, 302.8),
    reference("kangaroo", "Kangaroo", 52.0, 3035.0),
    reference("krull", "Krull", 1598.0, 2665.5),
    reference("kung_fu_master", "KungFuMaster", 258.5, 22736.3),
    reference("montezuma_revenge", "MontezumaRevenge", 0.0, 4753.3),
    reference("ms_pacman", "MsPacman", 307.3, 6951.6),
    reference("name_this_game", "NameThisGame", 2292.3, 8049.0),
    reference("phoenix", "Phoenix", 761.4, 7242.6),
    reference("pitfall", "Pitfall", -229.4, 6463.7),
    reference("pong", "Pong", -20.7, 14.6),
    reference("private_eye", "PrivateEye", 24.9, 69571.3),
    reference("qbert", "Qbert", 163.9, 13455.0),
    reference("riverraid", "Riverraid", 1338.5, 17118.0),
    reference("road_runner", "RoadRunner", 11.5, 7845.0),
    reference("robotank", "Robotank", 2.2, 11.9),
    reference("seaquest", "Seaquest", 68.4, 42054.7),
    reference("skiing", "Skiing", -17098.1, -4336.9),
    reference("solaris", "Solaris", 1236.3, 12326.7),
    reference("space_invaders", "SpaceInvaders", 148.0, 1668.7),
    reference("star_gunner", "StarGunner", 664.0, 10250.0),
    reference("surround", "Surround", -10.0, 6.5),
    reference("tennis", "Tennis", -23.8, -8.3),
    reference("time_pilot", "TimePilot", 3568.0, 5229.2),
    reference("tutankham", "Tutankham", 11.4, 167.6),
    reference("up_n_down", "UpNDown", 533.4, 11693.2),
    reference("venture", "Venture", 0.0, 1187.5),
    reference("video_pinball", "VideoPinball", 16256.9, 17667.9),
    reference("wizard_of_wor", "WizardOfWor", 563.5, 4756.5),
    reference("yars_revenge", "YarsRevenge", 3092.9, 54576.9),
    reference("zaxxon", "Zaxxon", 32.5, 9173.3),
];

/// The reference scores of env id `atari/GAME`, if the game is one of the 57.
pub fn atari_reference(env_id: &str) -> Option<&'static AtariReference> {
    let game = hrl_env::atari_game(env_id)?;
    ATARI_57.iter().find(|r| r.game == game)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_game_is_an_env_id() {
        let ids = hrl_env::env_ids();
        for r in &ATARI_57 {
            let id = format!("atari/{}", r.game);
            assert!(ids.contains(&id), "{id} ({}) is not an env id", r.title);
            assert!(r.human > r.random, "{}", r.title);
        }
        let mut games: Vec<&str> = ATARI_57.iter().map(|r| r.game).collect();
        games.sort();
        games.dedup();
        assert_eq!(games.len(), 57);
    }

    #[test]
    fn looks_up_env_ids() {
        let breakout = atari_reference("atari/breakout").unwrap();
        assert_eq!(
            (breakout.title, breakout.random, breakout.human),
            ("Breakout", 1.7, 30.5)
        );
        assert_eq!(atari_reference("atari/up_n_down").unwrap().title, "UpNDown");
        assert!(atari_reference("atari/tetris").is_none());
        assert!(atari_reference("minatar/breakout").is_none());
    }
}
