//! Pictures of what a CNN learned and what it does, written next to its loss curves:
//! `filters` (the first convolution's filters), `feature_maps` (the first shown row's image,
//! then a row of channels per convolution block) and `misclassified` (up to 25 shown rows the
//! model got wrong, "true → predicted" under each). Each is a PNG and an SVG, as every chart.
//!
//! A run that misclassified nothing still gets `misclassified`, a line saying so, so that every
//! classifying CNN's run directory holds the same files; a regression CNN has no classes to
//! confuse and gets no `misclassified`. Every tile is stretched to its own min..max: filters,
//! activations and raw pixels have unrelated ranges, and a shared scale would leave most tiles
//! flat.

use std::path::Path;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::data::scale::Scaler;
use crate::data::{Dataset, TargetValues};
use crate::error::Result;
use crate::eval::predict::Predictions;
use crate::models::Network;
use crate::plot::charts::{FONT, Figure, save};

/// Channels drawn per block: more would shrink the tiles past reading.
const MAX_CHANNELS: usize = 16;
/// Misclassified images drawn.
const MAX_WRONG: usize = 25;
/// Pixels around the tiles, between them, and of a band's heading and a tile's caption.
const MARGIN: u32 = 16;
const GAP: u32 = 8;
const HEADING: u32 = 24;
const CAPTION: u32 = 20;
/// The largest tile side: a few 3×3 filters need not fill the page.
const MAX_CELL: u32 = 160;

/// The rows a run's pictures show, and what the model said of them.
pub struct Shown<'a> {
    /// The dataset's name, for titles.
    pub name: &'a str,
    /// "validation", "test" or "training".
    pub part: &'a str,
    /// The rows, unscaled.
    pub rows: &'a Dataset,
    pub predictions: &'a Predictions,
}

/// Draws `filters`, `feature_maps` and `misclassified` for a model reading `image`-shaped rows.
pub fn draw_pictures<B: Backend>(
    dir: &Path,
    model: &Network<B>,
    image: [usize; 3],
    shown: &Shown,
    scaler: &Scaler,
    device: &B::Device,
) -> Result<()> {
    if let Some(weights) = model.first_filters() {
        save(dir, "filters", &filters(shown.name, weights))?;
    }
    if shown.rows.rows() > 0 {
        let sheet = feature_maps(model, image, shown, scaler, device);
        save(dir, "feature_maps", &sheet)?;
    }
    if let Some(sheet) = misclassified(image, shown) {
        save(dir, "misclassified", &sheet)?;
    }
    Ok(())
}

/// Draws `attention`: for the first shown row, a band per encoder layer of one heat map per
/// head, where row i of a map is how much position i attends to each position.
pub fn draw_attention<B: Backend>(
    dir: &Path,
    model: &Network<B>,
    shown: &Shown,
    scaler: &Scaler,
    device: &B::Device,
) -> Result<()> {
    let width = shown.rows.width();
    if shown.rows.rows() == 0 {
        return Ok(());
    }
    let row = &shown.rows.features[..width];
    let x = crate::data::features_tensor(&scaler.features(row), width, device);
    let Some(maps) = model.attention(x) else {
        return Ok(());
    };
    let bands = maps
        .into_iter()
        .enumerate()
        .map(|(layer, map)| {
            let [_, heads, n, _] = map.dims();
            let values = values(map);
            let tiles = values
                .chunks(n * n)
                .take(heads)
                .enumerate()
                .map(|(h, w)| Tile::new(w, [n, n, 1], format!("head {}", h + 1)))
                .collect();
            Band {
                heading: format!(
                    "layer {}: {n} positions attending (rows) to each (columns)",
                    layer + 1
                ),
                tiles,
            }
        })
        .collect();
    let sheet = Sheet {
        title: format!(
            "{}: attention weights of the first {} row",
            shown.name, shown.part
        ),
        bands,
    };
    save(dir, "attention", &sheet)
}

/// Rows drawn in `saliency`, and beside each other in one band.
const MAX_SALIENT: usize = 12;
const SALIENT_PER_BAND: usize = 4;

