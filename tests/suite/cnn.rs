//! Convolutional networks through every command: resume, predict, eval, cv, gradcheck and
//! fine-tuning treat a CNN as they treat an MLP, and its run directory gets pictures of its
//! filters, feature maps and mistakes. (tests/examples.rs runs `examples/cnn.rs`:
//! on images a CNN learns what a dense network of its size does not.)

use std::path::Path;

use nnlab::backend::BackendName;
use nnlab::data::{Builtin, Dataset, TargetValues};
use nnlab::models::Network;
use nnlab::run_dir::RunDir;
use nnlab::train::augment::Augment;
use nnlab::train::fit;

use crate::common;

use common::Cpu;

#[test]
fn resuming_a_cnn_gives_the_weights_of_an_uninterrupted_run() {
    let device = Default::default();
    // Augmented, so that the resumed run must also draw the moves and mirrors it would have.
    let augment = Augment::parse("shift=2,flip").unwrap();
    let (mut full, data) = common::shapes_cnn(4);
    full.training.augment = augment;
    let straight = fit::<Cpu>(&full, &data, &device, None, false).unwrap();

    let (mut half, _) = common::shapes_cnn(2);
    half.training.augment = augment;
    let first = fit::<Cpu>(&half, &data, &device, None, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = common::save_run(
        dir.path(),
        BackendName::default_compiled(),
        &half,
        &data,
        &first,
    );
    let (config, info) = run.load_meta().unwrap();
    assert!(matches!(config.model, nnlab::models::ModelConfig::Cnn(_)));
    let config = config
        .clone()
        .with_training(config.training.clone().with_epochs(4));
    let resume = run.load_resume::<Cpu>(&config, &info, &device).unwrap();
    let resumed = fit::<Cpu>(&config, &data, &device, Some(resume), false).unwrap();

    assert_eq!(resumed.steps, straight.steps);
    let diff = common::max_abs_diff(
        &common::parameters(&resumed.model),
        &common::parameters(&straight.model),
    );
    assert!(diff <= 1e-6, "resumed CNN weights differ by {diff}");
}

/// The pictures a CNN run directory gets beyond an MLP's.
const PICTURES: [&str; 3] = ["filters", "feature_maps", "misclassified"];

/// Checks that `stem.png` in `run` is a whole picture with something drawn on it, and that
/// `stem.svg` is beside it.
fn assert_picture(run: &Path, stem: &str) {
    let png = run.join(format!("{stem}.png"));
    let picture = image::open(&png)
        .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
        .to_rgb8();
    assert_eq!(picture.dimensions(), (1000, 620), "{stem}.png");
    let inked = picture.pixels().filter(|p| p.0 != [255; 3]).count();
    assert!(inked > 500, "{stem}.png has {inked} drawn pixels");
    let svg = std::fs::read_to_string(run.join(format!("{stem}.svg"))).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<rect"),
        "{stem}.svg"
    );
}

/// `explain --method integrated-gradients` on a CNN: one attribution per pixel that adds up to
/// the change in the answer, and `saliency.png` beside each image.
fn explain_draws_saliency_maps(run: &Path, csv: &Path, out: &Path) {
    let printed = common::stdout(
        common::nnlab()
            .args(["explain", "--method", "integrated-gradients", "--rows", "6"])
            .arg("--checkpoint")
            .arg(run)
            .arg("--input")
            .arg(csv)
            .arg("--out")
            .arg(out),
    );
    assert!(printed.contains("6 rows"), "{printed}");
    assert_picture(out, "saliency");
    let table = std::fs::read_to_string(out.join("attributions.csv")).unwrap();
    let rows: Vec<Vec<f64>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(2).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter().all(|r| r.len() == 3 + 16 * 16),
        "{}",
        rows[0].len()
    );
    let off: f64 = rows
        .iter()
        .map(|r| (r[3..].iter().sum::<f64>() - (r[0] - r[1])).abs())
        .sum();
    let gap: f64 = rows.iter().map(|r| (r[0] - r[1]).abs()).sum();
    eprintln!(
        "CNN completeness error at 200 steps, pooled over 6 rows: {}",
        off / gap
    );
    assert!(off < 0.02 * gap, "{}", off / gap);
}

