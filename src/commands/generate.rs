//! `nnlab generate`: new rows from a VAE or a GAN, in the input's columns and units.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::eval::generative;
use crate::run_dir::RunDir;
use crate::run_dir::record::write_atomic;

use super::csv_bytes;
use super::encode::{Table, print_csv};

/// The most rows one call generates: beyond it, call again with another seed.
pub const MAX_COUNT: usize = 1_000_000;

/// The most values (rows × columns) one call generates, so that a wide row cannot turn a
/// large count into more memory than the machine has.
pub const MAX_VALUES: usize = 20_000_000;

struct GenerateJob {
    dir: RunDir,
    count: usize,
    seed: u64,
    last: bool,
}

/// Refuses a count of 0 or above [`MAX_COUNT`], naming the flag.
pub fn check_count(count: usize) -> Result<()> {
    if count == 0 || count > MAX_COUNT {
        return Err(Error::Usage(format!(
            "--count must be between 1 and {MAX_COUNT}, got {count}"
        )));
    }
    Ok(())
}

/// The samples, and the image shape of their rows for a run trained on images.
type Samples = (Table, Option<[usize; 3]>);

impl BackendJob for GenerateJob {
    type Output = Samples;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Samples> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let width = info.feature_names.len();
        if self.count.saturating_mul(width) > MAX_VALUES {
            return Err(Error::Usage(format!(
                "--count {} rows of {width} values is above the {MAX_VALUES} values one call \
                 writes: ask for at most {} rows",
                self.count,
                MAX_VALUES / width.max(1)
            )));
        }
        let Some(rows) = generative::generate(&model, &scaler, self.count, self.seed, &device)
        else {
            return Err(Error::Usage(format!(
                "generate needs a VAE or a GAN, but {} holds {} (--model {}){}",
                self.dir.path.display(),
                if config.model.is_generative() {
                    "an autoencoder"
                } else {
                    "a model with a target"
                },
                config.model.kind_name(),
                if config.model.reconstructs() {
                    ": its codes have no distribution to draw from; train --model vae"
                } else {
                    ""
                }
            )));
        };
        let table = Table {
            header: info.feature_names.clone(),
            rows: rows
                .chunks(width)
                .map(|r| r.iter().map(f64::to_string).collect())
                .collect(),
        };
        let image = config.model.image();
        Ok((table, image.map(|s| [s.height, s.width, s.channels])))
    }
}

pub(super) fn generate_command(args: GenerateArgs) -> Result<()> {
    check_count(args.count)?;
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let job = GenerateJob {
        dir: RunDir::new(&args.checkpoint),
        count: args.count,
        seed: args.seed,
        last: args.last,
    };
    let (table, image) = run_on(backend, job)?;
    let Some(path) = args.out else {
        return print_csv(&table);
    };
    write_csv(&path, &table)?;
    if let Some(image) = image {
        write_grid(&path, &table, image)?;
    }
    Ok(())
}

/// The first 64 samples of an image run as a grid, in FILE.png and FILE.svg beside FILE.csv.
fn write_grid(path: &Path, table: &Table, image: [usize; 3]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map_or("samples".into(), |s| s.to_string_lossy());
    let rows: Vec<Vec<f64>> = table
        .rows
        .iter()
        .take(64)
        .map(|r| r.iter().map(|v| v.parse().unwrap_or(f64::NAN)).collect())
        .collect();
    let tiles: Vec<(&[f64], String)> = rows.iter().map(|r| (&r[..], String::new())).collect();
    let title = format!("{} of {} samples", tiles.len(), table.rows.len());
    crate::plot::images::draw_image_rows(dir, &stem, title, &tiles, image)?;
    eprintln!("drew them in {}", dir.join(format!("{stem}.png")).display());
    Ok(())
}

/// Writes a table to `path`, atomically.
pub(super) fn write_csv(path: &Path, table: &Table) -> Result<()> {
    let name = path.display().to_string();
    let bytes = csv_bytes(&name, &table.header, &table.rows)?;
    write_atomic(path, &bytes)?;
    eprintln!("wrote {} rows to {name}", table.rows.len());
    Ok(())
}
