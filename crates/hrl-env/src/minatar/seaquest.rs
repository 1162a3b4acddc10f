//! MinAtar Seaquest: a submarine shoots fish and enemy subs, rescues divers and must surface
//! for oxygen.
//!
//! Channels: 0 sub front, 1 sub back, 2 friendly bullet, 3 trail, 4 enemy bullet, 5 enemy fish,
//! 6 enemy sub, 7 oxygen gauge, 8 diver gauge, 9 diver. Reward +1 per enemy shot, and on
//! surfacing with six divers one per tenth of oxygen left. The episode ends on touching an
//! enemy or enemy bullet, on running out of oxygen and on surfacing with no diver. Difficulty
//! ramp on each surfacing: the enemy spawn interval shrinks from 20 to 1 and, on odd ramp
//! indices, the enemy move interval from 5 to 2.
//!
//! The reference keeps its objects in Python lists that it walks in reverse while removing
//! from them with `list.remove`, which drops the first *equal* element. The port reproduces
//! that exactly (see [`ReverseCursor`] and [`remove_first_equal`]), twins included.

use super::{Action, Canvas, Cell, Outcome};
use crate::state::{Put, Take, corrupt};
use crate::{EnvError, RandomState};

const SUB_FRONT: usize = 0;
const SUB_BACK: usize = 1;
const FRIENDLY_BULLET: usize = 2;
const TRAIL: usize = 3;
const ENEMY_BULLET: usize = 4;
const ENEMY_FISH: usize = 5;
const ENEMY_SUB: usize = 6;
const OXYGEN_GAUGE: usize = 7;
const DIVER_GAUGE: usize = 8;
const DIVER: usize = 9;

/// Number of observation channels.
pub const NUM_CHANNELS: usize = 10;

const MAX_OXYGEN: i32 = 200;
const INIT_SPAWN_SPEED: i32 = 20;
const DIVER_SPAWN_SPEED: i32 = 30;
const INIT_MOVE_INTERVAL: i32 = 5;
const SHOT_COOL_DOWN: i32 = 5;
const ENEMY_SHOT_INTERVAL: i32 = 10;
const DIVER_MOVE_INTERVAL: i32 = 5;
const MAX_DIVERS: i32 = 6;
/// Room reserved in each object list so that stepping never allocates.
const LIST_CAPACITY: usize = 128;

#[derive(Clone, Copy, PartialEq)]
struct Bullet {
    x: i32,
    y: i32,
    moving_right: bool,
}

/// An enemy fish or a diver: both move one cell when their timer runs out.
#[derive(Clone, Copy, PartialEq)]
struct Swimmer {
    x: i32,
    y: i32,
    moving_right: bool,
    move_timer: i32,
}

#[derive(Clone, Copy, PartialEq)]
struct EnemySub {
    x: i32,
    y: i32,
    moving_right: bool,
    move_timer: i32,
    shot_timer: i32,
}

impl Bullet {
    const SAVED_LEN: usize = 9;

    fn save(&self, out: &mut Vec<u8>) {
        out.put_i32(self.x);
        out.put_i32(self.y);
        out.put_bool(self.moving_right);
    }

    fn restore(input: &mut &[u8]) -> Result<Self, EnvError> {
        Ok(Self {
            x: input.take_i32_in(0..=9, "Seaquest bullet x")?,
            y: input.take_i32_in(0..=9, "Seaquest bullet y")?,
            moving_right: input.take_bool("Seaquest bullet direction")?,
        })
    }
}

impl Swimmer {
    const SAVED_LEN: usize = 13;

    fn save(&self, out: &mut Vec<u8>) {
        out.put_i32(self.x);
        out.put_i32(self.y);
        out.put_bool(self.moving_right);
        out.put_i32(self.move_timer);
    }

    fn restore(input: &mut &[u8]) -> Result<Self, EnvError> {
        Ok(Self {
            x: input.take_i32_in(0..=9, "Seaquest fish or diver x")?,
            y: input.take_i32_in(0..=9, "Seaquest fish or diver y")?,
            moving_right: input.take_bool("Seaquest fish or diver direction")?,
            move_timer: input.take_i32("Seaquest fish or diver move timer")?,
        })
    }
}

impl EnemySub {
    const SAVED_LEN: usize = 17;