/// Writes `data` as a CSV file with a header row, the target last.
/// A CNN's kernels quantized with one scale per output channel keep its score, and pruning
/// zeroes exactly half of its weights.
fn quantize_and_prune_a_cnn(run: &Path, csv: &Path, dir: &Path) {
    let out = dir.join("quantized");
    common::nnlab()
        .args([
            "quantize",
            "--scheme",
            "int8-per-channel",
            "--batch-rows",
            "50",
        ])
        .arg("--checkpoint")
        .arg(run)
        .arg("--input")
        .arg(csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let table = std::fs::read_to_string(out.join("quantize.csv")).unwrap();
    let accuracy: Vec<f64> = table
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(accuracy[1] >= accuracy[0] - 0.05, "{table}");
    let out = dir.join("pruned");
    common::nnlab()
        .args(["prune", "--sparsity", "0.5", "--fine-tune-epochs", "1"])
        .arg("--checkpoint")
        .arg(run)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let table = std::fs::read_to_string(out.join("prune.csv")).unwrap();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split(',').collect();
    let (zeros, weights): (usize, usize) = (row[1].parse().unwrap(), row[2].parse().unwrap());
    assert_eq!(zeros, (weights as f64 * 0.5).round() as usize, "{table}");
}

fn write_csv(path: &Path, data: &Dataset) {
    let TargetValues::Classes { indices, labels } = &data.targets else {
        unreachable!("image data is labelled")
    };
    let mut text = data.feature_names.join(",") + "," + &data.target_name + "\n";
    for (row, &class) in data.features.chunks(data.width()).zip(indices) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.4}")).collect();
        text += &format!("{},{}\n", cells.join(","), labels[class]);
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn predict_eval_cv_and_fine_tuning_work_on_pixel_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("shapes.csv");
    write_csv(&csv, &Builtin::Shapes.load(150, 0.1, 3, 1));
    let run = dir.path().join("run");
    let cnn = [
        "--model", "cnn", "--image", "16x16", "--conv", "4,8", "--dense", "16",
    ];
    common::nnlab()
        .args(["train", "--data"])
        .arg(&csv)
        .args(["--target", "shape", "--epochs", "3", "--quiet", "--out"])
        .arg(&run)
        .args(cnn)
        .assert()
        .success();
    let config = common::json(&run.join("config.json"));
    assert_eq!(config["model"]["kind"], "cnn");
    assert_eq!(config["model"]["image"]["height"], 16);
    assert_eq!(config["model"]["conv"][1]["channels"], 8);
    for stem in PICTURES {
        assert_picture(&run, stem);
    }

    let mlp = dir.path().join("mlp");
    common::nnlab()
        .args(["train", "--data"])
        .arg(&csv)
        .args(["--target", "shape", "--epochs", "1", "--quiet", "--out"])
        .arg(&mlp)
        .args([
            "--model",
            "mlp",
            "--hidden",
            "4",
            "--task",
            "classification",
        ])
        .assert()
        .success();
    assert!(mlp.join("confusion.png").is_file());
    for stem in PICTURES {
        let png = mlp.join(format!("{stem}.png"));
        assert!(!png.exists(), "an MLP run got {}", png.display());
    }

    explain_draws_saliency_maps(&run, &csv, &dir.path().join("explained"));
    quantize_and_prune_a_cnn(&run, &csv, dir.path());

    let printed = common::stdout(&mut common::predict_command(&run, &csv));
    let header = printed.lines().next().unwrap();
    assert!(
        header.contains("circle"),
        "probabilities per class: {header}"
    );
    let rows = common::predicted_rows(&run, &csv);
    assert_eq!(rows.len(), 150, "a class per image");
    assert!(rows.iter().all(|r| {
        ["circle", "square", "triangle"]
            .iter()
            .any(|c| r.contains(&c.to_string()))
    }));

    let eval = common::stdout(
        common::nnlab()
            .args(["eval", "--checkpoint"])
            .arg(&run)
            .arg("--input")
            .arg(&csv),
    );
    assert!(eval.contains("accuracy"), "{eval}");

    let cv = dir.path().join("cv");
    common::nnlab()
        .args(["cv", "--folds", "3", "--data"])
        .arg(&csv)
        .args(["--target", "shape", "--epochs", "2", "--quiet", "--out"])
        .arg(&cv)
        .args(cnn)
        .assert()
        .success();
    let report = common::json(&cv.join("cv.json"));
    assert_eq!(report["folds"].as_array().unwrap().len(), 3);
    assert!(report["mean"].as_f64().unwrap() > 0.0, "{report}");

    // Transfer learning: the convolutions frozen, the dense head trained further.
    let tuned = dir.path().join("tuned");
    common::nnlab()
        .args(["train", "--data"])
        .arg(&csv)
        .args([
            "--target", "shape", "--epochs", "2", "--quiet", "--freeze", "0,1",
        ])
        .arg("--init-from")
        .arg(&run)
        .arg("--out")
        .arg(&tuned)
        .args(cnn)
        .assert()
        .success();
    let weights = |dir: &Path| {
        let run = RunDir::new(dir);
        let (config, _) = run.load_meta().unwrap();
        let model = run
            .load_model::<<common::Cpu as burn::tensor::backend::AutodiffBackend>::InnerBackend>(
                &config,
                &Default::default(),
            )
            .unwrap();
        let Network::Cnn(cnn) = model else {
            unreachable!("a CNN run")
        };
        (
            common::parameters(&cnn.convs),
            common::parameters(&cnn.dense),
        )
    };
    let (before, after) = (weights(&run), weights(&tuned));
    assert_eq!(before.0, after.0, "frozen convolutions moved");
    assert_ne!(before.1, after.1, "the dense head did not train");
}

