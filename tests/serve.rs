//! `nnlab serve` through the real binary and real HTTP: answers equal `nnlab predict`'s, bad
//! requests get a 4xx with a JSON error, names cannot reach outside `--runs`, a damaged run
//! answers 503 alone, a retrained run is picked up whole, and SIGTERM drains and exits 0. The
//! web page is checked through HTTP and in headless Chromium.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{nnlab, predicted_rows};

#[path = "webdriver/mod.rs"]
mod webdriver;

/// A running server; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(runs: &Path, flags: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nnlab"))
            .args(["serve", "--port", "0", "--runs"])
            .arg(runs)
            .args(flags)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let base = first
            .rsplit(' ')
            .next()
            .filter(|url| url.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in `{first}`"))
            .to_string();
        // Keep reading the request log so the pipe never fills.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The status and body of a request.
    fn call(&self, method: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let request = minreq::Request::new(method_of(method), self.url(path))
            .with_header("Content-Type", content_type);
        let request = match method {
            "GET" => request,
            _ => request.with_body(body),
        };
        match request.send() {
            Ok(r) => (r.status_code, r.as_str().unwrap().to_string()),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let (code, text) = self.call("POST", path, "application/json", &body.to_string());
        (
            code,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}")),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const IRIS_CSV: &str = "sepal_length,sepal_width,petal_length,petal_width\n\
                        5.1,3.5,1.4,0.2\n6.4,3.2,4.5,1.5\n6.3,3.3,6.0,2.5\n";

fn iris_instances() -> Value {
    json!({"instances": [
        {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
        [6.4, 3.2, 4.5, 1.5],
        {"petal_width": 2.5, "petal_length": 6.0, "sepal_width": 3.3, "sepal_length": 6.3}
    ]})
}

#[test]
fn answers_equal_nnlab_predict_and_bad_requests_are_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(&runs.join("iris"), &["--dataset", "iris", "--epochs", "20"]);
    common::train_run(
        &runs.join("line"),
        &["--dataset", "linear", "--epochs", "20"],
    );
    let server = Server::start(&runs, &["--max-rows", "5", "--max-body", "2000"]);
    let csv = dir.path().join("iris.csv");
    std::fs::write(&csv, IRIS_CSV).unwrap();

    assert_eq!(server.call("GET", "/healthz", "", "").0, 200);
    let (code, status) = server.call("GET", "/v1/models/iris", "", "");
    assert_eq!(code, 200, "{status}");
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["model_version_status"][0]["state"], "AVAILABLE");
    assert_eq!(
        status["metadata"]["classes"],
        json!(["setosa", "versicolor", "virginica"])
    );

    let (code, answer) = server.post_json("/v1/models/iris:predict", &iris_instances());
    assert_eq!(code, 200, "{answer}");
    let expected = predicted_rows(&runs.join("iris"), &csv);
    for (row, want) in answer["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&expected)
    {
        assert_eq!(row["class"], want[0].as_str());
        for (label, p) in ["setosa", "versicolor", "virginica"].iter().zip(&want[1..]) {
            let got = row["probabilities"][label].as_f64().unwrap();
            assert!(
                (got - p.parse::<f64>().unwrap()).abs() < 1e-6,
                "{row} vs {want:?}"
            );
        }
    }
    let by_column = json!({"inputs": {"sepal_length": [5.1], "sepal_width": [3.5],
                                      "petal_length": [1.4], "petal_width": [0.2]}});
    let (_, one) = server.post_json("/v1/models/iris:predict", &by_column);
    assert_eq!(one["predictions"][0], answer["predictions"][0]);
    let (code, text) = server.call("POST", "/v1/models/iris:predict", "text/csv", IRIS_CSV);
    let command = common::stdout(&mut common::predict_command(&runs.join("iris"), &csv));
    assert_eq!((code, text), (200, command));
    let (code, line) = server.post_json("/v1/models/line:predict", &json!({"instances": [[0.5]]}));
    assert_eq!(code, 200, "{line}");
    assert!(line["predictions"][0].is_number(), "{line}");

    let bad = [
        ("{\"instances\": [", 400, "not JSON"),
        (
            "{\"instances\": [{\"sepal_length\": 1}]}",
            400,
            "lacks the column `sepal_width`",
        ),
        ("{\"instances\": [[1, 2, 3, \"x\"]]}", 400, "not a number"),
        ("{\"instances\": [[1, 2, 3, 4, 5]]}", 400, "has 5 values"),
        (
            "{\"instances\": [[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]}",
            400,
            "--max-rows",
        ),
    ];
    for (body, want, needle) in bad {
        let (code, text) = server.call("POST", "/v1/models/iris:predict", "application/json", body);
        assert_eq!(code, want, "{body}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert!(
            error["error"].as_str().unwrap().contains(needle),
            "{body}: {text}"
        );
    }
    let big = format!("{{\"instances\": [{}]}}", "[1, 2, 3, 4],".repeat(200));
    let (code, _) = server.call("POST", "/v1/models/iris:predict", "application/json", &big);
    assert_eq!(code, 413, "a body over --max-body");
    assert_eq!(server.call("GET", "/v1/models/nothing", "", "").0, 404);
    assert_eq!(
        server.call("POST", "/v1/models/iris:classify", "", "{}").0,
        404
    );
    let metrics = server.call("GET", "/metrics", "", "").1;
    assert!(
        metrics.contains("nnlab_requests_total{run=\"iris\",code=\"200\"}"),
        "{metrics}"
    );
}

#[test]
fn names_cannot_reach_outside_the_runs_and_a_damaged_run_answers_503_alone() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(&runs.join("iris"), &["--dataset", "iris", "--epochs", "5"]);
    // A run beside the served folder, and a link to it from inside.
    common::train_run(
        &dir.path().join("secret"),
        &["--dataset", "iris", "--epochs", "5"],
    );
    std::os::unix::fs::symlink(dir.path().join("secret"), runs.join("link")).unwrap();
    let damaged = runs.join("damaged");
    common::train_run(&damaged, &["--dataset", "iris", "--epochs", "5"]);
    std::fs::write(damaged.join("model.mpk"), b"not weights").unwrap();
    let server = Server::start(&runs, &[]);
    let body = iris_instances();
    for name in [
        "..%2Fsecret",
        "%2e%2e%2fsecret",
        "..",
        "%2Ftmp",
        "link",
        ".hidden",
        "a%5C..%5Csecret",
    ] {
        let (code, answer) = server.post_json(&format!("/v1/models/{name}:predict"), &body);
        assert!(matches!(code, 400 | 404), "{name}: {code} {answer}");
        assert!(answer["error"].is_string(), "{name}: {answer}");
    }
    let (code, answer) = server.post_json("/v1/models/damaged:predict", &body);
    assert_eq!(code, 503, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("cannot be loaded"),
        "{answer}"
    );
    assert_eq!(server.post_json("/v1/models/iris:predict", &body).0, 200);
}

/// While one client asks again and again, the run is trained anew three times into the same
/// directory: every answer is 200 and is the answer of one of the versions, never of a mix.
#[test]
fn a_run_retrained_while_served_is_picked_up_whole() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let run = runs.join("iris");
    let csv = dir.path().join("iris.csv");
    std::fs::write(&csv, IRIS_CSV).unwrap();
    let mut versions = Vec::new();
    let version = |seed: &str| -> Vec<String> {
        let flags = [
            "--dataset",
            "iris",
            "--epochs",
            "10",
            "--overwrite",
            "--seed",
            seed,
        ];
        common::train_run(&run, &flags);
        predicted_rows(&run, &csv)
            .into_iter()
            .map(|r| r[1].clone())
            .collect()
    };
    versions.push(version("1"));
    let server = Server::start(&runs, &[]);
    let url = server.url("/v1/models/iris:predict");
    let hammer = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(8) {
            let answer = minreq::post(&url)
                .with_body(iris_instances().to_string())
                .send()
                .unwrap();
            assert_eq!(answer.status_code, 200);
            let body: Value = serde_json::from_str(answer.as_str().unwrap()).unwrap();
            let first: Vec<String> = body["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["probabilities"]["setosa"].as_f64().unwrap().to_string())
                .collect();
            seen.push(first);
        }
        seen
    });
    for seed in ["2", "3", "4"] {
        versions.push(version(seed));
    }
    let seen = hammer.join().unwrap();
    assert!(seen.len() > 20, "only {} answers", seen.len());
    let same = |a: &String, b: &String| {
        (a.parse::<f64>().unwrap() - b.parse::<f64>().unwrap()).abs() < 1e-6
    };
    let mut answered = vec![false; versions.len()];
    for answer in &seen {
        let version = versions
            .iter()
            .position(|v| v.iter().zip(answer).all(|(a, b)| same(a, b)))
            .unwrap_or_else(|| panic!("{answer:?} is not the answer of any version: {versions:?}"));
        answered[version] = true;
    }
    let versions_seen = answered.iter().filter(|&&a| a).count();
    assert!(
        versions_seen >= 2,
        "the client saw {versions_seen} version(s) only"
    );
    let last = server
        .post_json("/v1/models/iris:predict", &iris_instances())
        .1;
    let p = last["predictions"][0]["probabilities"]["setosa"]
        .as_f64()
        .unwrap();
    assert!(
        (p - versions[3][0].parse::<f64>().unwrap()).abs() < 1e-6,
        "the last version answers"
    );
}

