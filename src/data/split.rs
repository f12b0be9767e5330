//! Train/validation/test splits and k-fold cross-validation folds, stratified by class for
//! classification so that every part keeps the class proportions.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// A seed for one purpose, so that the initial weights, the split and each epoch's shuffle
/// draw from independent streams of the one configured seed.
pub fn stream(seed: u64, purpose: u64) -> u64 {
    seed ^ purpose.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The stream of the train/validation/test split.
pub const SPLIT_STREAM: u64 = 1;

/// The parts of `rows` rows for the fractions `valid` and `test` and the config's `seed`: in
/// time order for a series (`series_gap` is `Some`, see [`ordered`]), else shuffled
/// (stratified by `classes`).
pub fn parts(
    rows: usize,
    classes: Option<&[usize]>,
    (valid, test): (f64, f64),
    seed: u64,
    series_gap: Option<usize>,
) -> Split {
    match series_gap {
        Some(gap) => ordered(rows, valid, test, gap),
        None => split(rows, classes, valid, test, stream(seed, SPLIT_STREAM)),
    }
}

/// Row indices of the three parts of a split.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// The rows grouped for stratification: one group per class, or one group of all rows.
fn groups(rows: usize, classes: Option<&[usize]>) -> Vec<Vec<usize>> {
    match classes {
        None => vec![(0..rows).collect()],
        Some(classes) => {
            let k = classes.iter().max().map_or(0, |m| m + 1);
            let mut groups = vec![Vec::new(); k];
            for (row, &c) in classes.iter().enumerate() {
                groups[c].push(row);
            }
            groups
        }
    }
}

/// Splits `0..rows`: a seeded shuffle, then `round(n · test)` rows for testing and
/// `round(n · valid)` for validation (at least one each when its fraction is positive and
/// the rows allow), per class when `classes` is given. With both fractions 0 every row trains,
/// in order.
pub fn split(rows: usize, classes: Option<&[usize]>, valid: f64, test: f64, seed: u64) -> Split {
    if valid <= 0.0 && test <= 0.0 {
        return Split {
            train: (0..rows).collect(),
            ..Split::default()
        };
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Split::default();
    for mut group in groups(rows, classes) {
        group.shuffle(&mut rng);
        let n = group.len();
        let take = |fraction: f64| {
            if fraction <= 0.0 {
                0
            } else {
                ((n as f64 * fraction).round() as usize).max(1)
            }
        };
        let n_test = take(test).min(n.saturating_sub(1));
        let n_valid = take(valid).min(n.saturating_sub(1 + n_test));
        out.test.extend(group.drain(n - n_test..));
        out.valid.extend(group.drain(n - n_test - n_valid..));
        out.train.extend(group);
    }
    if classes.is_some() {
        // Interleave the classes again so that no part is sorted by class.
        for part in [&mut out.train, &mut out.valid, &mut out.test] {
            part.shuffle(&mut rng);
        }
    }
    out
}

/// Splits `0..rows` in time order: training first, then `round(n · valid)` rows for
/// validation, then `round(n · test)` for testing (at least one each when its fraction is
/// positive and the rows allow), so that no part looks into another's future. The last `gap`
/// rows before each cut are left out: a window forecasting `gap + 1` steps there would train
/// on the next part's values.
pub fn ordered(rows: usize, valid: f64, test: f64, gap: usize) -> Split {
    let take = |fraction: f64| match fraction <= 0.0 {
        true => 0,
        false => ((rows as f64 * fraction).round() as usize).max(1),
    };
    let n_test = take(test).min(rows.saturating_sub(1));
    let n_valid = take(valid).min(rows.saturating_sub(1 + n_test));
    let n_train = rows - n_test - n_valid;
    let purge = |end: usize, next: usize| match next {
        0 => end,
        _ => end.saturating_sub(gap),
    };
    Split {
        train: (0..purge(n_train, n_valid + n_test)).collect(),
        valid: (n_train..purge(n_train + n_valid, n_test).max(n_train)).collect(),
        test: (n_train + n_valid..rows).collect(),
    }
}

/// The rows of `0..end` a series may train on before rows from `end` on are held out: all
/// but the last `gap` (see [`ordered`]).
pub fn before(end: usize, gap: usize) -> std::ops::Range<usize> {
    0..end.saturating_sub(gap)
}

/// Rolling-origin folds of `0..rows` for time series: `k + 1` blocks in time order; fold `i`
/// holds out block `i + 1` and trains on every block before it (an expanding window).
/// Returns each fold's held-out rows.
pub fn rolling(rows: usize, k: usize) -> Vec<Vec<usize>> {
    let bound = |b: usize| b * rows / (k + 1);
    (1..=k)
        .map(|b| (bound(b)..bound(b + 1)).collect())
        .collect()
}

/// Assigns `0..rows` to `k` folds after a seeded shuffle, dealing each class round-robin when
/// `classes` is given; returns each fold's rows.
pub fn folds(rows: usize, classes: Option<&[usize]>, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for mut group in groups(rows, classes) {
        group.shuffle(&mut rng);
        for row in group {
            folds[next % k].push(row);
            next += 1;
        }
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(s: &Split, rows: usize) {
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.valid)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort();
        assert_eq!(all, (0..rows).collect::<Vec<_>>());
    }

    #[test]
    fn split_is_a_partition_of_the_asked_sizes() {
        let s = split(10, None, 0.2, 0.1, 7);
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (7, 2, 1));
        partition(&s, 10);
    }

    #[test]
    fn ordered_parts_follow_each_other_in_time() {
        let s = ordered(10, 0.2, 0.3, 0);
        assert_eq!(s.train, vec![0, 1, 2, 3, 4]);
        assert_eq!(s.valid, vec![5, 6]);
        assert_eq!(s.test, vec![7, 8, 9]);
    }

    #[test]
    fn ordered_parts_leave_a_gap_before_each_later_part() {
        // Windows forecasting 3 steps: the last 2 before each cut would see the next part.
        let s = ordered(12, 0.25, 0.25, 2);
        assert_eq!(s.train, vec![0, 1, 2, 3]);
        assert_eq!(s.valid, vec![6]);
        assert_eq!(s.test, vec![9, 10, 11]);
        let no_test = ordered(10, 0.2, 0.0, 2);
        assert_eq!((no_test.train.len(), no_test.valid), (6, vec![8, 9]));
    }

    #[test]
    fn rolling_folds_hold_out_later_blocks() {
        let folds = rolling(10, 4);
        assert_eq!(folds, vec![vec![2, 3], vec![4, 5], vec![6, 7], vec![8, 9]]);
    }

    #[test]
    fn no_fraction_keeps_order() {
        assert_eq!(split(3, None, 0.0, 0.0, 1).train, vec![0, 1, 2]);
    }

    #[test]
    fn stratified_parts_keep_the_class_shares() {
        // 60 of class 0, 30 of class 1, 10 of class 2.
        let classes: Vec<usize> = (0..100)
            .map(|i| {
                if i < 60 {
                    0
                } else if i < 90 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let s = split(100, Some(&classes), 0.2, 0.1, 3);
        partition(&s, 100);
        let count = |part: &[usize], c: usize| part.iter().filter(|&&r| classes[r] == c).count();
        assert_eq!([0, 1, 2].map(|c| count(&s.valid, c)), [12, 6, 2]);
        assert_eq!([0, 1, 2].map(|c| count(&s.test, c)), [6, 3, 1]);
    }

    #[test]
    fn stratified_folds_deal_every_class_evenly() {
        let classes: Vec<usize> = (0..150).map(|i| i / 50).collect();
        let folds = folds(150, Some(&classes), 5, 11);
        let mut all: Vec<usize> = folds.concat();
        all.sort();
        assert_eq!(all, (0..150).collect::<Vec<_>>());
        for fold in &folds {
            for c in 0..3 {
                assert_eq!(fold.iter().filter(|&&r| classes[r] == c).count(), 10);
            }
        }
    }
}
