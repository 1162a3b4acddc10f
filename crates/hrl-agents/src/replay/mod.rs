//! DQN's experience replay: the most recent transitions of `num_envs` environment streams, each
//! frame stored once, sampled uniformly into caller-provided buffers.
//!
//! An observation is a stack of `frame_stack` frames along its first axis, oldest first (Atari:
//! `[4, 84, 84]`); without a frame stack (MinAtar, CartPole) `frame_stack` is 1 and a frame is
//! the whole observation. Consecutive observations of an episode share all but one frame, so
//! each stream keeps a ring of frames and every transition records where its newest frame is:
//! the observation is rebuilt from the `frame_stack` frames ending there and the next
//! observation from those ending one frame later (the final observation's newest frame, when
//! the episode ended there). Frames older than the first frame of the transition's episode are
//! replaced by that first frame, as the Atari frame stack pads itself after a reset, so no
//! frame of a previous episode enters a stack.
//!
//! A stream's frames are written in order: the newest frame of each next observation, plus, at
//! an episode start, the new observation's frames. A pushed observation that is not exactly the
//! previous transition's next observation (any episode start, or the first push after loading a
//! checkpoint without the replay) starts a new *segment*: its distinct frames are stored (one
//! frame for a freshly reset stack `[f, f, f, f]`, all of them for a mid-episode stack), so every
//! stored observation is rebuilt exactly, whatever the environment did.
//!
//! Capacity: each stream holds its last `capacity / num_envs` transitions in a ring of
//! `capacity / num_envs + frame_stack` frames. Every episode start takes one frame slot more
//! than its transitions, so a stream whose ring holds episode starts loses its oldest
//! transitions to the frame ring a little earlier: one per episode start among the held
//! transitions (about 1% at Atari's episode lengths). [`ReplayBuffer::len`] counts what is held.
//!
//! Nothing allocates after [`ReplayBuffer::new`].

mod file;
mod frames;

use hrl_env::{EnvSpec, ObsDtype};

use crate::AgentError;
use crate::rng::Rng;
use frames::FrameStore;

/// One environment step to store: the observation the action was taken on, the action, its
/// reward and episode flags, and the observation after it (the *final* observation where the
/// step ended the episode, not the next episode's first one). Observations are `[obs_len]`.
#[derive(Clone, Copy, Debug)]
pub struct Experience<'a> {
    /// Observation the action was chosen on.
    pub obs: &'a [f32],
    /// The action taken.
    pub action: usize,
    /// Reward received.
    pub reward: f32,
    /// The step reached a terminal state (no bootstrap past it).
    pub terminated: bool,
    /// The step hit a time limit (the state is not terminal; bootstrap from `next_obs`).
    pub truncated: bool,
    /// Observation after the step.
    pub next_obs: &'a [f32],
}

/// A stored transition: the `index`-th (0-based) transition pushed to stream `env`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TransitionId {
    /// The environment stream.
    pub env: usize,
    /// Transitions pushed to that stream before this one.
    pub index: u64,
}

/// The scalars of a stored transition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransitionInfo {
    /// The action taken.
    pub action: usize,
    /// Reward received.
    pub reward: f32,
    /// The step reached a terminal state.
    pub terminated: bool,
}

/// A sampled minibatch, allocated once by [`Batch::new`] and refilled by
/// [`ReplayBuffer::sample`].
#[derive(Clone, Debug)]
pub struct Batch {
    /// Which transitions were drawn, `[batch]`.
    pub ids: Vec<TransitionId>,
    /// `[batch, obs_len]` observations.
    pub observations: Vec<f32>,
    /// `[batch, obs_len]` next observations.
    pub next_observations: Vec<f32>,
    /// `[batch]` actions.
    pub actions: Vec<i64>,
    /// `[batch]` rewards.
    pub rewards: Vec<f32>,
    /// `[batch]` 1.0 where the step terminated, else 0.0.
    pub terminated: Vec<f32>,
}

impl Batch {
    /// Room for `batch_size` transitions of `obs_len` elements.
    pub fn new(batch_size: usize, obs_len: usize) -> Batch {
        Batch {
            ids: vec![TransitionId::default(); batch_size],
            observations: vec![0.0; batch_size * obs_len],
            next_observations: vec![0.0; batch_size * obs_len],
            actions: vec![0; batch_size],
            rewards: vec![0.0; batch_size],
            terminated: vec![0.0; batch_size],
        }
    }

    /// Transitions per batch.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch holds no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Where a transition's frames are: its observation's newest frame and the first frame of its
/// segment (both absolute frame numbers of its stream).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stored {
    frame: u64,
    first: u64,
    action: u32,
    reward: f32,
    terminated: bool,
}

