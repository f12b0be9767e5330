//! Pictures and tables of training runs: loss curves as PNG and SVG, aligned text tables.

use std::path::Path;
use std::sync::Once;

use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::coord::ranged1d::AsRangedCoord;
use plotters::element::Rectangle;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::run_dir::record::write_atomic;

/// One line of a loss plot.
#[derive(Clone, Debug)]
pub struct Curve {
    pub label: String,
    /// (epoch, loss) points; points that are not positive and finite are left out, since the
    /// axis is logarithmic.
    pub points: Vec<(f64, f64)>,
    /// Index into the palette.
    pub color: usize,
    /// Dashed (validation) rather than solid (training).
    pub dashed: bool,
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
pub(super) const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans as plotters' sans-serif font, once per process, so plots
/// need no system fonts.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// A picture that can be drawn on any plotters backend.
/// A picture: drawn twice by [`save`], as SVG and as PNG, on a white area.
pub(super) trait Figure {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String>;
}

/// Draws `figure` to `stem.png` and `stem.svg` in `dir`, each written atomically.
pub(super) fn save(dir: &Path, stem: &str, figure: &impl Figure) -> Result<()> {
    register_font();
    let (png, svg) = (
        dir.join(format!("{stem}.png")),
        dir.join(format!("{stem}.svg")),
    );
    let plot_error = |path: &Path| {
        let path = path.to_path_buf();
        move |e: String| Error::Plot { path, message: e }
    };

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        on_white(figure, &root).map_err(plot_error(&svg))?;
    }
    write_atomic(&svg, text.as_bytes())?;

    let (w, h) = SIZE;
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        on_white(figure, &root).map_err(plot_error(&png))?;
    }
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&pixels, w, h, image::ColorType::Rgb8)
        .map_err(|e| plot_error(&png)(e.to_string()))?;
    write_atomic(&png, &bytes)
}

/// Draws `figure` on `root` filled white first, so that no figure fills it itself.
fn on_white<D: DrawingBackend>(
    figure: &impl Figure,
    root: &DrawingArea<D, Shift>,
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    figure.draw(root)
}

/// A chart of `x` and `y` coordinates on `D`.
pub(super) type Chart<'a, D, X, Y> = ChartContext<'a, D, Cartesian2d<X, Y>>;

/// The chart every picture with axes starts from: `title` above, `label_areas` (x, y)
/// pixels for the axes' labels, and the coordinates `x` and `y`.
pub(super) fn frame<'a, D: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    root: &'a DrawingArea<D, Shift>,
    title: &str,
    label_areas: (u32, u32),
    x: X,
    y: Y,
) -> std::result::Result<Chart<'a, D, X::CoordDescType, Y::CoordDescType>, String> {
    ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(label_areas.0)
        .y_label_area_size(label_areas.1)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())
}

/// Draws `curves` (loss against epoch, logarithmic loss axis) to `stem.png` and `stem.svg` in
/// `dir`.
pub fn plot_losses(dir: &Path, stem: &str, plot: &LossPlot, curves: &[Curve]) -> Result<()> {
    let curves: Vec<Curve> = curves.iter().map(|c| clip(c, plot.y_cap)).collect();
    save(dir, stem, &Losses { plot, curves })
}

struct Losses<'a> {
    plot: &'a LossPlot<'a>,
    curves: Vec<Curve>,
}

impl Figure for Losses<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        draw(root, self.plot, &self.curves)
    }
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
        points,
        ..curve.clone()
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

    let mut chart = frame(
        root,
        plot.title,
        (48, 80),
        0.0..x_max,
        (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
    )?;
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
    for curve in curves {
        let style = color(curve.color).stroke_width(2);
        let points = curve.points.iter().copied();
        let drawn = if curve.dashed {
            chart.draw_series(DashedLineSeries::new(points, 5, 5, style))
        } else {
            chart.draw_series(LineSeries::new(points, style))
        };
        let dashed = curve.dashed;
        drawn
            .map_err(err)?
            .label(curve.label.as_str())
            .legend(move |(x, y)| {
                if dashed {
                    PathElement::new(vec![(x, y), (x + 8, y)], style)
                } else {
                    PathElement::new(vec![(x, y), (x + 24, y)], style)
                }
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(err)
}

/// The span of the finite `values`, widened by 5% on each side (to ±1 around a single value),
/// for a chart's axis.
pub(super) fn value_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let finite = values.filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo < hi {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let pad = 0.05 * (hi - lo);
    (lo - pad)..(hi + pad)
}

/// Draws the legend of `chart`'s labelled series in the house style.
pub(super) fn legend<'a, D: DrawingBackend + 'a, C: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, D, C>,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(|e| e.to_string())
}

/// Matplotlib's ten "tab" colours, told apart easily; then plotters' palette.
pub(super) fn color(i: usize) -> RGBAColor {
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

/// Ticks for a logarithmic axis over [lo, hi]: 1, 2, (3,) 5 times each power of ten when the
/// range spans few decades, else the powers of ten alone.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let steps: &[f64] = match last - first {
        0..=2 => &[1.0, 2.0, 3.0, 5.0],
        3 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    (first..=last)
        .flat_map(|e| steps.iter().map(move |m| m * 10f64.powi(e)))
        .filter(|t| (lo..=hi).contains(t))
        .collect()
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

/// Predicted against actual values, with the line y = x that a perfect model would sit on.
pub fn plot_predicted_vs_actual(
    dir: &Path,
    title: &str,
    target: &str,
    points: &[(f64, f64)],
) -> Result<()> {
    save(
        dir,
        "predicted_vs_actual",
        &Scatter {
            title,
            target,
            points,
        },
    )
}

struct Scatter<'a> {
    title: &'a str,
    target: &'a str,
    /// (actual, predicted).
    points: &'a [(f64, f64)],
}

impl Figure for Scatter<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let range = value_range(self.points.iter().flat_map(|&(a, p)| [a, p]));
        let mut chart = frame(root, self.title, (48, 80), range.clone(), range.clone())?;
        chart
            .configure_mesh()
            .x_desc(format!("actual {}", self.target))
            .y_desc(format!("predicted {}", self.target))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(range.start, range.start), (range.end, range.end)],
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(err)?
            .label("predicted = actual")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.mix(0.5)));
        let dot = color(0).mix(0.6).filled();
        chart
            .draw_series(
                self.points
                    .iter()
                    .filter(|(a, p)| a.is_finite() && p.is_finite())
                    .map(|&(a, p)| Circle::new((a, p), 3, dot)),
            )
            .map_err(err)?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(err)
    }
}

