//! The pictures of a trained run, written into its run directory: the loss curves; predicted
//! against actual values (regression) or the confusion matrix (classification) on the
//! validation rows (else the test rows, else the training rows); and for a classifier of two
//! features, its decision regions over the training points; for a CNN, its filters, feature
//! maps and misclassified images (see [`crate::plot::images`]); for text, one row's tokens
//! coloured by the attention each receives and by its gradient saliency.

use std::path::Path;

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::config::ExperimentConfig;
use crate::data::scale::Scaler;
use crate::data::{Dataset, TargetValues};
use crate::error::Result;
use crate::eval::metrics::{EpochRecord, Evaluation, evaluate};
use crate::eval::predict::{Predictions, predict};
use crate::models::Network;
use crate::plot::charts::{self, Curve, LossPlot, Regions};
use crate::plot::images::{self, Shown};
use crate::train::split_rows;

/// Cells per side of the decision-region grid.
const GRID: usize = 80;

/// Draws every picture that fits the run (on `B`'s inner backend, but for the gradients of
/// saliency).
pub fn draw_run<B: AutodiffBackend>(
    dir: &Path,
    config: &ExperimentConfig,
    data: &Dataset,
    model: &Network<B::InnerBackend>,
    scaler: &Scaler,
    history: &[EpochRecord],
    device: &B::Device,
) -> Result<()> {
    let loss = serde_json::to_value(config.loss.name)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let name = config.data.name();
    let mut curves = vec![Curve {
        label: "training".into(),
        points: history
            .iter()
            .map(|r| (r.epoch as f64, r.train_loss))
            .collect(),
        color: 0,
        dashed: false,
    }];
    if history.iter().any(|r| r.valid_loss.is_some()) {
        curves.push(Curve {
            label: "validation".into(),
            points: history
                .iter()
                .filter_map(|r| Some((r.epoch as f64, r.valid_loss?)))
                .collect(),
            color: 1,
            dashed: true,
        });
    }
    // A VAE's KL term, a GAN's generator loss.
    let second: [(&str, Column); 2] = [
        ("KL term", |r| r.train_kl),
        ("generator", |r| r.train_g_loss),
    ];
    for (label, get) in second {
        if history.iter().any(|r| get(r).is_some()) {
            curves.push(Curve {
                label: label.into(),
                points: history
                    .iter()
                    .filter_map(|r| Some((r.epoch as f64, get(r)?)))
                    .collect(),
                color: 2,
                dashed: false,
            });
        }
    }
    if config.model.gan().is_some() {
        curves[0].label = "discriminator".into();
    }
    let title = format!("{name}: loss per epoch");
    let plot = LossPlot {
        title: &title,
        y_label: &format!("{loss} (log scale)"),
        y_cap: f64::MAX,
    };
    charts::plot_losses(dir, "curves", &plot, &curves)?;
    // The pictures below read predictions of a target, which these models do not make.
    if config.model.is_generative() {
        return draw_generative::<B::InnerBackend>(dir, config, data, model, scaler, device);
    }

    let split = split_rows(config, data);
    let (rows, part) = if !split.valid.is_empty() {
        (split.valid, "validation")
    } else if !split.test.is_empty() {
        (split.test, "test")
    } else {
        (split.train.clone(), "training")
    };
    let shown = data.subset(&rows);
    let labels = data.labels();
    let predictions = predict(
        model,
        config.loss.name,
        labels,
        scaler,
        &shown.features,
        shown.width(),
        device,
    );
    match (&predictions, &shown.targets) {
        (Predictions::Values(p), TargetValues::Values(y)) => {
            let points: Vec<(f64, f64)> =
                y.iter().zip(p).map(|(&y, &p)| (y, f64::from(p))).collect();
            let r2 = evaluate(&predictions, &shown.targets, shown.rows()).score();
            let (points, note) = sample(&points);
            let title = format!("{name}: {part} rows{note}, R² = {r2:.3}");
            charts::plot_predicted_vs_actual(dir, &title, &data.target_name, &points)?;
        }
        _ => {
            let evaluation = evaluate(&predictions, &shown.targets, shown.rows());
            if let Evaluation::Classification(m) = evaluation {
                let title = format!("{name}: {part} rows, accuracy {:.1}%", 100.0 * m.accuracy);
                charts::plot_confusion(dir, &title, labels.unwrap_or_default(), &m.confusion)?;
            }
        }
    }
    if let Some(image) = model.image() {
        let pictured = Shown {
            name: &name,
            part,
            rows: &shown,
            predictions: &predictions,
        };
        images::draw_pictures(dir, model, image, &pictured, scaler, device)?;
    }
    let pictured = Shown {
        name: &name,
        part,
        rows: &shown,
        predictions: &predictions,
    };
    images::draw_attention(dir, model, &pictured, scaler, device)?;
    if let Some(vocabulary) = &config.data.vocabulary {
        draw_tokens::<B>(dir, &name, model, &shown, vocabulary, device)?;
    }

    if let (2, Some(labels), TargetValues::Classes { indices, .. }) =
        (data.width(), labels, &data.targets)
    {
        let train = split.train;
        let xs = train.iter().map(|&r| data.features[2 * r]);
        let ys = train.iter().map(|&r| data.features[2 * r + 1]);
        let (x, y) = (padded_range(xs), padded_range(ys));
        let mut grid = Vec::with_capacity(2 * GRID * GRID);
        for row in 0..GRID {
            for col in 0..GRID {
                grid.push(x.0 + (col as f64 + 0.5) * (x.1 - x.0) / GRID as f64);
                grid.push(y.0 + (row as f64 + 0.5) * (y.1 - y.0) / GRID as f64);
            }
        }
        let Predictions::Classes { classes, .. } = predict(
            model,
            config.loss.name,
            Some(labels),
            scaler,
            &grid,
            2,
            device,
        ) else {
            unreachable!("a classifier predicts classes")
        };
        let points: Vec<(f64, f64, usize)> = train
            .iter()
            .map(|&r| (data.features[2 * r], data.features[2 * r + 1], indices[r]))
            .collect();
        let (points, note) = sample(&points);
        let title = format!("{name}: decision regions and training points{note}");
        let regions = Regions {
            title: &title,
            axes: (&data.feature_names[0], &data.feature_names[1]),
            labels,
            x,
            y,
            cells: GRID,
            classes: &classes,
            points: &points,
        };
        charts::plot_regions(dir, &regions)?;
    }
    Ok(())
}

