//! Pruning's picture: the score of each pruned run against its sparsity, straight after pruning
//! and after fine-tuning, beside the unpruned run's score.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{FONT, Figure, color, frame, legend, save, value_range};
use crate::error::Result;

/// What `nnlab prune` measured.
pub struct SparsityPlot<'a> {
    pub title: &'a str,
    /// The score's name (accuracy, R²).
    pub score: &'a str,
    pub original: f64,
    /// (sparsity, score straight after pruning, score after fine-tuning).
    pub points: &'a [(f64, f64, f64)],
}

/// Draws `plot` to `prune.png` and `prune.svg` in `dir`.
pub fn plot_sparsity(dir: &Path, plot: &SparsityPlot) -> Result<()> {
    save(dir, "prune", plot)
}

impl Figure for SparsityPlot<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let scores = self.points.iter().flat_map(|p| [p.1, p.2]);
        let ys = value_range(scores.chain([self.original]));
        let mut chart = frame(root, self.title, (48, 80), 0.0..1.0, ys)?;
        chart
            .configure_mesh()
            .x_desc("sparsity (share of weights set to zero)")
            .y_desc(self.score)
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        let original = [(0.0, self.original), (1.0, self.original)];
        let gray = color(7).stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(original, 6, 6, gray))
            .map_err(err)?
            .label("not pruned")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 10, y)], gray));
        let pruned = self.points.iter().map(|p| (p.0, p.1)).collect();
        let tuned = self.points.iter().map(|p| (p.0, p.2)).collect();
        let lines: [(&str, Vec<(f64, f64)>); 2] =
            [("pruned", pruned), ("pruned, then fine-tuned", tuned)];
        for (i, (label, points)) in lines.into_iter().enumerate() {
            let style = color(i).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            let dots = points
                .into_iter()
                .map(|p| Circle::new(p, 4, style.filled()));
            chart.draw_series(dots).map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        root.present().map_err(err)
    }
}