/// One environment stream's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stream {
    /// Transitions pushed so far.
    pushed: u64,
    /// Frames written so far.
    frames: u64,
    /// The oldest transition still held (`oldest..pushed` are held).
    oldest: u64,
    /// First frame of the current segment.
    segment_first: u64,
    /// The last transition did not end its episode: the next one may continue its segment.
    open: bool,
}

/// The replay buffer; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    num_envs: usize,
    frame_len: usize,
    frame_stack: usize,
    /// Transition slots per stream.
    slots: usize,
    /// Frame slots per stream, `slots + frame_stack`.
    frame_slots: usize,
    /// `[num_envs, frame_slots, frame_len]`.
    frames: FrameStore,
    /// `[num_envs, slots]`.
    stored: Vec<Stored>,
    streams: Vec<Stream>,
}

/// The memory this machine has available now (`MemAvailable` of `/proc/meminfo`), in bytes;
/// `None` where that cannot be read.
pub fn available_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

fn replay_error(message: String) -> AgentError {
    AgentError::Replay { message }
}

impl ReplayBuffer {
    /// A buffer of `capacity` transitions over `num_envs` streams (`capacity / num_envs` each)
    /// of observations of `obs_len` elements, `frame_stack` frames each, stored as `dtype`.
    pub fn new(
        capacity: usize,
        num_envs: usize,
        obs_len: usize,
        frame_stack: usize,
        dtype: ObsDtype,
    ) -> Result<ReplayBuffer, AgentError> {
        if num_envs == 0 {
            return Err(AgentError::config("num_envs", "must be positive"));
        }
        if capacity < num_envs {
            return Err(AgentError::config(
                "buffer_size",
                format!("must be at least num_envs = {num_envs}"),
            ));
        }
        if frame_stack == 0 || obs_len == 0 || !obs_len.is_multiple_of(frame_stack) {
            return Err(AgentError::config(
                "frame_stack",
                format!("{frame_stack} frames do not divide an observation of {obs_len} values"),
            ));
        }
        let slots = capacity / num_envs;
        let frame_slots = slots + frame_stack;
        let frame_len = obs_len / frame_stack;
        Ok(ReplayBuffer {
            num_envs,
            frame_len,
            frame_stack,
            slots,
            frame_slots,
            frames: FrameStore::new(dtype, num_envs * frame_slots * frame_len),
            stored: vec![Stored::default(); num_envs * slots],
            streams: vec![Stream::default(); num_envs],
        })
    }

    /// Bytes the buffer of [`ReplayBuffer::for_env`] allocates up front, `None` if the count
    /// overflows.
    pub fn bytes_for_env(spec: &EnvSpec, capacity: usize, num_envs: usize) -> Option<u64> {
        let frame_stack = spec.frame_stack.max(1) as u64;
        let num_envs = num_envs.max(1) as u64;
        let slots = capacity as u64 / num_envs;
        let frame_len = spec.observation_len() as u64 / frame_stack;
        let element = match spec.observation_dtype {
            ObsDtype::U8 => 1,
            ObsDtype::F32 => 4,
        };
        let frames = num_envs
            .checked_mul(slots.checked_add(frame_stack)?)?
            .checked_mul(frame_len)?
            .checked_mul(element)?;
        let stored = num_envs
            .checked_mul(slots)?
            .checked_mul(std::mem::size_of::<Stored>() as u64)?;
        frames.checked_add(stored)
    }

    /// A buffer for `spec`'s observations, stored in its native element type, stacked as
    /// its spec says ([`EnvSpec::frame_stack`]).
    pub fn for_env(
        spec: &EnvSpec,
        capacity: usize,
        num_envs: usize,
    ) -> Result<ReplayBuffer, AgentError> {
        ReplayBuffer::new(
            capacity,
            num_envs,
            spec.observation_len(),
            spec.frame_stack,
            spec.observation_dtype,
        )
    }

    /// Environment streams.
    pub fn num_envs(&self) -> usize {
        self.num_envs
    }

    /// Elements of one observation.
    pub fn obs_len(&self) -> usize {
        self.frame_len * self.frame_stack
    }

    /// Transitions the buffer holds at most: `num_envs * (capacity / num_envs)`.
    pub fn capacity(&self) -> usize {
        self.num_envs * self.slots
    }

    /// Transitions held now.
    pub fn len(&self) -> usize {
        self.streams
            .iter()
            .map(|s| (s.pushed - s.oldest) as usize)
            .sum()
    }

    /// Whether no transition is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every transition (the memory stays allocated).
    pub fn clear(&mut self) {
        self.streams.fill(Stream::default());
    }