/// For a text run: the first shown row's tokens coloured by their gradient saliency
/// (`saliency.png`), and for a model that attends, by the attention each receives in the last
/// layer, averaged over heads and real positions (`tokens.png`).
fn draw_tokens<B: AutodiffBackend>(
    dir: &Path,
    name: &str,
    model: &Network<B::InnerBackend>,
    shown: &Dataset,
    vocabulary: &[String],
    device: &B::Device,
) -> Result<()> {
    let width = shown.width();
    if shown.rows() == 0 {
        return Ok(());
    }
    let row = &shown.features[..width];
    let tokens: Vec<String> = row
        .iter()
        .map(|&id| id as usize)
        .take_while(|&id| id != 0)
        .map(|id| vocabulary.get(id).cloned().unwrap_or_default())
        .collect();
    if let Some(saliency) = crate::eval::saliency::token_saliency::<B>(model, row, device) {
        let title =
            format!("{name}: gradient saliency |dz/de| of each token of the first shown row");
        crate::plot::tokens::plot_tokens(dir, "saliency", &title, &tokens, &saliency)?;
    }
    let Some(received) = attention_received(model, row, tokens.len(), device) else {
        return Ok(());
    };
    let title = format!("{name}: attention received by each token of the first shown row");
    crate::plot::tokens::plot_tokens(dir, "tokens", &title, &tokens, &received)
}

