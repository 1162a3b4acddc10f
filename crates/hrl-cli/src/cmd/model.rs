//! `hrl model`: build a network description and print its layers and parameter count.

use anyhow::Context;
use clap::{Args, ValueEnum};
use hrl_nn::init::Init;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::repr::ReprSpec;
use hrl_nn::torso::{HrPlacement, TorsoConfig, TorsoKind};

/// Arguments of `hrl model`.
#[derive(Args)]
pub struct ModelArgs {
    /// Torso architecture.
    #[arg(long, value_enum)]
    torso: TorsoArg,
    /// Representation spec of the final hidden layer (e.g. tanh, hr-tanh+ln, relu@1024, tanh@matched).
    #[arg(long, default_value = "relu")]
    repr: ReprSpec,
    /// Number of discrete actions.
    #[arg(long)]
    actions: usize,
    /// Observation shape, comma-separated: C,H,W for the CNNs, D for the MLP
    /// (defaults: 4,84,84 / 4,10,10 / 4).
    #[arg(long, value_delimiter = ',')]
    obs: Option<Vec<usize>>,
    /// Output heads.
    #[arg(long, value_enum, default_value_t = HeadArg::Q)]
    head: HeadArg,
    /// Which hidden layers the representation spec governs.
    #[arg(long, value_enum, default_value_t = PlacementArg::Final)]
    hr_placement: PlacementArg,
    /// LayerNorm before every hidden activation (PQN's network).
    #[arg(long)]
    layer_norm_all: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum TorsoArg {
    Nature,
    Minatar,
    Mlp,
}

#[derive(Clone, Copy, ValueEnum)]
enum HeadArg {
    Q,
    ActorCritic,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlacementArg {
    Final,
    All,
}

/// Runs `hrl model`.
pub fn run(args: ModelArgs) -> anyhow::Result<()> {
    let kind = match args.torso {
        TorsoArg::Nature => TorsoKind::Nature,
        TorsoArg::Minatar => TorsoKind::Minatar,
        TorsoArg::Mlp => TorsoKind::Mlp,
    };
    let mut torso = TorsoConfig::new(kind, args.repr);
    if let Some(obs) = args.obs {
        torso.obs_shape = obs;
    }
    torso.placement = match args.hr_placement {
        PlacementArg::Final => HrPlacement::Final,
        PlacementArg::All => HrPlacement::All,
    };
    torso.layer_norm_all = args.layer_norm_all;
    let head = match args.head {
        HeadArg::Q => Head::Q {
            init: Init::TorchDefault,
        },
        HeadArg::ActorCritic => Head::cleanrl_actor_critic(),
    };
    let network = NetworkConfig {
        torso,
        head,
        num_actions: args.actions,
    };
    let layers = network.summary().context("describing the network")?;
    let params = network.num_params()?;
    let width = network.repr_width()?;
    if args.json {
        let report = serde_json::json!({
            "torso": kind.name(),
            "repr": args.repr.to_string(),
            "repr_width": width,
            "obs_shape": network.torso.obs_shape,
            "actions": args.actions,
            "params": params,
            "layers": layers,
        });
        println!("{report}");
    } else {
        println!(
            "{:<8} {:<6} {:<18} {:>14} {:>14} {:>12}",
            "layer", "kind", "spec", "input", "output", "params"
        );
        for layer in &layers {
            println!(
                "{:<8} {:<6} {:<18} {:>14} {:>14} {:>12}",
                layer.name,
                layer.kind,
                layer.spec,
                format!("{:?}", layer.input),
                format!("{:?}", layer.output),
                layer.params
            );
        }
        println!("total trainable parameters: {params} (representation width {width})");
    }
    Ok(())
}
