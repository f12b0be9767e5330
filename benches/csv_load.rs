//! How fast a large CSV loads, and with how much memory: writes a 1,000,000-row table of 20
//! features and a target to a temporary file, loads it three times with nnlab's reader, and
//! prints the median time and the process's peak resident memory next to the size of the
//! numbers themselves.
//!
//! `cargo bench --bench csv_load [-- ROWS]`

use std::io::{BufWriter, Write};
use std::time::Instant;

use nnlab::data::csv::read_table;
use nnlab::loss::Task;

const COLUMNS: usize = 20;

/// Peak resident memory of this process so far, in MiB (Linux's VmHWM).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("big.csv");
    {
        let mut out = BufWriter::new(std::fs::File::create(&path).expect("create"));
        let header: Vec<String> = (0..COLUMNS).map(|j| format!("f{j}")).collect();
        writeln!(out, "{},y", header.join(",")).unwrap();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..rows {
            let mut sum = 0.0;
            for _ in 0..COLUMNS {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                sum += v;
                write!(out, "{v:.6},").unwrap();
            }
            writeln!(out, "{sum:.6}").unwrap();
        }
    }
    let file_mib = std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64;
    let before = peak_rss_mib();
    let mut seconds = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let (data, _) = read_table(&path, "y", None, Task::Regression, false, None).expect("loads");
        seconds.push(start.elapsed().as_secs_f64());
        assert_eq!(data.rows(), rows);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[1];
    let numbers_mib = (rows * (COLUMNS + 1) * 8) as f64 / (1 << 20) as f64;
    println!("CSV load: {rows} rows × {COLUMNS} features + target, {file_mib:.0} MiB on disk");
    println!();
    println!("| measure                          |        value |");
    println!("|----------------------------------|-------------:|");
    println!("| load time, median of 3           | {median:>10.2} s |");
    println!(
        "| rows per second                  | {:>12.0} |",
        rows as f64 / median
    );
    println!("| the numbers as f64               | {numbers_mib:>8.0} MiB |");
    match (before, peak_rss_mib()) {
        (Some(b), Some(a)) => {
            println!("| peak resident memory, before     | {b:>8.0} MiB |");
            println!("| peak resident memory, after load | {a:>8.0} MiB |");
            println!(
                "| peak / numbers                   | {:>11.2}x |",
                a / numbers_mib
            );
        }
        _ => println!("| peak resident memory             | (not on this OS) |"),
    }
}
