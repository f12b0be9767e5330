//! Permutation importance as horizontal bars: each column's mean score drop, with a whisker of
//! ± one standard deviation over the shuffles, the largest first.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{FONT, Figure, save};
use crate::error::Result;
use crate::eval::importance::Importance;

/// At most this many columns are drawn (the largest drops); the CSV has them all.
const MOST: usize = 30;

/// Draws `importance` to `importance.png` and `importance.svg` in `dir`.
pub fn plot_importance(dir: &Path, title: &str, importance: &Importance) -> Result<()> {
    save(dir, "importance", &Bars { title, importance })
}

struct Bars<'a> {
    title: &'a str,
    importance: &'a Importance,
}

impl Figure for Bars<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let (width, height) = root.dim_in_pixel();
        root.draw(&Text::new(self.title, (24, 24), (FONT, 20)))
            .map_err(err)?;
        let shown: Vec<_> = self.importance.ranking().into_iter().take(MOST).collect();
        let features = &self.importance.features;
        let reach = |i: usize| features[i].mean().abs() + features[i].std();
        let top = shown.iter().map(|&i| reach(i)).fold(1e-12, f64::max);
        let (left, right) = (220, width as i32 - 110);
        let zero = if shown.iter().any(|&i| features[i].mean() < 0.0) {
            (left + right) / 2
        } else {
            left
        };
        let scale = f64::from(right - zero) / top;
        let row = ((height as i32 - 100) / shown.len().max(1) as i32).clamp(8, 40);
        let label =
            TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        let value = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for (k, &i) in shown.iter().enumerate() {
            let (mean, std) = (features[i].mean(), features[i].std());
            let y = 70 + k as i32 * row + row / 2;
            let end = zero + (mean * scale) as i32;
            let bar = [(zero.min(end), y - row / 3), (zero.max(end), y + row / 3)];
            root.draw(&Rectangle::new(bar, RGBColor(70, 120, 190).filled()))
                .map_err(err)?;
            let whisker = [
                (zero + ((mean - std) * scale) as i32, y),
                (zero + ((mean + std) * scale) as i32, y),
            ];
            root.draw(&PathElement::new(whisker, BLACK.stroke_width(2)))
                .map_err(err)?;
            root.draw(&Text::new(
                features[i].name.clone(),
                (left - 10, y),
                label.clone(),
            ))
            .map_err(err)?;
            let at = (zero + ((mean.abs() + std) * scale) as i32 + 8, y);
            root.draw(&Text::new(format!("{mean:.3}"), at, value.clone()))
                .map_err(err)?;
        }
        let bottom = 70 + shown.len() as i32 * row;
        let axis = [(zero, 60), (zero, bottom + 10)];
        root.draw(&PathElement::new(axis, BLACK.mix(0.6)))
            .map_err(err)?;
        root.present().map_err(err)
    }
}
