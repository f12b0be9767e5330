//! Pictures and tables of training runs: loss curves as PNG and SVG, aligned text tables.

use std::path::Path;
use std::sync::Once;

use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::checkpoint::write_atomic;
use crate::error::{Error, Result};

/// One line of a loss plot.
#[derive(Clone, Debug)]
pub struct Curve {
    pub label: String,
    /// (epoch, loss) points; points that are not positive and finite are left out, since the
    /// axis is logarithmic.
    pub points: Vec<(f64, f64)>,
}

/// What a loss plot shows besides its curves.
pub struct LossPlot<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    /// Losses above this are off the chart: a diverging curve is drawn up to the top edge and
    /// stops there, so it does not squash the others into a line.
    pub y_cap: f64,
}

const SIZE: (u32, u32) = (1000, 620);
const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans as plotters' sans-serif font, once per process, so plots
/// need no system fonts.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Draws `curves` (loss against epoch, logarithmic loss axis) to `png` and `svg`, each written
/// atomically.
pub fn plot_losses(png: &Path, svg: &Path, plot: &LossPlot, curves: &[Curve]) -> Result<()> {
    register_font();
    let curves: Vec<Curve> = curves.iter().map(|c| clip(c, plot.y_cap)).collect();
    let plot_error = |path: &Path| {
        let path = path.to_path_buf();
        move |e: String| Error::Plot { path, message: e }
    };

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, plot, &curves).map_err(plot_error(svg))?;
    }
    write_atomic(svg, text.as_bytes())?;

    let (w, h) = SIZE;
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, plot, &curves).map_err(plot_error(png))?;
    }
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&pixels, w, h, image::ColorType::Rgb8)
        .map_err(|e| plot_error(png)(e.to_string()))?;
    write_atomic(png, &bytes)
}

/// The curve's points that can be drawn under `cap`: positive and finite, up to the first
/// point above the cap, which is pulled down onto it.
fn clip(curve: &Curve, cap: f64) -> Curve {
    let mut points = Vec::new();
    for &(x, y) in &curve.points {
        if y.is_nan() {
            break;
        }
        if y > cap || y.is_infinite() {
            points.push((x, cap));
            break;
        }
        if y > 0.0 {
            points.push((x, y));
        }
    }
    Curve {
        label: curve.label.clone(),
        points,
    }
}

fn draw<D: DrawingBackend>(
    root: &DrawingArea<D, Shift>,
    plot: &LossPlot,
    curves: &[Curve],
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
    let ys = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1));
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo / 1.5, (hi * 1.5).min(plot.y_cap))
    } else {
        (0.1, 1.0)
    };
    let hi = if hi > lo { hi } else { lo * 10.0 };
    let x_max = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);

    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(plot.title, (FONT, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x_max, (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(plot.y_label)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(TRANSPARENT)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    for (i, curve) in curves.iter().enumerate() {
        let color = color(i);
        chart
            .draw_series(LineSeries::new(
                curve.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(curve.label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Matplotlib's ten "tab" colours, told apart easily; then plotters' palette.
fn color(i: usize) -> RGBAColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    match TAB10.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b).to_rgba(),
        None => Palette99::pick(i).to_rgba(),
    }
}

/// A tick label of a logarithmic axis: plain decimals where short, else scientific.
fn tick(v: f64) -> String {
    if (1e-3..1e4).contains(&v) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// A plain-text table with a rule under the header; the columns listed in `left` are
/// left-aligned, the others (numbers) right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>], left: &[usize]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if left.contains(&i) {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    out += &line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}
