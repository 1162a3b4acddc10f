//! MinAtar Breakout: a paddle, a ball on diagonals and three rows of bricks.
//!
//! Channels: 0 paddle, 1 ball, 2 trail (the ball's previous cell), 3 brick. Reward +1 per
//! brick; a cleared wall is rebuilt when the ball next reaches the bottom row; the episode ends
//! when the ball passes the paddle. No difficulty ramp.

use super::{Action, Canvas, Cell, Outcome};
use crate::state::{Put, Take};
use crate::{EnvError, RandomState};

const PADDLE: usize = 0;
const BALL: usize = 1;
const TRAIL: usize = 2;
const BRICK: usize = 3;

/// Number of observation channels.
pub const NUM_CHANNELS: usize = 4;

/// Ball directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
const DX: [i32; 4] = [-1, 1, 1, -1];
const DY: [i32; 4] = [-1, -1, 1, 1];
/// Direction after bouncing off a side wall, off the ceiling or a brick, and off the paddle's edge.
const BOUNCE_SIDE: [usize; 4] = [1, 0, 3, 2];
const BOUNCE_VERTICAL: [usize; 4] = [3, 2, 1, 0];
const BOUNCE_PADDLE_EDGE: [usize; 4] = [2, 3, 0, 1];

#[derive(Clone)]
pub(crate) struct Breakout {
    ball_x: i32,
    ball_y: i32,
    ball_dir: usize,
    last_x: i32,
    last_y: i32,
    paddle_x: i32,
    /// Bricks, `[y][x]`.
    bricks: [[bool; 10]; 10],
    /// The ball hit a brick on the previous step: a second hit in a row passes through it.
    strike: bool,
}

impl Breakout {
    pub(crate) fn new(rng: &mut RandomState) -> Self {
        let (ball_x, ball_dir) = if rng.randint(2) == 0 { (0, 2) } else { (9, 3) };
        let mut bricks = [[false; 10]; 10];
        for row in &mut bricks[1..4] {
            *row = [true; 10];
        }
        Self {
            ball_x,
            ball_y: 3,
            ball_dir,
            last_x: ball_x,
            last_y: 3,
            paddle_x: 4,
            bricks,
            strike: false,
        }
    }

    pub(crate) fn act(&mut self, action: Action) -> Outcome {
        let mut outcome = Outcome::default();
        match action {
            Action::Left => self.paddle_x = (self.paddle_x - 1).max(0),
            Action::Right => self.paddle_x = (self.paddle_x + 1).min(9),
            _ => {}
        }

        self.last_x = self.ball_x;
        self.last_y = self.ball_y;
        let mut new_x = self.ball_x + DX[self.ball_dir];
        let mut new_y = self.ball_y + DY[self.ball_dir];

        let mut hit_brick = false;
        if !(0..=9).contains(&new_x) {
            new_x = new_x.clamp(0, 9);
            self.ball_dir = BOUNCE_SIDE[self.ball_dir];
        }
        if new_y < 0 {
            new_y = 0;
            self.ball_dir = BOUNCE_VERTICAL[self.ball_dir];
        } else if self.bricks[new_y as usize][new_x as usize] {
            hit_brick = true;
            if !self.strike {
                outcome.reward += 1;
                self.strike = true;
                self.bricks[new_y as usize][new_x as usize] = false;
                new_y = self.last_y;
                self.ball_dir = BOUNCE_VERTICAL[self.ball_dir];
            }
        } else if new_y == 9 {
            if self.bricks.iter().flatten().all(|&b| !b) {
                for row in &mut self.bricks[1..4] {
                    *row = [true; 10];
                }
            }
            if self.ball_x == self.paddle_x {
                self.ball_dir = BOUNCE_VERTICAL[self.ball_dir];
                new_y = self.last_y;
            } else if new_x == self.paddle_x {
                self.ball_dir = BOUNCE_PADDLE_EDGE[self.ball_dir];
                new_y = self.last_y;
            } else {
                outcome.terminal = true;
            }
        }
        if !hit_brick {
            self.strike = false;
        }

        self.ball_x = new_x;
        self.ball_y = new_y;
        outcome
    }

    pub(crate) fn save(&self, out: &mut Vec<u8>) {
        for v in [
            self.ball_x,
            self.ball_y,
            self.last_x,
            self.last_y,
            self.paddle_x,
        ] {
            out.put_i32(v);
        }
        out.put_usize(self.ball_dir);
        for &brick in self.bricks.iter().flatten() {
            out.put_bool(brick);
        }
        out.put_bool(self.strike);
    }

    pub(crate) fn restore(input: &mut &[u8]) -> Result<Self, EnvError> {
        let ball_x = input.take_i32_in(0..=9, "Breakout ball x")?;
        let ball_y = input.take_i32_in(0..=9, "Breakout ball y")?;
        let last_x = input.take_i32_in(0..=9, "Breakout trail x")?;
        let last_y = input.take_i32_in(0..=9, "Breakout trail y")?;
        let paddle_x = input.take_i32_in(0..=9, "Breakout paddle x")?;
        let ball_dir = input.take_index(DX.len(), "Breakout ball direction")?;
        let mut bricks = [[false; 10]; 10];
        for brick in bricks.iter_mut().flatten() {
            *brick = input.take_bool("Breakout brick")?;
        }
        Ok(Self {
            ball_x,
            ball_y,
            ball_dir,
            last_x,
            last_y,
            paddle_x,
            bricks,
            strike: input.take_bool("Breakout strike flag")?,
        })
    }

    pub(crate) fn render<T: Cell>(&self, canvas: &mut Canvas<'_, T>) {
        canvas.set(BALL, self.ball_y, self.ball_x);
        canvas.set(PADDLE, 9, self.paddle_x);
        canvas.set(TRAIL, self.last_y, self.last_x);
        for (y, row) in self.bricks.iter().enumerate() {
            for (x, &brick) in row.iter().enumerate() {
                if brick {
                    canvas.set(BRICK, y as i32, x as i32);
                }
            }
        }
    }
}
