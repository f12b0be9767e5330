//! The picture of a series forecast: the series up to the test part in grey, then the actual
//! values and each forecast over the test part.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{FONT, Figure, color, frame, legend, save, value_range};
use crate::error::Result;
use crate::eval::forecast::Forecast;

/// Draws `forecast` to `forecast.png` and `forecast.svg` in `dir`; the network and the naive
/// forecast are drawn (the table has every baseline).
pub fn plot_forecast(dir: &Path, title: &str, target: &str, forecast: &Forecast) -> Result<()> {
    save(
        dir,
        "forecast",
        &Picture {
            title,
            target,
            forecast,
        },
    )
}

struct Picture<'a> {
    title: &'a str,
    target: &'a str,
    forecast: &'a Forecast,
}

impl Figure for Picture<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let f = self.forecast;
        let shown = f.methods.iter().take(2).flat_map(|(_, v)| v.iter());
        let values = value_range(f.history.iter().chain(shown).copied());
        let mut chart = frame(
            root,
            self.title,
            (48, 80),
            0f64..f.history.len() as f64,
            values,
        )?;
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc(self.target)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(err)?;
        let grey = BLACK.mix(0.3);
        let past = f.history[..=f.test_start.min(f.history.len() - 1)]
            .iter()
            .enumerate()
            .map(|(t, &y)| (t as f64, y));
        chart
            .draw_series(LineSeries::new(past, grey.stroke_width(2)))
            .map_err(err)?
            .label("training and validation part")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], grey));
        let line = |values: &[f64]| -> Vec<(f64, f64)> {
            f.steps
                .iter()
                .zip(values)
                .map(|(&t, &y)| (t as f64, y))
                .collect()
        };
        chart
            .draw_series(LineSeries::new(line(&f.actual), BLACK.stroke_width(2)))
            .map_err(err)?
            .label("actual")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK));
        for (i, (method, values)) in f.methods.iter().take(2).enumerate() {
            let c = color(i);
            chart
                .draw_series(LineSeries::new(line(values), c.stroke_width(2)))
                .map_err(err)?
                .label(method)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(err)
    }
}
