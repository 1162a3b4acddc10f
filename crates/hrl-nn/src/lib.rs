//! Neural-network building blocks for hadamard-rl: representation specs, the Hadamard layer,
//! torsos, heads, initialisers and representation diagnostics.
//!
//! The Hadamard representation (Kooi et al., arXiv 2406.09079) replaces a hidden layer by the
//! element-wise product of two independently parameterised layers,
//! `act(n1(W1 x + b1)) ⊙ act(n2(W2 x + b2))`. A [`repr::ReprSpec`] string (`tanh`, `hr-tanh`,
//! `hr-tanh+ln`, `relu@1024`, `tanh@matched`, ...) says which layer to build; a
//! [`network::NetworkConfig`] puts it into the Nature CNN, the MinAtar CNN or an MLP; [`diag`]
//! measures how healthy the resulting representation is.

pub mod act;
pub mod bench;
pub mod conv;
pub mod dense;
pub mod device;
pub mod diag;
pub mod init;
pub mod network;
pub mod probe;
pub mod repr;
pub mod torso;
