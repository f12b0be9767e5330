//! The tokens of one text, each on a background as strong as its weight: the attention it
//! receives, or its gradient saliency (see `plot::run`).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{FONT, Figure, save};
use crate::error::Result;

/// Draws `tokens` with their `weights` (any non-negative scale; the largest is darkest) to
/// `STEM.png` and `STEM.svg` in `dir`.
pub fn plot_tokens(
    dir: &Path,
    stem: &str,
    title: &str,
    tokens: &[String],
    weights: &[f64],
) -> Result<()> {
    save(
        dir,
        stem,
        &Tokens {
            title,
            tokens,
            weights,
        },
    )
}

struct Tokens<'a> {
    title: &'a str,
    tokens: &'a [String],
    weights: &'a [f64],
}

/// Pixels per character of a token and per line of tokens.
const CHAR: i32 = 11;
const LINE: i32 = 40;

impl Figure for Tokens<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let (width, _) = root.dim_in_pixel();
        let centre = Pos::new(HPos::Center, VPos::Center);
        root.draw(&Text::new(self.title, (24, 24), (FONT, 20)))
            .map_err(err)?;
        let top = self.weights.iter().copied().fold(0.0, f64::max).max(1e-12);
        let (mut x, mut y) = (24, 80);
        for (token, &w) in self.tokens.iter().zip(self.weights) {
            let shown = token.replace(' ', "␣");
            let side = CHAR * shown.chars().count().max(1) as i32 + 12;
            if x + side > width as i32 - 24 {
                (x, y) = (24, y + LINE);
            }
            let strength = (w / top).clamp(0.0, 1.0);
            let fill = RGBColor(
                255,
                (255.0 - 128.0 * strength) as u8,
                (255.0 - 255.0 * strength) as u8,
            );
            let cell = [(x, y - 15), (x + side, y + 15)];
            root.draw(&Rectangle::new(cell, fill.filled()))
                .map_err(err)?;
            root.draw(&Rectangle::new(cell, BLACK.mix(0.2)))
                .map_err(err)?;
            let style = TextStyle::from((FONT, 18).into_font()).pos(centre);
            root.draw(&Text::new(shown, (x + side / 2, y), style))
                .map_err(err)?;
            x += side + 6;
        }
        root.present().map_err(err)
    }
}
