//! Request counts and latencies in Prometheus' text format (`GET /metrics`): per run and
//! status code, and a latency histogram per run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Latency {
    /// Observations at or under each bound of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the server has answered.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (run, status code); run is `""` for requests that name none.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Latency>>,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, run: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((run.to_string(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let entry = latency.entry(run.to_string()).or_default();
        for (bound, count) in BUCKETS.iter().zip(&mut entry.buckets) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        entry.count += 1;
        entry.sum += seconds;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out += "# HELP nnlab_requests_total Requests answered, by run and status code.\n";
        out += "# TYPE nnlab_requests_total counter\n";
        for ((run, code), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "nnlab_requests_total{{run=\"{}\",code=\"{code}\"}} {n}",
                escape(run)
            );
        }
        out += "# HELP nnlab_errors_total Requests answered with a 4xx or 5xx code, by run.\n";
        out += "# TYPE nnlab_errors_total counter\n";
        let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((run, code), n) in requests.iter() {
            *errors.entry(run).or_default() += if *code >= 400 { *n } else { 0 };
        }
        for (run, n) in errors {
            let _ = writeln!(out, "nnlab_errors_total{{run=\"{}\"}} {n}", escape(run));
        }
        out += "# HELP nnlab_request_seconds Time to answer a request, by run.\n";
        out += "# TYPE nnlab_request_seconds histogram\n";
        for (run, l) in self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let run = escape(run);
            for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                let _ = writeln!(
                    out,
                    "nnlab_request_seconds_bucket{{run=\"{run}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "nnlab_request_seconds_bucket{{run=\"{run}\",le=\"+Inf\"}} {}",
                l.count
            );
            let _ = writeln!(out, "nnlab_request_seconds_sum{{run=\"{run}\"}} {}", l.sum);
            let _ = writeln!(
                out,
                "nnlab_request_seconds_count{{run=\"{run}\"}} {}",
                l.count
            );
        }
        out
    }
}

/// A label value as Prometheus writes it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_add_up() {
        let metrics = Metrics::default();
        metrics.observe("iris", 200, 0.002);
        metrics.observe("iris", 200, 0.02);
        metrics.observe("iris", 400, 0.0001);
        metrics.observe("", 404, 0.0001);
        let text = metrics.render();
        for line in [
            "nnlab_requests_total{run=\"iris\",code=\"200\"} 2",
            "nnlab_requests_total{run=\"iris\",code=\"400\"} 1",
            "nnlab_errors_total{run=\"iris\"} 1",
            "nnlab_errors_total{run=\"\"} 1",
            "nnlab_request_seconds_bucket{run=\"iris\",le=\"0.0025\"} 2",
            "nnlab_request_seconds_bucket{run=\"iris\",le=\"0.025\"} 3",
            "nnlab_request_seconds_bucket{run=\"iris\",le=\"+Inf\"} 3",
            "nnlab_request_seconds_count{run=\"iris\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