/// Sends `request` and reads until the server closes the connection (or 10 s pass): whether
/// it closed, what it answered, and after how long.
fn send_and_wait(address: &str, request: &str) -> (std::io::Result<usize>, String, Duration) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let start = Instant::now();
    stream.write_all(request.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let read = stream.read_to_string(&mut answer);
    (read, answer, start.elapsed())
}

/// A client that announces a body and never sends it gets 408 after `--timeout`; one that
/// stops in the middle of its headers has its connection closed.
#[test]
fn a_slow_client_gets_408_and_a_stalled_one_is_cut_off_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(&runs.join("iris"), &["--dataset", "iris", "--epochs", "5"]);
    let server = Server::start(&runs, &["--timeout", "1"]);
    let address = server.base.trim_start_matches("http://");
    let (_, answer, took) = send_and_wait(
        address,
        "POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inst",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--timeout"), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let stalled = "POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nContent-";
    let (read, _, took) = send_and_wait(address, stalled);
    assert!(read.is_ok(), "the connection was not closed: {read:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The server still answers others.
    assert_eq!(
        server
            .post_json("/v1/models/iris:predict", &iris_instances())
            .0,
        200
    );
}

#[test]
fn sigterm_answers_the_requests_in_flight_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(&runs.join("iris"), &["--dataset", "iris", "--epochs", "5"]);
    let mut server = Server::start(&runs, &[]);
    assert_eq!(
        server
            .post_json("/v1/models/iris:predict", &iris_instances())
            .0,
        200
    );
    let pid = server.child.id() as i32;
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

/// Random bodies, bytes and JSON-like text, at the predict endpoint: every answer is a 200 or a
/// 4xx with a JSON error, never a 5xx, and the server stays up.
#[test]
fn random_bodies_get_a_4xx_never_a_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(&runs.join("iris"), &["--dataset", "iris", "--epochs", "5"]);
    let server = Server::start(&runs, &["--max-rows", "50"]);
    let mut state = 99u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"instances\"",
        "\"inputs\"",
        "\"sepal_length\"",
        "\"petal_width\"",
        "1.5",
        "-2",
        "1e400",
        "null",
        "\"NaN\"",
        "true",
        " ",
    ];
    for case in 0..300 {
        let body: String = match case % 2 {
            0 => (0..next(40)).map(|_| char::from(next(256) as u8)).collect(),
            _ => (0..next(30))
                .map(|_| pieces[next(pieces.len() as u64) as usize])
                .collect(),
        };
        for content_type in ["application/json", "text/csv"] {
            let (code, text) = server.call("POST", "/v1/models/iris:predict", content_type, &body);
            assert!(
                code == 200 || (400..500).contains(&code),
                "{code} for {body:?}: {text}"
            );
            if code != 200 {
                let error: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
                assert!(error["error"].is_string(), "{text}");
            }
        }
    }
    assert_eq!(server.call("GET", "/healthz", "", "").0, 200);
}