    fn save(&self, out: &mut Vec<u8>) {
        out.put_i32(self.x);
        out.put_i32(self.y);
        out.put_bool(self.moving_right);
        out.put_i32(self.move_timer);
        out.put_i32(self.shot_timer);
    }

    fn restore(input: &mut &[u8]) -> Result<Self, EnvError> {
        Ok(Self {
            x: input.take_i32_in(0..=9, "Seaquest enemy sub x")?,
            y: input.take_i32_in(0..=9, "Seaquest enemy sub y")?,
            moving_right: input.take_bool("Seaquest enemy sub direction")?,
            move_timer: input.take_i32("Seaquest enemy sub move timer")?,
            shot_timer: input.take_i32("Seaquest enemy sub shot timer")?,
        })
    }
}

fn save_list<T>(out: &mut Vec<u8>, list: &[T], save: impl Fn(&T, &mut Vec<u8>)) {
    out.put_usize(list.len());
    for item in list {
        save(item, out);
    }
}

fn restore_list<T>(
    input: &mut &[u8],
    element_len: usize,
    what: &'static str,
    restore: impl Fn(&mut &[u8]) -> Result<T, EnvError>,
) -> Result<Vec<T>, EnvError> {
    let len = input.take_len(element_len, what)?;
    (0..len).map(|_| restore(input)).collect()
}

/// Replaces `list`'s items, keeping its capacity.
fn refill<T: Copy>(list: &mut Vec<T>, items: &[T]) {
    list.clear();
    list.extend_from_slice(items);
}

fn step_x(x: i32, moving_right: bool) -> i32 {
    if moving_right { x + 1 } else { x - 1 }
}

fn off_screen(x: i32) -> bool {
    !(0..=9).contains(&x)
}

/// Python's `reversed(list)` iterator: it walks indices down from the length it started with
/// and stops for good as soon as its index is past the end of the (shrinking) list.
struct ReverseCursor {
    next: isize,
}

impl ReverseCursor {
    fn new(len: usize) -> Self {
        Self {
            next: len as isize - 1,
        }
    }

    fn next(&mut self, len: usize) -> Option<usize> {
        if self.next >= 0 && (self.next as usize) < len {
            let index = self.next as usize;
            self.next -= 1;
            Some(index)
        } else {
            self.next = -1;
            None
        }
    }
}

/// Python's `list.remove(item)` where `item` (current value `value`) sits at `pos`: removes the
/// first element equal to it, an earlier twin if there is one. Returns where `item` is
/// afterwards, `None` if it was the one removed.
fn remove_first_equal<T: PartialEq>(list: &mut Vec<T>, pos: usize, value: &T) -> Option<usize> {
    match list[..pos].iter().position(|other| other == value) {
        Some(twin) => {
            list.remove(twin);
            Some(pos - 1)
        }
        None => {
            list.remove(pos);
            None
        }
    }
}

#[derive(Clone)]
pub(crate) struct Seaquest {
    oxygen: i32,
    /// Divers on board; the reference lets it go negative after surfacing with six.
    diver_count: i32,
    sub_x: i32,
    sub_y: i32,
    sub_facing_right: bool,
    friendly_bullets: Vec<Bullet>,
    enemy_bullets: Vec<Bullet>,
    enemy_fish: Vec<Swimmer>,
    enemy_subs: Vec<EnemySub>,
    divers: Vec<Swimmer>,
    enemy_spawn_speed: i32,
    enemy_spawn_timer: i32,
    diver_spawn_timer: i32,
    move_speed: i32,
    ramp_index: u32,
    shot_timer: i32,
    /// The sub is at the surface and has already been credited for it.
    surface: bool,
    ramping: bool,
}

impl Seaquest {
    pub(crate) fn new(ramping: bool) -> Self {
        let mut game = Self {
            oxygen: 0,
            diver_count: 0,
            sub_x: 0,
            sub_y: 0,
            sub_facing_right: false,
            friendly_bullets: Vec::with_capacity(LIST_CAPACITY),
            enemy_bullets: Vec::with_capacity(LIST_CAPACITY),
            enemy_fish: Vec::with_capacity(LIST_CAPACITY),
            enemy_subs: Vec::with_capacity(LIST_CAPACITY),
            divers: Vec::with_capacity(LIST_CAPACITY),
            enemy_spawn_speed: 0,
            enemy_spawn_timer: 0,
            diver_spawn_timer: 0,
            move_speed: 0,
            ramp_index: 0,
            shot_timer: 0,
            surface: true,
            ramping,
        };
        game.reset();
        game
    }

