//! MinAtar Space Invaders: a cannon shoots at a marching block of aliens that shoots back.
//!
//! Channels: 0 cannon, 1 alien, 2 alien moving left, 3 alien moving right, 4 friendly bullet,
//! 5 enemy bullet. Reward +1 per alien shot; an alien or enemy bullet reaching the cannon ends
//! the episode. Difficulty ramp: each cleared wave lowers the alien move interval by one,
//! from 12 down to 6.

use super::{Action, Canvas, Cell, Outcome};
use crate::EnvError;
use crate::state::{Put, Take, corrupt};

const CANNON: usize = 0;
const ALIEN: usize = 1;
const ALIEN_LEFT: usize = 2;
const ALIEN_RIGHT: usize = 3;
const FRIENDLY_BULLET: usize = 4;
const ENEMY_BULLET: usize = 5;

/// Number of observation channels.
pub const NUM_CHANNELS: usize = 6;

const SHOT_COOL_DOWN: i32 = 5;
const ENEMY_MOVE_INTERVAL: i32 = 12;
const ENEMY_SHOT_INTERVAL: i32 = 10;
const MIN_ENEMY_MOVE_INTERVAL: i32 = 6;

/// A 10x10 boolean map, `[y][x]`.
type Map = [[bool; 10]; 10];

#[derive(Clone)]
pub(crate) struct SpaceInvaders {
    cannon_x: usize,
    friendly_bullets: Map,
    enemy_bullets: Map,
    aliens: Map,
    /// -1 left, +1 right.
    alien_dir: i32,
    enemy_move_interval: i32,
    alien_move_timer: i32,
    alien_shot_timer: i32,
    shot_timer: i32,
    ramp_index: u32,
    ramping: bool,
}

/// The starting block of aliens: rows 0..4, columns 2..8.
fn alien_wave() -> Map {
    let mut map = [[false; 10]; 10];
    for row in &mut map[0..4] {
        row[2..8].fill(true);
    }
    map
}

/// `np.roll(map, shift, axis=0)` for a shift of one row: +1 moves rows down, -1 up, wrapping.
fn roll_rows(map: &mut Map, shift: i32) {
    if shift > 0 {
        map.rotate_right(1);
    } else {
        map.rotate_left(1);
    }
}

/// `np.roll(map, shift, axis=1)` for a shift of one column, wrapping.
fn roll_columns(map: &mut Map, shift: i32) {
    for row in map.iter_mut() {
        if shift > 0 {
            row.rotate_right(1);
        } else {
            row.rotate_left(1);
        }
    }
}

fn put_map(out: &mut Vec<u8>, map: &Map) {
    for &cell in map.iter().flatten() {
        out.put_bool(cell);
    }
}

fn take_map(input: &mut &[u8], what: &'static str) -> Result<Map, EnvError> {
    let mut map = [[false; 10]; 10];
    for cell in map.iter_mut().flatten() {
        *cell = input.take_bool(what)?;
    }
    Ok(map)
}

fn count(map: &Map) -> i32 {
    map.iter().flatten().filter(|&&cell| cell).count() as i32
}

impl SpaceInvaders {
    pub(crate) fn new(ramping: bool) -> Self {
        Self {
            cannon_x: 5,
            friendly_bullets: [[false; 10]; 10],
            enemy_bullets: [[false; 10]; 10],
            aliens: alien_wave(),
            alien_dir: -1,
            enemy_move_interval: ENEMY_MOVE_INTERVAL,
            alien_move_timer: ENEMY_MOVE_INTERVAL,
            alien_shot_timer: ENEMY_SHOT_INTERVAL,
            shot_timer: 0,
            ramp_index: 0,
            ramping,
        }
    }

    pub(crate) fn difficulty_ramp(&self) -> u32 {
        self.ramp_index
    }

