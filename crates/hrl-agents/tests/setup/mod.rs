//! What the agent tests share with the training loop: the environments an agent trains in,
//! built as `hrl train` builds them (`num_envs` copies seeded with the run seed), its network
//! fitted to them, and the presets of `configs/`.

use hrl_agents::agent::fit_network;
use hrl_env::{VecEnv, VecEnvConfig};
use hrl_nn::network::NetworkConfig;

/// `num_envs` copies of `vec`'s environment seeded with `seed`, and `network` fitted to them.
pub fn fitted(
    vec: &VecEnvConfig,
    num_envs: usize,
    seed: u64,
    network: NetworkConfig,
) -> (VecEnv<f32>, NetworkConfig) {
    let envs = VecEnv::new(&VecEnvConfig {
        num_envs,
        seed,
        ..vec.clone()
    })
    .unwrap();
    let network = fit_network(network, envs.spec());
    (envs, network)
}

/// The `[section]` table of the preset `configs/NAME.toml`, e.g. `preset("dqn-minatar", "dqn")`.
#[allow(dead_code)] // some test crates use only `fitted`
pub fn preset<T: serde::de::DeserializeOwned>(name: &str, section: &str) -> T {
    let path = format!("{}/../../configs/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut table: toml::Table = text.parse().unwrap();
    table
        .remove(section)
        .unwrap_or_else(|| panic!("{path} has no [{section}]"))
        .try_into()
        .unwrap_or_else(|e| panic!("{path} [{section}]: {e}"))
}