/// Draws `saliency`: each row's image (`pixels`, channel last) beside the size of its
/// attributions, |a| summed over a pixel's channels, for up to 12 rows.
pub fn draw_saliency(
    dir: &Path,
    title: &str,
    image: [usize; 3],
    rows: &[(&[f64], &[f64], String)],
) -> Result<()> {
    let [height, width, channels] = image;
    let pairs: Vec<Vec<Tile>> = rows
        .iter()
        .take(MAX_SALIENT)
        .map(|(pixels, attributions, caption)| {
            let size: Vec<f64> = attributions
                .chunks(channels.max(1))
                .map(|p| p.iter().map(|a| a.abs()).sum())
                .collect();
            vec![
                Tile::new(pixels, image, caption.clone()),
                Tile::new(&size, [height, width, 1], "|attribution|".into()),
            ]
        })
        .collect();
    let bands = pairs
        .chunks(SALIENT_PER_BAND)
        .map(|band| Band {
            heading: String::new(),
            tiles: band.concat(),
        })
        .collect();
    let sheet = Sheet {
        title: title.to_owned(),
        bands,
    };
    save(dir, "saliency", &sheet)
}

/// The filters `[out, in, kh, kw]`, one tile per output channel.
fn filters<B: Backend>(name: &str, weights: Tensor<B, 4>) -> Sheet {
    let [out, inputs, kh, kw] = weights.dims();
    let values = values(weights.permute([0, 2, 3, 1]));
    let tiles = values
        .chunks(kh * kw * inputs)
        .map(|f| Tile::new(f, [kh, kw, inputs], String::new()))
        .collect();
    Sheet {
        title: format!("{name}: the first convolution's {out} filters ({kh}×{kw}×{inputs})"),
        bands: grid(tiles),
    }
}

/// The first shown row's image, then a band per block of its channels.
fn feature_maps<B: Backend>(
    model: &Network<B>,
    image: [usize; 3],
    shown: &Shown,
    scaler: &Scaler,
    device: &B::Device,
) -> Sheet {
    let width = shown.rows.width();
    let row = &shown.rows.features[..width];
    let x = crate::data::features_tensor(&scaler.features(row), width, device);
    let maps = model.block_maps(x).unwrap_or_default();
    let mut bands = vec![Band {
        heading: input_heading(shown),
        tiles: vec![Tile::new(row, image, String::new())],
    }];
    for (i, map) in maps.into_iter().enumerate() {
        let [_, h, w, c] = map.dims();
        let values = values(map);
        let drawn = c.min(MAX_CHANNELS);
        let tiles = (0..drawn)
            .map(|k| {
                let channel: Vec<f64> = values.iter().skip(k).step_by(c).copied().collect();
                Tile::new(&channel, [h, w, 1], String::new())
            })
            .collect();
        let channels = if drawn < c {
            format!("channels 1–{drawn} of {c}")
        } else {
            format!("{c} channels")
        };
        bands.push(Band {
            heading: format!("block {}: {h}×{w}, {channels}", i + 1),
            tiles,
        });
    }
    Sheet {
        title: format!(
            "{}: feature maps of the first {} row",
            shown.name, shown.part
        ),
        bands,
    }
}

/// "input: true circle, predicted square" over the first shown row's image, for classes.
fn input_heading(shown: &Shown) -> String {
    match (shown.predictions, &shown.rows.targets) {
        (Predictions::Classes { classes, .. }, TargetValues::Classes { indices, labels }) => {
            let (truth, predicted) = (&labels[indices[0]], &labels[classes[0]]);
            format!("input: true {truth}, predicted {predicted}")
        }
        _ => "input".into(),
    }
}

/// The shown rows whose predicted class is wrong, or `None` when the rows are not classes.
fn misclassified(image: [usize; 3], shown: &Shown) -> Option<Sheet> {
    let (Predictions::Classes { classes, .. }, TargetValues::Classes { indices, labels }) =
        (shown.predictions, &shown.rows.targets)
    else {
        return None;
    };
    let width = shown.rows.width();
    let wrong: Vec<usize> = (0..classes.len())
        .filter(|&i| classes[i] != indices[i])
        .collect();
    let tiles = wrong
        .iter()
        .take(MAX_WRONG)
        .map(|&i| {
            let row = &shown.rows.features[i * width..(i + 1) * width];
            let caption = format!("{} → {}", labels[indices[i]], labels[classes[i]]);
            Tile::new(row, image, caption)
        })
        .collect();
    let (n, part) = (classes.len(), shown.part);
    let mut bands = grid(tiles);
    if wrong.is_empty() {
        bands.push(Band {
            heading: format!("none of the {n} {part} rows was misclassified"),
            tiles: Vec::new(),
        });
    }
    let drawn = wrong.len().min(MAX_WRONG);
    Some(Sheet {
        title: format!(
            "{}: {} of {n} {part} rows misclassified (true → predicted), {drawn} shown",
            shown.name,
            wrong.len()
        ),
        bands,
    })
}