    /// Stores one step of stream `env`. Fails if the observations have the wrong length or the
    /// next observation is not the observation shifted by one frame (a frame-stack mismatch).
    pub fn push(&mut self, env: usize, step: &Experience<'_>) -> Result<(), AgentError> {
        let obs_len = self.obs_len();
        if env >= self.num_envs || step.obs.len() != obs_len || step.next_obs.len() != obs_len {
            return Err(replay_error(format!(
                "push to stream {env} of {} with observations of {} and {} values, expected {obs_len}",
                self.num_envs,
                step.obs.len(),
                step.next_obs.len()
            )));
        }
        let shared = (self.frame_stack - 1) * self.frame_len;
        if step.obs[self.frame_len..] != step.next_obs[..shared] {
            return Err(replay_error(format!(
                "stream {env}: the next observation is not the observation shifted by one of \
                 its {} frames; is frame_stack right?",
                self.frame_stack
            )));
        }
        if !(self.streams[env].open && self.latest_stack_equals(env, step.obs)) {
            self.start_segment(env, step.obs);
        }
        let stream = self.streams[env];
        let record = Stored {
            frame: stream.frames - 1,
            first: stream.segment_first,
            action: step.action as u32,
            reward: step.reward,
            terminated: step.terminated,
        };
        self.push_frame(env, &step.next_obs[shared..]);
        let slot = self.slot(env, stream.pushed);
        self.stored[slot] = record;
        let stream = &mut self.streams[env];
        stream.pushed += 1;
        stream.open = !(step.terminated || step.truncated);
        self.drop_unheld(env);
        Ok(())
    }

    /// Writes the observation and next observation of `id` (`[obs_len]` each) and returns its
    /// scalars; `None` if the buffer does not hold it.
    pub fn get(
        &self,
        id: TransitionId,
        obs: &mut [f32],
        next_obs: &mut [f32],
    ) -> Option<TransitionInfo> {
        let stream = self.streams.get(id.env)?;
        if id.index < stream.oldest || id.index >= stream.pushed {
            return None;
        }
        let t = self.stored[self.slot(id.env, id.index)];
        self.read_stack(id.env, t.frame, t.first, obs);
        self.read_stack(id.env, t.frame + 1, t.first, next_obs);
        Some(TransitionInfo {
            action: t.action as usize,
            reward: t.reward,
            terminated: t.terminated,
        })
    }

    /// The `position`-th held transition (`0..len()`), streams in order, oldest first.
    pub fn id_at(&self, position: usize) -> Option<TransitionId> {
        let mut rest = position as u64;
        for (env, stream) in self.streams.iter().enumerate() {
            let held = stream.pushed - stream.oldest;
            if rest < held {
                return Some(TransitionId {
                    env,
                    index: stream.oldest + rest,
                });
            }
            rest -= held;
        }
        None
    }

    /// Fills `batch` with transitions drawn uniformly, with replacement, from those held; leaves
    /// it untouched and returns false if the buffer is empty.
    pub fn sample(&self, rng: &mut Rng, batch: &mut Batch) -> bool {
        let held = self.len();
        if held == 0 {
            return false;
        }
        let obs_len = self.obs_len();
        for row in 0..batch.len() {
            let Some(id) = self.id_at(rng.below(held)) else {
                return false;
            };
            let span = row * obs_len..(row + 1) * obs_len;
            let Some(info) = self.get(
                id,
                &mut batch.observations[span.clone()],
                &mut batch.next_observations[span],
            ) else {
                return false;
            };
            batch.ids[row] = id;
            batch.actions[row] = info.action as i64;
            batch.rewards[row] = info.reward;
            batch.terminated[row] = if info.terminated { 1.0 } else { 0.0 };
        }
        true
    }

    /// `rows` distinct held transitions spread over the buffer (one drawn uniformly from each
    /// of `rows` equal strata of the held positions), or every held transition if fewer.
    pub fn stratified_ids(&self, rng: &mut Rng, rows: usize) -> Vec<TransitionId> {
        let held = self.len();
        let rows = rows.min(held);
        (0..rows)
            .filter_map(|row| {
                let start = row * held / rows;
                let end = (row + 1) * held / rows;
                self.id_at(start + rng.below(end - start))
            })
            .collect()
    }

    /// Index into `stored` of stream `env`'s transition number `index`.
    fn slot(&self, env: usize, index: u64) -> usize {
        env * self.slots + (index % self.slots as u64) as usize
    }

    /// Element offset of stream `env`'s frame number `frame`.
    fn frame_offset(&self, env: usize, frame: u64) -> usize {
        (env * self.frame_slots + (frame % self.frame_slots as u64) as usize) * self.frame_len
    }

    /// The frame number at stack position `j` (0 = oldest) of the stack whose newest frame is
    /// `newest`, padded with the segment's `first` frame.
    fn stack_frame(&self, newest: u64, first: u64, j: usize) -> u64 {
        let back = (self.frame_stack - 1 - j) as u64;
        newest.saturating_sub(back).max(first)
    }

