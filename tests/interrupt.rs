//! Safe stop through the real binary: SIGINT and SIGTERM save a checkpoint at the current
//! step and exit with 130 and 143; `--resume` then reaches the weights of a run that was never
//! interrupted; a second signal exits at once and leaves a loadable checkpoint; SIGKILL in the
//! middle of saves leaves the last whole checkpoint; and the soak test interrupts one run
//! twenty times.

#![cfg(all(unix, feature = "ndarray"))]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::backend::AutodiffBackend;
use nnlab::checkpoint::RunDir;

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

fn epochs_done(out: &Path) -> usize {
    common::json(&out.join("run.json"))["epochs_done"]
        .as_u64()
        .unwrap() as usize
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