/// Rows of `image`-shaped pixels as a near-square grid of tiles in `stem`.png and .svg, each
/// tile under its caption: samples, or rows beside their reconstructions.
pub fn draw_image_rows(
    dir: &Path,
    stem: &str,
    title: String,
    rows: &[(&[f64], String)],
    image: [usize; 3],
) -> Result<()> {
    let tiles = rows
        .iter()
        .map(|(row, caption)| Tile::new(row, image, caption.clone()))
        .collect();
    save(
        dir,
        stem,
        &Sheet {
            title,
            bands: grid(tiles),
        },
    )
}

/// A tensor's values, row-major.
fn values<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f64> {
    let values: Vec<f32> = tensor
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 values");
    values.into_iter().map(f64::from).collect()
}

/// A small image, RGB, with a caption under it.
#[derive(Clone, Debug, PartialEq)]
struct Tile {
    height: usize,
    width: usize,
    /// Row-major pixels.
    rgb: Vec<[u8; 3]>,
    caption: String,
}

impl Tile {
    /// `values` of shape `[height, width, channels]`, channel last, stretched to their own
    /// min..max: three channels are RGB, any other number is drawn grey (their mean).
    fn new(values: &[f64], [height, width, channels]: [usize; 3], caption: String) -> Tile {
        let levels = stretch(values);
        let rgb = levels
            .chunks(channels.max(1))
            .map(|p| match p {
                &[r, g, b] if channels == 3 => [r, g, b],
                _ => {
                    let grey = p.iter().map(|&v| u32::from(v)).sum::<u32>() / p.len() as u32;
                    [grey as u8; 3]
                }
            })
            .collect();
        Tile {
            height,
            width,
            rgb,
            caption,
        }
    }
}

/// Maps `values` linearly onto 0..=255, the least finite value to 0 and the greatest to 255;
/// a constant tile (a dead channel) is black, as are non-finite values.
fn stretch(values: &[f64]) -> Vec<u8> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    values
        .iter()
        .map(|&v| {
            if hi > lo && v.is_finite() {
                (255.0 * (v - lo) / (hi - lo)).round() as u8
            } else {
                0
            }
        })
        .collect()
}

/// A row of tiles with a heading above it (none when empty).
struct Band {
    heading: String,
    tiles: Vec<Tile>,
}

impl Band {
    /// The pixels of the heading above the tiles.
    fn heading_height(&self) -> u32 {
        if self.heading.is_empty() { 0 } else { HEADING }
    }

    /// The pixels of text above and below the tiles.
    fn text_height(&self) -> u32 {
        let captions = self.tiles.iter().any(|t| !t.caption.is_empty());
        self.heading_height() + if captions { CAPTION } else { 0 }
    }
}

/// `tiles` in a near-square grid, the bands filled in order.
fn grid(tiles: Vec<Tile>) -> Vec<Band> {
    let columns = columns(tiles.len());
    let mut bands = Vec::new();
    let mut tiles = tiles.into_iter().peekable();
    while tiles.peek().is_some() {
        bands.push(Band {
            heading: String::new(),
            tiles: tiles.by_ref().take(columns).collect(),
        });
    }
    bands
}

/// Columns of a near-square grid of `n` tiles: ⌈√n⌉.
fn columns(n: usize) -> usize {
    (1..).find(|c| c * c >= n).unwrap_or(1)
}

/// A titled picture: bands of square tiles, stacked.
struct Sheet {
    title: String,
    bands: Vec<Band>,
}