    /// The start of an episode (no randomness); keeps the lists' capacity.
    pub(crate) fn reset(&mut self) {
        self.oxygen = MAX_OXYGEN;
        self.diver_count = 0;
        self.sub_x = 5;
        self.sub_y = 0;
        self.sub_facing_right = false;
        self.friendly_bullets.clear();
        self.enemy_bullets.clear();
        self.enemy_fish.clear();
        self.enemy_subs.clear();
        self.divers.clear();
        self.enemy_spawn_speed = INIT_SPAWN_SPEED;
        self.enemy_spawn_timer = INIT_SPAWN_SPEED;
        self.diver_spawn_timer = DIVER_SPAWN_SPEED;
        self.move_speed = INIT_MOVE_INTERVAL;
        self.ramp_index = 0;
        self.shot_timer = 0;
        self.surface = true;
    }

    pub(crate) fn difficulty_ramp(&self) -> u32 {
        self.ramp_index
    }

    fn at_sub(&self, x: i32, y: i32) -> bool {
        x == self.sub_x && y == self.sub_y
    }

    pub(crate) fn act(&mut self, action: Action, rng: &mut RandomState) -> Outcome {
        let mut outcome = Outcome::default();
        if self.enemy_spawn_timer == 0 {
            self.spawn_enemy(rng);
            self.enemy_spawn_timer = self.enemy_spawn_speed;
        }
        if self.diver_spawn_timer == 0 {
            self.spawn_diver(rng);
            self.diver_spawn_timer = DIVER_SPAWN_SPEED;
        }

        match action {
            Action::Fire if self.shot_timer == 0 => {
                self.friendly_bullets.push(Bullet {
                    x: self.sub_x,
                    y: self.sub_y,
                    moving_right: self.sub_facing_right,
                });
                self.shot_timer = SHOT_COOL_DOWN;
            }
            Action::Fire => {}
            Action::Left => {
                self.sub_x = (self.sub_x - 1).max(0);
                self.sub_facing_right = false;
            }
            Action::Right => {
                self.sub_x = (self.sub_x + 1).min(9);
                self.sub_facing_right = true;
            }
            Action::Up => self.sub_y = (self.sub_y - 1).max(0),
            Action::Down => self.sub_y = (self.sub_y + 1).min(8),
            Action::Noop => {}
        }

        self.move_friendly_bullets(&mut outcome);
        self.move_divers();
        self.move_enemy_subs(&mut outcome);
        self.move_enemy_bullets(&mut outcome);
        self.move_enemy_fish(&mut outcome);

        if self.enemy_spawn_timer > 0 {
            self.enemy_spawn_timer -= 1;
        }
        if self.diver_spawn_timer > 0 {
            self.diver_spawn_timer -= 1;
        }
        if self.shot_timer > 0 {
            self.shot_timer -= 1;
        }
        if self.oxygen <= 0 {
            outcome.terminal = true;
        }
        if self.sub_y > 0 {
            self.oxygen -= 1;
            self.surface = false;
        } else if !self.surface {
            if self.diver_count == 0 {
                outcome.terminal = true;
            } else {
                outcome.reward += self.surface_sub();
            }
        }
        outcome
    }

    /// Bullets move first and may hit a fish, else a sub, in the cell they move into.
    fn move_friendly_bullets(&mut self, outcome: &mut Outcome) {
        let mut cursor = ReverseCursor::new(self.friendly_bullets.len());
        while let Some(i) = cursor.next(self.friendly_bullets.len()) {
            let bullet = &mut self.friendly_bullets[i];
            bullet.x = step_x(bullet.x, bullet.moving_right);
            let bullet = *bullet;
            if off_screen(bullet.x) {
                remove_first_equal(&mut self.friendly_bullets, i, &bullet);
            } else if let Some(fish) = self
                .enemy_fish
                .iter()
                .position(|f| (f.x, f.y) == (bullet.x, bullet.y))
            {
                self.enemy_fish.remove(fish);
                remove_first_equal(&mut self.friendly_bullets, i, &bullet);
                outcome.reward += 1;
            } else if let Some(sub) = self
                .enemy_subs
                .iter()
                .position(|s| (s.x, s.y) == (bullet.x, bullet.y))
            {
                self.enemy_subs.remove(sub);
                remove_first_equal(&mut self.friendly_bullets, i, &bullet);
                outcome.reward += 1;
            }
        }
    }