/// The attention each of a row's first `real` tokens receives in the last layer, summed over
/// heads and the real positions attending; `None` for a model that does not attend.
fn attention_received<B: Backend>(
    model: &Network<B>,
    row: &[f64],
    real: usize,
    device: &B::Device,
) -> Option<Vec<f64>> {
    let width = row.len();
    let x = crate::data::features_tensor(row, width, device);
    let last = model.attention(x)?.into_iter().last()?;
    let [_, heads, n, _] = last.dims();
    let weights: Vec<f64> = last.into_data().convert::<f64>().to_vec().ok()?;
    // A class token comes before the text's positions.
    let offset = n - width;
    let received = (0..real).map(|k| {
        let key = offset + k;
        let queries = (0..heads).flat_map(|h| (0..offset + real).map(move |q| (h, q)));
        queries.map(|(h, q)| weights[(h * n + q) * n + key]).sum()
    });
    Some(received.collect())
}

/// The values' range widened by 10% on each side.
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo { 0.1 * (hi - lo) } else { 1.0 };
    (lo - pad, hi + pad)
}

/// The most points a scatter picture draws: past this, an SVG grows by ~90 bytes a point
/// (94 MB for a million) and the dots only cover each other.
const MOST_POINTS: usize = 5_000;

/// At most [`MOST_POINTS`] of `points`, evenly spaced, and a note for the title that says how
/// many of how many are drawn ("" when all are).
fn sample<T: Copy>(points: &[T]) -> (Vec<T>, String) {
    let n = points.len();
    if n <= MOST_POINTS {
        return (points.to_vec(), String::new());
    }
    let picked = (0..MOST_POINTS)
        .map(|i| points[i * n / MOST_POINTS])
        .collect();
    (picked, format!(" ({MOST_POINTS} of {n} drawn)"))
}

/// Points of data a picture shows at most.
const SHOWN_POINTS: usize = 2000;

/// A VAE's or GAN's samples over the training rows, and an autoencoder's reconstructions of
/// held-out rows (else training rows) joined to the rows, in one plane.
fn draw_generative<B: Backend>(
    dir: &Path,
    config: &ExperimentConfig,
    data: &Dataset,
    model: &Network<B>,
    scaler: &Scaler,
    device: &B::Device,
) -> Result<()> {
    use crate::eval::generative;
    use crate::plot::samples::{Plane, PointSets, plot_points};
    let split = split_rows(config, data);
    let width = data.width();
    let shown_train = &split.train[..split.train.len().min(SHOWN_POINTS)];
    let train = data.subset(shown_train);
    let plane = Plane::fit(&train.features, &data.feature_names);
    let name = config.data.name();
    let kind = config.model.kind_name();
    let seed = config.training.seed;
    if let Some(samples) = generative::generate(model, scaler, 1000, seed, device) {
        let (rows, drawn) = (
            plane.points(&train.features, width),
            plane.points(&samples, width),
        );
        let title = format!("{name}: 1,000 samples of the {kind} over the training rows");
        let sets = [("training rows", &rows[..]), ("samples", &drawn[..])];
        let figure = PointSets {
            title: &title,
            axes: &plane.axes,
            sets: &sets,
            backdrop: true,
            links: false,
        };
        plot_points(dir, "samples", &figure)?;
        if let Some(image) = config.model.image() {
            let shape = [image.height, image.width, image.channels];
            let tiles: Vec<(&[f64], String)> = samples
                .chunks(width)
                .take(64)
                .map(|r| (r, String::new()))
                .collect();
            let title = format!("{name}: 64 samples of the {kind}");
            crate::plot::images::draw_image_rows(dir, "sample_grid", title, &tiles, shape)?;
        }
    }
    if config.model.reconstructs() {
        let (rows, part) = [(&split.valid, "validation"), (&split.test, "test")]
            .into_iter()
            .find(|(rows, _)| !rows.is_empty())
            .unwrap_or((&split.train, "training"));
        let shown = data.subset(&rows[..rows.len().min(50)]);
        let back = generative::reconstruct(model, scaler, &shown.features, device).values;
        let (from, to) = (
            plane.points(&shown.features, width),
            plane.points(&back, width),
        );
        let title = format!(
            "{name}: {} {part} rows and their reconstructions",
            shown.rows()
        );
        let sets = [("rows", &from[..]), ("reconstructions", &to[..])];
        let figure = PointSets {
            title: &title,
            axes: &plane.axes,
            sets: &sets,
            backdrop: true,
            links: true,
        };
        plot_points(dir, "reconstructions", &figure)?;
        if let Some(image) = config.model.image() {
            let shape = [image.height, image.width, image.channels];
            let pairs = shown
                .features
                .chunks(width)
                .zip(back.chunks(width))
                .take(18);
            let tiles: Vec<(&[f64], String)> = pairs
                .flat_map(|(a, b)| [(a, "row".to_string()), (b, "reconstruction".to_string())])
                .collect();
            let title = format!("{name}: {part} rows, each beside its reconstruction");
            crate::plot::images::draw_image_rows(dir, "reconstruction_grid", title, &tiles, shape)?;
        }
    }
    if let Some((codes, 2)) = generative::encode(model, scaler, &train.features, device) {
        let (labels, by) = match (&config.data.color_by, &config.data.csv) {
            (Some(column), Some(path)) => {
                let delimiter = config.data.delimiter;
                let all =
                    crate::data::csv::read_text_column(path, column, None, false, delimiter)?.0;
                let labels = shown_train
                    .iter()
                    .map(|&r| all.get(r).cloned().unwrap_or_default());
                (labels.collect(), format!(", by {column}"))
            }
            _ => (
                vec!["training rows".to_string(); shown_train.len()],
                String::new(),
            ),
        };
        let title = format!(
            "{name}: the {kind}'s 2-D codes of {} training rows{by}",
            shown_train.len()
        );
        draw_latent(dir, &title, &codes, &labels)?;
    }
    Ok(())
}

