//! MinAtar Freeway: a chicken crosses eight lanes of traffic.
//!
//! Channels: 0 chicken, 1 car, 2..=6 trail of a car moving every 1..=5 frames. Reward +1 per
//! crossing, after which car speeds are redrawn; a car sends the chicken back to the bottom.
//! The chicken moves at most every 3 frames. The episode ends after 2,500 steps (the game's
//! time limit: step 2,501 is the last). No difficulty ramp.

use super::{Action, Canvas, Cell, Outcome};
use crate::state::{Put, Take};
use crate::{EnvError, RandomState};

const CHICKEN: usize = 0;
const CAR: usize = 1;
/// Trail channel of a car that moves every `k` frames is `SPEED1 + k - 1`.
const SPEED1: usize = 2;

/// Number of observation channels.
pub const NUM_CHANNELS: usize = 7;

const PLAYER_SPEED: i32 = 3;
const TIME_LIMIT: i32 = 2500;
/// The chicken's column.
const CHICKEN_X: i32 = 4;

/// A car in lane `y`, moving one cell every `|speed|` frames in the direction of `speed`'s sign.
#[derive(Clone, Copy)]
struct Car {
    x: i32,
    y: i32,
    timer: i32,
    speed: i32,
}

#[derive(Clone)]
pub(crate) struct Freeway {
    cars: [Car; 8],
    chicken_y: i32,
    move_timer: i32,
    terminate_timer: i32,
}

impl Freeway {
    pub(crate) fn new(rng: &mut RandomState) -> Self {
        let mut cars = [Car {
            x: 0,
            y: 0,
            timer: 0,
            speed: 0,
        }; 8];
        for (lane, car) in cars.iter_mut().enumerate() {
            car.y = lane as i32 + 1;
        }
        randomize_speeds(&mut cars, rng);
        Self {
            cars,
            chicken_y: 9,
            move_timer: PLAYER_SPEED,
            terminate_timer: TIME_LIMIT,
        }
    }

    pub(crate) fn act(&mut self, action: Action, rng: &mut RandomState) -> Outcome {
        let mut outcome = Outcome::default();
        if self.move_timer == 0 {
            match action {
                Action::Up => {
                    self.move_timer = PLAYER_SPEED;
                    self.chicken_y = (self.chicken_y - 1).max(0);
                }
                Action::Down => {
                    self.move_timer = PLAYER_SPEED;
                    self.chicken_y = (self.chicken_y + 1).min(9);
                }
                _ => {}
            }
        }

        if self.chicken_y == 0 {
            outcome.reward += 1;
            randomize_speeds(&mut self.cars, rng);
            self.chicken_y = 9;
        }

        for car in &mut self.cars {
            if car.x == CHICKEN_X && car.y == self.chicken_y {
                self.chicken_y = 9;
            }
            if car.timer == 0 {
                car.timer = car.speed.abs();
                car.x += if car.speed > 0 { 1 } else { -1 };
                if car.x < 0 {
                    car.x = 9;
                } else if car.x > 9 {
                    car.x = 0;
                }
                if car.x == CHICKEN_X && car.y == self.chicken_y {
                    self.chicken_y = 9;
                }
            } else {
                car.timer -= 1;
            }
        }

        if self.move_timer > 0 {
            self.move_timer -= 1;
        }
        self.terminate_timer -= 1;
        if self.terminate_timer < 0 {
            outcome.terminal = true;
        }
        outcome
    }

    pub(crate) fn save(&self, out: &mut Vec<u8>) {
        for car in &self.cars {
            out.put_i32(car.x);
            out.put_i32(car.timer);
            out.put_i32(car.speed);
        }
        out.put_i32(self.chicken_y);
        out.put_i32(self.move_timer);
        out.put_i32(self.terminate_timer);
    }

    pub(crate) fn restore(input: &mut &[u8]) -> Result<Self, EnvError> {
        let mut cars = [Car {
            x: 0,
            y: 0,
            timer: 0,
            speed: 0,
        }; 8];
        for (lane, car) in cars.iter_mut().enumerate() {
            *car = Car {
                x: input.take_i32_in(0..=9, "Freeway car x")?,
                y: lane as i32 + 1,
                timer: input.take_i32("Freeway car timer")?,
                speed: input.take_i32_in(-5..=5, "Freeway car speed")?,
            };
        }
        Ok(Self {
            cars,
            chicken_y: input.take_i32_in(0..=9, "Freeway chicken y")?,
            move_timer: input.take_i32("Freeway move timer")?,
            terminate_timer: input.take_i32("Freeway time limit timer")?,
        })
    }

    pub(crate) fn render<T: Cell>(&self, canvas: &mut Canvas<'_, T>) {
        canvas.set(CHICKEN, self.chicken_y, CHICKEN_X);
        for car in &self.cars {
            canvas.set(CAR, car.y, car.x);
            let back_x = match if car.speed > 0 { car.x - 1 } else { car.x + 1 } {
                -1 => 9,
                10 => 0,
                x => x,
            };
            // A speed of 0 needs a uniform draw of exactly 0.5 (odds 2^-53); it has no trail.
            if (1..=5).contains(&car.speed.abs()) {
                canvas.set(
                    SPEED1 + car.speed.unsigned_abs() as usize - 1,
                    car.y,
                    back_x,
                );
            }
        }
    }
}

/// Draws 8 speeds in 1..=5, then 8 directions as the sign of a uniform minus one half; each
/// car's timer restarts at its new speed. Positions are kept.
fn randomize_speeds(cars: &mut [Car; 8], rng: &mut RandomState) {
    let mut speeds = [0i32; 8];
    for speed in &mut speeds {
        *speed = rng.randint_range(1, 6) as i32;
    }
    for speed in &mut speeds {
        let u = rng.rand() - 0.5;
        *speed *= if u > 0.0 {
            1
        } else if u < 0.0 {
            -1
        } else {
            0
        };
    }
    for (car, speed) in cars.iter_mut().zip(speeds) {
        car.timer = speed.abs();
        car.speed = speed;
    }
}
