//! Safe stop through the real binary: SIGINT and SIGTERM save a checkpoint at the current
//! step and exit with 130 and 143; `--resume` then reaches the weights of a run that was never
//! interrupted; a second signal exits at once and leaves a loadable checkpoint; SIGKILL in the
//! middle of saves leaves the last whole checkpoint; and the soak test interrupts one run
//! twenty times.

#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::backend::AutodiffBackend;
use nnlab::run_dir::RunDir;

mod common;
use common::Cpu;

type CpuInner = <Cpu as AutodiffBackend>::InnerBackend;

/// A classifier with dropout (the hardest case for an exact resume), many epochs.
const TRAIN: [&str; 12] = [
    "train",
    "--dataset",
    "moons",
    "--samples",
    "500",
    "--hidden",
    "16,16",
    "--dropout",
    "0.1,0.1",
    "--quiet",
    "--checkpoint-every",
    "1",
];

fn spawn(args: &[&str], out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The steps recorded in `out/run.json`, 0 while there is none.
fn saved_steps(out: &Path) -> u64 {
    std::fs::read_to_string(out.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["steps"].as_u64())
        .unwrap_or(0)
}

/// Waits until the run in `out` has saved more than `steps` steps: the process is training
/// and its signal handlers are in place.
fn wait_for_progress(child: &mut Child, out: &Path, steps: u64) {
    let start = Instant::now();
    while saved_steps(out) <= steps {
        assert!(child.try_wait().unwrap().is_none(), "training ended early");
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends SIG`name` (INT, TERM or KILL) to the child.
fn signal(child: &Child, name: &str) {
    let sig = match name {
        "INT" => libc::SIGINT,
        "TERM" => libc::SIGTERM,
        _ => libc::SIGKILL,
    };
    // SAFETY: kill(2) on the pid of a child this test started and has not yet waited for.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(sent, 0, "kill -{name}");
}

/// Starts the long run in `out`, or resumes it when it has a checkpoint, and returns once
/// the process has saved a further one.
fn start_or_resume(out: &Path) -> Child {
    let before = saved_steps(out);
    let mut child = if before == 0 {
        spawn(&[&TRAIN[..], &["--epochs", "100000"]].concat(), out)
    } else {
        spawn(
            &["train", "--quiet", "--resume", out.to_str().unwrap()],
            out,
        )
    };
    wait_for_progress(&mut child, out, before);
    child
}

/// Exit code and stderr.
fn finish(child: Child) -> (Option<i32>, String) {
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

/// The epochs of the run's last save, read as readers see it: a process killed after a save
/// committed and before its files took their names leaves `run.json` one save behind.
fn epochs_done(out: &Path) -> usize {
    RunDir::new(out).load_meta().unwrap().1.epochs_done
}

/// The largest difference between the last weights of two runs.
fn weight_diff(a: &Path, b: &Path) -> f64 {
    let device = Default::default();
    let weights = |dir: &Path| {
        let run = RunDir::new(dir);
        let (config, _) = run.load_meta().unwrap();
        common::parameters(&run.load_model::<CpuInner>(&config, &device).unwrap())
    };
    common::max_abs_diff(&weights(a), &weights(b))
}

/// Resumes `out` to `epochs`, trains a fresh run to `epochs`, and returns their difference.
fn resume_and_compare(out: &Path, reference: &Path, epochs: usize) -> f64 {
    let epochs = epochs.to_string();
    common::nnlab()
        .args(["train", "--quiet", "--epochs", &epochs, "--resume"])
        .arg(out)
        .assert()
        .success();
    common::nnlab()
        .args(&TRAIN[..TRAIN.len() - 2])
        .args(["--epochs", &epochs, "--out"])
        .arg(reference)
        .assert()
        .success();
    weight_diff(out, reference)
}

#[test]
fn sigint_and_sigterm_save_and_resume_exactly() {
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let child = start_or_resume(&out);
        signal(&child, name);
        let (status, stderr) = finish(child);
        assert_eq!(status, Some(code), "SIG{name}: {stderr}");
        assert!(
            stderr.contains(&format!("stopped by SIG{name} after batch"))
                && stderr.contains("nnlab train --resume"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(saved_steps(&out) > 0);
        let diff = resume_and_compare(&out, &dir.path().join("ref"), epochs_done(&out) + 2);
        assert!(diff <= 1e-6, "SIG{name}: resumed weights differ by {diff}");
    }
}

#[test]
fn a_second_sigint_exits_at_once_and_the_checkpoint_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = start_or_resume(&out);
    signal(&child, "INT");
    signal(&child, "INT");
    let (status, stderr) = finish(child);
    assert_eq!(status, Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    common::nnlab().args(["info"]).arg(&out).assert().success();
    let input = dir.path().join("points.csv");
    std::fs::write(&input, "x1,x2\n0.0,1.0\n").unwrap();
    assert_eq!(common::predicted_rows(&out, &input).len(), 1);
}

#[test]
fn soak_twenty_interruptions_end_at_the_uninterrupted_weights() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut cycles = 0;
    for cycle in 0..20u64 {
        let child = start_or_resume(&out);
        // Vary where in an epoch the signal lands.
        std::thread::sleep(Duration::from_micros(700 * (cycle % 7)));
        signal(&child, "INT");
        let (status, stderr) = finish(child);
        assert_eq!(status, Some(130), "cycle {cycle}: {stderr}");
        cycles += 1;
    }
    assert_eq!(cycles, 20);
    let diff = resume_and_compare(&out, &dir.path().join("ref"), epochs_done(&out) + 2);
    assert!(
        diff <= 1e-6,
        "after 20 interruptions the weights differ by {diff}"
    );
}

#[test]
fn sigkill_during_saves_leaves_the_last_whole_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for cycle in 0..10u64 {
        let child = start_or_resume(&out);
        // A checkpoint every epoch: the kill often lands inside a save.
        std::thread::sleep(Duration::from_micros(300 * (cycle % 5)));
        signal(&child, "KILL");
        let (status, _) = finish(child);
        assert_eq!(status, None, "cycle {cycle}: killed by the signal");
        common::nnlab().args(["info"]).arg(&out).assert().success();
    }
    let diff = resume_and_compare(&out, &dir.path().join("ref"), epochs_done(&out) + 2);
    assert!(diff <= 1e-6, "after 10 kills the weights differ by {diff}");
}

/// The pid written into `dir/.lock` by the process holding it, once there is one: the
/// holder has parsed its arguments and installed its signal handlers.
fn wait_for_lock(child: &mut Child, dir: &Path) {
    let start = Instant::now();
    let pid = child.id().to_string();
    while std::fs::read_to_string(dir.join(".lock")).ok().as_deref() != Some(pid.as_str()) {
        assert!(child.try_wait().unwrap().is_none(), "ended before locking");
        assert!(start.elapsed() < Duration::from_secs(60), "no lock");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits up to a minute for the child to exit; kills it and fails if it does not.
fn exits_within_a_minute(mut child: Child, what: &str) -> (Option<i32>, String) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            signal(&child, "KILL");
            panic!("{what} did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    finish(child)
}

#[test]
fn sigint_stops_cv_and_compare_without_a_false_result() {
    let dir = tempfile::tempdir().unwrap();
    let data = ["--dataset", "moons", "--samples", "1000", "--epochs", "400"];
    for (command, report) in [("cv", "cv.json"), ("compare", "summary.json")] {
        let out = dir.path().join(command);
        let mut child = spawn(&[&[command, "--quiet"], &data[..]].concat(), &out);
        wait_for_lock(&mut child, &out);
        // Into the first fold's or variant's training.
        std::thread::sleep(Duration::from_millis(1500));
        signal(&child, "INT");
        let (status, stderr) = exits_within_a_minute(child, command);
        assert_eq!(status, Some(130), "{command}: {stderr}");
        assert!(stderr.contains("stopped by SIGINT"), "{command}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // Whatever was saved says it is incomplete and holds no mean over unfinished work.
        if let Ok(text) = std::fs::read_to_string(out.join(report)) {
            let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(saved["complete"], false, "{command}: {text}");
            if command == "cv" {
                assert!(saved["mean"].is_null(), "{text}");
                assert!(saved["folds"].as_array().unwrap().len() < 5, "{text}");
            } else {
                assert!(saved["variants"].as_array().unwrap().len() < 6, "{text}");
            }
        }
    }
}

#[test]
fn commands_without_training_stop_on_the_first_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    common::train_run(
        &run,
        &[
            "--dataset",
            "moons",
            "--samples",
            "40",
            "--epochs",
            "1",
            "--quiet",
        ],
    );
    // A named pipe that nobody writes: the command blocks opening it until a signal stops it.
    let fifo = dir.path().join("pipe");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid, NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let run = run.to_str().unwrap();
    let fifo = fifo.to_str().unwrap();
    for args in [
        vec!["predict", "--checkpoint", run, "--input", fifo],
        vec!["eval", "--checkpoint", run, "--input", fifo],
        vec!["gradcheck", "--config", fifo],
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_nnlab"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        signal(&child, "INT");
        let (status, stderr) = exits_within_a_minute(child, args[0]);
        assert_eq!(status, Some(130), "{}: {stderr}", args[0]);
    }
}

#[test]
fn a_second_writer_of_a_run_directory_is_refused_while_readers_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut first = spawn(&[&TRAIN[..], &["--epochs", "100000"]].concat(), &out);
    wait_for_progress(&mut first, &out, 0);
    wait_for_lock(&mut first, &out);
    let second = common::nnlab()
        .args(["train", "--quiet", "--epochs", "100001", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", first.id())) && stderr.lines().count() == 1,
        "{stderr}"
    );
    // A new run into the same directory is refused the same way, even with --overwrite.
    common::nnlab()
        .args([
            "train",
            "--dataset",
            "moons",
            "--epochs",
            "1",
            "--overwrite",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "being written by another nnlab process",
        ));
    common::nnlab().args(["info"]).arg(&out).assert().success();
    // A lock left by a killed process blocks nobody.
    signal(&first, "KILL");
    finish(first);
    let done = epochs_done(&out) + 1;
    common::nnlab()
        .args([
            "train",
            "--quiet",
            "--epochs",
            &done.to_string(),
            "--resume",
        ])
        .arg(&out)
        .assert()
        .success();
}

#[test]
fn a_run_of_a_hundred_billion_epochs_starts_and_stops_safely() {
    // Nothing is allocated per requested epoch: the run trains, and Ctrl-C saves it.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let args = ["train", "--dataset", "moons", "--samples", "40", "--quiet"];
    let huge = ["--epochs", "100000000000", "--checkpoint-every", "1"];
    let mut child = spawn(&[&args[..], &huge[..]].concat(), &out);
    wait_for_progress(&mut child, &out, 0);
    signal(&child, "INT");
    let (status, stderr) = finish(child);
    assert_eq!(status, Some(130), "{stderr}");
    assert!(epochs_done(&out) >= 1);
}
