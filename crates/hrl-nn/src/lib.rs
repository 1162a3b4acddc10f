//! Neural-network building blocks for hadamard-rl: representation specs, the Hadamard layer,
//! torsos, heads, initialisers and representation diagnostics.
//!
//! The Hadamard representation (Kooi et al., arXiv 2406.09079) replaces a hidden layer by the
//! element-wise product of two independently parameterised layers,
//! `act(n1(W1 x + b1)) ⊙ act(n2(W2 x + b2))`. A [`repr::ReprSpec`] string (`tanh`, `hr-tanh`,
//! `hr-tanh+ln`, `relu@1024`, `tanh@matched`, ...) says which layer to build; a
//! [`network::NetworkConfig`] puts it into the Nature CNN, the MinAtar CNN or an MLP; [`diag`]
//! measures how healthy the resulting representation is.
//!
//! Everything but [`repr`] needs the default `layers` feature (burn); without it the crate is
//! the spec grammar alone.

#[cfg(feature = "layers")]
pub mod act;
#[cfg(feature = "layers")]
pub mod bench;
#[cfg(feature = "layers")]
pub mod conv;
#[cfg(feature = "layers")]
pub mod dense;
#[cfg(feature = "layers")]
pub mod device;
#[cfg(feature = "layers")]
pub mod device_check;
#[cfg(feature = "layers")]
pub mod diag;
#[cfg(feature = "layers")]
pub mod fused;
#[cfg(feature = "layers")]
pub mod health;
#[cfg(feature = "layers")]
pub mod init;
#[cfg(feature = "layers")]
pub mod intervene;
#[cfg(feature = "layers")]
pub mod network;
#[cfg(feature = "layers")]
pub mod probe;
pub mod repr;
#[cfg(feature = "layers")]
pub mod surgery;
#[cfg(feature = "layers")]
pub mod torso;
#[cfg(feature = "layers")]
pub mod units;
