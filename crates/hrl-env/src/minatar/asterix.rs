//! MinAtar Asterix: the player moves in four directions; enemies and gold cross the rows.
//!
//! Channels: 0 player, 1 enemy, 2 trail, 3 gold. Reward +1 per gold; touching an enemy ends
//! the episode. Difficulty ramp: every 100 steps the spawn interval shrinks by one and, on odd
//! ramp indices, so does the move interval, both down to 1.

use super::{Action, Canvas, Cell, Outcome};
use crate::state::{Put, Take};
use crate::{EnvError, RandomState};

const PLAYER: usize = 0;
const ENEMY: usize = 1;
const TRAIL: usize = 2;
const GOLD: usize = 3;

/// Number of observation channels.
pub const NUM_CHANNELS: usize = 4;

const RAMP_INTERVAL: i32 = 100;
const INIT_SPAWN_SPEED: i32 = 10;
const INIT_MOVE_INTERVAL: i32 = 5;
/// One entity slot per row 1..=8.
const NUM_SLOTS: usize = 8;

/// An enemy or a piece of gold crossing row `slot + 1`.
#[derive(Clone, Copy)]
struct Entity {
    x: i32,
    y: i32,
    moving_right: bool,
    gold: bool,
}

#[derive(Clone)]
pub(crate) struct Asterix {
    player_x: i32,
    player_y: i32,
    entities: [Option<Entity>; NUM_SLOTS],
    spawn_speed: i32,
    spawn_timer: i32,
    move_speed: i32,
    move_timer: i32,
    ramp_timer: i32,
    ramp_index: u32,
    ramping: bool,
}

impl Asterix {
    pub(crate) fn new(ramping: bool) -> Self {
        Self {
            player_x: 5,
            player_y: 5,
            entities: [None; NUM_SLOTS],
            spawn_speed: INIT_SPAWN_SPEED,
            spawn_timer: INIT_SPAWN_SPEED,
            move_speed: INIT_MOVE_INTERVAL,
            move_timer: INIT_MOVE_INTERVAL,
            ramp_timer: RAMP_INTERVAL,
            ramp_index: 0,
            ramping,
        }
    }

    pub(crate) fn difficulty_ramp(&self) -> u32 {
        self.ramp_index
    }

    pub(crate) fn act(&mut self, action: Action, rng: &mut RandomState) -> Outcome {
        let mut outcome = Outcome::default();
        if self.spawn_timer == 0 {
            self.spawn_entity(rng);
            self.spawn_timer = self.spawn_speed;
        }

        match action {
            Action::Left => self.player_x = (self.player_x - 1).max(0),
            Action::Right => self.player_x = (self.player_x + 1).min(9),
            Action::Up => self.player_y = (self.player_y - 1).max(1),
            Action::Down => self.player_y = (self.player_y + 1).min(8),
            _ => {}
        }

        // Collisions are checked before the entities move and again after.
        for slot in 0..NUM_SLOTS {
            self.collide(slot, &mut outcome);
        }
        if self.move_timer == 0 {
            self.move_timer = self.move_speed;
            for slot in 0..NUM_SLOTS {
                if let Some(entity) = &mut self.entities[slot] {
                    entity.x += if entity.moving_right { 1 } else { -1 };
                    if !(0..=9).contains(&entity.x) {
                        self.entities[slot] = None;
                    }
                }
                self.collide(slot, &mut outcome);
            }
        }

        self.spawn_timer -= 1;
        self.move_timer -= 1;

        if self.ramping && (self.spawn_speed > 1 || self.move_speed > 1) {
            if self.ramp_timer >= 0 {
                self.ramp_timer -= 1;
            } else {
                if self.move_speed > 1 && self.ramp_index % 2 == 1 {
                    self.move_speed -= 1;
                }
                if self.spawn_speed > 1 {
                    self.spawn_speed -= 1;
                }
                self.ramp_index += 1;
                self.ramp_timer = RAMP_INTERVAL;
            }
        }
        outcome
    }

