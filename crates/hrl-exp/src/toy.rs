//! The toy experiment: shallow networks fitting a 1-D function (the paper's expressivity figure).
//!
//! Each representation is a single hidden layer of `width` units (two branches of `width` units for
//! a Hadamard layer) and a linear output, trained full-batch with Adam on the mean squared error
//! against `sin(frequency * x)` on `[-pi, pi]`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use hrl_agents::optim::AdamConfig;
use hrl_nn::init::Init;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::repr::{ReprSpec, Width};
use hrl_nn::torso::{TorsoConfig, TorsoKind};
use plotters::prelude::*;

use hrl_report::{atomic, plot};

/// Settings of the toy experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyConfig {
    /// Representations to fit; their width is `width` unless the spec sets one.
    pub reprs: Vec<ReprSpec>,
    /// Hidden units per branch.
    pub width: usize,
    /// The target is `sin(frequency * x)`.
    pub frequency: f64,
    /// Evenly spaced training points on `[-pi, pi]`.
    pub samples: usize,
    /// Full-batch Adam steps.
    pub steps: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seed of the initialisation.
    pub seed: u64,
}

impl Default for ToyConfig {
    fn default() -> Self {
        ToyConfig {
            reprs: ["relu", "tanh", "hr-tanh"]
                .iter()
                .map(|s| s.parse().expect("built-in specs parse"))
                .collect(),
            width: 3,
            frequency: 2.0,
            samples: 256,
            steps: 3000,
            learning_rate: 0.01,
            seed: 0,
        }
    }
}

/// Errors of the toy experiment.
#[derive(Debug, thiserror::Error)]
pub enum ToyError {
    /// A setting out of range.
    #[error("toy experiment: {0}")]
    Config(String),
    /// The network could not be built.
    #[error("toy experiment: {0}")]
    Network(#[from] hrl_nn::torso::NetError),
    /// Writing the outputs failed.
    #[error("toy experiment: writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Drawing the plot failed.
    #[error("toy experiment: drawing {path}: {message}")]
    Plot {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// One representation's fit.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyFit {
    /// The representation.
    pub repr: ReprSpec,
    /// Trainable parameters of the network.
    pub params: usize,
    /// Mean squared error before training.
    pub initial_mse: f64,
    /// Mean squared error after training.
    pub final_mse: f64,
    /// Predictions at [`ToyResult::xs`].
    pub prediction: Vec<f64>,
}

/// Everything the toy experiment produced.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyResult {
    /// The training points.
    pub xs: Vec<f64>,
    /// The target at each point.
    pub target: Vec<f64>,
    /// One fit per representation, in the order asked for.
    pub fits: Vec<ToyFit>,
}

/// Fits every representation of `config`.
pub fn run(config: &ToyConfig, device: &Device) -> Result<ToyResult, ToyError> {
    if config.samples < 2 || config.width == 0 || config.steps == 0 {
        return Err(ToyError::Config(
            "samples must be at least 2, width and steps positive".into(),
        ));
    }
    if config.learning_rate.is_nan() || config.learning_rate <= 0.0 || !config.frequency.is_finite()
    {
        return Err(ToyError::Config(
            "the learning rate must be positive and the frequency finite".into(),
        ));
    }
    let pi = std::f64::consts::PI;
    let xs: Vec<f64> = (0..config.samples)
        .map(|i| -pi + 2.0 * pi * i as f64 / (config.samples - 1) as f64)
        .collect();
    let target: Vec<f64> = xs.iter().map(|x| (config.frequency * x).sin()).collect();
    let fits = config
        .reprs
        .iter()
        .map(|repr| fit(config, *repr, &xs, &target, device))
        .collect::<Result<_, _>>()?;
    Ok(ToyResult { xs, target, fits })
}

fn column(values: &[f64], device: &Device) -> Tensor<2> {
    let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(data, [values.len(), 1]), device)
}

fn fit(
    config: &ToyConfig,
    mut repr: ReprSpec,
    xs: &[f64],
    target: &[f64],
    device: &Device,
) -> Result<ToyFit, ToyError> {
    if repr.width == Width::Default {
        repr.width = Width::Fixed(config.width);
    }
    let mut torso = TorsoConfig::new(TorsoKind::Mlp, repr);
    torso.obs_shape = vec![1];
    torso.hidden = Vec::new();
    torso.init = Init::TorchDefault;
    let network = NetworkConfig {
        torso,
        head: Head::default(),
        num_actions: 1,
    };
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let mut model = network.init_q(&device)?;
    let inputs = column(xs, &device);
    let targets = column(target, &device);
    let mse = |model: &hrl_nn::network::QNetwork| {
        let error = model.forward(inputs.clone()) - targets.clone();
        error.square().mean()
    };
    let initial_mse = f64::from(mse(&model).into_scalar::<f32>());
    let mut optimizer = AdamConfig::default().init();
    for _ in 0..config.steps {
        let loss = mse(&model);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(config.learning_rate, model, grads);
    }
    let prediction: Vec<f64> = model
        .forward(inputs.clone())
        .into_data()
        .iter::<f32>()
        .map(f64::from)
        .collect();
    let final_mse = prediction
        .iter()
        .zip(target)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / target.len() as f64;
    Ok(ToyFit {
        repr,
        params: network.num_params()?,
        initial_mse,
        final_mse,
        prediction,
    })
}

