//! Environments for hadamard-rl: the environment interface, vectorised stepping, MinAtar, CartPole and Atari preprocessing.
