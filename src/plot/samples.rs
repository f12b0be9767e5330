//! Pictures of the models without a target: a VAE's or GAN's samples over the data, and an
//! autoencoder's reconstructions beside the rows they came from, in the plane of the first
//! two columns (a row of two values) or of the first two principal components.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{FONT, Figure, color, frame, legend, save, value_range};
use crate::error::Result;
use crate::eval::pca::Pca;

/// Points of rows of `width` values in a plane fitted to `fit`: the first two columns, or the
/// first two principal components of `fit`; the axis names come with it.
pub struct Plane {
    pca: Option<Pca>,
    pub axes: [String; 2],
}

impl Plane {
    pub fn fit(fit: &[f64], names: &[String]) -> Plane {
        match names {
            [a, b] => Plane {
                pca: None,
                axes: [a.clone(), b.clone()],
            },
            _ => Plane {
                pca: Some(Pca::fit(fit, names.len(), 2)),
                axes: [
                    "first principal component".into(),
                    "second principal component".into(),
                ],
            },
        }
    }

    /// Each row of `rows` as a point.
    pub fn points(&self, rows: &[f64], width: usize) -> Vec<(f64, f64)> {
        rows.chunks(width)
            .map(|row| match &self.pca {
                None => (row[0], row.get(1).copied().unwrap_or(0.0)),
                Some(pca) => {
                    let t = |c: usize| {
                        pca.components.get(c).map_or(0.0, |v| {
                            row.iter()
                                .zip(&pca.mean)
                                .zip(v)
                                .map(|((x, m), w)| (x - m) * w)
                                .sum()
                        })
                    };
                    (t(0), t(1))
                }
            })
            .collect()
    }
}

/// Sets of points in one plane, each in its own colour, the first in grey behind the others
/// where `backdrop` says; `links` joins the i-th point of the first two sets.
pub struct PointSets<'a> {
    pub title: &'a str,
    pub axes: &'a [String; 2],
    pub sets: &'a [(&'a str, &'a [(f64, f64)])],
    pub backdrop: bool,
    pub links: bool,
}

/// Saves `figure` as `stem`.png and .svg in `dir`.
pub fn plot_points(dir: &Path, stem: &str, figure: &PointSets) -> Result<()> {
    save(dir, stem, figure)
}

impl Figure for PointSets<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let all = || self.sets.iter().flat_map(|(_, p)| p.iter());
        let xs = value_range(all().map(|p| p.0));
        let ys = value_range(all().map(|p| p.1));
        let mut chart = frame(root, self.title, (48, 80), xs, ys)?;
        chart
            .configure_mesh()
            .x_desc(&self.axes[0])
            .y_desc(&self.axes[1])
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(err)?;
        if let (true, [(_, from), (_, to), ..]) = (self.links, self.sets) {
            let pairs = from.iter().zip(to.iter());
            chart
                .draw_series(pairs.map(|(&a, &b)| PathElement::new(vec![a, b], BLACK.mix(0.3))))
                .map_err(err)?;
        }
        for (i, (label, points)) in self.sets.iter().enumerate() {
            let dot = if i == 0 && self.backdrop {
                BLACK.mix(0.25).filled()
            } else {
                color(i).mix(0.6).filled()
            };
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 2, dot)))
                .map_err(err)?
                .label(*label)
                .legend(move |(x, y)| Circle::new((x + 12, y), 4, dot));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)
    }
}