impl Sheet {
    /// The layout on an area of `size` pixels: the cells as large as the widest band and the
    /// bands of tiles allow.
    fn layout(&self, size: (u32, u32)) -> Layout {
        let columns = self.bands.iter().map(|b| b.tiles.len()).max().unwrap_or(0);
        let rows = self.bands.iter().filter(|b| !b.tiles.is_empty()).count();
        let text: u32 = self.bands.iter().map(Band::text_height).sum();
        let (bands, columns) = (self.bands.len() as u32, columns.max(1) as u32);
        let width = size.0.saturating_sub(2 * MARGIN) / columns;
        let room = size.1.saturating_sub(MARGIN + text + (bands + 1) * GAP);
        let height = room / rows.max(1) as u32;
        let cell = width.saturating_sub(GAP).min(height).min(MAX_CELL);
        // Wide enough for a caption under each tile, no wider: the grid is centred.
        let pitch = width.min(cell + cell / 2 + GAP);
        let left = (size.0 - columns * pitch) / 2 + (pitch - cell) / 2;
        Layout { cell, pitch, left }
    }
}

/// Where a sheet's tiles go: square cells `cell` pixels wide, `pitch` apart, the first
/// column's left edge at `left`.
#[derive(Debug, PartialEq)]
struct Layout {
    cell: u32,
    pitch: u32,
    left: u32,
}

/// The pixels of `side` that part `i` of `n` equal parts covers: the parts tile the side
/// without gaps, however `n` divides it.
fn span(i: usize, n: usize, side: u32) -> (i32, i32) {
    let at = |i: usize| (i as u64 * u64::from(side) / n.max(1) as u64) as i32;
    (at(i), at(i + 1))
}

impl Figure for Sheet {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let area = root.titled(&self.title, (FONT, 22)).map_err(err)?;
        let layout = self.layout(area.dim_in_pixel());
        let heading = (FONT, 16).into_font().color(&BLACK);
        let mut y = GAP as i32;
        for band in &self.bands {
            if !band.heading.is_empty() {
                let at = (layout.left as i32, y);
                area.draw_text(&band.heading, &heading, at).map_err(err)?;
            }
            let top = y + band.heading_height() as i32;
            for (k, tile) in band.tiles.iter().enumerate() {
                let x = (layout.left + k as u32 * layout.pitch) as i32;
                draw_tile(&area, tile, (x, top), layout.cell)?;
            }
            let cell = if band.tiles.is_empty() {
                0
            } else {
                layout.cell
            };
            y += (band.text_height() + cell + GAP) as i32;
        }
        root.present().map_err(err)
    }
}

