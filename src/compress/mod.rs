//! Making a trained model smaller: int8 weights ([`quantize`]) and zeroed weights ([`prune`]).
//! Each works on a saved run and writes another that every command reads as any other.

pub mod prune;
pub mod quantize;
