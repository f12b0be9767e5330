//! Train/validation splits.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Splits `0..rows` into training and validation indices: a seeded shuffle, then the last
/// `round(rows · fraction)` rows (at least one when the fraction is positive) for validation.
/// A fraction of 0 keeps every row, in order, for training.
pub fn train_valid(rows: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut indices: Vec<usize> = (0..rows).collect();
    if fraction <= 0.0 {
        return (indices, Vec::new());
    }
    indices.shuffle(&mut StdRng::seed_from_u64(seed));
    let valid = ((rows as f64 * fraction).round() as usize).clamp(1, rows.saturating_sub(1));
    let valid = indices.split_off(rows - valid);
    (indices, valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_partition() {
        let (train, valid) = train_valid(10, 0.2, 7);
        assert_eq!((train.len(), valid.len()), (8, 2));
        let mut all: Vec<usize> = train.iter().chain(&valid).copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn no_fraction_keeps_order() {
        assert_eq!(train_valid(3, 0.0, 1), (vec![0, 1, 2], vec![]));
    }
}
