//! Every bad input of docs/reliability.md through the real binary: the exit code (2 for
//! usage, 1 at run time), one line on stderr that names the file, line or field, and no panic.
//!
//! `NNLAB_RELIABILITY_TABLE=FILE cargo test --test bad_input` also writes the cases and the
//! messages seen as the Markdown rows of that document's table.

use std::fmt::Write as _;
use std::path::Path;

mod common;
use common::nnlab;

/// One case: what it is, the arguments, the exit code and a piece of the message.
struct Case {
    what: &'static str,
    args: Vec<String>,
    code: i32,
    needle: String,
}

fn case(what: &'static str, args: &[&str], code: i32, needle: &str) -> Case {
    Case {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        needle: needle.into(),
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn every_bad_input_is_one_line_with_the_right_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, content: &str| {
        let path = d.join(name);
        std::fs::write(&path, content).unwrap();
        text(&path)
    };
    let run = d.join("run");
    common::train_run(
        &run,
        &[
            "--dataset",
            "moons",
            "--samples",
            "40",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--quiet",
        ],
    );
    let quantized = d.join("quantized");
    nnlab()
        .args(["quantize", "--batch-rows", "10", "--checkpoint"])
        .arg(&run)
        .arg("--out")
        .arg(&quantized)
        .assert()
        .success();
    let (run, quantized) = (text(&run), text(&quantized));
    let student = text(&d.join("student"));
    let cnn_run = d.join("cnn-run");
    common::train_run(
        &cnn_run,
        &[
            "--dataset",
            "shapes",
            "--samples",
            "30",
            "--model",
            "cnn",
            "--conv",
            "2",
            "--dense",
            "4",
            "--epochs",
            "1",
            "--quiet",
        ],
    );
    let cnn_run = text(&cnn_run);
    let series_run = d.join("series-run");
    common::train_run(
        &series_run,
        &[
            "--dataset",
            "noisy_sine",
            "--samples",
            "40",
            "--window",
            "10",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--quiet",
        ],
    );
    let series_run = text(&series_run);
    let steps: String = (0..30).map(|t| format!("{t},{}\n", t % 7)).collect();
    let series = write("series.csv", &format!("t,y\n{steps}"));
    let gap = write("gap.csv", "t,y\n0,1\n1,\n2,3\n");
    let word = write("word.csv", "t,y\n0,1\n1,2\n2,high\n");
    let short = write("short.csv", "y\n1\n2\n3\n");
    let texts = write("texts.csv", "text,label\ngood film,pos\nbad film,neg\n");
    let blank = write("blank.csv", "text,label\n,pos\n \"  \",neg\n");
    let text_run = |extra: &[&str]| -> Vec<String> {
        let base = [
            "train", "--data", &texts, "--text", "text", "--target", "label",
        ];
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let reviews: String = (0..30)
        .map(|i| ["good film,pos\n", "bad film,neg\n", "fine good film,pos\n"][i % 3])
        .collect();
    let reviews = write("reviews.csv", &format!("text,label\n{reviews}"));
    let trained_text = text(&d.join("text-run"));
    nnlab()
        .args([
            "train", "--data", &reviews, "--text", "text", "--target", "label",
        ])
        .args(["--epochs", "1", "--quiet", "--out", &trained_text])
        .assert()
        .success();
    let good_csv = write("good.csv", "x,y\n1,2\n2,4\n3,6\n4,8\n");
    let empty = write("empty.csv", "");
    let not_numeric = write("words.csv", "x,y\n1,2\nfoo,4\n");
    let ragged = write("ragged.csv", "x,y\n1,2\n3\n");
    let syntax = write("syntax.json", "{\n  \"training\": {\"epochs\": 3,}\n}\n");
    let unknown = write("unknown.json", r#"{"training": {"epoch": 3}}"#);
    let wrong_type = write("type.json", r#"{"training": {"epochs": "three"}}"#);
    let two_columns = write("two.csv", "x1,x2,x3\n0.1,0.2,0.3\n");
    let labelled_moons = write("moons.csv", "x1,x2,class\n0.1,0.2,0\n1.5,-0.3,1\n");
    let wrong_names = write("names.csv", "a,b\n0.1,0.2\n");
    let a_file = write("a-file", "");
    let floats = write("floats.csv", "x,y\n1,0.5\n2,1.25\n3,2.75\n4,3.5\n");
    let labelled = write(
        "labelled.csv",
        "x,y\n1,a\n2,a\n3,a\n4,b\n5,b\n6,a\n7,a\n8,a\n",
    );
    let partial = write("partial.json", r#"{"data": {"dataset": "iris"}}"#);
    let not_object = write("number.json", "5");
    let fresh = |name: &str| text(&d.join(name));
    let duplicate = write("duplicate.csv", "a,a,y\n1,2,3\n");
    let duplicate_input = write("duplicate-input.csv", "x1,x2,x1\n0.1,0.2,0.3\n");
    let semicolons = write("semicolons.csv", "a;b;y\n1;2;3\n");
    let dir_text = text(d);
    let images = ImageFolders::new(d);

    // Damaged copies of the run, one file each.
    let damaged = |name: &str, file: &str, change: &dyn Fn(Vec<u8>) -> Vec<u8>| {
        let copy = d.join(name);
        std::fs::create_dir_all(&copy).unwrap();
        for entry in std::fs::read_dir(&run).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
            }
        }
        let bytes = std::fs::read(copy.join(file)).unwrap();
        std::fs::write(copy.join(file), change(bytes)).unwrap();
        text(&copy)
    };
    let truncated = damaged("truncated", "model.mpk", &|b| b[..b.len() / 2].to_vec());
    // One byte of a weight changed: the file still decodes, the checksum notices.
    let altered = damaged("altered", "model.mpk", &|mut b| {
        let last = b.len() - 1;
        b[last] ^= 0x40;
        b
    });
    let resized = damaged("resized", "config.json", &|b| {
        String::from_utf8(b)
            .unwrap()
            .replacen(
                "\"hidden\": [\n      4\n    ]",
                "\"hidden\": [\n      5\n    ]",
                1,
            )
            .into_bytes()
    });
    let more_classes = damaged("more-classes", "run.json", &|b| {
        let mut info: serde_json::Value = serde_json::from_slice(&b).unwrap();
        info["classes"].as_array_mut().unwrap().push("2".into());
        serde_json::to_vec(&info).unwrap()
    });
    let old_format = damaged("old-format", "run.json", &|b| {
        String::from_utf8(b)
            .unwrap()
            .replacen("\"format_version\": 2", "\"format_version\": 1", 1)
            .into_bytes()
    });

    fn train<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        [&["train", "--dataset", "moons", "--quiet"], extra].concat()
    }
    fn train_cnn<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let shapes = ["train", "--dataset", "shapes", "--samples", "30", "--quiet"];
        [&shapes[..], &["--model", "cnn"], extra].concat()
    }
    /// `train` on data files alone.
    fn train_from<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        [&["train", "--quiet"], extra].concat()
    }
    fn predict<'a>(run: &'a str, input: &'a str) -> Vec<&'a str> {
        vec!["predict", "--checkpoint", run, "--input", input]
    }
    let cases = vec![
        case(
            "missing data file",
            &["train", "--data", "no-such.csv", "--target", "y"],
            1,
            "no-such.csv",
        ),
        case(
            "empty data file",
            &["train", "--data", &empty, "--target", "y"],
            1,
            "empty.csv",
        ),
        case(
            "a directory given as the data file",
            &["train", "--data", &dir_text, "--target", "y"],
            1,
            &dir_text,
        ),
        case(
            "a cell that is not a number",
            &["train", "--data", &not_numeric, "--target", "y"],
            1,
            "line 3",
        ),
        case(
            "a row with too few fields",
            &["train", "--data", &ragged, "--target", "y"],
            1,
            "ragged.csv",
        ),
        case(
            "a target column that is not there",
            &["train", "--data", &good_csv, "--target", "z"],
            1,
            "`z`",
        ),
        case(
            "a header that names a column twice",
            &["train", "--data", &duplicate, "--target", "y"],
            1,
            "column `a`",
        ),
        case(
            "a `;`-separated file read with `--delimiter ,`",
            &[
                "train",
                "--data",
                &semicolons,
                "--target",
                "y",
                "--delimiter",
                ",",
            ],
            1,
            "--delimiter ';'",
        ),
        case(
            "a delimiter of two characters",
            &train(&["--delimiter", "ab"]),
            2,
            "--delimiter",
        ),
        case(
            "a thread count of 0",
            &train(&["--threads", "0"]),
            2,
            "--threads",
        ),
        case(
            "explain with 0 shuffles",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &two_columns,
                "--repeats",
                "0",
            ],
            2,
            "--repeats",
        ),
        case(
            "integrated gradients of a text run from a mean baseline",
            &[
                "explain",
                "--checkpoint",
                &trained_text,
                "--input",
                &reviews,
                "--method",
                "integrated-gradients",
                "--baseline",
                "mean",
            ],
            2,
            "--baseline mean or FILE does not apply to token ids",
        ),
        case(
            "integrated gradients over 0 steps",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &two_columns,
                "--method",
                "integrated-gradients",
                "--steps",
                "0",
            ],
            2,
            "--steps",
        ),
        case(
            "an integrated-gradients baseline file without one of the run's columns",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &labelled_moons,
                "--method",
                "integrated-gradients",
                "--baseline",
                &write("baseline-x1.csv", "x1\n0.5\n"),
            ],
            1,
            "no column `x2`",
        ),
        case(
            "an integrated-gradients baseline file of two rows",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &labelled_moons,
                "--method",
                "integrated-gradients",
                "--baseline",
                &write("baseline-two.csv", "x1,x2\n0.5,1\n0,0\n"),
            ],
            1,
            "holds 2 rows; a baseline is one row of the run's feature columns",
        ),
        case(
            "attributing a class the run does not have",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &labelled_moons,
                "--method",
                "gradient",
                "--class",
                "7",
            ],
            2,
            "--class 7: the run's classes are 0, 1",
        ),
        case(
            "a class with permutation importance",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &labelled_moons,
                "--class",
                "1",
            ],
            2,
            "permutation importance measures the drop in the whole score",
        ),
        case(
            "explain writing into a run directory",
            &[
                "explain",
                "--checkpoint",
                &run,
                "--input",
                &two_columns,
                "--out",
                &run,
            ],
            2,
            "holds a run, a comparison or a cross-validation; choose another --out",
        ),
        case(
            "quantizing a quantized run",
            &["quantize", "--checkpoint", &quantized],
            2,
            "is already quantized (int8); quantize the run it was made from",
        ),
        case(
            "quantize writing over its own checkpoint",
            &["quantize", "--checkpoint", &run, "--out", &run],
            2,
            "is the checkpoint itself; choose another directory",
        ),
        case(
            "quantize timing more rows than fit in memory",
            &[
                "quantize",
                "--checkpoint",
                &run,
                "--out",
                &student,
                "--batch-rows",
                "4000000000",
            ],
            2,
            "`--batch-rows` asks for 4000000000 rows of 2 features to time",
        ),
        case(
            "resuming a quantized run",
            &["train", "--resume", &quantized, "--epochs", "5"],
            2,
            "predict but do not resume",
        ),
        case(
            "pruning to a sparsity of 1",
            &["prune", "--checkpoint", &run, "--sparsity", "0.5,1"],
            2,
            "1 is outside [0, 1)",
        ),
        case(
            "pruning to a negative sparsity",
            &["prune", "--checkpoint", &run, "--sparsity", "-0.1"],
            2,
            "-0.1 is outside [0, 1)",
        ),
        case(
            "a teacher whose columns differ from the student's data",
            &[
                "distill",
                "--teacher",
                &run,
                "--dataset",
                "iris",
                "--out",
                &student,
            ],
            2,
            "but the student's data has",
        ),
        case(
            "distilling at temperature 0",
            &[
                "distill",
                "--teacher",
                &run,
                "--temperature",
                "0",
                "--out",
                &student,
            ],
            2,
            "loss.distill.temperature",
        ),
        case(
            "distilling with α outside [0, 1]",
            &[
                "distill",
                "--teacher",
                &run,
                "--alpha",
                "1.5",
                "--out",
                &student,
            ],
            2,
            "loss.distill.alpha",
        ),
        case(
            "missing config file",
            &["train", "--config", "no-such.json"],
            1,
            "no-such.json",
        ),
        case(
            "config: JSON syntax error",
            &["train", "--config", &syntax],
            1,
            "line 2",
        ),
        case(
            "config: unknown field",
            &["train", "--config", &unknown],
            2,
            "epoch",
        ),
        case(
            "config: wrong type",
            &["train", "--config", &wrong_type],
            2,
            "training.epochs",
        ),
        case("epochs 0", &train(&["--epochs", "0"]), 2, "training.epochs"),
        case(
            "learning rate 0",
            &train(&["--lr", "0"]),
            2,
            "optimizer.learning_rate",
        ),
        case(
            "learning rate below 0",
            &train(&["--lr", "-0.1"]),
            2,
            "optimizer.learning_rate",
        ),
        case(
            "learning rate NaN",
            &train(&["--lr", "NaN"]),
            2,
            "optimizer.learning_rate",
        ),
        case(
            "batch size 0",
            &train(&["--batch-size", "0"]),
            2,
            "training.batch_size",
        ),
        case(
            "batch size above the training rows (trains on them all, with a note)",
            &train(&["--samples", "40", "--batch-size", "41", "--epochs", "1"])
                .into_iter()
                .chain(["--out", &fresh("big-batch")])
                .collect::<Vec<_>>(),
            0,
            "",
        ),
        case(
            "hidden size 0",
            &train(&["--hidden", "0"]),
            2,
            "model.hidden",
        ),
        case("dropout 1", &train(&["--dropout", "1"]), 2, "model.dropout"),
        case(
            "dropout below 0",
            &train(&["--dropout=-0.5"]),
            2,
            "model.dropout",
        ),
        case(
            "checkpoint every 0 epochs",
            &train(&["--checkpoint-every", "0"]),
            2,
            "training.checkpoint_every",
        ),
        case(
            "unknown optimizer",
            &train(&["--optimizer", "adamw2"]),
            2,
            "adam",
        ),
        case(
            "unknown loss",
            &train(&["--loss", "hinge"]),
            2,
            "cross_entropy",
        ),
        case(
            "unknown activation",
            &train(&["--activation", "swish"]),
            2,
            "relu",
        ),
        case(
            "unknown dataset",
            &["train", "--dataset", "mnist"],
            2,
            "moons",
        ),
        case(
            "a loss that does not fit the task",
            &train(&["--loss", "mse"]),
            2,
            "loss.name",
        ),
        case(
            "binary cross-entropy on 3 classes",
            &[
                "train",
                "--dataset",
                "iris",
                "--loss",
                "binary_cross_entropy",
            ],
            2,
            "needs exactly 2 classes, but `species` has 3",
        ),
        case(
            "a classification loss on a target of non-integer numbers",
            &[
                "train",
                "--data",
                &floats,
                "--target",
                "y",
                "--task",
                "classification",
            ],
            2,
            "non-integer numbers",
        ),
        case(
            "a regression loss on text labels",
            &[
                "train", "--data", &labelled, "--target", "y", "--loss", "mse",
            ],
            1,
            "--task classification",
        ),
        case(
            "--init-from a run with another number of classes",
            &[
                "train",
                "--dataset",
                "blobs",
                "--samples",
                "40",
                "--hidden",
                "4",
                "--init-from",
                &run,
            ],
            2,
            "has 2 outputs",
        ),
        case(
            "cv folds of fewer than 2 rows (regression)",
            &["cv", "--dataset", "linear", "--folds", "60"],
            2,
            "2 per held-out fold",
        ),
        case(
            "cv with a class smaller than the folds",
            &[
                "cv",
                "--data",
                &labelled,
                "--target",
                "y",
                "--task",
                "classification",
                "--folds",
                "3",
            ],
            2,
            "class `b` has only 2 row(s)",
        ),
        case(
            "a model too large for memory",
            &train(&["--hidden", "200000,200000"]),
            2,
            "GB of memory",
        ),
        case(
            "batches whose activations cannot fit in memory",
            &train(&[
                "--samples",
                "100000",
                "--hidden",
                "1000000",
                "--batch-size",
                "full",
            ]),
            2,
            "training.batch_size",
        ),
        case(
            "a generated dataset too large for memory",
            &train(&["--samples", "100000000000"]),
            2,
            "data.samples",
        ),
        case(
            "`datasets NAME` of more rows than memory holds as CSV",
            &["datasets", "moons", "--samples", "100000000000"],
            2,
            "data.samples",
        ),
        case(
            "`datasets NAME --out` into a folder that does not exist",
            &[
                "datasets",
                "iris",
                "--out",
                &fresh("no-such-folder/iris.csv"),
            ],
            1,
            "no-such-folder/iris.csv",
        ),
        case(
            "`datasets --samples N` (or `--out`, `--noise`, `--classes`, `--data-seed`) without a NAME",
            &["datasets", "--samples", "50"],
            2,
            "required arguments were not provided",
        ),
        case(
            "config with only a built-in dataset (defaults follow its task)",
            &[
                "train",
                "--config",
                &partial,
                "--epochs",
                "1",
                "--out",
                &fresh("partial"),
            ],
            0,
            "",
        ),
        case(
            "predict input with a missing column",
            &predict(&run, &wrong_names),
            1,
            "x1",
        ),
        case(
            "predict input with an extra column",
            &predict(&run, &two_columns),
            0,
            "",
        ),
        case(
            "predict input that names a column twice",
            &predict(&run, &duplicate_input),
            1,
            "column `x1`",
        ),
        case(
            "predict from a directory that holds no run",
            &[
                "predict",
                "--checkpoint",
                &dir_text,
                "--input",
                &two_columns,
            ],
            1,
            "run.json",
        ),
        case(
            "truncated weights file",
            &[
                "predict",
                "--checkpoint",
                &truncated,
                "--input",
                &two_columns,
            ],
            1,
            "model.mpk",
        ),
        case(
            "altered weights file (one byte of a weight)",
            &["predict", "--checkpoint", &altered, "--input", &two_columns],
            1,
            "checksum",
        ),
        case(
            "config whose layers do not match the weights",
            &["predict", "--checkpoint", &resized, "--input", &two_columns],
            1,
            "model.mpk",
        ),
        case(
            "run whose outputs cannot name its classes (binary cross-entropy on 3 classes, as earlier versions saved)",
            &[
                "predict",
                "--checkpoint",
                &more_classes,
                "--input",
                &two_columns,
            ],
            1,
            "cannot name them",
        ),
        case(
            "run directory of another format version",
            &["info", &old_format],
            1,
            "format version",
        ),
        case(
            "output directory that cannot be written",
            &train(&["--out", &format!("{a_file}/run")]),
            1,
            "a-file",
        ),
        case(
            "CNN image shape that does not fit the rows",
            &train_cnn(&["--image", "8x9"]),
            2,
            "8x9x1 holds 72 values but each row has 256",
        ),
        case(
            "CNN on rows that are no square image, without --image",
            &train(&["--model", "cnn"]),
            2,
            "--image HxW",
        ),
        case(
            "CNN flag given to an MLP",
            &train(&["--conv", "8"]),
            2,
            "--conv does not apply to --model mlp",
        ),
        case(
            "CNN kernel of even size with same padding",
            &train_cnn(&["--kernel", "4"]),
            2,
            "model.conv[0].kernel",
        ),
        case(
            "CNN checkpoint given a table of the wrong width",
            &predict(&cnn_run, &good_csv),
            1,
            "px_0_0",
        ),
        case(
            "image folder with a corrupt PNG",
            &train_from(&["--images", &images.corrupt]),
            1,
            "dog/bad.png: cannot decode image",
        ),
        case(
            "image folder with a truncated PNG",
            &train_from(&["--images", &images.truncated]),
            1,
            "dog/cut.png: cannot decode image",
        ),
        case(
            "image folder with an empty class folder",
            &train_from(&["--images", &images.empty_class]),
            1,
            "dog: class folder has no images",
        ),
        case(
            "image folder with no images",
            &train_from(&["--images", &images.no_images]),
            1,
            "has no class subfolders",
        ),
        case(
            "images of mixed sizes without --image",
            &train_from(&["--images", &images.mixed]),
            1,
            "pass --image HxW",
        ),
        case(
            "IDX image and label files whose counts disagree",
            &train_from(&[
                "--idx-images",
                &images.idx3,
                "--idx-labels",
                &images.idx1_of_3,
            ]),
            1,
            "holds 3 labels but",
        ),
        case(
            "IDX images without their labels",
            &train_from(&["--idx-images", &images.idx3]),
            2,
            "--idx-labels",
        ),
        case(
            "IDX images of another size than the run's at predict",
            &[
                "predict",
                "--checkpoint",
                &cnn_run,
                "--idx-images",
                &images.idx3,
            ],
            1,
            "holds 2x3x1 images but the run was trained on 16x16x1",
        ),
        case(
            "images given to a run not trained on images",
            &["predict", "--checkpoint", &run, "--images", &images.mixed],
            1,
            "not trained on images",
        ),
        case(
            "image folder with a class the run never saw, at eval",
            &["eval", "--checkpoint", &cnn_run, "--images", &images.mixed],
            1,
            "holds class `cat`",
        ),
        case(
            "augmentation of a model that does not read images",
            &train(&["--augment", "shift=2"]),
            2,
            "training.augment",
        ),
        case(
            "augmentation that is not shift=N or flip",
            &train_cnn(&["--augment", "rotate=5"]),
            2,
            "`rotate=5` is not shift=N, flip or none",
        ),
        case(
            "augmentation that moves images by their whole size",
            &train_cnn(&["--augment", "shift=16"]),
            2,
            "training.augment.shift",
        ),
        case(
            "a series window longer than the series",
            &[
                "train", "--data", &series, "--series", "y", "--window", "50",
            ],
            2,
            "data.window",
        ),
        case(
            "a gap in a series column",
            &["train", "--data", &gap, "--series", "y", "--window", "1"],
            1,
            "gap.csv, line 3, column `y`: is empty: a series needs every step",
        ),
        case(
            "text in a series column",
            &["train", "--data", &word, "--series", "y", "--window", "1"],
            1,
            "word.csv, line 4, column `y`: `high` is not a number",
        ),
        case(
            "predict on a series shorter than the run's window",
            &["predict", "--checkpoint", &series_run, "--input", &short],
            1,
            "give at least 10 rows",
        ),
        case(
            "two series columns and no --target",
            &["train", "--data", &series, "--series", "t,y"],
            2,
            "name the one to forecast with --target",
        ),
        case(
            "--window without a series",
            &train(&["--window", "5"]),
            2,
            "apply to a series",
        ),
        case(
            "--horizon without a series",
            &train(&["--horizon", "3"]),
            2,
            "apply to a series",
        ),
        case(
            "--time without a series read from a CSV file",
            &["train", "--dataset", "airline", "--time", "month"],
            2,
            "--time names the date column of a series read from a CSV file",
        ),
        case(
            "--horizon 0",
            &[
                "train",
                "--data",
                &series,
                "--series",
                "y",
                "--horizon",
                "0",
            ],
            2,
            "`data.horizon` must be at least 1",
        ),
        case(
            "a horizon that leaves too few windows",
            &[
                "train",
                "--data",
                &series,
                "--series",
                "y",
                "--window",
                "5",
                "--horizon",
                "40",
            ],
            2,
            "data.series",
        ),
        case(
            "--drop-missing with a series",
            &[
                "train",
                "--data",
                &series,
                "--series",
                "y",
                "--drop-missing",
            ],
            2,
            "data.drop_missing",
        ),
        case(
            "predict --steps on a run not trained on a series",
            &[
                "predict",
                "--checkpoint",
                &run,
                "--input",
                &good_csv,
                "--steps",
                "2",
            ],
            2,
            "was not trained on one",
        ),
        case(
            "attention heads that do not divide d_model",
            &train(&["--model", "transformer", "--d-model", "10", "--heads", "4"]),
            2,
            "model.heads",
        ),
        case(
            "a flag of another model family",
            &train(&["--model", "lstm", "--conv", "8"]),
            2,
            "--conv does not apply to --model lstm",
        ),
        case(
            "--steps that does not divide a row",
            &train(&["--model", "gru", "--steps", "3"]),
            2,
            "--steps 3 does not divide the 2 values",
        ),
        case(
            "a text column that is empty in every row",
            &[
                "train", "--data", &blank, "--text", "text", "--target", "label",
            ],
            2,
            "blank.csv holds no word in any row",
        ),
        case(
            "--max-len 0",
            &text_run(&["--max-len", "0"])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            2,
            "data.max_len",
        ),
        case(
            "--text without --target",
            &["train", "--data", &texts, "--text", "text"],
            2,
            "--text needs --target",
        ),
        case(
            "text read by a model that cannot read it",
            &text_run(&["--model", "mlp"])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            2,
            "--model mlp cannot read text",
        ),
        case(
            "--tokens without text",
            &train(&["--tokens", "char"]),
            2,
            "apply to text",
        ),
        case(
            "config file that is not a JSON object",
            &["train", "--config", &not_object],
            1,
            "number.json: must be a JSON object",
        ),
        case(
            "run directory that already exists",
            &train(&["--out", &run]),
            2,
            "--overwrite",
        ),
    ];
    let mut cases = cases;
    cases.extend(generative_cases(d, &run, &images.mixed));

    let mut table = String::new();
    for c in &cases {
        let output = nnlab().args(&c.args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let shown = stderr.trim();
        assert_eq!(output.status.code(), Some(c.code), "{}: {stderr}", c.what);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", c.what);
        if c.code != 0 {
            assert!(stderr.contains(&c.needle), "{}: {stderr}", c.what);
            // clap's own errors add a usage hint and a pointer to --help under the message.
            let first = shown.lines().next().unwrap_or_default();
            assert!(first.starts_with("error: "), "{}: {stderr}", c.what);
            if !shown.contains("For more information, try '--help'") {
                assert_eq!(shown.lines().count(), 1, "{}: {stderr}", c.what);
            }
        }
        let first = shown.lines().next().unwrap_or("(nothing: exit 0)");
        let first = first.replace(&dir_text, "DIR").replace('|', "\\|");
        writeln!(table, "| {} | {} | `` {} `` |", c.what, c.code, first).unwrap();
    }
    if let Some(path) = std::env::var_os("NNLAB_RELIABILITY_TABLE") {
        std::fs::write(path, table).unwrap();
    }
}

