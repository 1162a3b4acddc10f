//! Parameter initialisers of the reference implementations.
//!
//! | scheme | weights | biases | used by |
//! |---|---|---|---|
//! | `torch-default` | `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` (Kaiming-uniform, a = sqrt 5) | same bound | cleanrl `dqn_atari` (PyTorch defaults) |
//! | `orthogonal` | orthogonal, times `gain` | 0 | cleanrl `ppo_atari` (gain sqrt 2; actor 0.01, critic 1) |
//! | `he-normal` | truncated normal, variance `2 / fan_in` | 0 | purejaxql PQN torso (Flax `he_normal`) |
//! | `lecun-normal` | truncated normal, variance `1 / fan_in` | 0 | Flax `Dense` default (PQN's Q head) |
//!
//! Truncated normals are cut at two standard deviations and rescaled so that the variance is the
//! stated one, as Flax's `variance_scaling(..., "truncated_normal")` does.

use burn::module::Param;
use burn::tensor::{Device, Distribution, Shape, Tensor, TensorData};

/// Standard deviation of a standard normal truncated to `[-2, 2]`.
const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_8;

/// How a layer's weights and biases are initialised.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "scheme")]
pub enum Init {
    /// PyTorch's `nn.Linear`/`nn.Conv2d` defaults.
    TorchDefault,
    /// Orthogonal weights scaled by `gain`, zero bias.
    Orthogonal {
        /// Scale of the orthogonal matrix.
        gain: f64,
    },
    /// Flax `he_normal` weights, zero bias.
    HeNormal,
    /// Flax `lecun_normal` weights, zero bias.
    LecunNormal,
}

impl Init {
    /// Orthogonal with gain `sqrt(2)`, cleanrl's PPO torso.
    pub fn orthogonal_sqrt2() -> Init {
        Init::Orthogonal {
            gain: std::f64::consts::SQRT_2,
        }
    }

    /// A weight tensor of `shape` whose layer has `fan_in` inputs per output and `fan_out`
    /// outputs per input.
    pub fn weight<const D: usize>(
        self,
        shape: [usize; D],
        fan_in: usize,
        fan_out: usize,
        device: &Device,
    ) -> Param<Tensor<D>> {
        let initializer = match self {
            Init::TorchDefault => burn::nn::Initializer::KaimingUniform {
                gain: 1.0 / 3f64.sqrt(),
                fan_out_only: false,
            },
            Init::Orthogonal { gain } => return orthogonal(shape, gain, device),
            Init::HeNormal => return truncated_normal(shape, (2.0 / fan_in as f64).sqrt(), device),
            Init::LecunNormal => {
                return truncated_normal(shape, (1.0 / fan_in as f64).sqrt(), device);
            }
        };
        initializer.init_with(shape, Some(fan_in), Some(fan_out), device)
    }

    /// A bias vector of `size` for a layer with `fan_in` inputs per output.
    pub fn bias(self, size: usize, fan_in: usize, device: &Device) -> Param<Tensor<1>> {
        match self {
            Init::TorchDefault => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                burn::nn::Initializer::Uniform {
                    min: -bound,
                    max: bound,
                }
                .init([size], device)
            }
            Init::Orthogonal { .. } | Init::HeNormal | Init::LecunNormal => {
                burn::nn::Initializer::Zeros.init([size], device)
            }
        }
    }
}

/// A semi-orthogonal weight scaled by `gain`, as PyTorch's `orthogonal_`: seen as a
/// `[shape[0], product of the rest]` matrix, its rows or its columns (whichever are fewer) are
/// orthonormal. The Q of a thin QR decomposition of a standard normal draw, with the signs of R's
/// diagonal folded in so that the distribution is uniform over such matrices; the decomposition
/// runs on the host in `f64` (faer), in milliseconds even for the Nature network's
/// `[3136, 512]` layer.
fn orthogonal<const D: usize>(shape: [usize; D], gain: f64, device: &Device) -> Param<Tensor<D>> {
    let rows = shape[0];
    let cols: usize = shape[1..].iter().product();
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let draws = Tensor::<2>::random([tall, short], Distribution::Normal(0.0, 1.0), device)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("a float tensor converted to f32 reads back as f32");
    let draws = faer::Mat::<f64>::from_fn(tall, short, |i, j| f64::from(draws[i * short + j]));
    let qr = draws.qr();
    let (q, r) = (qr.compute_thin_Q(), qr.thin_R());
    let sign: Vec<f64> = (0..short)
        .map(|j| if r[(j, j)] < 0.0 { -gain } else { gain })
        .collect();
    let mut values = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            let (t, s) = if rows >= cols { (i, j) } else { (j, i) };
            values.push((q[(t, s)] * sign[s]) as f32);
        }
    }
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

