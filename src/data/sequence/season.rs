//! Finding a series' season from its training part: the lag at which the autocorrelation of
//! the first differences (the trend taken out) peaks, kept only when the peak is significant
//! under Bartlett's standard error, r_k > 2.58 · √((1 + 2 Σ_{j<k} r_j²) / n), and at least
//! [`LEAST_AUTOCORRELATION`]. Of a peak and its divisors the shortest lag within 90% of the
//! best is the season (12, not 24, for monthly data).

/// The weakest autocorrelation taken for a season.
pub const LEAST_AUTOCORRELATION: f64 = 0.3;

/// A season found: its period in steps and the autocorrelation at that lag.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub period: usize,
    pub autocorrelation: f64,
}

/// The season of `values`, or `None`: a lag from 2 up to a third of the series (three whole
/// seasons), at most 400.
pub fn detect(values: &[f64]) -> Option<Found> {
    let d: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
    let max_lag = (d.len() / 3).min(400);
    if max_lag < 2 {
        return None;
    }
    let r = autocorrelations(&d, max_lag + 1);
    let n = d.len() as f64;
    let mut squares = 0.0;
    let mut peaks = Vec::new();
    for k in 1..=max_lag {
        let se = ((1.0 + 2.0 * squares) / n).sqrt();
        let peak = k >= 2 && r[k] > r[k - 1] && r[k] >= r[k + 1];
        if peak && r[k] >= LEAST_AUTOCORRELATION && r[k] > 2.58 * se {
            peaks.push(k);
        }
        squares += r[k] * r[k];
    }
    let best = *peaks.iter().max_by(|a, b| r[**a].total_cmp(&r[**b]))?;
    let period = peaks
        .into_iter()
        .find(|&k| best % k == 0 && r[k] >= 0.9 * r[best])
        .unwrap_or(best);
    Some(Found {
        period,
        autocorrelation: r[period],
    })
}

/// The season `period` (the calendar's) when `values` bear it out: three whole seasons, and
/// an autocorrelation at that lag that passes the same two tests as a detected peak.
pub fn confirm(values: &[f64], period: usize) -> Option<Found> {
    let d: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
    if period < 2 || period > d.len() / 3 {
        return None;
    }
    let r = autocorrelations(&d, period);
    let squares: f64 = r[1..period].iter().map(|v| v * v).sum();
    let se = ((1.0 + 2.0 * squares) / d.len() as f64).sqrt();
    (r[period] >= LEAST_AUTOCORRELATION && r[period] > 2.58 * se).then_some(Found {
        period,
        autocorrelation: r[period],
    })
}

/// r_0 … r_{lags}: the sample autocorrelations of `x`.
fn autocorrelations(x: &[f64], lags: usize) -> Vec<f64> {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let c: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let var: f64 = c.iter().map(|v| v * v).sum();
    (0..=lags)
        .map(|k| match var > 0.0 && k < c.len() {
            true => c[k..].iter().zip(&c).map(|(a, b)| a * b).sum::<f64>() / var,
            false => 0.0,
        })
        .collect()
}

/// Mean |y_t − y_{t−lag}| over `values`: the in-sample error of the forecast `lag` back.
pub fn lag_error(values: &[f64], lag: usize) -> f64 {
    let n = values.len().saturating_sub(lag);
    let sum: f64 = (lag..values.len())
        .map(|t| (values[t] - values[t - lag]).abs())
        .sum();
    sum / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform noise in [−1, 1) from a fixed LCG, so the tests need no RNG crate.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn a_monthly_season_on_a_trend_is_found_as_12() {
        let e = noise(240, 1);
        let y: Vec<f64> = (0..240)
            .map(|t| {
                let t = t as f64;
                50.0 + 0.3 * t
                    + 10.0 * (std::f64::consts::TAU * t / 12.0).sin()
                    + 2.0 * e[t as usize]
            })
            .collect();
        let found = detect(&y).expect("a season");
        assert_eq!(found.period, 12);
        assert!(found.autocorrelation > 0.5, "{found:?}");
        // The calendar's 12 is borne out, its 7 is not, nor 12 on noise or too short a part.
        assert_eq!(confirm(&y, 12), Some(found));
        assert_eq!(confirm(&y, 7), None);
        assert_eq!(confirm(&noise(240, 2), 12), None);
        assert_eq!(confirm(&y[..30], 12), None);
    }

    #[test]
    fn a_quarterly_pattern_is_found_as_4() {
        let e = noise(120, 2);
        let pattern = [3.0, -1.0, 4.0, -6.0];
        let y: Vec<f64> = (0..120)
            .map(|t| pattern[t % 4] + 0.1 * t as f64 + e[t])
            .collect();
        assert_eq!(detect(&y).map(|f| f.period), Some(4));
    }

    #[test]
    fn noise_and_a_random_walk_have_no_season() {
        for seed in 0..5 {
            let e = noise(300, seed);
            assert_eq!(detect(&e), None, "noise, seed {seed}");
            let walk: Vec<f64> = e
                .iter()
                .scan(0.0, |s, v| {
                    *s += v;
                    Some(*s)
                })
                .collect();
            assert_eq!(detect(&walk), None, "random walk, seed {seed}");
        }
        assert_eq!(detect(&[1.0, 2.0, 3.0]), None);
        assert_eq!(detect(&[5.0; 50]), None);
    }

    #[test]
    fn the_lag_error_is_zero_at_the_period() {
        let y: Vec<f64> = (0..24).map(|t| (t % 6) as f64).collect();
        assert_eq!(lag_error(&y, 6), 0.0);
        assert!(lag_error(&y, 1) > 0.0);
    }
}