/// The refusals of the models without a target; `classifier` is a run of another kind.
fn generative_cases(d: &Path, classifier: &str, mixed_images: &str) -> Vec<Case> {
    let quick = ["--samples", "40", "--epochs", "1", "--quiet", "--out"];
    let trained = |name: &str, data: &str, model: &str| {
        let out = text(&d.join(name));
        let args = ["train", "--dataset", data, "--model", model];
        nnlab().args(args).args(quick).arg(&out).assert().success();
        out
    };
    let (ae, gan) = (
        trained("ae", "moons", "autoencoder"),
        trained("gan", "ring", "gan"),
    );
    let rows = d.join("xy.csv");
    std::fs::write(&rows, "x1,x2\n0.5,0.25\n").unwrap();
    let rows = text(&rows);
    let vae = |extra: &[&str]| {
        let args = ["train", "--dataset", "moons", "--model", "vae", "--quiet"];
        [&args[..], extra]
            .iter()
            .flat_map(|a| a.iter().map(|s| s.to_string()))
            .collect::<Vec<_>>()
    };
    let owned = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let on_rows = |extra: &[&str]| {
        let args = [
            "train",
            "--data",
            &rows,
            "--model",
            "autoencoder",
            "--quiet",
        ];
        owned(&[&args[..], extra].concat())
    };
    let cases = [
        (
            "`generate` on an autoencoder",
            owned(&["generate", "--checkpoint", &ae]),
            "no distribution to draw from",
        ),
        (
            "`generate` on a classifier",
            owned(&["generate", "--checkpoint", classifier]),
            "generate needs a VAE or a GAN",
        ),
        (
            "`encode` on a classifier",
            owned(&["encode", "--checkpoint", classifier, "--input", &rows]),
            "encode needs an autoencoder",
        ),
        (
            "`encode` on a GAN",
            owned(&["encode", "--checkpoint", &gan, "--input", &rows]),
            "it has no encoder",
        ),
        (
            "`predict` on a GAN",
            owned(&["predict", "--checkpoint", &gan, "--input", &rows]),
            "nnlab generate",
        ),
        (
            "`eval` on a GAN",
            owned(&["eval", "--checkpoint", &gan, "--input", &rows]),
            "eval needs an autoencoder",
        ),
        (
            "`generate --count 0`",
            owned(&["generate", "--checkpoint", &gan, "--count", "0"]),
            "--count must be between 1",
        ),
        (
            "`generate --count` above the limit",
            owned(&["generate", "--checkpoint", &gan, "--count", "1000001"]),
            "--count must be between 1",
        ),
        ("`--latent 0`", vae(&["--latent", "0"]), "model.latent"),
        (
            "`--color-by` a column the file lacks",
            on_rows(&["--latent", "2", "--color-by", "nosuch"]),
            "no column `nosuch`",
        ),
        (
            "`--color-by` with a code of more than 2 values",
            on_rows(&["--latent", "3", "--color-by", "x1"]),
            "2-D latent space",
        ),
        (
            "`--color-by` a column among `--features`",
            on_rows(&["--latent", "2", "--features", "x1,x2", "--color-by", "x1"]),
            "also among data.features",
        ),
        (
            "`--color-by` for a model without a code",
            owned(&[
                "train",
                "--data",
                &rows,
                "--model",
                "gan",
                "--color-by",
                "x1",
            ]),
            "autoencoder or a VAE",
        ),
        (
            "`--conv` for a table's autoencoder or GAN",
            vae(&["--conv", "8"]),
            "model.conv` needs image rows",
        ),
        (
            "more convolution stages than the image allows",
            owned(&[
                "train",
                "--dataset",
                "shapes",
                "--model",
                "gan",
                "--conv",
                "4,4,4,4,4",
            ]),
            "allows at most 4",
        ),
        (
            "`--target` with a model without a target",
            owned(&["train", "--data", &rows, "--model", "vae", "--target", "x1"]),
            "--target does not apply",
        ),
        (
            "a loss other than mse for an autoencoder",
            vae(&["--loss", "mae"]),
            "must be mse",
        ),
        (
            "a GAN flag for a VAE",
            vae(&["--d-steps", "2"]),
            "--d-steps does not apply",
        ),
        (
            "held-out rows for a GAN",
            owned(&[
                "train",
                "--dataset",
                "ring",
                "--model",
                "gan",
                "--test",
                "0.2",
            ]),
            "training.test_fraction",
        ),
        (
            "`--latent` for an MLP",
            owned(&["train", "--dataset", "moons", "--latent", "2"]),
            "--latent does not apply",
        ),
        (
            "`quantize` on an autoencoder",
            owned(&[
                "quantize",
                "--checkpoint",
                &ae,
                "--out",
                &text(&d.join("q")),
            ]),
            "quantize scores predictions of a target",
        ),
        (
            "`prune` on a GAN",
            owned(&["prune", "--checkpoint", &gan, "--sparsity", "0.5"]),
            "prune scores predictions of a target",
        ),
        (
            "`explain` on an autoencoder",
            owned(&["explain", "--checkpoint", &ae, "--input", &rows]),
            "explain scores predictions of a target",
        ),
        (
            "`distill` from an autoencoder",
            owned(&["distill", "--teacher", &ae]),
            "distill scores predictions of a target",
        ),
        (
            "`cv` of a VAE",
            vae(&["--folds", "3"])
                .iter()
                .skip(1)
                .fold(owned(&["cv"]), |mut a, s| {
                    a.push(s.clone());
                    a
                }),
            "cv scores predictions of a target",
        ),
        (
            "`eval --anomaly-label` on a classifier",
            owned(&[
                "eval",
                "--checkpoint",
                classifier,
                "--input",
                &rows,
                "--anomaly-label",
                "x1",
            ]),
            "--anomaly-label scores an autoencoder's",
        ),
        (
            "`eval --anomaly-label` naming a column that is not 0 or 1",
            owned(&[
                "eval",
                "--checkpoint",
                &ae,
                "--input",
                &rows,
                "--anomaly-label",
                "x1",
            ]),
            "an anomaly label is 1 (anomaly) or 0",
        ),
        (
            "images of mixed sizes for an autoencoder without --image",
            owned(&["train", "--images", mixed_images, "--model", "autoencoder"]),
            "pass --image HxW",
        ),
    ];
    cases
        .into_iter()
        .map(|(what, args, needle)| Case {
            what,
            args,
            // A data file's problem is a run-time error.
            code: match ["pass --image", "an anomaly", "no column"]
                .iter()
                .any(|start| needle.starts_with(start))
            {
                true => 1,
                false => 2,
            },
            needle: needle.into(),
        })
        .collect()
}

