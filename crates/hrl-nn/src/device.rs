//! Choosing the compute device at run time: `cpu` (burn's Flex backend) or `cuda[:N]`.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

/// A device named on the command line or in a config.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The CPU, through burn's Flex backend.
    #[default]
    Cpu,
    /// NVIDIA GPU number `N` (needs the `cuda` feature).
    Cuda(usize),
}

/// Errors choosing a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Not `cpu`, `cuda` or `cuda:N`.
    #[error("unknown device `{0}`; valid: cpu, cuda, cuda:N")]
    Unknown(String),
    /// CUDA asked for in a build without it.
    #[error(
        "device `{0}` needs a build with CUDA support: rebuild with `cargo build --release --features cuda`"
    )]
    CudaNotBuilt(String),
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|index| index.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| DeviceError::Unknown(s.to_string())),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

impl DeviceSpec {
    /// The burn device (without autodiff).
    pub fn device(self) -> Result<Device, DeviceError> {
        match self {
            DeviceSpec::Cpu => Ok(Device::flex()),
            DeviceSpec::Cuda(index) => cuda(index, self),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda(index: usize, _spec: DeviceSpec) -> Result<Device, DeviceError> {
    Ok(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_index: usize, spec: DeviceSpec) -> Result<Device, DeviceError> {
    Err(DeviceError::CudaNotBuilt(spec.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("cpu".parse(), Ok(DeviceSpec::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceSpec::Cuda(3)));
        for bad in ["gpu", "cuda:", "cuda:x", "CPU"] {
            assert_eq!(
                bad.parse::<DeviceSpec>(),
                Err(DeviceError::Unknown(bad.to_string()))
            );
        }
        assert!("cpu".parse::<DeviceSpec>().unwrap().device().is_ok());
    }
}