    pub(crate) fn act(&mut self, action: Action) -> Outcome {
        let mut outcome = Outcome::default();
        match action {
            Action::Fire if self.shot_timer == 0 => {
                self.friendly_bullets[9][self.cannon_x] = true;
                self.shot_timer = SHOT_COOL_DOWN;
            }
            Action::Left => self.cannon_x = self.cannon_x.saturating_sub(1),
            Action::Right => self.cannon_x = (self.cannon_x + 1).min(9),
            _ => {}
        }

        roll_rows(&mut self.friendly_bullets, -1);
        self.friendly_bullets[9] = [false; 10];

        roll_rows(&mut self.enemy_bullets, 1);
        self.enemy_bullets[0] = [false; 10];
        if self.enemy_bullets[9][self.cannon_x] {
            outcome.terminal = true;
        }

        if self.aliens[9][self.cannon_x] {
            outcome.terminal = true;
        }
        if self.alien_move_timer == 0 {
            self.alien_move_timer = count(&self.aliens).min(self.enemy_move_interval);
            let at_left = self.aliens.iter().any(|row| row[0]);
            let at_right = self.aliens.iter().any(|row| row[9]);
            if (at_left && self.alien_dir < 0) || (at_right && self.alien_dir > 0) {
                self.alien_dir = -self.alien_dir;
                if self.aliens[9].iter().any(|&a| a) {
                    outcome.terminal = true;
                }
                roll_rows(&mut self.aliens, 1);
            } else {
                roll_columns(&mut self.aliens, self.alien_dir);
            }
            if self.aliens[9][self.cannon_x] {
                outcome.terminal = true;
            }
        }
        if self.alien_shot_timer == 0 {
            self.alien_shot_timer = ENEMY_SHOT_INTERVAL;
            if let Some((y, x)) = self.nearest_alien() {
                self.enemy_bullets[y][x] = true;
            }
        }

        for y in 0..10 {
            for x in 0..10 {
                if self.aliens[y][x] && self.friendly_bullets[y][x] {
                    outcome.reward += 1;
                    self.aliens[y][x] = false;
                    self.friendly_bullets[y][x] = false;
                }
            }
        }

        if self.shot_timer > 0 {
            self.shot_timer -= 1;
        }
        self.alien_move_timer -= 1;
        self.alien_shot_timer -= 1;
        if count(&self.aliens) == 0 {
            if self.enemy_move_interval > MIN_ENEMY_MOVE_INTERVAL && self.ramping {
                self.enemy_move_interval -= 1;
                self.ramp_index += 1;
            }
            self.aliens = alien_wave();
        }
        outcome
    }

    /// The alien that shoots: in the occupied column nearest the cannon (ties to the left, as a
    /// stable sort of 0..10 by distance gives), the lowest one. `None` when no alien is left.
    fn nearest_alien(&self) -> Option<(usize, usize)> {
        let pos = self.cannon_x as i32;
        (0..=9)
            .flat_map(|d: i32| {
                if d == 0 {
                    [pos, -1]
                } else {
                    [pos - d, pos + d]
                }
            })
            .filter(|x| (0..=9).contains(x))
            .map(|x| x as usize)
            .find_map(|x| (0..10).rev().find(|&y| self.aliens[y][x]).map(|y| (y, x)))
    }

    /// Saves everything but `ramping`, which is an option.
    pub(crate) fn save(&self, out: &mut Vec<u8>) {
        out.put_usize(self.cannon_x);
        put_map(out, &self.friendly_bullets);
        put_map(out, &self.enemy_bullets);
        put_map(out, &self.aliens);
        for v in [
            self.alien_dir,
            self.enemy_move_interval,
            self.alien_move_timer,
            self.alien_shot_timer,
            self.shot_timer,
        ] {
            out.put_i32(v);
        }
        out.put_u32(self.ramp_index);
    }

    pub(crate) fn restore(input: &mut &[u8], ramping: bool) -> Result<Self, EnvError> {
        let cannon_x = input.take_index(10, "Space Invaders cannon x")?;
        let friendly_bullets = take_map(input, "Space Invaders friendly bullet")?;
        let enemy_bullets = take_map(input, "Space Invaders enemy bullet")?;
        let aliens = take_map(input, "Space Invaders alien")?;
        let alien_dir = input.take_i32("Space Invaders alien direction")?;
        if alien_dir != -1 && alien_dir != 1 {
            return Err(corrupt(
                "Space Invaders alien direction",
                alien_dir,
                "-1 or 1",
            ));
        }
        Ok(Self {
            cannon_x,
            friendly_bullets,
            enemy_bullets,
            aliens,
            alien_dir,
            enemy_move_interval: input.take_i32("Space Invaders alien move interval")?,
            alien_move_timer: input.take_i32("Space Invaders alien move timer")?,
            alien_shot_timer: input.take_i32("Space Invaders alien shot timer")?,
            shot_timer: input.take_i32("Space Invaders shot timer")?,
            ramp_index: input.take_u32("Space Invaders ramp index")?,
            ramping,
        })
    }

    pub(crate) fn render<T: Cell>(&self, canvas: &mut Canvas<'_, T>) {
        canvas.set(CANNON, 9, self.cannon_x as i32);
        let direction = if self.alien_dir < 0 {
            ALIEN_LEFT
        } else {
            ALIEN_RIGHT
        };
        for y in 0..10 {
            for x in 0..10 {
                let (yi, xi) = (y as i32, x as i32);
                if self.aliens[y][x] {
                    canvas.set(ALIEN, yi, xi);
                    canvas.set(direction, yi, xi);
                }
                if self.friendly_bullets[y][x] {
                    canvas.set(FRIENDLY_BULLET, yi, xi);
                }
                if self.enemy_bullets[y][x] {
                    canvas.set(ENEMY_BULLET, yi, xi);
                }
            }
        }
    }
}