/// Image folders and IDX files that each break one rule.
struct ImageFolders {
    corrupt: String,
    truncated: String,
    empty_class: String,
    no_images: String,
    mixed: String,
    idx3: String,
    idx1_of_3: String,
}

impl ImageFolders {
    fn new(d: &Path) -> ImageFolders {
        let png = |path: &Path, side: u32| {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            image::GrayImage::new(side, side).save(path).unwrap();
        };
        let folder = |name: &str| {
            let dir = d.join(name);
            png(&dir.join("cat").join("a.png"), 8);
            std::fs::create_dir_all(dir.join("dog")).unwrap();
            dir
        };
        let corrupt = folder("corrupt");
        std::fs::write(corrupt.join("dog").join("bad.png"), "not a png").unwrap();
        let truncated = folder("truncated");
        let cut = truncated.join("dog").join("cut.png");
        png(&cut, 64);
        let bytes = std::fs::read(&cut).unwrap();
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let empty_class = folder("empty-class");
        let no_images = d.join("no-images");
        std::fs::create_dir_all(&no_images).unwrap();
        let mixed = folder("mixed");
        png(&mixed.join("dog").join("b.png"), 10);
        let idx = |name: &str, header: &[u32], data: &[u8]| {
            let mut bytes: Vec<u8> = header.iter().flat_map(|w| w.to_be_bytes()).collect();
            bytes.extend(data);
            let path = d.join(name);
            std::fs::write(&path, bytes).unwrap();
            text(&path)
        };
        ImageFolders {
            corrupt: text(&corrupt),
            truncated: text(&truncated),
            empty_class: text(&empty_class),
            no_images: text(&no_images),
            mixed: text(&mixed),
            idx3: idx("images.idx", &[0x803, 2, 2, 3], &[0; 12]),
            idx1_of_3: idx("labels.idx", &[0x801, 3], &[0, 1, 2]),
        }
    }
}
