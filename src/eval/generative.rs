//! What the models without a target give: an autoencoder's reconstructions and codes, and a
//! VAE's or GAN's new rows, in the input's units; and how well an autoencoder reconstructs
//! beside PCA with as many components.

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};

use super::pca::Pca;
use crate::data::features_tensor;
use crate::data::scale::Scaler;
use crate::error::{Error, Result};
use crate::models::{CHUNK_ROWS, Network};

/// An autoencoder's reconstruction of rows.
pub struct Reconstruction {
    /// Row-major, the input's columns and units.
    pub values: Vec<f64>,
    /// The mean squared error of each row, in the input's units.
    pub errors: Vec<f64>,
}

impl Reconstruction {
    /// The mean of the rows' errors: the reconstruction MSE.
    pub fn mse(&self) -> f64 {
        self.errors.iter().sum::<f64>() / self.errors.len().max(1) as f64
    }
}

/// The rows scaled as in training, on the device.
fn scaled<B: Backend>(scaler: &Scaler, rows: &[f64], device: &B::Device) -> Tensor<B, 2> {
    features_tensor(&scaler.features(rows), scaler.features.len(), device)
}

/// Values of a `[rows, k]` tensor, row-major: read as the slice it is when it holds `f32`
/// (TensorData's element iterator is a boxed one, a call per value).
fn values<B: Backend>(t: Tensor<B, 2>) -> Vec<f64> {
    let data = t.into_data();
    match data.as_slice::<f32>() {
        Ok(floats) => floats.iter().map(|&v| f64::from(v)).collect(),
        Err(_) => data.iter::<f64>().collect(),
    }
}

/// Reconstructs raw `rows` through an autoencoder (a VAE's through its posterior mean).
pub fn reconstruct<B: Backend>(
    model: &Network<B>,
    scaler: &Scaler,
    rows: &[f64],
    device: &B::Device,
) -> Reconstruction {
    let output = values(model.forward_rows(scaled::<B>(scaler, rows, device)));
    let values = scaler.restore_features(&output);
    Reconstruction {
        errors: row_errors(rows, &values, scaler.features.len()),
        values,
    }
}

/// The mean squared difference of each row of `a` and `b`.
pub fn row_errors(a: &[f64], b: &[f64], width: usize) -> Vec<f64> {
    a.chunks(width)
        .zip(b.chunks(width))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / width as f64)
        .collect()
}

/// The latent code of each raw row, row-major, and its width; `None` for a model without
/// codes.
pub fn encode<B: Backend>(
    model: &Network<B>,
    scaler: &Scaler,
    rows: &[f64],
    device: &B::Device,
) -> Option<(Vec<f64>, usize)> {
    let codes = model.encode(scaled::<B>(scaler, rows, device))?;
    let width = codes.dims()[1];
    Some((values(codes), width))
}

/// `count` new rows from a VAE or a GAN, in the input's units; the same `seed` gives the same
/// rows on the same backend. `None` for a model that cannot generate.
pub fn generate<B: Backend>(
    model: &Network<B>,
    scaler: &Scaler,
    count: usize,
    seed: u64,
    device: &B::Device,
) -> Option<Vec<f64>> {
    B::seed(device, seed);
    // In chunks, so that the layers' activations stay small and in cache, as in `predict`;
    // the first tells whether the model generates at all.
    let first = values(model.generate(CHUNK_ROWS.min(count), device)?);
    let width = first.len() / CHUNK_ROWS.min(count);
    let mut rows = Vec::with_capacity(count * width);
    rows.extend(first);
    for start in (CHUNK_ROWS..count).step_by(CHUNK_ROWS) {
        rows.extend(values(
            model.generate(CHUNK_ROWS.min(count - start), device)?,
        ));
    }
    scaler.restore_in_place(&mut rows);
    Some(rows)
}

/// The area under the ROC curve of `scores` as a detector of the rows where `positive` is true:
/// the chance that a positive row scores above a negative one, ties counting half (the
/// Mann–Whitney U over both counts). `None` without rows of both kinds.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks (1-based) over runs of equal scores.
    let mut ranks = vec![0.0; scores.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        start = end;
    }
    let p = positive.iter().filter(|&&b| b).count() as f64;
    let n = positive.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return None;
    }
    let rank_sum: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, b)| **b)
        .map(|(r, _)| r)
        .sum();
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// A VAE's negative ELBO per row on raw `rows`, in the scaled units it trains in: ½‖x − x̂‖²
/// with x̂ decoded from the posterior mean, plus the KL term in closed form.
pub fn negative_elbo<B: Backend>(
    model: &Network<B>,
    scaler: &Scaler,
    rows: &[f64],
    device: &B::Device,
) -> Option<f64> {
    let x = scaled::<B>(scaler, rows, device);
    let kl = model.kl_rows(x.clone())?;
    let half =
        crate::models::autoencoder::elbo::half_squared_error(model.forward_rows(x.clone()), x);
    Some((half + kl).mean().into_scalar().elem())
}

/// The reconstruction MSE, in the input's units, of PCA with `k` components fitted on the
/// scaled training rows `train` (raw), on raw `rows`: the linear baseline.
pub fn pca_mse(scaler: &Scaler, train: &[f64], rows: &[f64], k: usize) -> Result<f64> {
    let width = scaler.features.len();
    if width > 1024 {
        return Err(Error::Usage(format!(
            "the PCA baseline is computed for rows of at most 1024 values; these have {width}"
        )));
    }
    let pca = Pca::fit(&scaler.features(train), width, k);
    let back = scaler.restore_features(&pca.reconstruct(&scaler.features(rows)));
    let errors = row_errors(rows, &back, width);
    Ok(errors.iter().sum::<f64>() / errors.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::roc_auc;

    #[test]
    fn roc_auc_counts_the_pairs_a_score_orders_rightly() {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: 3 of the 4 pairs ordered rightly.
        let auc = roc_auc(&[0.9, 0.5, 0.4, 0.1], &[true, false, true, false]);
        assert_eq!(auc, Some(0.75));
        assert_eq!(
            roc_auc(&[1.0, 1.0], &[true, false]),
            Some(0.5),
            "a tie counts half"
        );
        assert_eq!(roc_auc(&[2.0, 1.0], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[2.0, 1.0], &[true, true]), None);
    }
}
