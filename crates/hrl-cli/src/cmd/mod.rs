//! One module per subcommand: each parses its arguments and calls the libraries.

pub mod baseline;
pub mod bench;
pub mod diagnose;
pub mod env;
pub mod eval;
pub mod model;
pub mod sweep;
pub mod toy;
pub mod train;