    fn read_stack(&self, env: usize, newest: u64, first: u64, out: &mut [f32]) {
        for (j, chunk) in out.chunks_exact_mut(self.frame_len).enumerate() {
            let frame = self.stack_frame(newest, first, j);
            self.frames.read(self.frame_offset(env, frame), chunk);
        }
    }

    /// Whether `obs` is exactly the stack of stream `env`'s newest frame.
    fn latest_stack_equals(&self, env: usize, obs: &[f32]) -> bool {
        let stream = &self.streams[env];
        let newest = stream.frames - 1;
        obs.chunks_exact(self.frame_len)
            .enumerate()
            .all(|(j, chunk)| {
                let frame = self.stack_frame(newest, stream.segment_first, j);
                self.frames.equals(self.frame_offset(env, frame), chunk)
            })
    }

    /// Starts a segment at `obs`: stores its frames from the last of its equal leading frames on
    /// (a reset stack `[f, f, f, f]` stores `f` once), which then pads the stacks before it.
    fn start_segment(&mut self, env: usize, obs: &[f32]) {
        let len = self.frame_len;
        let oldest = &obs[..len];
        let mut run = 0;
        while run + 1 < self.frame_stack && obs[(run + 1) * len..(run + 2) * len] == *oldest {
            run += 1;
        }
        self.streams[env].segment_first = self.streams[env].frames;
        for j in run..self.frame_stack {
            self.push_frame(env, &obs[j * len..(j + 1) * len]);
        }
    }

    fn push_frame(&mut self, env: usize, frame: &[f32]) {
        let offset = self.frame_offset(env, self.streams[env].frames);
        self.frames.write(offset, frame);
        self.streams[env].frames += 1;
    }

    /// Drops stream `env`'s oldest transitions whose slot or frames were overwritten.
    fn drop_unheld(&mut self, env: usize) {
        let back = (self.frame_stack - 1) as u64;
        loop {
            let s = self.streams[env];
            if s.oldest == s.pushed {
                return;
            }
            let t = self.stored[self.slot(env, s.oldest)];
            let lowest_frame = t.frame.saturating_sub(back).max(t.first);
            let slot_held = s.oldest + self.slots as u64 >= s.pushed;
            let frames_held = lowest_frame + self.frame_slots as u64 >= s.frames;
            if slot_held && frames_held {
                return;
            }
            self.streams[env].oldest += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stack of 2 frames of 2 values each, frames named by a number.
    fn stack(frames: [f32; 2]) -> Vec<f32> {
        vec![frames[0], frames[0], frames[1], frames[1]]
    }

    fn push(replay: &mut ReplayBuffer, obs: [f32; 2], next: [f32; 2], done: bool) {
        let (obs, next_obs) = (stack(obs), stack(next));
        let step = Experience {
            obs: &obs,
            action: 1,
            reward: 0.5,
            terminated: done,
            truncated: false,
            next_obs: &next_obs,
        };
        replay.push(0, &step).unwrap();
    }

    #[test]
    fn a_reset_stack_stores_one_frame_and_a_mid_episode_stack_all_of_its_frames() {
        let mut replay = ReplayBuffer::new(8, 1, 4, 2, ObsDtype::U8).unwrap();
        push(&mut replay, [1.0, 1.0], [1.0, 2.0], false);
        assert_eq!(replay.streams[0].frames, 2, "reset frame and next frame");
        push(&mut replay, [1.0, 2.0], [2.0, 3.0], true);
        assert_eq!(
            replay.streams[0].frames, 3,
            "a continued episode adds one frame"
        );
        push(&mut replay, [4.0, 5.0], [5.0, 6.0], false);
        assert_eq!(
            replay.streams[0].frames, 6,
            "a mid-episode start stores both frames"
        );
        assert_eq!(replay.len(), 3);
    }

    #[test]
    fn a_next_observation_that_is_not_the_shifted_stack_is_refused() {
        let mut replay = ReplayBuffer::new(8, 1, 4, 2, ObsDtype::F32).unwrap();
        let (obs, next_obs) = (stack([1.0, 2.0]), stack([3.0, 4.0]));
        let step = Experience {
            obs: &obs,
            action: 0,
            reward: 0.0,
            terminated: false,
            truncated: false,
            next_obs: &next_obs,
        };
        let message = replay.push(0, &step).unwrap_err().to_string();
        assert!(message.contains("is frame_stack right?"), "{message}");
        assert!(replay.push(1, &step).is_err(), "no stream 1");
        assert!(replay.is_empty());
    }

    #[test]
    fn sizes_are_checked() {
        let error = ReplayBuffer::new(3, 4, 4, 2, ObsDtype::U8).unwrap_err();
        assert!(error.to_string().contains("buffer_size"), "{error}");
        let error = ReplayBuffer::new(8, 1, 5, 2, ObsDtype::U8).unwrap_err();
        assert!(error.to_string().contains("frame_stack"), "{error}");
    }
}
