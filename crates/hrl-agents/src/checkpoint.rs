//! The files of a checkpoint: the network as burnpack (parameter ids kept, so the optimiser
//! state, which is keyed by them, matches after loading), the optimiser state as burnpack, and
//! the agent's counters and random streams as JSON; DQN adds its target network (burnpack) and
//! its replay buffer (its own binary file, see [`crate::replay`]).

use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot};
use hrl_env::{ObsElement, VecEnv};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AgentError;
use crate::rng::Rng;

/// File of the network inside a checkpoint folder.
pub const MODEL_FILE: &str = "model.bpk";
/// File of the target network (DQN).
pub const TARGET_FILE: &str = "target.bpk";
/// File of the replay buffer (DQN, when it checkpoints its replay).
pub const REPLAY_FILE: &str = "replay.bin";
/// File of the optimiser state.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// File of the agent's counters and random streams.
pub const STATE_FILE: &str = "agent.json";
/// File of the environments' state.
pub const ENVS_FILE: &str = "envs.bin";

fn error(path: &Path, message: impl ToString) -> AgentError {
    AgentError::Checkpoint {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Writes `module`'s parameters to `path`.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<(), AgentError> {
    let mut store = BurnpackStore::from_file(path)
        .auto_extension(false)
        .overwrite(true);
    module.save_into(&mut store).map_err(|e| error(path, e))
}

/// Loads the parameters at `path` into `module`, which must have the same structure: a missing,
/// extra or mis-shaped tensor is an error naming it.
pub fn load_module<M: Module>(mut module: M, path: &Path) -> Result<M, AgentError> {
    if !path.is_file() {
        return Err(error(path, "file not found"));
    }
    let mut store = BurnpackStore::from_file(path).auto_extension(false);
    let result = module.load_from(&mut store).map_err(|e| error(path, e))?;
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        return Err(error(
            path,
            format!(
                "does not fit this network (missing {:?}, unexpected {:?}, errors {:?}); \
                 was it written by a run with another config?",
                result.missing, result.unused, result.errors
            ),
        ));
    }
    Ok(module)
}

/// Writes the optimiser state to `path`.
pub fn save_optimizer(optimizer: &ModuleOptimizer, path: &Path) -> Result<(), AgentError> {
    optimizer.save(path).map_err(|e| error(path, e))
}

/// Loads the optimiser state at `path` into `optimizer`.
pub fn load_optimizer(
    optimizer: ModuleOptimizer,
    path: &Path,
) -> Result<ModuleOptimizer, AgentError> {
    if !path.is_file() {
        return Err(error(path, "file not found"));
    }
    // burn panics on a state tensor without its parameter id (a damaged file); refuse it here.
    let reader = burn_pack::Reader::from_file(path).map_err(|e| error(path, format!("{e:?}")))?;
    let tensors = reader
        .into_tensors()
        .map_err(|e| error(path, format!("{e:?}")))?;
    if let Some(tensor) = tensors.iter().find(|t| t.param_id.is_none()) {
        return Err(error(
            path,
            format!("state tensor {:?} carries no parameter id", tensor.name),
        ));
    }
    optimizer.load(path).map_err(|e| error(path, e))
}

/// Writes `value` as JSON to `path`.
pub fn save_json<T: Serialize>(value: &T, path: &Path) -> Result<(), AgentError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| error(path, e))?;
    std::fs::write(path, text).map_err(|e| error(path, e))
}

/// Reads JSON written by [`save_json`].
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T, AgentError> {
    let text = std::fs::read(path).map_err(|e| error(path, e))?;
    serde_json::from_slice(&text).map_err(|e| error(path, e))
}

/// Writes the environments' exact state to `dir/envs.bin`.
pub fn save_envs<T: ObsElement>(envs: &VecEnv<T>, dir: &Path) -> Result<(), AgentError> {
    let path = dir.join(ENVS_FILE);
    let bytes = envs.save_state()?;
    std::fs::write(&path, bytes).map_err(|e| error(&path, e))
}

/// Restores the environments' state from `dir/envs.bin` into `envs`, built from the same
/// config.
pub fn load_envs<T: ObsElement>(envs: &mut VecEnv<T>, dir: &Path) -> Result<(), AgentError> {
    let path = dir.join(ENVS_FILE);
    let bytes = std::fs::read(&path).map_err(|e| error(&path, e))?;
    envs.restore_state(&bytes).map_err(|e| error(&path, e))
}

/// Writes what every agent has: its network, optimiser state, environments and `state` (its
/// counters and random streams).
pub fn save_agent<M: Module, T: ObsElement, S: Serialize>(
    dir: &Path,
    model: &M,
    optimizer: &ModuleOptimizer,
    envs: &VecEnv<T>,
    state: &S,
) -> Result<(), AgentError> {
    save_module(model, &dir.join(MODEL_FILE))?;
    save_optimizer(optimizer, &dir.join(OPTIMIZER_FILE))?;
    save_envs(envs, dir)?;
    save_json(state, &dir.join(STATE_FILE))
}

/// Reads back what [`save_agent`] wrote: the network and optimiser loaded into `model` and
/// `optimizer`, the environments restored in place, and the agent's state.
pub fn load_agent<M: Module, T: ObsElement, S: DeserializeOwned>(
    dir: &Path,
    model: M,
    optimizer: ModuleOptimizer,
    envs: &mut VecEnv<T>,
) -> Result<(M, ModuleOptimizer, S), AgentError> {
    let model = load_module(model, &dir.join(MODEL_FILE))?;
    let optimizer = load_optimizer(optimizer, &dir.join(OPTIMIZER_FILE))?;
    load_envs(envs, dir)?;
    let state = load_json(&dir.join(STATE_FILE))?;
    Ok((model, optimizer, state))
}

/// What the on-policy agents (PPO, PQN) keep besides the network and optimiser: the updates
/// done and their random stream. PPO checkpoints written before this type named the count
/// `iterations_done`; they load as well.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct OnPolicyState {
    /// Updates done.
    #[serde(alias = "iterations_done")]
    pub updates_done: u64,
    /// The agent's random stream.
    pub rng: Rng,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_policy_state_reads_the_count_under_its_old_ppo_name_too() {
        let state = OnPolicyState {
            updates_done: 7,
            rng: Rng::new(3),
        };
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains("\"updates_done\":7"), "{json}");
        let old = json.replace("updates_done", "iterations_done");
        let read: OnPolicyState = serde_json::from_str(&old).unwrap();
        assert_eq!(read.updates_done, 7);
        assert_eq!(serde_json::to_string(&read).unwrap(), json);
    }
}