    /// A diver under the sub is picked up (room for six); others move when their timer is up.
    fn move_divers(&mut self) {
        let mut cursor = ReverseCursor::new(self.divers.len());
        while let Some(i) = cursor.next(self.divers.len()) {
            let diver = self.divers[i];
            if self.at_sub(diver.x, diver.y) && self.diver_count < MAX_DIVERS {
                remove_first_equal(&mut self.divers, i, &diver);
                self.diver_count += 1;
            } else if diver.move_timer == 0 {
                let moved = Swimmer {
                    x: step_x(diver.x, diver.moving_right),
                    move_timer: DIVER_MOVE_INTERVAL,
                    ..diver
                };
                self.divers[i] = moved;
                if off_screen(moved.x) {
                    remove_first_equal(&mut self.divers, i, &moved);
                } else if self.at_sub(moved.x, moved.y) && self.diver_count < MAX_DIVERS {
                    remove_first_equal(&mut self.divers, i, &moved);
                    self.diver_count += 1;
                }
            } else {
                self.divers[i].move_timer -= 1;
            }
        }
    }

    /// Enemy subs move, may run into a bullet, and shoot; a sub that was just removed still
    /// takes its shot, as in the reference.
    fn move_enemy_subs(&mut self, outcome: &mut Outcome) {
        let mut cursor = ReverseCursor::new(self.enemy_subs.len());
        while let Some(i) = cursor.next(self.enemy_subs.len()) {
            let mut sub = self.enemy_subs[i];
            let mut pos = Some(i);
            if self.at_sub(sub.x, sub.y) {
                outcome.terminal = true;
            }
            if sub.move_timer == 0 {
                sub.move_timer = self.move_speed;
                sub.x = step_x(sub.x, sub.moving_right);
                if off_screen(sub.x) {
                    pos = remove_first_equal(&mut self.enemy_subs, i, &sub);
                } else if self.at_sub(sub.x, sub.y) {
                    outcome.terminal = true;
                } else if let Some(bullet) = self
                    .friendly_bullets
                    .iter()
                    .position(|b| (b.x, b.y) == (sub.x, sub.y))
                {
                    pos = remove_first_equal(&mut self.enemy_subs, i, &sub);
                    self.friendly_bullets.remove(bullet);
                    outcome.reward += 1;
                }
            } else {
                sub.move_timer -= 1;
            }
            if sub.shot_timer == 0 {
                sub.shot_timer = ENEMY_SHOT_INTERVAL;
                self.enemy_bullets.push(Bullet {
                    x: sub.x,
                    y: sub.y,
                    moving_right: sub.moving_right,
                });
            } else {
                sub.shot_timer -= 1;
            }
            if let Some(pos) = pos {
                self.enemy_subs[pos] = sub;
            }
        }
    }

    fn move_enemy_bullets(&mut self, outcome: &mut Outcome) {
        let mut cursor = ReverseCursor::new(self.enemy_bullets.len());
        while let Some(i) = cursor.next(self.enemy_bullets.len()) {
            if self.at_sub(self.enemy_bullets[i].x, self.enemy_bullets[i].y) {
                outcome.terminal = true;
            }
            let bullet = &mut self.enemy_bullets[i];
            bullet.x = step_x(bullet.x, bullet.moving_right);
            let bullet = *bullet;
            if off_screen(bullet.x) {
                remove_first_equal(&mut self.enemy_bullets, i, &bullet);
            } else if self.at_sub(bullet.x, bullet.y) {
                outcome.terminal = true;
            }
        }
    }

    fn move_enemy_fish(&mut self, outcome: &mut Outcome) {
        let mut cursor = ReverseCursor::new(self.enemy_fish.len());
        while let Some(i) = cursor.next(self.enemy_fish.len()) {
            let fish = self.enemy_fish[i];
            if self.at_sub(fish.x, fish.y) {
                outcome.terminal = true;
            }
            if fish.move_timer == 0 {
                let moved = Swimmer {
                    x: step_x(fish.x, fish.moving_right),
                    move_timer: self.move_speed,
                    ..fish
                };
                self.enemy_fish[i] = moved;
                if off_screen(moved.x) {
                    remove_first_equal(&mut self.enemy_fish, i, &moved);
                } else if self.at_sub(moved.x, moved.y) {
                    outcome.terminal = true;
                } else if let Some(bullet) = self
                    .friendly_bullets
                    .iter()
                    .position(|b| (b.x, b.y) == (moved.x, moved.y))
                {
                    remove_first_equal(&mut self.enemy_fish, i, &moved);
                    self.friendly_bullets.remove(bullet);
                    outcome.reward += 1;
                }
            } else {
                self.enemy_fish[i].move_timer -= 1;
            }
        }
    }

