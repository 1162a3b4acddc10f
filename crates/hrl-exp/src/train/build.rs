//! From a resolved config to an agent: device, environments, network, algorithm.

use burn::tensor::Device;
use hrl_agents::{Agent, AgentError};

use super::TrainError;
use crate::train::config::TrainConfig;

/// The device a config names.
pub fn device(config: &TrainConfig) -> Result<Device, TrainError> {
    Ok(config
        .device
        .parse::<hrl_nn::device::DeviceSpec>()?
        .device()?)
}

/// The agent of a config, freshly initialised from its seed, in the environments it trains
/// in (built here, once) with its network fitted to them.
pub fn agent(config: &TrainConfig) -> Result<Box<dyn Agent>, TrainError> {
    let device = device(config)?;
    let envs = config.train_envs().map_err(AgentError::from)?;
    let network = config.network_config(envs.spec());
    Ok(config.agent.clone().build(
        network,
        envs,
        &device,
        config.seed,
        config.interventions.clone(),
    )?)
}
