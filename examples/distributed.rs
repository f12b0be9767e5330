//! Data-parallel training on localhost, as on several machines: an orchestrator and two
//! nodes, each a process of its own (this example started again, as `torchrun` starts a
//! script), train one MLP with the gradients averaged every step by burn-collective's ring
//! all-reduce. Then one process trains the same rows with twice the batch, and the example
//! prints how far apart the two models' predictions are: the same steps, up to rounding.
//!
//! `cargo run --example distributed [-- OUT_DIR] [--backend ndarray|flex|wgpu]`
//! (default `artifacts/distributed`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use nnlab::cli::{Cli, ExampleArgs};

/// The first argument that makes this process one of the example's own: a node, the
/// orchestrator, or `predict`.
const CHILD: &str = "--as-nnlab";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(CHILD) {
        let cli = Cli::parse_from(std::iter::once("nnlab".to_string()).chain(args[2..].to_vec()));
        if let Err(error) = nnlab::commands::run(cli.command) {
            eprintln!("error: {error}");
            std::process::exit(error.exit_code());
        }
        return;
    }
    let (out, backend) = ExampleArgs::parse_or("artifacts/distributed");
    if let Err(message) = run(&out, &backend.to_string()) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run(out: &Path, backend: &str) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let table = out.join("table.csv");
    write_table(&table)?;
    let port = free_port()?;
    let mut orchestrator = child(&["orchestrate", "--port", &port.to_string()])?;
    wait_for(port)?;
    let train = |dir: &str, batch: &str| {
        let mut args = vec!["train", "--data", table.to_str().unwrap(), "--target", "y"];
        args.extend(["--hidden", "32,32", "--epochs", "20", "--validation", "0"]);
        args.extend(["--test", "0", "--seed", "5", "--overwrite", "-q"]);
        args.extend(["--backend", backend, "--batch-size", batch]);
        let dir = out.join(dir);
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.extend(["--out".into(), dir.display().to_string()]);
        args
    };
    let orchestrator_at = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let nodes: Vec<Child> = (0..2)
        .map(|i| {
            let mut args = train("two-nodes", "16");
            let node = ["--nodes", "2", "--node", &i.to_string()];
            args.extend(node.iter().map(|s| s.to_string()));
            args.extend(["--orchestrator".into(), orchestrator_at.clone()]);
            child(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .collect::<Result<_, _>>()?;
    for (i, node) in nodes.into_iter().enumerate() {
        let status = node.wait_with_output().map_err(|e| e.to_string())?.status;
        if !status.success() {
            return Err(format!("node {i} failed ({status})"));
        }
    }
    let _ = orchestrator.kill();
    let _ = orchestrator.wait();
    println!(
        "two nodes, batch 16 each: trained in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let one = train("one-process", "32");
    let status = child(&one.iter().map(String::as_str).collect::<Vec<_>>())?
        .wait()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the single process failed".into());
    }
    let two = predictions(&out.join("two-nodes"), &table)?;
    let single = predictions(&out.join("one-process"), &table)?;
    let far = two
        .iter()
        .zip(&single)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("one process, batch 32: the same 20 epochs");
    println!(
        "largest difference of their {} predictions: {far:.2e}",
        two.len()
    );
    println!("runs in {}", out.display());
    match far < 1e-4 {
        true => Ok(()),
        false => Err(format!("the two runs differ by {far:e}, more than 1e-4")),
    }
}

/// 400 rows: y = sin(2 x1) + x2² − x1 x2, on a grid.
fn write_table(path: &Path) -> Result<(), String> {
    let mut text = String::from("x1,x2,y\n");
    for i in 0..400 {
        let (a, b) = ((i % 20) as f64 / 10.0 - 1.0, (i / 20) as f64 / 10.0 - 1.0);
        text += &format!("{a},{b},{}\n", (2.0 * a).sin() + b * b - a * b);
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// This example started again as `nnlab ARGS`.
fn child(args: &[&str]) -> Result<Child, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    Command::new(me)
        .arg(CHILD)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn wait_for(port: u16) -> Result<(), String> {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            return Err(format!("the orchestrator never listened on port {port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// A run's predictions of the table's rows, by `nnlab predict`.
fn predictions(run: &Path, table: &Path) -> Result<Vec<f64>, String> {
    let (run, table) = (run.to_str().unwrap(), table.to_str().unwrap());
    let output = child(&["predict", "--checkpoint", run, "--input", table])?
        .wait_with_output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("predict {run} failed"));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').next_back().unwrap_or("").parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("predict {run}: {e}"))
}
