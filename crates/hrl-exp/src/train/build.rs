//! From a resolved config to an agent: device, environments, network, algorithm.

use burn::tensor::Device;
use hrl_agents::agent::EnvSetup;
use hrl_agents::{Agent, AgentError};
use hrl_env::VecEnvConfig;
use hrl_nn::network::NetworkConfig;

use super::TrainError;
use crate::train::config::TrainConfig;

/// The device a config names.
pub fn device(config: &TrainConfig) -> Result<Device, TrainError> {
    Ok(config
        .device
        .parse::<hrl_nn::device::DeviceSpec>()?
        .device()?)
}

/// The network a config describes, fitted to its environment.
pub fn network(config: &TrainConfig) -> Result<NetworkConfig, TrainError> {
    let spec = hrl_env::make_with(&config.env, &config.env_options(), &config.atari_options())
        .map_err(AgentError::from)?
        .spec()
        .clone();
    Ok(config.network_config(&spec.observation_shape, spec.num_actions))
}

/// The environments of a config with `num_envs` copies seeded from `seed`.
pub fn env_setup(config: &TrainConfig, num_envs: usize, seed: u64) -> EnvSetup {
    EnvSetup {
        vec: VecEnvConfig {
            env_id: config.env.clone(),
            options: config.env_options(),
            num_envs,
            seed,
            num_threads: config.num_threads,
        },
        atari: config.atari_options(),
    }
}

/// The agent of a config, freshly initialised from its seed.
pub fn agent(config: &TrainConfig) -> Result<Box<dyn Agent>, TrainError> {
    let device = device(config)?;
    let network = network(config)?;
    let envs = env_setup(config, 0, config.seed);
    Ok(config
        .agent
        .clone()
        .build(network, envs, &device, config.seed)?)
}