/// The most labels the latent picture tells apart; the rarer ones are drawn as "other".
const MOST_LABELS: usize = 12;

/// The 2-D codes, one point per row, coloured by the rows' labels (numbers in numeric
/// order), as latent.png and .svg.
fn draw_latent(dir: &Path, title: &str, codes: &[f64], labels: &[String]) -> Result<()> {
    use crate::plot::samples::{PointSets, plot_points};
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    labels
        .iter()
        .for_each(|l| *counts.entry(l).or_default() += 1);
    let mut kept: Vec<&str> = counts.keys().copied().collect();
    kept.sort_by_key(|&l| (std::cmp::Reverse(counts[l]), l));
    kept.truncate(MOST_LABELS);
    // Numbers first, in numeric order, then the other labels in text order.
    let number = |l: &str| l.trim().parse::<f64>().ok();
    kept.sort_by(|a, b| match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.cmp(b)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    });
    let mut groups: Vec<(&str, Vec<(f64, f64)>)> = kept.iter().map(|&l| (l, Vec::new())).collect();
    let mut other = Vec::new();
    for (code, label) in codes.chunks(2).zip(labels) {
        let point = (code[0], code[1]);
        match groups.iter_mut().find(|(l, _)| l == label) {
            Some((_, points)) => points.push(point),
            None => other.push(point),
        }
    }
    if !other.is_empty() {
        groups.push(("other", other));
    }
    let sets: Vec<(&str, &[(f64, f64)])> = groups.iter().map(|(l, p)| (*l, &p[..])).collect();
    let axes = ["z1".to_string(), "z2".to_string()];
    let figure = PointSets {
        title,
        axes: &axes,
        sets: &sets,
        backdrop: false,
        links: false,
    };
    plot_points(dir, "latent", &figure)
}

/// One per-epoch figure of a run's history.
type Column = fn(&EpochRecord) -> Option<f64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_scatters_are_drawn_from_an_even_sample_that_the_title_counts() {
        let few: Vec<usize> = (0..MOST_POINTS).collect();
        assert_eq!(sample(&few), (few.clone(), String::new()));
        let many: Vec<usize> = (0..1_000_000).collect();
        let (drawn, note) = sample(&many);
        assert_eq!(drawn.len(), MOST_POINTS);
        assert_eq!(
            (drawn[0], drawn[1], drawn[MOST_POINTS - 1]),
            (0, 200, 999_800)
        );
        assert_eq!(note, " (5000 of 1000000 drawn)");
    }
}