    /// Surfacing with divers: oxygen refills and one diver leaves (with six: all of them, for
    /// a bonus of one point per tenth of the oxygen left; the count then ends at -1, as in the
    /// reference). Returns the bonus.
    fn surface_sub(&mut self) -> i32 {
        self.surface = true;
        let bonus = if self.diver_count == MAX_DIVERS {
            self.diver_count = 0;
            self.oxygen * 10 / MAX_OXYGEN
        } else {
            0
        };
        self.oxygen = MAX_OXYGEN;
        self.diver_count -= 1;
        if self.ramping && (self.enemy_spawn_speed > 1 || self.move_speed > 2) {
            if self.move_speed > 2 && self.ramp_index % 2 == 1 {
                self.move_speed -= 1;
            }
            if self.enemy_spawn_speed > 1 {
                self.enemy_spawn_speed -= 1;
            }
            self.ramp_index += 1;
        }
        bonus
    }

    /// A fish (2/3) or sub (1/3) at a side of a random row, unless that row already holds an
    /// enemy going the other way.
    fn spawn_enemy(&mut self, rng: &mut RandomState) {
        let moving_right = rng.rand() < 0.5;
        let is_sub = rng.rand() < 1.0 / 3.0;
        let x = if moving_right { 0 } else { 9 };
        let y = rng.randint_range(1, 9) as i32;
        let blocked = self
            .enemy_subs
            .iter()
            .map(|s| (s.y, s.moving_right))
            .chain(self.enemy_fish.iter().map(|f| (f.y, f.moving_right)))
            .any(|(row, right)| row == y && right != moving_right);
        if blocked {
            return;
        }
        if is_sub {
            self.enemy_subs.push(EnemySub {
                x,
                y,
                moving_right,
                move_timer: self.move_speed,
                shot_timer: ENEMY_SHOT_INTERVAL,
            });
        } else {
            self.enemy_fish.push(Swimmer {
                x,
                y,
                moving_right,
                move_timer: self.move_speed,
            });
        }
    }

    fn spawn_diver(&mut self, rng: &mut RandomState) {
        let moving_right = rng.rand() < 0.5;
        let y = rng.randint_range(1, 9) as i32;
        self.divers.push(Swimmer {
            x: if moving_right { 0 } else { 9 },
            y,
            moving_right,
            move_timer: DIVER_MOVE_INTERVAL,
        });
    }

    /// Saves everything but `ramping`, which is an option; the lists in their order.
    pub(crate) fn save(&self, out: &mut Vec<u8>) {
        for v in [self.oxygen, self.diver_count, self.sub_x, self.sub_y] {
            out.put_i32(v);
        }
        out.put_bool(self.sub_facing_right);
        save_list(out, &self.friendly_bullets, Bullet::save);
        save_list(out, &self.enemy_bullets, Bullet::save);
        save_list(out, &self.enemy_fish, Swimmer::save);
        save_list(out, &self.enemy_subs, EnemySub::save);
        save_list(out, &self.divers, Swimmer::save);
        for v in [
            self.enemy_spawn_speed,
            self.enemy_spawn_timer,
            self.diver_spawn_timer,
            self.move_speed,
        ] {
            out.put_i32(v);
        }
        out.put_u32(self.ramp_index);
        out.put_i32(self.shot_timer);
        out.put_bool(self.surface);
    }

