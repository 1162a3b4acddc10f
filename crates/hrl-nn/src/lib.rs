//! Neural-network building blocks for hadamard-rl: representation specs, the Hadamard layer, torsos, heads, initialisers and representation diagnostics.