/// Writes `data` (16×16 grey pixels near 0..1) as PNG files, one folder per class, and as an
/// IDX3/IDX1 pair holding the same bytes in the folder's order (classes, then files by name).
fn write_images(dir: &Path, data: &Dataset) -> (std::path::PathBuf, std::path::PathBuf) {
    let TargetValues::Classes { indices, labels } = &data.targets else {
        unreachable!("image data is labelled")
    };
    let bytes: Vec<Vec<u8>> = data
        .features
        .chunks(data.width())
        .map(|row| {
            row.iter()
                .map(|v| (v * 255.0).clamp(0.0, 255.0) as u8)
                .collect()
        })
        .collect();
    let (mut pixels, mut classes) = (Vec::new(), Vec::new());
    for (class, label) in labels.iter().enumerate() {
        std::fs::create_dir_all(dir.join("folder").join(label)).unwrap();
        let rows = indices.iter().enumerate().filter(|(_, c)| **c == class);
        for (i, (row, _)) in rows.enumerate() {
            let path = dir.join("folder").join(label).join(format!("{i:03}.png"));
            image::GrayImage::from_raw(16, 16, bytes[row].clone())
                .unwrap()
                .save(path)
                .unwrap();
            pixels.extend(&bytes[row]);
            classes.push(class as u8);
        }
    }
    let n = (classes.len() as u32).to_be_bytes();
    let images = [
        &[0, 0, 8, 3],
        &n[..],
        &16u32.to_be_bytes(),
        &16u32.to_be_bytes(),
    ]
    .concat();
    let (idx_images, idx_labels) = (dir.join("images.idx"), dir.join("labels.idx"));
    std::fs::write(&idx_images, [images, pixels].concat()).unwrap();
    std::fs::write(&idx_labels, [&[0, 0, 8, 1], &n[..], &classes].concat()).unwrap();
    (idx_images, idx_labels)
}

