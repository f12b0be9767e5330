//! Data-parallel training across processes (`src/distributed.rs`) on localhost: an
//! orchestrator and two nodes, each a process of the binary, on ports the OS picks.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Tensors, export, json, predicted_rows};

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// 80 rows of three features and a target that depends on them nonlinearly.
fn write_table(path: &Path) {
    let mut text = String::from("x1,x2,x3,y\n");
    for i in 0..80 {
        let (a, b, c) = ((i % 9) as f64 / 4.0, (i % 7) as f64 / 3.0, (i % 5) as f64);
        text += &format!("{a},{b},{c},{}\n", a * b - c.sin() + 0.1 * i as f64);
    }
    std::fs::write(path, text).unwrap();
}

/// `nnlab train` on the table: 2 epochs, no held-out rows, Adam, one hidden layer.
fn train_args(dir: &Path, out: &str, batch: usize) -> Vec<String> {
    train_epochs(dir, out, batch, 2)
}

/// [`train_args`] for `epochs` epochs.
fn train_epochs(dir: &Path, out: &str, batch: usize, epochs: usize) -> Vec<String> {
    let table = dir.join("table.csv");
    [
        "train",
        "--data",
        table.to_str().unwrap(),
        "--target",
        "y",
        "--hidden",
        "8",
        "--epochs",
        &epochs.to_string(),
        "--validation",
        "0",
        "--test",
        "0",
        "--seed",
        "7",
        "-q",
        "--batch-size",
        &batch.to_string(),
        "--out",
        dir.join(out).to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

/// `args` as node `i` of 2 of the orchestrator on `port`, with `extra` flags.
fn as_node(mut args: Vec<String>, i: usize, port: u16, extra: &[&str]) -> Vec<String> {
    let orchestrator = format!("127.0.0.1:{port}");
    let node = [
        "--nodes",
        "2",
        "--node",
        &i.to_string(),
        "--orchestrator",
        &orchestrator,
    ];
    args.extend(node.iter().chain(extra).map(|f| f.to_string()));
    args
}

fn spawn(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `nnlab orchestrate`, stopped when dropped: a failed assertion leaves no process behind.
struct Orchestrator(Option<Child>);

impl Orchestrator {
    /// Stops it, and returns what it printed.
    fn stop(mut self) -> String {
        let mut child = self.0.take().unwrap();
        child.kill().unwrap();
        finish(child, "orchestrator").1
    }
}

impl Drop for Orchestrator {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `nnlab orchestrate` on a free port, once it accepts connections.
fn orchestrator() -> (Orchestrator, u16) {
    let port = free_port();
    let child = Orchestrator(Some(spawn(&[
        "orchestrate".into(),
        "--port".into(),
        port.to_string(),
    ])));
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the orchestrator never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Nodes 0 and 1 of one run on an orchestrator of their own, node i started with
/// `args(i)`: whether each succeeded and what it printed, and what the orchestrator printed.
fn two_nodes(args: impl Fn(usize) -> Vec<String>) -> ([(bool, String); 2], String) {
    let (orchestrator, port) = orchestrator();
    let (first, second) = (
        spawn(&as_node(args(0), 0, port, &[])),
        spawn(&as_node(args(1), 1, port, &[])),
    );
    let nodes = [finish(first, "node 0"), finish(second, "node 1")];
    (nodes, orchestrator.stop())
}

fn finish(child: Child, what: &str) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{what}: {stderr}");
    (out.status.success(), stderr)
}

fn max_distance(a: &Tensors, b: &Tensors) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut far = 0.0f64;
    for (name, (shape, values)) in a {
        let (other_shape, other) = &b[name];
        assert_eq!(shape, other_shape, "{name}");
        for (x, y) in values.iter().zip(other) {
            far = far.max((x - y).abs());
        }
    }
    far
}

#[test]
fn two_nodes_or_devices_take_the_steps_of_one_process_with_twice_the_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_table(&dir.join("table.csv"));
    let ([(ok_first, said), (ok_second, _)], events) =
        two_nodes(|_| train_args(dir, "two-nodes", 8));
    assert!(ok_first && ok_second, "a node failed");
    assert!(said.contains("(10 steps)"), "{said}");
    assert!(events.contains("registered: 2 of 2 nodes"), "{events}");
    assert_eq!(events.matches("left the run").count(), 2, "{events}");
    assert_eq!(json(&dir.join("two-nodes/run.json"))["nodes"], 2);

    for (out, batch) in [("one-16", 16), ("one-8", 8)] {
        let (ok, said) = finish(spawn(&train_args(dir, out, batch)), out);
        assert!(ok, "{said}");
    }
    let (two, _) = export(&dir.join("two-nodes"));
    let (same, _) = export(&dir.join("one-16"));
    let distance = max_distance(&two, &same);
    eprintln!("largest parameter distance to one process with batch 16: {distance:e}");
    assert!(distance < 1e-5, "{distance}");
    // Two devices of one process take the same steps, through the local all-reduce.
    let mut devices = train_args(dir, "two-devices", 8);
    devices.extend(["--devices", "2"].map(String::from));
    let (ok, said) = finish(spawn(&devices), "two devices");
    assert!(ok, "{said}");
    let (local, _) = export(&dir.join("two-devices"));
    let distance = max_distance(&local, &same);
    eprintln!("two devices against one process with batch 16: {distance:e}");
    assert!(distance < 1e-5, "{distance}");
    // The test can tell: a node's own batch of 8 alone is another run.
    let (alone, _) = export(&dir.join("one-8"));
    assert!(max_distance(&two, &alone) > 1e-3);
}

#[test]
fn an_unreachable_orchestrator_is_one_line_not_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_table(&dir.join("table.csv"));
    let port = free_port();
    let nowhere = format!("127.0.0.1:{port}");
    let args = as_node(train_args(dir, "run", 8), 0, port, &["--sync-timeout", "2"]);
    let start = Instant::now();
    let (ok, said) = finish(spawn(&args), "node 0");
    assert!(!ok);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(
        said.contains("orchestrator") && said.contains(&nowhere),
        "{said}"
    );
    assert!(!dir.join("run").exists(), "a run was written");
}

#[test]
fn a_killed_node_stops_the_other_with_one_line_and_its_checkpoint_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_table(&dir.join("table.csv"));
    let (orchestrator, port) = orchestrator();
    let node = |i: usize| {
        let args = train_epochs(dir, "run", 8, 100_000);
        let extra = ["--sync-timeout", "3", "--checkpoint-every", "20"];
        spawn(&as_node(args, i, port, &extra))
    };
    let first = node(0);
    let mut second = node(1);
    // Until node 0 has written a checkpoint, then SIGKILL node 1.
    let start = Instant::now();
    while !dir.join("run/run.json").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let killed = Instant::now();
    let (ok, said) = finish(first, "node 0");
    orchestrator.stop();
    assert!(!ok, "node 0 went on alone");
    assert!(killed.elapsed() < Duration::from_secs(20));
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(
        said.starts_with("error: ") && said.contains("node 0 of 2"),
        "{said}"
    );
    assert!(
        said.contains("node 1 (127.0.0.1:"),
        "the missing node is not named: {said}"
    );
    // Only complete checkpoints: no file of an unfinished save is left.
    for entry in std::fs::read_dir(dir.join("run")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.ends_with(".next"), "{name} is half-written");
    }
    let epochs = json(&dir.join("run/run.json"))["epochs_done"]
        .as_u64()
        .unwrap();
    assert!(epochs >= 20 && epochs.is_multiple_of(20), "{epochs}");
    // Alone, the run resumes from its last checkpoint.
    let resume = [
        "train",
        "--resume",
        dir.join("run").to_str().unwrap(),
        "--epochs",
        &(epochs + 5).to_string(),
        "-q",
    ]
    .map(String::from);
    let (ok, said) = finish(spawn(&resume), "resume");
    assert!(ok, "{said}");
    assert_eq!(json(&dir.join("run/run.json"))["epochs_done"], epochs + 5);
}

