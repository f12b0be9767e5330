//! NumPy's legacy random stream (`np.random.seed(s)`, `np.random.rand(...)`), bit for bit, so
//! the textbook's Python examples can be reproduced with their exact data.

use rand_mt::Mt;

/// `numpy.random.RandomState(seed)`: MT19937 seeded with `init_genrand(seed)`.
pub struct NumpyRandom {
    mt: Mt,
}

impl NumpyRandom {
    /// Seeds the generator as `np.random.seed(seed)` does for a 32-bit seed.
    pub fn new(seed: u32) -> Self {
        Self { mt: Mt::new(seed) }
    }

    /// The next double in [0, 1), as NumPy's `random_sample`: 53 random bits from two 32-bit
    /// draws, `((a >> 5) · 2²⁶ + (b >> 6)) / 2⁵³`.
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.mt.next_u32() >> 5) as f64;
        let b = (self.mt.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `np.random.rand(n)`: `n` doubles in [0, 1).
    pub fn rand(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next_f64()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_seed_1() {
        let x = NumpyRandom::new(1).rand(3);
        assert!((x[0] - 0.417_022_004_702_574).abs() < 1e-15);
        assert!((x[1] - 0.720_324_493_442_158).abs() < 1e-15);
        assert!((x[2] - 0.000_114_374_817_344_886).abs() < 1e-17);
    }
}
