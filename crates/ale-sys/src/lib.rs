//! Bindings to the Arcade Learning Environment 0.12.1, compiled from the ale-py source distribution, through a small C shim.