/// The cells of each CSV row `command` prints, header left out.
fn csv_rows(command: &mut assert_cmd::Command) -> Vec<Vec<String>> {
    let printed = common::stdout(command);
    let rows = printed.lines().skip(1);
    rows.map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn image_folders_and_idx_files_train_predict_and_eval_alike() {
    let dir = tempfile::tempdir().unwrap();
    let data = Builtin::Shapes.load(90, 0.1, 3, 2);
    let (idx_images, idx_labels) = write_images(dir.path(), &data);
    let folder = dir.path().join("folder");
    let small = ["--conv", "4", "--dense", "8", "--epochs", "2", "--quiet"];
    // Image files alone choose a CNN, classification and pixel scaling.
    let run = dir.path().join("run");
    common::nnlab()
        .args(["train", "--images"])
        .arg(&folder)
        .args(small)
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let config = common::json(&run.join("config.json"));
    assert_eq!(config["model"]["kind"], "cnn");
    assert_eq!(config["model"]["image"]["width"], 16);
    assert_eq!(config["preprocess"]["features"], "pixels");
    assert_eq!(config["loss"]["name"], "cross_entropy");
    assert!(Path::new(config["data"]["images"].as_str().unwrap()).is_absolute());

    // The folder and the IDX file hold the same bytes in the same order, so the run must
    // predict the same classes and probabilities for both.
    let predict = |flag: &str, path: &Path| {
        let mut command = common::nnlab();
        command
            .args(["predict", "--checkpoint"])
            .arg(&run)
            .arg(flag)
            .arg(path);
        csv_rows(&mut command)
    };
    let from_folder = predict("--images", &folder);
    let from_idx = predict("--idx-images", &idx_images);
    assert_eq!(from_folder.len(), 90);
    assert_eq!(from_folder[0][0], "circle/000.png");
    assert_eq!(from_idx[89][0], "89");
    for (a, b) in from_folder.iter().zip(&from_idx) {
        assert_eq!(a[1..], b[1..], "{} and image {}", a[0], b[0]);
    }
    let one = predict("--images", &folder.join("square").join("001.png"));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0][0], "001.png");

    // eval agrees with predict, from the folder and from the IDX pair, whose labels are the
    // class numbers (so a run trained on it names its classes "0", "1", "2").
    let eval_accuracy = |run: &Path, source: &[&std::ffi::OsStr]| {
        let mut command = common::nnlab();
        command
            .args(["eval", "--json", "--checkpoint"])
            .arg(run)
            .args(source);
        let metrics: serde_json::Value =
            serde_json::from_str(&common::stdout(&mut command)).unwrap();
        metrics["classification"]["accuracy"].as_f64().unwrap()
    };
    let right = from_folder
        .iter()
        .filter(|r| r[0].starts_with(&format!("{}/", r[1])))
        .count() as f64;
    let accuracy = eval_accuracy(&run, &["--images".as_ref(), folder.as_ref()]);
    assert!((accuracy - right / 90.0).abs() < 1e-9, "{accuracy}");

    let idx_run = dir.path().join("idx_run");
    common::nnlab()
        .args(["train", "--idx-images"])
        .arg(&idx_images)
        .arg("--idx-labels")
        .arg(&idx_labels)
        .args(small)
        .arg("--out")
        .arg(&idx_run)
        .assert()
        .success();
    let config = common::json(&idx_run.join("config.json"));
    assert_eq!(config["model"]["image"]["height"], 16);
    assert_eq!(common::json(&idx_run.join("run.json"))["classes"][2], "2");
    let mut command = common::nnlab();
    command
        .args(["predict", "--checkpoint"])
        .arg(&idx_run)
        .arg("--idx-images")
        .arg(&idx_images);
    let names = ["circle", "square", "triangle"];
    let right = csv_rows(&mut command)
        .iter()
        .zip(&from_folder)
        .filter(|(r, f)| f[0].starts_with(&format!("{}/", names[r[1].parse::<usize>().unwrap()])))
        .count() as f64;
    let source = [
        "--idx-images".as_ref(),
        idx_images.as_ref(),
        "--idx-labels".as_ref(),
        idx_labels.as_ref(),
    ];
    let accuracy = eval_accuracy(&idx_run, &source);
    assert!((accuracy - right / 90.0).abs() < 1e-9, "{accuracy}");

    // A class folder the run never saw is refused, naming it.
    std::fs::rename(folder.join("circle"), folder.join("star")).unwrap();
    let out = common::nnlab()
        .args(["eval", "--checkpoint"])
        .arg(&run)
        .arg("--images")
        .arg(&folder)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("class `star`") && err.contains("circle, square, triangle"),
        "{err}"
    );
}

/// The optimizer race on a CNN: each variant is a CNN that starts from the same weights, so
/// their first losses agree and then the rules pull them apart.
#[test]
fn compare_races_optimizers_on_a_cnn() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("race");
    let output = common::nnlab()
        .args(["compare", "--dataset", "shapes", "--samples", "120"])
        .args(["--model", "cnn", "--conv", "4", "--dense", "8"])
        .args([
            "--optimizer",
            "sgd,adam",
            "--epochs",
            "3",
            "--validation",
            "0.2",
        ])
        .args(["-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        common::json(&out.join("config.json"))["model"]["kind"],
        "cnn"
    );
    let (_, rows) = common::read_history(&out.join("history.csv"));
    let at = |rule: &str, e: &str| -> f64 {
        let row = rows
            .iter()
            .find(|r| r["optimizer"] == rule && r["epoch"] == e);
        row.unwrap_or_else(|| panic!("{rule} at epoch {e}"))["train_loss"]
            .parse()
            .unwrap()
    };
    assert_eq!(at("sgd", "0"), at("adam", "0"), "the same initial weights");
    assert_ne!(
        at("sgd", "3"),
        at("adam", "3"),
        "different rules, different weights"
    );
    let summary = common::json(&out.join("summary.json"));
    assert_eq!(summary["complete"], true, "{summary}");
}