/// Three classes of points in four dimensions, `counts[c]` rows of class c, from `seed`.
fn write_classes(path: &Path, counts: [usize; 3], columns: &str, seed: u64) {
    let mut state = seed;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 3.0
    };
    let mut text = format!("{columns},label\n");
    for (class, &count) in counts.iter().enumerate() {
        let c = class as f64;
        for _ in 0..count {
            let row = [c * 2.0, -c, c * 1.5, 0.0].map(|centre| centre + noise());
            text += &format!("{},{},{},{},c{class}\n", row[0], row[1], row[2], row[3]);
        }
    }
    std::fs::write(path, text).unwrap();
}

fn federated_args(data: &Path, out: &Path) -> Vec<String> {
    let args = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "label",
        "--task",
        "classification",
        "--federated",
        "--rounds",
        "15",
        "--local-epochs",
        "2",
        "--validation",
        "0.2",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    args.map(String::from).to_vec()
}

/// The validation accuracy in a node's summary line.
fn accuracy(said: &str) -> f64 {
    let (_, rest) = said.split_once("validation accuracy ").expect(said);
    rest.split('%').next().unwrap().parse().unwrap()
}

#[test]
fn federated_nodes_train_one_model_on_their_own_rows_and_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let columns = "x1,x2,x3,x4";
    // Not identically distributed: node 0 holds no row of class 2.
    write_classes(&dir.join("a.csv"), [160, 40, 0], columns, 1);
    write_classes(&dir.join("b.csv"), [40, 160, 200], columns, 2);
    let data = |i: usize| dir.join(["a.csv", "b.csv"][i]);
    let ([(ok_first, said_first), (ok_second, said_second)], _) =
        two_nodes(|i| federated_args(&data(i), &dir.join("fed")));
    assert!(ok_first && ok_second, "a node failed");
    // Both nodes score the averaged model on both nodes' validation rows.
    assert_eq!(accuracy(&said_first), accuracy(&said_second));
    assert!(accuracy(&said_first) > 85.0, "{said_first}");
    let run = json(&dir.join("fed/run.json"));
    assert_eq!(run["nodes"], 2);
    assert_eq!(run["epochs_done"], 15);
    let history = std::fs::read_to_string(dir.join("fed/metrics.csv")).unwrap();
    assert_eq!(history.lines().count(), 16, "one row a round: {history}");
    // The model knows class 2, which node 0 never saw.
    let rows = predicted_rows(&dir.join("fed"), &dir.join("b.csv"));
    assert!(rows.iter().any(|r| r[0] == "c2"), "{rows:?}");
    // Every node resumes node 0's run on its own rows.
    let run = dir.join("fed");
    let ([(ok_first, said), (ok_second, _)], _) = two_nodes(|i| {
        let args = [
            "train",
            "--resume",
            run.to_str().unwrap(),
            "--rounds",
            "17",
            "-q",
        ];
        let mut args: Vec<String> = args.map(String::from).to_vec();
        args.extend(["--federated".into(), "--data".into()]);
        args.push(data(i).to_str().unwrap().into());
        args
    });
    assert!(ok_first && ok_second, "a resumed node failed: {said}");
    assert_eq!(json(&dir.join("fed/run.json"))["epochs_done"], 17);
}