/// Draws `tile` into the `cell`-pixel square at `at` (its longer side fills the cell), framed,
/// with its caption centred under the cell.
fn draw_tile<D: DrawingBackend>(
    area: &DrawingArea<D, Shift>,
    tile: &Tile,
    (x, y): (i32, i32),
    cell: u32,
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
    let longer = tile.height.max(tile.width).max(1) as u32;
    let (w, h) = (
        cell * tile.width as u32 / longer,
        cell * tile.height as u32 / longer,
    );
    for (p, &[r, g, b]) in tile.rgb.iter().enumerate() {
        let (row, col) = (p / tile.width, p % tile.width);
        let ((x0, x1), (y0, y1)) = (span(col, tile.width, w), span(row, tile.height, h));
        let pixel = [(x + x0, y + y0), (x + x1, y + y1)];
        area.draw(&Rectangle::new(pixel, RGBColor(r, g, b).filled()))
            .map_err(err)?;
    }
    let frame = [(x - 1, y - 1), (x + w as i32, y + h as i32)];
    area.draw(&Rectangle::new(frame, BLACK.mix(0.3)))
        .map_err(err)?;
    if !tile.caption.is_empty() {
        let style = (FONT, 14)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        let at = (x + cell as i32 / 2, y + cell as i32 + 4);
        area.draw_text(&tile.caption, &style, at).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(caption: &str) -> Tile {
        Tile::new(&[0.0, 1.0, 2.0, 3.0], [2, 2, 1], caption.into())
    }

    #[test]
    fn each_tile_is_stretched_to_its_own_range() {
        assert_eq!(stretch(&[2.0, 4.0, 6.0]), [0, 128, 255]);
        assert_eq!(
            stretch(&[-1e-4, 1e-4]),
            [0, 255],
            "tiny filters fill the range too"
        );
        assert_eq!(stretch(&[5.0, 5.0]), [0, 0], "a dead channel is black");
        assert_eq!(stretch(&[f64::NAN, 0.0, 10.0]), [0, 0, 255]);

        let rgb = Tile::new(
            &[0.0, 10.0, 20.0, 40.0, 30.0, 0.0],
            [1, 2, 3],
            String::new(),
        );
        assert_eq!(
            rgb.rgb,
            [[0, 64, 128], [255, 191, 0]],
            "one range over all channels"
        );
        let grey = Tile::new(&[0.0, 4.0], [1, 2, 1], String::new());
        assert_eq!(grey.rgb, [[0; 3], [255; 3]]);
    }

    #[test]
    fn tiles_fill_a_near_square_grid() {
        let columns: Vec<usize> = [0, 1, 2, 4, 5, 16, 25, 26].map(columns).to_vec();
        assert_eq!(columns, [1, 1, 2, 2, 3, 4, 5, 6]);
        let bands = grid(vec![tile(""); 7]);
        let sizes: Vec<usize> = bands.iter().map(|b| b.tiles.len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        assert!(grid(Vec::new()).is_empty());
    }

    #[test]
    fn a_run_without_mistakes_still_gets_its_picture_saying_so() {
        let labels: Vec<String> = vec!["a".into(), "b".into()];
        let rows = Dataset {
            features: vec![0.0, 1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 0.0],
            feature_names: (0..4).map(|i| format!("p{i}")).collect(),
            target_name: "class".into(),
            targets: TargetValues::Classes {
                indices: vec![0, 1],
                labels: labels.clone(),
            },
        };
        let predictions = Predictions::Classes {
            classes: vec![0, 1],
            probabilities: vec![1.0, 0.0, 0.0, 1.0],
            labels,
        };
        let shown = Shown {
            name: "tiny",
            part: "validation",
            rows: &rows,
            predictions: &predictions,
        };
        let sheet = misclassified([2, 2, 1], &shown).unwrap();
        let [band] = &sheet.bands[..] else {
            panic!("one band, not {}", sheet.bands.len())
        };
        assert!(band.tiles.is_empty());
        assert_eq!(
            band.heading,
            "none of the 2 validation rows was misclassified"
        );
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), "misclassified", &sheet).unwrap();
        assert!(dir.path().join("misclassified.png").is_file());
    }

    #[test]
    fn pixels_cover_the_cell_without_gaps() {
        let spans: Vec<(i32, i32)> = (0..3).map(|i| span(i, 3, 10)).collect();
        assert_eq!(spans, [(0, 3), (3, 6), (6, 10)]);
        assert_eq!(span(27, 28, 56), (54, 56));
    }

    #[test]
    fn the_layout_fits_the_page_and_keeps_captions_apart() {
        let size = (1000, 570);
        let sheet = Sheet {
            title: String::new(),
            bands: grid(vec![tile("triangle → circle"); 25]),
        };
        let Layout { cell, pitch, left } = sheet.layout(size);
        assert!(cell >= 60, "tiles of {cell} pixels");
        assert!(pitch >= cell + cell / 2, "room for captions");
        assert!(left >= MARGIN && left + 4 * pitch + cell <= size.0 - MARGIN);
        let height = 6 * GAP + 5 * (cell + CAPTION);
        assert!(height <= size.1, "{height} pixels of bands");

        // Three filters of 3×3 stay small, centred; one wide band of 16 shrinks to fit.
        let few = Sheet {
            title: String::new(),
            bands: grid(vec![tile(""); 3]),
        };
        let Layout { cell, pitch, left } = few.layout(size);
        assert_eq!(cell, MAX_CELL);
        assert_eq!(left - (pitch - cell) / 2, (size.0 - 2 * pitch) / 2);
        let wide = Sheet {
            title: String::new(),
            bands: vec![Band {
                heading: "block 1".into(),
                tiles: vec![tile(""); 16],
            }],
        };
        let Layout { cell, pitch, .. } = wide.layout(size);
        assert_eq!((cell, pitch), (52, 60));
    }
}