/// Normal draws of standard deviation `std` after truncation at two standard deviations.
fn truncated_normal<const D: usize>(
    shape: [usize; D],
    std: f64,
    device: &Device,
) -> Param<Tensor<D>> {
    let shape = Shape::new(shape);
    let standard = Distribution::Normal(0.0, 1.0);
    let mut draws = Tensor::<D>::random(shape.clone(), standard, device);
    // Redraw the values outside [-2, 2]; each round keeps 95.4% of what is left.
    for _ in 0..64 {
        let outside = draws.clone().abs().greater_elem(2.0);
        if !outside.clone().any().into_scalar::<bool>() {
            break;
        }
        let fresh = Tensor::<D>::random(shape.clone(), standard, device);
        draws = draws.mask_where(outside, fresh);
    }
    Param::from_tensor(draws.mul_scalar(std / TRUNCATED_NORMAL_STD))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(param: Param<Tensor<D>>) -> Vec<f32> {
        param.val().into_data().try_to_vec::<f32>().unwrap()
    }

    fn mean_and_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    #[test]
    fn torch_default_bounds() {
        let device = Device::flex();
        device.seed(1);
        let fan_in = 64;
        let bound = 1.0 / 8.0;
        let w = values(Init::TorchDefault.weight([fan_in, 32], fan_in, 32, &device));
        let b = values(Init::TorchDefault.bias(32, fan_in, &device));
        assert!(w.iter().chain(&b).all(|&x| x.abs() <= bound));
        // Uniform on [-k, k] has standard deviation k / sqrt(3).
        let (_, std) = mean_and_std(&w);
        assert!((std - bound as f64 / 3f64.sqrt()).abs() < 0.005, "{std}");
    }

    #[test]
    fn he_normal_is_truncated_with_the_right_variance() {
        let device = Device::flex();
        device.seed(2);
        let fan_in = 100;
        let w = values(Init::HeNormal.weight([fan_in, 500], fan_in, 500, &device));
        let target = (2.0 / fan_in as f64).sqrt();
        let (mean, std) = mean_and_std(&w);
        assert!(mean.abs() < 0.003, "{mean}");
        assert!((std / target - 1.0).abs() < 0.02, "{std} vs {target}");
        let cut = 2.0 * target / TRUNCATED_NORMAL_STD;
        assert!(w.iter().all(|&x| f64::from(x).abs() <= cut + 1e-6));
        let b = values(Init::HeNormal.bias(7, fan_in, &device));
        assert_eq!(b, vec![0.0; 7]);
    }

    #[test]
    fn orthogonal_columns_are_orthonormal_times_gain() {
        let device = Device::flex();
        device.seed(3);
        // burn stores linear weights as [d_input, d_output].
        let gain = 2f64.sqrt();
        let w = values(Init::Orthogonal { gain }.weight([16, 4], 16, 4, &device));
        for i in 0..4 {
            for j in 0..4 {
                let dot: f64 = (0..16)
                    .map(|r| f64::from(w[r * 4 + i]) * f64::from(w[r * 4 + j]))
                    .sum();
                let expected = if i == j { gain * gain } else { 0.0 };
                assert!((dot - expected).abs() < 1e-4, "{i} {j} {dot}");
            }
        }
    }

    /// `rows x cols` row-major `w` has orthonormal rows times `gain`.
    fn assert_orthonormal_rows(w: &[f32], rows: usize, cols: usize, gain: f64) {
        for i in 0..rows {
            for j in 0..rows {
                let dot: f64 = (0..cols)
                    .map(|c| f64::from(w[i * cols + c]) * f64::from(w[j * cols + c]))
                    .sum();
                let expected = if i == j { gain * gain } else { 0.0 };
                assert!((dot - expected).abs() < 1e-4, "{i} {j} {dot}");
            }
        }
    }

    #[test]
    fn orthogonal_wide_and_convolution_weights_have_orthonormal_rows() {
        let device = Device::flex();
        device.seed(4);
        let w = values(Init::Orthogonal { gain: 0.5 }.weight([4, 16], 4, 16, &device));
        assert_orthonormal_rows(&w, 4, 16, 0.5);
        // A convolution's `[c_out, c_in, k, k]` weight is a `[c_out, c_in * k * k]` matrix.
        let w = values(Init::orthogonal_sqrt2().weight([8, 2, 3, 3], 18, 72, &device));
        assert_orthonormal_rows(&w, 8, 18, std::f64::consts::SQRT_2);
        // Different draws under different seeds, the same under the same seed.
        device.seed(5);
        let a = values(Init::Orthogonal { gain: 1.0 }.weight([6, 6], 6, 6, &device));
        device.seed(5);
        let b = values(Init::Orthogonal { gain: 1.0 }.weight([6, 6], 6, 6, &device));
        device.seed(6);
        let c = values(Init::Orthogonal { gain: 1.0 }.weight([6, 6], 6, 6, &device));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
