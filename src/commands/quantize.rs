//! `nnlab quantize`: a saved run's weights as int8 ([`crate::compress::quantize`]) in a new run
//! directory, measured beside the original: file size, score, load and predict times.

use std::path::Path;
use std::time::Instant;

use burn::tensor::backend::{AutodiffBackend, Backend};
use serde_json::json;

use crate::backend::{BackendJob, BackendName, run_on, run_on_host};
use crate::cli::QuantizeArgs;
use crate::compress::quantize::{QuantizeRecord, Scheme};
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::data::scale::Scaler;
use crate::error::{Error, Result};
use crate::eval::metrics::Evaluation;
use crate::eval::predict::{predict, score};
use crate::models::Network;
use crate::run_dir::record::write_atomic;
use crate::run_dir::{RunDir, RunInfo};

use super::input::Input;
use super::refuse_existing;

/// The table `quantize` writes into the new run.
pub const QUANTIZE_CSV: &str = "quantize.csv";

/// Runs of the one-row prediction timed; the median is reported.
const ONE_ROW_RUNS: usize = 25;
/// Runs of the batch prediction timed.
const BATCH_RUNS: usize = 6;

pub(super) fn quantize_command(args: QuantizeArgs) -> Result<()> {
    let from = RunDir::new(&args.checkpoint);
    let (config, info) = from.load_meta()?;
    super::refuse_generative(&config, &from.path.display().to_string(), "quantize")?;
    if let Some(scheme) = info.quantization {
        return Err(Error::Usage(format!(
            "{} is already quantized ({scheme}); quantize the run it was made from",
            from.path.display()
        )));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::beside(&args.checkpoint, &args.scheme.to_string()));
    if same_dir(&out, &from.path) {
        return Err(Error::Usage(format!(
            "--out {} is the checkpoint itself; choose another directory",
            out.display()
        )));
    }
    refuse_existing(&out, args.overwrite)?;
    let input = Input::given(&args.source);
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let job = QuantizeJob {
        from,
        out: RunDir::new(&out),
        config,
        info,
        input,
        scheme: args.scheme,
        batch_rows: args.batch_rows as usize,
        last: args.last,
    };
    let report = run_on(backend, job)?;
    let csv = report.csv()?;
    write_atomic(&out.join(QUANTIZE_CSV), &csv)?;
    println!(
        "{} quantized to {} ({} values int8) in {}\nscored on {}\n\n{}",
        args.checkpoint.display(),
        args.scheme,
        report.quantized_values,
        out.display(),
        report.rows_from,
        report.text()
    );
    Ok(())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

struct QuantizeJob {
    from: RunDir,
    out: RunDir,
    config: ExperimentConfig,
    info: RunInfo,
    input: Option<Input>,
    scheme: Scheme,
    batch_rows: usize,
    last: bool,
}

/// One model's column of the table.
struct Measured {
    file_bytes: u64,
    evaluation: Evaluation,
    load_ms: f64,
    one_row_ms: f64,
    batch_ms: f64,
}

struct Report {
    scheme: Scheme,
    float: Measured,
    int8: Measured,
    quantized_values: usize,
    batch_rows: usize,
    rows_from: String,
}

impl BackendJob for QuantizeJob {
    type Output = Report;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Report> {
        let QuantizeJob {
            from,
            out,
            config,
            info,
            input,
            scheme,
            batch_rows,
            last,
        } = self;
        let (data, rows_from) = Input::scored(input.as_ref(), &config, &info, None)?;
        let scaler = from.load_scaler(&info)?;
        let width = data.width();
        crate::memory::check(
            "--batch-rows",
            &format!("{batch_rows} rows of {width} features to time"),
            batch_rows as f64 * width as f64 * 12.0,
        )?;
        let start = Instant::now();
        let float = from.load_chosen::<B::InnerBackend>(&config, &info, last, &device)?;
        let float_load = start.elapsed();
        let bytes = float.to_bytes()?;
        let float_bytes = bytes.len() as u64;
        let (quantized, quantized_values) = run_on_host(QuantizeRecord {
            config: &config,
            bytes,
            scheme,
        })?;
        let int8_bytes = quantized.len() as u64;
        let mut summary = from.load_summary()?;
        summary["quantized_from"] = json!(from.path.display().to_string());
        summary["quantization"] = json!(scheme);
        let mut q_info = info.clone();
        q_info.quantization = Some(scheme);
        out.save_derived(&from, &q_info, quantized, &summary)?;
        let start = Instant::now();
        let (_, q_info) = out.load_meta()?;
        let int8 = out.load_chosen::<B::InnerBackend>(&config, &q_info, false, &device)?;
        let int8_load = start.elapsed();
        let timer = Timer {
            config: &config,
            info: &info,
            scaler: &scaler,
            data: &data,
            batch: repeated(&data.features, width, batch_rows),
            device: &device,
        };
        let [float, int8] = timer.measure(
            [&float, &int8],
            [float_bytes, int8_bytes],
            [float_load.as_secs_f64(), int8_load.as_secs_f64()],
        );
        Ok(Report {
            scheme,
            float,
            int8,
            quantized_values,
            batch_rows,
            rows_from,
        })
    }
}

/// `rows` rows of `width` values, cycling through `features`.
fn repeated(features: &[f64], width: usize, rows: usize) -> Vec<f64> {
    features
        .iter()
        .copied()
        .cycle()
        .take(rows * width)
        .collect()
}

/// Scores and times models on the same rows.
struct Timer<'a, B: Backend> {
    config: &'a ExperimentConfig,
    info: &'a RunInfo,
    scaler: &'a Scaler,
    data: &'a Dataset,
    batch: Vec<f64>,
    device: &'a B::Device,
}