    /// The player on the entity in `slot` collects the gold or dies.
    fn collide(&mut self, slot: usize, outcome: &mut Outcome) {
        if let Some(entity) = self.entities[slot]
            && entity.x == self.player_x
            && entity.y == self.player_y
        {
            if entity.gold {
                self.entities[slot] = None;
                outcome.reward += 1;
            } else {
                outcome.terminal = true;
            }
        }
    }

    /// Spawns an enemy or gold at a side, in a random free row; the side and kind are drawn
    /// even when every row is taken.
    fn spawn_entity(&mut self, rng: &mut RandomState) {
        let moving_right = rng.rand() < 0.5;
        let gold = rng.rand() < 1.0 / 3.0;
        let free = self.entities.iter().filter(|e| e.is_none()).count();
        if free == 0 {
            return;
        }
        let pick = rng.randint(free as u32) as usize;
        let slot = (0..NUM_SLOTS)
            .filter(|&s| self.entities[s].is_none())
            .nth(pick)
            .expect("pick is below the number of free slots");
        self.entities[slot] = Some(Entity {
            x: if moving_right { 0 } else { 9 },
            y: slot as i32 + 1,
            moving_right,
            gold,
        });
    }

    /// Saves everything but `ramping`, which is an option.
    pub(crate) fn save(&self, out: &mut Vec<u8>) {
        out.put_i32(self.player_x);
        out.put_i32(self.player_y);
        for entity in &self.entities {
            out.put_bool(entity.is_some());
            let entity = entity.unwrap_or(Entity {
                x: 0,
                y: 0,
                moving_right: false,
                gold: false,
            });
            out.put_i32(entity.x);
            out.put_bool(entity.moving_right);
            out.put_bool(entity.gold);
        }
        for v in [
            self.spawn_speed,
            self.spawn_timer,
            self.move_speed,
            self.move_timer,
            self.ramp_timer,
        ] {
            out.put_i32(v);
        }
        out.put_u32(self.ramp_index);
    }

    pub(crate) fn restore(input: &mut &[u8], ramping: bool) -> Result<Self, EnvError> {
        let player_x = input.take_i32_in(0..=9, "Asterix player x")?;
        let player_y = input.take_i32_in(0..=9, "Asterix player y")?;
        let mut entities = [None; NUM_SLOTS];
        for (slot, entity) in entities.iter_mut().enumerate() {
            let present = input.take_bool("Asterix entity flag")?;
            let x = input.take_i32_in(0..=9, "Asterix entity x")?;
            let moving_right = input.take_bool("Asterix entity direction")?;
            let gold = input.take_bool("Asterix gold flag")?;
            *entity = present.then_some(Entity {
                x,
                y: slot as i32 + 1,
                moving_right,
                gold,
            });
        }
        Ok(Self {
            player_x,
            player_y,
            entities,
            spawn_speed: input.take_i32("Asterix spawn speed")?,
            spawn_timer: input.take_i32("Asterix spawn timer")?,
            move_speed: input.take_i32("Asterix move speed")?,
            move_timer: input.take_i32("Asterix move timer")?,
            ramp_timer: input.take_i32("Asterix ramp timer")?,
            ramp_index: input.take_u32("Asterix ramp index")?,
            ramping,
        })
    }

    pub(crate) fn render<T: Cell>(&self, canvas: &mut Canvas<'_, T>) {
        canvas.set(PLAYER, self.player_y, self.player_x);
        for entity in self.entities.iter().flatten() {
            let channel = if entity.gold { GOLD } else { ENEMY };
            canvas.set(channel, entity.y, entity.x);
            let back_x = if entity.moving_right {
                entity.x - 1
            } else {
                entity.x + 1
            };
            if (0..=9).contains(&back_x) {
                canvas.set(TRAIL, entity.y, back_x);
            }
        }
    }
}