#[test]
fn nodes_with_other_columns_are_refused_at_registration_naming_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_classes(&dir.join("a.csv"), [30, 30, 30], "x1,x2,x3,x4", 1);
    write_classes(&dir.join("b.csv"), [30, 30, 30], "x1,x2,z,x4", 2);
    let (orchestrator, port) = orchestrator();
    let node = |i: usize, data: &str| {
        let args = federated_args(&dir.join(data), &dir.join("fed"));
        spawn(&as_node(args, i, port, &["--sync-timeout", "20"]))
    };
    let (first, second) = (node(0, "a.csv"), node(1, "b.csv"));
    for (child, name) in [(first, "node 0"), (second, "node 1")] {
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {said}");
        assert_eq!(said.trim().lines().count(), 1, "{said}");
        assert!(
            said.contains(
                "registration refused: node 1's data has column `z` where node 0's has `x3`"
            ),
            "{name}: {said}"
        );
    }
    orchestrator.stop();
    assert!(!dir.join("fed/run.json").exists(), "a run was written");
}

#[test]
fn node_flags_that_cannot_work_are_refused_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_table(&dir.join("table.csv"));
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--nodes",
                "2",
                "--node",
                "2",
                "--orchestrator",
                "127.0.0.1:1",
            ],
            "--node 2 is not one of the 2 nodes",
        ),
        (
            &[
                "--nodes",
                "0",
                "--node",
                "0",
                "--orchestrator",
                "127.0.0.1:1",
            ],
            "--nodes must be at least 1",
        ),
        (
            &["--nodes", "2", "--node", "0", "--orchestrator", "nowhere"],
            "--orchestrator must be HOST:PORT",
        ),
        (
            &[
                "--nodes",
                "2",
                "--node",
                "0",
                "--orchestrator",
                "127.0.0.1:1",
                "--node-address",
                "h:0",
            ],
            "--node-address must be HOST:PORT",
        ),
    ];
    for (flags, needle) in cases {
        let mut args = train_args(dir, "run", 8);
        args.extend(flags.iter().map(|f| f.to_string()));
        let out = Command::new(env!("CARGO_BIN_EXE_nnlab"))
            .args(&args)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {said}");
        assert_eq!(said.trim().lines().count(), 1, "{said}");
        assert!(said.contains(needle), "{flags:?}: {said}");
    }
    assert!(!dir.join("run").exists());
    // A port that is taken.
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(["orchestrate", "--port", &port])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!("--port {port}: cannot listen there")),
        "{said}"
    );
}