/// A confusion matrix as a heat map: each cell shaded by its share of the true class's rows
/// and labelled with its count.
pub fn plot_confusion(
    dir: &Path,
    title: &str,
    labels: &[String],
    matrix: &[Vec<usize>],
) -> Result<()> {
    save(
        dir,
        "confusion",
        &Confusion {
            title,
            labels,
            matrix,
        },
    )
}

struct Confusion<'a> {
    title: &'a str,
    labels: &'a [String],
    matrix: &'a [Vec<usize>],
}

impl Figure for Confusion<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let k = self.labels.len();
        let mut chart = frame(root, self.title, (56, 120), 0.0..k as f64, 0.0..k as f64)?;
        let labels = self.labels;
        // Row 0 (the first true class) at the top.
        let name = move |v: &f64, flip: bool| {
            let i = v.floor() as usize;
            let i = if flip { k.saturating_sub(1 + i) } else { i };
            if (v - v.floor() - 0.5).abs() < 1e-9 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * k + 1)
            .y_labels(2 * k + 1)
            .x_label_formatter(&|v| name(v, false))
            .y_label_formatter(&|v| name(v, true))
            .x_desc("predicted class")
            .y_desc("true class")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        for (t, row) in self.matrix.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f64;
            for (p, &count) in row.iter().enumerate() {
                let share = count as f64 / total;
                let (x, y) = (p as f64, (k - 1 - t) as f64);
                let shade = RGBColor(
                    (255.0 - share * (255.0 - 31.0)) as u8,
                    (255.0 - share * (255.0 - 119.0)) as u8,
                    (255.0 - share * (255.0 - 180.0)) as u8,
                );
                chart
                    .draw_series([Rectangle::new([(x, y), (x + 1.0, y + 1.0)], shade.filled())])
                    .map_err(err)?;
                let ink = if share > 0.5 { WHITE } else { BLACK };
                let text = Text::new(
                    count.to_string(),
                    (x + 0.5, y + 0.5),
                    (FONT, 20)
                        .into_font()
                        .color(&ink)
                        .pos(plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        )),
                );
                chart.draw_series([text]).map_err(err)?;
            }
        }
        root.present().map_err(err)
    }
}

/// The class a 2-D classifier gives each cell of a grid, with the training points over it.
pub struct Regions<'a> {
    pub title: &'a str,
    pub axes: (&'a str, &'a str),
    pub labels: &'a [String],
    /// The grid's x and y ranges.
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// Cells per side.
    pub cells: usize,
    /// The predicted class of each cell, row by row from the bottom.
    pub classes: &'a [usize],
    /// (x, y, true class) of the points to draw.
    pub points: &'a [(f64, f64, usize)],
}

/// Draws the decision regions of a 2-D classifier to `decision_regions.png` and `.svg`.
pub fn plot_regions(dir: &Path, regions: &Regions) -> Result<()> {
    save(dir, "decision_regions", regions)
}

impl Figure for Regions<'_> {
    fn draw<D: DrawingBackend>(
        &self,
        root: &DrawingArea<D, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<D::ErrorType>| e.to_string();
        let mut chart = frame(
            root,
            self.title,
            (48, 64),
            self.x.0..self.x.1,
            self.y.0..self.y.1,
        )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.axes.0)
            .y_desc(self.axes.1)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        let n = self.cells;
        let (dx, dy) = (
            (self.x.1 - self.x.0) / n as f64,
            (self.y.1 - self.y.0) / n as f64,
        );
        let cells = self.classes.iter().enumerate().map(|(i, &c)| {
            let (col, row) = ((i % n) as f64, (i / n) as f64);
            let (x, y) = (self.x.0 + col * dx, self.y.0 + row * dy);
            Rectangle::new([(x, y), (x + dx, y + dy)], color(c).mix(0.25).filled())
        });
        chart.draw_series(cells).map_err(err)?;
        for (c, label) in self.labels.iter().enumerate() {
            let style = color(c).filled();
            chart
                .draw_series(
                    self.points
                        .iter()
                        .filter(|p| p.2 == c)
                        .map(|&(x, y, _)| Circle::new((x, y), 3, style)),
                )
                .map_err(err)?
                .label(label.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, style));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)
    }
}