    /// Reads what `save` wrote into this game, keeping the lists' capacity; on error the game
    /// is unchanged.
    pub(crate) fn restore(&mut self, input: &mut &[u8]) -> Result<(), EnvError> {
        let oxygen = input.take_i32_in(-1..=MAX_OXYGEN, "Seaquest oxygen")?;
        // Each surfacing after one with six divers lowers the count by one more.
        let diver_count = input.take_i32_in(i32::MIN / 2..=MAX_DIVERS, "Seaquest diver count")?;
        let sub_x = input.take_i32_in(0..=9, "Seaquest sub x")?;
        let sub_y = input.take_i32_in(0..=9, "Seaquest sub y")?;
        let sub_facing_right = input.take_bool("Seaquest sub direction")?;
        let back_x = if sub_facing_right {
            sub_x - 1
        } else {
            sub_x + 1
        };
        if off_screen(back_x) {
            return Err(corrupt(
                "Seaquest sub's back x",
                back_x,
                "in 0..=9 (the sub faces away from the edge it touches)",
            ));
        }
        let friendly_bullets = restore_list(
            input,
            Bullet::SAVED_LEN,
            "Seaquest friendly bullets",
            Bullet::restore,
        )?;
        let enemy_bullets = restore_list(
            input,
            Bullet::SAVED_LEN,
            "Seaquest enemy bullets",
            Bullet::restore,
        )?;
        let enemy_fish = restore_list(
            input,
            Swimmer::SAVED_LEN,
            "Seaquest enemy fish",
            Swimmer::restore,
        )?;
        let enemy_subs = restore_list(
            input,
            EnemySub::SAVED_LEN,
            "Seaquest enemy subs",
            EnemySub::restore,
        )?;
        let divers = restore_list(
            input,
            Swimmer::SAVED_LEN,
            "Seaquest divers",
            Swimmer::restore,
        )?;
        let enemy_spawn_speed = input.take_i32("Seaquest enemy spawn speed")?;
        let enemy_spawn_timer = input.take_i32("Seaquest enemy spawn timer")?;
        let diver_spawn_timer = input.take_i32("Seaquest diver spawn timer")?;
        let move_speed = input.take_i32("Seaquest move speed")?;
        let ramp_index = input.take_u32("Seaquest ramp index")?;
        let shot_timer = input.take_i32("Seaquest shot timer")?;
        let surface = input.take_bool("Seaquest surface flag")?;

        self.oxygen = oxygen;
        self.diver_count = diver_count;
        self.sub_x = sub_x;
        self.sub_y = sub_y;
        self.sub_facing_right = sub_facing_right;
        refill(&mut self.friendly_bullets, &friendly_bullets);
        refill(&mut self.enemy_bullets, &enemy_bullets);
        refill(&mut self.enemy_fish, &enemy_fish);
        refill(&mut self.enemy_subs, &enemy_subs);
        refill(&mut self.divers, &divers);
        self.enemy_spawn_speed = enemy_spawn_speed;
        self.enemy_spawn_timer = enemy_spawn_timer;
        self.diver_spawn_timer = diver_spawn_timer;
        self.move_speed = move_speed;
        self.ramp_index = ramp_index;
        self.shot_timer = shot_timer;
        self.surface = surface;
        Ok(())
    }

    pub(crate) fn render<T: Cell>(&self, canvas: &mut Canvas<'_, T>) {
        canvas.set(SUB_FRONT, self.sub_y, self.sub_x);
        let back_x = if self.sub_facing_right {
            self.sub_x - 1
        } else {
            self.sub_x + 1
        };
        canvas.set(SUB_BACK, self.sub_y, back_x);
        for x in 0..self.oxygen.max(0) * 10 / MAX_OXYGEN {
            canvas.set(OXYGEN_GAUGE, 9, x);
        }
        for x in (9 - self.diver_count).max(0)..9 {
            canvas.set(DIVER_GAUGE, 9, x);
        }
        for bullet in &self.friendly_bullets {
            canvas.set(FRIENDLY_BULLET, bullet.y, bullet.x);
        }
        for bullet in &self.enemy_bullets {
            canvas.set(ENEMY_BULLET, bullet.y, bullet.x);
        }
        let with_trail = |canvas: &mut Canvas<'_, T>, channel, x, y, moving_right| {
            canvas.set(channel, y, x);
            let back_x = if moving_right { x - 1 } else { x + 1 };
            if !off_screen(back_x) {
                canvas.set(TRAIL, y, back_x);
            }
        };
        for fish in &self.enemy_fish {
            with_trail(canvas, ENEMY_FISH, fish.x, fish.y, fish.moving_right);
        }
        for sub in &self.enemy_subs {
            with_trail(canvas, ENEMY_SUB, sub.x, sub.y, sub.moving_right);
        }
        for diver in &self.divers {
            with_trail(canvas, DIVER, diver.x, diver.y, diver.moving_right);
        }
    }
}