/// Writes `x,target,<repr>...` with one row per training point.
pub fn write_csv(result: &ToyResult, path: &Path) -> Result<(), ToyError> {
    atomic::write_with(path, |file| {
        let mut out = io::BufWriter::new(file);
        write!(out, "x,target")?;
        for fit in &result.fits {
            write!(out, ",{}", fit.repr)?;
        }
        writeln!(out)?;
        for (i, (x, t)) in result.xs.iter().zip(&result.target).enumerate() {
            write!(out, "{x},{t}")?;
            for fit in &result.fits {
                write!(out, ",{}", fit.prediction[i])?;
            }
            writeln!(out)?;
        }
        out.flush()
    })
    .map_err(|source| ToyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Draws the target and every fit into a PNG (or SVG, by the extension of `path`).
pub fn write_plot(result: &ToyResult, path: &Path) -> Result<(), ToyError> {
    plot::ensure_font();
    let temp = atomic::temp_path(path);
    let plot_error = |message: String| ToyError::Plot {
        path: path.to_path_buf(),
        message,
    };
    let size = (900, 560);
    let drawn = if path.extension().is_some_and(|e| e == "svg") {
        draw(result, SVGBackend::new(&temp, size).into_drawing_area())
    } else {
        draw(result, BitMapBackend::new(&temp, size).into_drawing_area())
    };
    if let Err(message) = drawn {
        let _ = std::fs::remove_file(&temp);
        return Err(plot_error(message));
    }
    std::fs::rename(&temp, path).map_err(|source| ToyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn draw<B: DrawingBackend>(
    result: &ToyResult,
    area: DrawingArea<B, plotters::coord::Shift>,
) -> Result<(), String>
where
    B::ErrorType: 'static,
{
    let text = |e: DrawingAreaErrorKind<B::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(text)?;
    let (x_min, x_max) = (result.xs[0], result.xs[result.xs.len() - 1]);
    let mut chart = ChartBuilder::on(&area)
        .caption("Shallow networks fitting a 1-D target", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x_min..x_max, -1.3f64..1.3f64)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("f(x)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(text)?;
    let points = |ys: &[f64]| -> Vec<(f64, f64)> {
        result.xs.iter().copied().zip(ys.iter().copied()).collect()
    };
    chart
        .draw_series(LineSeries::new(
            points(&result.target),
            BLACK.stroke_width(3),
        ))
        .map_err(text)?
        .label("target")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(3)));
    for (index, fit) in result.fits.iter().enumerate() {
        let colour = plot::colour(index);
        chart
            .draw_series(LineSeries::new(
                points(&fit.prediction),
                colour.stroke_width(2),
            ))
            .map_err(text)?
            .label(format!("{} (MSE {:.4})", fit.repr, fit.final_mse))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(text)?;
    area.present().map_err(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_reduces_the_error_and_outputs_are_written() {
        let config = ToyConfig {
            samples: 64,
            ..ToyConfig::default()
        };
        let result = run(&config, &Device::flex()).unwrap();
        assert_eq!(result.fits.len(), 3);
        // The expressivity gap of the paper: three ReLU units fit sin(2x) far worse than a
        // Hadamard product of three tanh pairs.
        assert!(result.fits[2].final_mse < 0.1 * result.fits[0].final_mse);
        for fit in &result.fits {
            assert!(
                fit.final_mse < 0.7 * fit.initial_mse,
                "{}: {} -> {}",
                fit.repr,
                fit.initial_mse,
                fit.final_mse
            );
        }
        // A Hadamard layer of 3 units has twice the hidden parameters: 2 * (3 + 3) + 4 vs 6 + 4.
        assert_eq!(result.fits[0].params, 10);
        assert_eq!(result.fits[2].params, 16);

        let dir = std::env::temp_dir().join(format!("hrl-toy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("toy.csv");
        write_csv(&result, &csv).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("x,target,relu@3,tanh@3,hr-tanh@3"));
        assert_eq!(lines.count(), 64);
        for ext in ["png", "svg"] {
            let path = dir.join(format!("toy.{ext}"));
            write_plot(&result, &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            match ext {
                "png" => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n"),
                _ => assert!(String::from_utf8_lossy(&bytes).contains("<svg")),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_settings_are_rejected() {
        let config = ToyConfig {
            samples: 1,
            ..ToyConfig::default()
        };
        assert!(run(&config, &Device::flex()).is_err());
    }
}