impl<B: Backend> Timer<'_, B> {
    /// The median wall times of `runs` predictions of `rows` by each model, the two taking
    /// turns (so drift in the machine's speed falls on both alike), after one untimed run of
    /// each.
    fn predict_ms(&self, models: [&Network<B>; 2], rows: &[f64], runs: usize) -> [f64; 2] {
        let classes = self.info.classes.as_deref();
        let (width, loss) = (self.data.width(), self.config.loss.name);
        let run = |model| predict(model, loss, classes, self.scaler, rows, width, self.device);
        models.iter().for_each(|model| {
            run(model);
        });
        let mut times = [Vec::new(), Vec::new()];
        for round in 0..runs {
            // Each goes first in every other round: the second of a pair finds the first's
            // freed buffers warm.
            for i in [round % 2, 1 - round % 2] {
                let start = Instant::now();
                run(models[i]);
                times[i].push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
    }

    /// Both models' columns: `[float, quantized]`, each with its file size and load time.
    fn measure(
        &self,
        models: [&Network<B>; 2],
        bytes: [u64; 2],
        load_s: [f64; 2],
    ) -> [Measured; 2] {
        let (data, classes) = (self.data, self.info.classes.as_deref());
        let loss = self.config.loss.name;
        let one_row = self.predict_ms(models, &data.features[..data.width()], ONE_ROW_RUNS);
        let batch = self.predict_ms(models, &self.batch, BATCH_RUNS);
        [0, 1].map(|i| Measured {
            file_bytes: bytes[i],
            evaluation: score(models[i], loss, classes, self.scaler, data, self.device),
            load_ms: load_s[i] * 1e3,
            one_row_ms: one_row[i],
            batch_ms: batch[i],
        })
    }
}

impl Report {
    /// The table's rows: measure, float, int8, int8 / float.
    fn rows(&self) -> Vec<[String; 4]> {
        let (f, q) = (&self.float, &self.int8);
        let name = f.evaluation.score_name();
        let row = |what: String, a: f64, b: f64, digits: usize| {
            [
                what,
                format!("{a:.digits$}"),
                format!("{b:.digits$}"),
                format!("{:.3}", b / a),
            ]
        };
        vec![
            row(
                "file bytes".into(),
                f.file_bytes as f64,
                q.file_bytes as f64,
                0,
            ),
            row(name.into(), f.evaluation.score(), q.evaluation.score(), 4),
            row("load ms".into(), f.load_ms, q.load_ms, 3),
            row("1-row predict ms".into(), f.one_row_ms, q.one_row_ms, 3),
            row(
                format!("{}-row predict ms", self.batch_rows),
                f.batch_ms,
                q.batch_ms,
                3,
            ),
        ]
    }

    fn header(&self) -> Vec<String> {
        vec![
            "measure".into(),
            "float".into(),
            self.scheme.to_string(),
            "ratio".into(),
        ]
    }

    fn text(&self) -> String {
        let header = self.header();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = self.rows().into_iter().map(Vec::from).collect();
        crate::plot::charts::table(&header, &rows, &[0])
    }

    fn csv(&self) -> Result<Vec<u8>> {
        let rows: Vec<Vec<String>> = self.rows().into_iter().map(Vec::from).collect();
        super::csv_bytes(QUANTIZE_CSV, &self.header(), &rows)
    }
}
