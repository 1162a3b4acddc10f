//! The 18 joystick actions of player A, numbered as ALE and ale-py's
//! `Action` enum number them.

use std::fmt;

/// One joystick input held for one emulator frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum Action {
    Noop = 0,
    Fire = 1,
    Up = 2,
    Right = 3,
    Left = 4,
    Down = 5,
    UpRight = 6,
    UpLeft = 7,
    DownRight = 8,
    DownLeft = 9,
    UpFire = 10,
    RightFire = 11,
    LeftFire = 12,
    DownFire = 13,
    UpRightFire = 14,
    UpLeftFire = 15,
    DownRightFire = 16,
    DownLeftFire = 17,
}

impl Action {
    /// All 18 actions in ALE's order (the full, "legal" action set).
    pub const ALL: [Action; 18] = [
        Action::Noop,
        Action::Fire,
        Action::Up,
        Action::Right,
        Action::Left,
        Action::Down,
        Action::UpRight,
        Action::UpLeft,
        Action::DownRight,
        Action::DownLeft,
        Action::UpFire,
        Action::RightFire,
        Action::LeftFire,
        Action::DownFire,
        Action::UpRightFire,
        Action::UpLeftFire,
        Action::DownRightFire,
        Action::DownLeftFire,
    ];

    /// ALE's number of this action (0..=17).
    pub fn id(self) -> i32 {
        self as i32
    }

    /// The action ALE numbers `id`, if `id` is in 0..=17.
    pub fn from_id(id: i32) -> Option<Action> {
        usize::try_from(id)
            .ok()
            .and_then(|i| Action::ALL.get(i).copied())
    }

    /// ale-py's name of the action (`NOOP`, `UPRIGHTFIRE`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Action::Noop => "NOOP",
            Action::Fire => "FIRE",
            Action::Up => "UP",
            Action::Right => "RIGHT",
            Action::Left => "LEFT",
            Action::Down => "DOWN",
            Action::UpRight => "UPRIGHT",
            Action::UpLeft => "UPLEFT",
            Action::DownRight => "DOWNRIGHT",
            Action::DownLeft => "DOWNLEFT",
            Action::UpFire => "UPFIRE",
            Action::RightFire => "RIGHTFIRE",
            Action::LeftFire => "LEFTFIRE",
            Action::DownFire => "DOWNFIRE",
            Action::UpRightFire => "UPRIGHTFIRE",
            Action::UpLeftFire => "UPLEFTFIRE",
            Action::DownRightFire => "DOWNRIGHTFIRE",
            Action::DownLeftFire => "DOWNLEFTFIRE",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn ids_round_trip_and_out_of_range_is_none() {
        for (i, action) in Action::ALL.iter().enumerate() {
            assert_eq!(action.id(), i as i32);
            assert_eq!(Action::from_id(i as i32), Some(*action));
        }
        assert_eq!(Action::from_id(18), None);
        assert_eq!(Action::from_id(-1), None);
    }
}