/// A port in use and a `--runs` that is not there are one-line errors; an address reachable
/// from the network is served with a warning that there is no authentication.
#[test]
fn startup_refusals_and_the_network_warning() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    nnlab()
        .args(["serve", "--port", &port, "--runs"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot listen on 127.0.0.1:"));
    nnlab()
        .args(["serve", "--port", "0", "--runs"])
        .arg(dir.path().join("none"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("No such file or directory"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(["serve", "--host", "0.0.0.0", "--port", "0", "--runs"])
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("warning: listening on 0.0.0.0:") && first.contains("no authentication"),
        "{first}"
    );
}

/// The position of `needle` in `text`, which must hold it.
fn at(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("no `{needle}` in {text}"))
}

#[test]
fn the_web_page_predicts_in_a_real_browser_as_nnlab_predict_does() {
    let Some(browser) = webdriver::Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(&runs.join("iris"), &["--dataset", "iris", "--epochs", "20"]);
    let server = Server::start(&runs, &[]);

    browser.open(&server.url("/"));
    assert!(
        browser.title().starts_with("Runs in"),
        "{}",
        browser.title()
    );
    browser.click("#runs a[href='/runs/iris']");
    assert!(browser.url().ends_with("/runs/iris"), "{}", browser.url());
    let row = ["6.4", "3.2", "4.5", "1.5"];
    for (i, value) in row.iter().enumerate() {
        browser.type_into(&format!("#predict input[name='x{i}']"), value);
    }
    browser.click("#predict button");
    let shown_class = browser.text("#predicted-class");
    let shown: Vec<String> = (1..=3)
        .map(|i| {
            browser.text(&format!(
                "#probabilities tbody tr:nth-child({i}) td:nth-child(2)"
            ))
        })
        .collect();

    let csv = dir.path().join("row.csv");
    let header = "sepal_length,sepal_width,petal_length,petal_width";
    std::fs::write(&csv, format!("{header}\n{}\n", row.join(","))).unwrap();
    let expected = &predicted_rows(&runs.join("iris"), &csv)[0];
    assert_eq!(shown_class, expected[0]);
    assert_eq!(
        shown,
        expected[1..],
        "probabilities shown against nnlab predict's"
    );
}

#[test]
fn web_pages_list_sort_and_escape_and_serve_only_the_run_files() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(
        &runs.join("iris"),
        &["--dataset", "iris", "--epochs", "20", "--test", "0.3"],
    );
    common::train_run(
        &runs.join("line"),
        &["--dataset", "linear", "--epochs", "2"],
    );
    // One epoch at a tiny rate loses to least squares on its validation rows.
    common::train_run(
        &runs.join("weak"),
        &[
            "--dataset",
            "linear",
            "--epochs",
            "1",
            "--lr",
            "0.00001",
            "--validation",
            "0.2",
        ],
    );
    common::train_run(
        &runs.join("air"),
        &["--dataset", "airline", "--epochs", "5"],
    );
    common::train_run(
        &runs.join("x<i>y"),
        &["--dataset", "linear", "--epochs", "1"],
    );
    let quiet = |args: &[&str], out: &Path| {
        nnlab()
            .args(args)
            .args(["-q", "--out"])
            .arg(out)
            .assert()
            .success();
    };
    let compare = [
        "compare",
        "--dataset",
        "linear",
        "--optimizer",
        "sgd,adam",
        "--epochs",
        "3",
    ];
    quiet(&compare, &runs.join("race"));
    quiet(
        &["cv", "--dataset", "iris", "--folds", "3", "--epochs", "3"],
        &runs.join("folds"),
    );
    std::fs::write(dir.path().join("secret.json"), "{\"secret\": 1}").unwrap();
    let server = Server::start(&runs, &[]);

    let (code, index) = server.call("GET", "/", "", "");
    assert_eq!(code, 200, "{index}");
    for name in ["iris", "line", "race", "folds"] {
        at(&index, &format!("<a href=\"/runs/{name}\">{name}</a>"));
    }
    at(&index, "x&lt;i&gt;y");
    assert!(
        !index.contains("x<i>y"),
        "a name is shown as text, not markup"
    );
    // Only iris and the cross-validation have a score (test accuracy, mean accuracy): in
    // either order they come first, the unscored after them.
    let (_, page) = server.call("GET", "/runs/folds", "", "");
    let mean = |page: &str, key: &str| -> f64 {
        let cell = &page[at(page, &format!("<code>{key}</code></td><td>")) + key.len() + 22..];
        cell[..cell.find('<').unwrap()].parse().unwrap()
    };
    let cv_mean = mean(&page, "mean");
    let (_, page) = server.call("GET", "/runs/iris", "", "");
    let iris_accuracy = mean(&page, "test.classification.accuracy");
    for order in ["asc", "desc"] {
        let (_, by_score) = server.call("GET", &format!("/?sort=score&order={order}"), "", "");
        let (iris, folds) = (at(&by_score, ">iris</a>"), at(&by_score, ">folds</a>"));
        let first = (iris < folds) == ((iris_accuracy < cv_mean) == (order == "asc"));
        assert!(first || iris_accuracy == cv_mean, "{order}: {by_score}");
        assert!(iris.max(folds) < at(&by_score, ">line</a>"), "{by_score}");
    }
    let (_, by_name) = server.call("GET", "/?sort=name&order=desc", "", "");
    assert!(
        at(&by_name, ">line</a>") < at(&by_name, ">iris</a>"),
        "{by_name}"
    );

    let (code, page) = server.call("GET", "/runs/iris", "", "");
    assert_eq!(code, 200);
    for needle in [
        "name=\"x3\"",
        "<img src=\"/runs/iris/files/",
        "<table id=\"config\">",
        "<table id=\"baselines\">",
        "<td>the majority class</td>",
        "<td>logistic regression</td>",
    ] {
        at(&page, needle);
    }
    // The weak run's page says it lost; a series run shows its forecast's baselines.
    let (_, page) = server.call("GET", "/runs/weak", "", "");
    at(
        &page,
        "<p id=\"baseline-note\" class=\"error\">note: linear least squares",
    );
    let (_, page) = server.call("GET", "/runs/air", "", "");
    at(&page, "<td>seasonal naive (m = 12)</td>");
    at(&page, "<th>MASE</th>");
    at(
        &server.call("GET", "/runs/race", "", "").1,
        "<table id=\"variants\">",
    );
    at(
        &server.call("GET", "/runs/folds", "", "").1,
        "<table id=\"folds\">",
    );
    let form = "x0=1&x1=2&x2=oops&x3=4";
    let (code, page) = server.call(
        "POST",
        "/runs/iris",
        "application/x-www-form-urlencoded",
        form,
    );
    assert_eq!(code, 400);
    at(&page, "`petal_length`: `oops` is not a number");

    assert_eq!(
        server.call("GET", "/runs/iris/files/metrics.csv", "", "").0,
        200
    );
    for path in [
        "/runs/iris/files/model.mpk",
        "/runs/iris/files/..%2F..%2Fsecret.json",
        "/runs/..%2Fsecret.json",
        "/runs/%2e%2e%2fsecret.json",
        "/runs/iris/files/%2e%2e%2f%2e%2e%2fsecret.json",
        "/runs/nothing",
    ] {
        let (code, body) = server.call("GET", path, "", "");
        assert!(matches!(code, 400 | 404), "{path}: {code} {body}");
        assert!(!body.contains("secret\": 1"), "{path}: {body}");
    }
}

#[test]
fn text_runs_answer_as_nnlab_predict_and_csv_answers_stream() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(
        &runs.join("reviews"),
        &["--dataset", "reviews", "--epochs", "2"],
    );
    common::train_run(
        &runs.join("line"),
        &["--dataset", "linear", "--epochs", "2"],
    );
    let server = Server::start(&runs, &[]);

    let texts = ["a great film", "dull and slow but the music was lovely"];
    let csv = dir.path().join("texts.csv");
    std::fs::write(&csv, format!("text\n{}\n{}\n", texts[0], texts[1])).unwrap();
    let expected = predicted_rows(&runs.join("reviews"), &csv);
    let (code, answer) = server.post_json(
        "/v1/models/reviews:predict",
        &json!({"instances": [texts[0], {"text": texts[1]}]}),
    );
    assert_eq!(code, 200, "{answer}");
    for (row, want) in answer["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&expected)
    {
        assert_eq!(row["class"], want[0].as_str(), "{answer}");
    }
    // The page's form takes one text.
    let form = format!("text={}", texts[1].replace(' ', "+"));
    let (code, page) = server.call(
        "POST",
        "/runs/reviews",
        "application/x-www-form-urlencoded",
        &form,
    );
    assert_eq!(code, 200, "{page}");
    at(
        &page,
        &format!("<strong id=\"predicted-class\">{}</strong>", expected[1][0]),
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let (code, body) = server.call("POST", "/v1/models/reviews:predict", "text/csv", &text);
    let command = common::stdout(&mut common::predict_command(&runs.join("reviews"), &csv));
    assert_eq!((code, body), (200, command));

    // 10,000 rows are answered in three pieces, byte for byte as `nnlab predict` writes them.
    let mut rows = String::from("x\n");
    for i in 0..10_000 {
        rows.push_str(&format!("{}\n", f64::from(i) / 1000.0 - 5.0));
    }
    let csv = dir.path().join("many.csv");
    std::fs::write(&csv, &rows).unwrap();
    let answer = minreq::post(server.url("/v1/models/line:predict"))
        .with_header("Content-Type", "text/csv")
        .with_body(rows.as_str())
        .send()
        .unwrap();
    assert_eq!(answer.header("Transfer-Encoding"), Some("chunked"));
    let body = answer.as_str().unwrap().to_string();
    let command = common::stdout(&mut common::predict_command(&runs.join("line"), &csv));
    assert!(
        body == command,
        "the streamed answer differs from nnlab predict's"
    );
}

/// minreq's method for its name.
fn method_of(name: &str) -> minreq::Method {
    match name {
        "GET" => minreq::Method::Get,
        "POST" => minreq::Method::Post,
        "DELETE" => minreq::Method::Delete,
        other => minreq::Method::Custom(other.into()),
    }
}

#[test]
fn autoencoders_answer_reconstructions_and_generative_runs_generate_as_nnlab_does() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    common::train_run(
        &runs.join("ae"),
        &[
            "--dataset",
            "iris",
            "--model",
            "autoencoder",
            "--epochs",
            "5",
        ],
    );
    common::train_run(
        &runs.join("vae"),
        &["--dataset", "iris", "--model", "vae", "--epochs", "5"],
    );
    common::train_run(
        &runs.join("gan"),
        &["--dataset", "ring", "--model", "gan", "--epochs", "2"],
    );
    let server = Server::start(&runs, &["--max-rows", "50"]);

    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, IRIS_CSV).unwrap();
    let expected = predicted_rows(&runs.join("ae"), &csv);
    let (code, answer) = server.post_json("/v1/models/ae:predict", &iris_instances());
    assert_eq!(code, 200, "{answer}");
    for (row, want) in answer["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&expected)
    {
        let got: Vec<f64> = row["reconstruction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let want: Vec<f64> = want.iter().map(|c| c.parse().unwrap()).collect();
        assert!(
            common::max_abs_diff(&got, &want[..4]) < 1e-9,
            "{got:?} vs {want:?}"
        );
        let error = row["reconstruction_error"].as_f64().unwrap();
        assert!((error - want[4]).abs() < 1e-9);
    }

    for run in ["vae", "gan"] {
        let path = format!("/v1/models/{run}:generate");
        let (code, a) = server.post_json(&path, &json!({"count": 4, "seed": 9}));
        assert_eq!(code, 200, "{a}");
        let (_, b) = server.post_json(&path, &json!({"count": 4, "seed": 9}));
        assert_eq!(a, b, "the same seed gives the same samples");
        let cli = common::stdout(
            nnlab()
                .args(["generate", "--count", "4", "--seed", "9"])
                .arg("--checkpoint")
                .arg(runs.join(run)),
        );
        let cli: Vec<Vec<f64>> = cli
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
            .collect();
        let served: Vec<Vec<f64>> = serde_json::from_value(a["samples"].clone()).unwrap();
        // serde_json reads floats to within an ulp.
        let (served, cli): (Vec<f64>, Vec<f64>) = (served.concat(), cli.concat());
        assert_eq!(served.len(), cli.len());
        assert!(
            common::max_abs_diff(&served, &cli) < 1e-12,
            "{run}: the server's samples are nnlab generate's: {served:?} vs {cli:?}"
        );
        let (code, _) = server.post_json(&path, &json!({"count": 51}));
        assert_eq!(code, 400, "a count above --max-rows");
        let (code, _) = server.post_json(&path, &json!({"count": 0}));
        assert_eq!(code, 400);
    }
    let (code, text) = server.call("POST", "/v1/models/ae:predict", "text/csv", IRIS_CSV);
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("answered in JSON"), "{text}");
    let (code, answer) = server.post_json("/v1/models/ae:generate", &json!({"count": 2}));
    assert_eq!(code, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("cannot generate")
    );
    let (code, answer) = server.post_json("/v1/models/gan:predict", &iris_instances());
    assert_eq!(code, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains(":generate"));
}
