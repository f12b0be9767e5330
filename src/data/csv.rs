//! CSV tables with a header row: numeric features picked by column name, a numeric or labelled
//! target. Every error names the file, the line and the column.
//!
//! The separator is given (`--delimiter`) or detected from the header line: whichever of `,`,
//! `;` and tab occurs most outside quotes, `,` on a tie or when there is none, so that a file
//! saved where the decimal mark is a comma (`;`-separated) reads as it is. The csv crate does
//! the splitting, so quoted fields may hold any separator.

use std::fs::File;
use std::io::{BufRead, BufReader, Chain, Cursor, Read};
use std::ops::Range;
use std::path::Path;

use super::{Dataset, TargetValues};
use crate::error::{Error, Result};
use crate::loss::Task;

fn data_error(path: &Path, line: Option<u64>, column: Option<&str>, message: String) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        column: column.map(str::to_owned),
        message,
    }
}

/// The separators detection chooses from, in the order that breaks ties.
const SEPARATORS: [u8; 3] = [b',', b';', b'\t'];

/// How much of the header line detection reads; a longer one is judged by its start.
const HEADER_SCAN: u64 = 1 << 20;

/// A file's bytes: the header line read for detection, then the rest (no seek, so pipes work).
type Source = Chain<Cursor<Vec<u8>>, BufReader<File>>;

/// An open CSV file with its header read.
struct Table {
    reader: ::csv::Reader<Source>,
    header: Vec<String>,
    /// The separator in use.
    delimiter: u8,
}

/// The byte of a field separator: one ASCII character that is not a quote or a line end.
pub fn delimiter_byte(c: char) -> std::result::Result<u8, String> {
    match c {
        '"' | '\n' | '\r' => Err(format!(
            "cannot be {c:?}: quotes and line ends cannot separate fields"
        )),
        c if c.is_ascii() => Ok(c as u8),
        _ => Err(format!("must be an ASCII character, got `{c}`")),
    }
}

/// Counts of each of [`SEPARATORS`] in `line`, outside double quotes.
fn separator_counts(line: &[u8]) -> [usize; 3] {
    let mut counts = [0; 3];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = SEPARATORS.iter().position(|&s| s == b) {
            counts[i] += 1;
        }
    }
    counts
}

/// The separator counted most, the earlier of [`SEPARATORS`] on a tie; none if none was.
fn most_used(counts: [usize; 3]) -> Option<u8> {
    let best = (0..3).rev().max_by_key(|&i| counts[i])?;
    (counts[best] > 0).then_some(SEPARATORS[best])
}

/// Reads the header line and picks its separator (`,` when it has none); returns the bytes
/// read, which the reader gets back in front of the rest.
fn detect(file: &mut BufReader<File>) -> std::io::Result<(u8, Vec<u8>)> {
    let mut line = Vec::new();
    file.by_ref()
        .take(HEADER_SCAN)
        .read_until(b'\n', &mut line)?;
    let separator = most_used(separator_counts(&line)).unwrap_or(b',');
    Ok((separator, line))
}

fn open(path: &Path, delimiter: Option<char>) -> Result<Table> {
    if path.is_dir() {
        return Err(data_error(
            path,
            None,
            None,
            "is a directory, not a CSV file".into(),
        ));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut file = BufReader::with_capacity(1 << 16, file);
    let (delimiter, start) = match delimiter {
        Some(c) => {
            let byte = delimiter_byte(c).map_err(|m| Error::Usage(format!("--delimiter {m}")))?;
            (byte, Vec::new())
        }
        None => detect(&mut file).map_err(|e| Error::io(path, e))?,
    };
    // Flexible, so that a ragged row gets our message (with both counts) rather than csv's.
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(Cursor::new(start).chain(file));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| data_error(path, Some(1), None, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(data_error(
            path,
            None,
            None,
            "is empty: expected a header row".into(),
        ));
    }
    check_unique(path, &header)?;
    Ok(Table {
        reader,
        header,
        delimiter,
    })
}

/// Refuses a header that names a column twice: columns are found by name, so one of the two
/// would be read in place of the other.
fn check_unique(path: &Path, header: &[String]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), i) {
            let columns = format!("columns {} and {}", first + 1, i + 1);
            let (column, message) = if name.is_empty() {
                (
                    None,
                    format!("{columns} have no name; give each column its own"),
                )
            } else {
                (
                    Some(name.as_str()),
                    format!("names {columns}; give each column its own name"),
                )
            };
            return Err(data_error(path, Some(1), column, message));
        }
    }
    Ok(())
}

/// Says which separator a header looks split by when its names still hold one that is not
/// the separator in use: the likely reason a column was not found.
fn separator_hint(table: &Table) -> String {
    let mut counts = [0; 3];
    for name in &table.header {
        let found = separator_counts(name.as_bytes());
        counts.iter_mut().zip(found).for_each(|(c, f)| *c += f);
    }
    if let Some(i) = SEPARATORS.iter().position(|&s| s == table.delimiter) {
        counts[i] = 0;
    }
    match most_used(counts) {
        Some(b'\t') => " (the header looks tab-separated: pass --delimiter tab)".into(),
        Some(s) => format!(
            " (the header looks `{0}`-separated: pass --delimiter '{0}')",
            s as char
        ),
        None => String::new(),
    }
}

fn no_rows(path: &Path) -> Error {
    data_error(path, None, None, "has a header but no data rows".into())
}

/// The positions of the columns `names`, in that order.
fn column_indices(path: &Path, table: &Table, names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|name| column_index(path, table, name))
        .collect()
}

fn column_index(path: &Path, table: &Table, name: &str) -> Result<usize> {
    table.header.iter().position(|h| h == name).ok_or_else(|| {
        let columns = table.header.join(", ");
        let hint = separator_hint(table);
        data_error(
            path,
            Some(1),
            None,
            format!("no column `{name}`; the columns are: {columns}{hint}"),
        )
    })
}

/// A cell that holds no usable number: empty, NaN or infinite.
fn missing(cell: &str) -> Option<&'static str> {
    const NAN: [&str; 5] = ["nan", "na", "n/a", "null", "none"];
    const INF: [&str; 6] = ["inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"];
    let cell = cell.trim();
    let any = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(cell));
    if cell.is_empty() {
        Some("is empty")
    } else if any(&NAN) {
        Some("is missing (NaN)")
    } else if any(&INF) {
        Some("is infinite")
    } else {
        None
    }
}

/// What to add to a missing-value error when the rows could be skipped instead.
const DROP_HINT: &str = "; pass --drop-missing to skip rows with missing values";

/// Parses a cell as a finite number; `hint` ends the message for a missing value.
fn parse_number(path: &Path, line: u64, column: &str, cell: &str, hint: &str) -> Result<f64> {
    // The common case first: a number parses, and only a failure pays for finding out why.
    let trimmed = cell.trim();
    if let Some(value) = plain_decimal(trimmed.as_bytes()) {
        return Ok(value);
    }
    let parsed = trimmed.parse::<f64>();
    if let Ok(value) = parsed
        && value.is_finite()
    {
        return Ok(value);
    }
    let why = match (missing(cell), parsed) {
        (Some(what), _) => format!("{what}{hint}"),
        (None, Ok(_)) => format!("`{cell}` is not a finite number"),
        (None, Err(_)) => format!("`{cell}` is not a number"),
    };
    Err(data_error(path, Some(line), Some(column), why))
}

/// A cell written as `[-+]digits[.digits]` with at most 15 digits, the way most data files
/// write numbers, parsed in one pass: the digits make an integer m < 10¹⁵ < 2⁵³ and the value
/// is m / 10ᵏ, both exact in `f64` and their quotient correctly rounded (Clinger's fast path),
/// so it equals what `str::parse` gives. `None` for anything else, which `str::parse` reads.
fn plain_decimal(cell: &[u8]) -> Option<f64> {
    const POWERS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match cell.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, cell),
    };
    let (mut m, mut count, mut decimals, mut point) = (0u64, 0usize, 0usize, false);
    for &b in digits {
        match b {
            b'0'..=b'9' if count < 15 => {
                m = m * 10 + u64::from(b - b'0');
                count += 1;
                decimals += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if count == 0 || (point && decimals == 0) {
        return None;
    }
    let value = m as f64 / POWERS[decimals];
    Some(if negative { -value } else { value })
}

/// Visits each data row with its 1-based line number, checking that it has every column.
fn for_each_row(
    path: &Path,
    table: &mut Table,
    mut visit: impl FnMut(u64, &::csv::StringRecord) -> Result<()>,
) -> Result<()> {
    let mut record = ::csv::StringRecord::new();
    loop {
        let more = table.reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            data_error(path, line, None, e.to_string())
        })?;
        if !more {
            return Ok(());
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != table.header.len() {
            return Err(data_error(
                path,
                Some(line),
                None,
                format!(
                    "has {} fields but the header has {}",
                    record.len(),
                    table.header.len()
                ),
            ));
        }
        visit(line, &record)?;
    }
}

/// Reads a training table: `target` is the column to predict; `features` the columns to learn
/// from (every other column when `None`). With `drop_missing`, rows with an empty, NaN or
/// infinite cell in a used column are skipped and counted; otherwise they are an error.
/// `delimiter` separates fields; detected from the header line when `None`.
///
/// Rows stream through one reused record into the numeric table, so memory stays close to
/// the numbers' size (8 bytes a value) whatever the file's.
pub fn read_table(
    path: &Path,
    target: &str,
    features: Option<&[String]>,
    task: Task,
    drop_missing: bool,
    delimiter: Option<char>,
) -> Result<(Dataset, usize)> {
    let mut table = open(path, delimiter)?;
    let target_index = column_index(path, &table, target)?;
    let feature_names: Vec<String> = match features {
        Some(names) => names.to_vec(),
        None => table
            .header
            .iter()
            .filter(|h| h.as_str() != target)
            .cloned()
            .collect(),
    };
    if feature_names.is_empty() {
        return Err(data_error(
            path,
            Some(1),
            None,
            format!("has no feature column besides the target `{target}`"),
        ));
    }
    if feature_names.iter().any(|f| f == target) {
        return Err(data_error(
            path,
            Some(1),
            Some(target),
            "is the target and cannot also be a feature".into(),
        ));
    }
    let feature_indices = column_indices(path, &table, &feature_names)?;

    let columns = Columns {
        path,
        features: &feature_indices,
        feature_names: &feature_names,
        target: (target_index, target),
        task,
        drop_missing,
    };
    let mut values = Vec::new();
    let mut numbers = Vec::new();
    let mut labels = Labels::default();
    let mut skipped = 0;
    for_each_batch(
        path,
        &mut table,
        |batch, rows, out| columns.parse(batch, rows, out),
        |parsed: &mut Parsed, batch| {
            if values.capacity() == 0 {
                // One allocation for the whole table, sized from the first rows' bytes: growing
                // by doubling copied it and touched twice the memory.
                let rows = estimated_rows(path, batch);
                // Where that much cannot be had, the table grows as it is read instead.
                let _ = values.try_reserve(rows * feature_indices.len());
                let _ = numbers.try_reserve(rows);
            }
            values.extend_from_slice(&parsed.values);
            numbers.extend_from_slice(&parsed.numbers);
            skipped += parsed.skipped;
            if task == Task::Classification {
                for &row in &parsed.kept {
                    labels.push(batch.records[row][target_index].trim());
                }
            }
        },
    )?;
    if values.is_empty() && skipped == 0 {
        return Err(no_rows(path));
    }
    if values.is_empty() {
        let message = format!("has no row without a missing value ({skipped} skipped)");
        return Err(data_error(path, None, None, message));
    }
    let targets = match task {
        Task::Regression => TargetValues::Values(numbers),
        Task::Classification => labels.finish(path, target)?,
    };
    let data = Dataset {
        features: values,
        feature_names,
        target_name: target.to_owned(),
        targets,
    };
    Ok((data, skipped))
}

/// Rows read a batch at a time: each batch is parsed while the next one is read, on two
/// threads, which roughly halves the load of a large table.
const BATCH_ROWS: usize = 4096;

/// A batch of rows and the line each starts on; its records are reused batch after batch.
#[derive(Default)]
struct Batch {
    records: Vec<::csv::StringRecord>,
    lines: Vec<u64>,
    len: usize,
    /// The byte offset where the batch's last row starts.
    end: u64,
}

/// Fills `batch` with up to [`BATCH_ROWS`] rows, checking that each has every column.
fn read_batch(path: &Path, table: &mut Table, batch: &mut Batch) -> Result<()> {
    batch.len = 0;
    batch.lines.clear();
    while batch.len < BATCH_ROWS {
        if batch.records.len() == batch.len {
            batch.records.push(::csv::StringRecord::new());
        }
        let record = &mut batch.records[batch.len];
        let more = table.reader.read_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            data_error(path, line, None, e.to_string())
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != table.header.len() {
            let counts = format!(
                "has {} fields but the header has {}",
                record.len(),
                table.header.len()
            );
            return Err(data_error(path, Some(line), None, counts));
        }
        batch.lines.push(line);
        batch.end = record.position().map_or(0, |p| p.byte());
        batch.len += 1;
    }
    Ok(())
}

/// Reads every row, parsing each batch with `parse` (given the batch, a range of its rows and
/// where to put the result) while the next is read, and hands the results to `take` in file
/// order. Reading a batch takes about half as long as parsing one, so the thread that reads
/// also parses the last third of the rows. The first error in the file is the one returned.
///
/// The two results are reused batch after batch: fresh buffers for each came as fresh pages
/// from the system, and zeroing them took a fifth of a large file's load.
fn for_each_batch<P: Default + Send>(
    path: &Path,
    table: &mut Table,
    parse: impl Fn(&Batch, Range<usize>, &mut P) -> Result<()> + Sync,
    mut take: impl FnMut(&mut P, &Batch) + Send,
) -> Result<()> {
    // On a pool thread, so that each join runs one side inline and the other thread takes
    // the other; joined from outside the pool, the waiting threads spun on both cores.
    rayon::scope(|_| batches(path, table, &parse, &mut take))
}

fn batches<P: Default + Send>(
    path: &Path,
    table: &mut Table,
    parse: &(impl Fn(&Batch, Range<usize>, &mut P) -> Result<()> + Sync),
    take: &mut (impl FnMut(&mut P, &Batch) + Send),
) -> Result<()> {
    let (mut current, mut next) = (Batch::default(), Batch::default());
    let (mut first, mut last) = (P::default(), P::default());
    read_batch(path, table, &mut current)?;
    while current.len > 0 {
        let split = current.len * 2 / 3;
        let (parsed_first, (read, parsed_last)) = rayon::join(
            || parse(&current, 0..split, &mut first),
            || {
                let read = read_batch(path, table, &mut next);
                (read, parse(&current, split..current.len, &mut last))
            },
        );
        parsed_first?;
        take(&mut first, &current);
        parsed_last?;
        take(&mut last, &current);
        read?;
        std::mem::swap(&mut current, &mut next);
    }
    Ok(())
}

/// The rows of the whole file, judged from the bytes of a first batch (a little over, so that
/// the estimate rarely falls short).
fn estimated_rows(path: &Path, batch: &Batch) -> usize {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    match batch.end {
        0 => batch.len,
        end => (size as f64 / end as f64 * batch.len as f64 * 1.02) as usize + 1,
    }
}

/// The columns `read_table` takes from each row, and how.
struct Columns<'a> {
    path: &'a Path,
    features: &'a [usize],
    feature_names: &'a [String],
    target: (usize, &'a str),
    task: Task,
    drop_missing: bool,
}

/// Part of a batch's numbers, and which of its rows were kept.
#[derive(Default)]
struct Parsed {
    values: Vec<f64>,
    numbers: Vec<f64>,
    kept: Vec<usize>,
    skipped: usize,
}

impl Columns<'_> {
    /// Parses `rows` of `batch` into `out`, replacing what it held.
    fn parse(&self, batch: &Batch, rows: Range<usize>, out: &mut Parsed) -> Result<()> {
        out.values.clear();
        out.numbers.clear();
        out.kept.clear();
        out.skipped = 0;
        out.values.reserve(rows.len() * self.features.len());
        for row in rows {
            if self.parse_row(batch.lines[row], &batch.records[row], out)? {
                out.kept.push(row);
            }
        }
        Ok(())
    }

    /// Parses one row into `out`; `false` when it is skipped for a missing value.
    fn parse_row(&self, line: u64, record: &::csv::StringRecord, out: &mut Parsed) -> Result<bool> {
        let (path, (target_index, target)) = (self.path, self.target);
        let used = self.features.iter().chain([&target_index]);
        if self.drop_missing && used.clone().any(|&i| missing(&record[i]).is_some()) {
            out.skipped += 1;
            return Ok(false);
        }
        for (&i, name) in self.features.iter().zip(self.feature_names) {
            out.values
                .push(parse_number(path, line, name, &record[i], DROP_HINT)?);
        }
        let cell = record[target_index].trim();
        match self.task {
            Task::Regression => {
                out.numbers
                    .push(
                        parse_number(path, line, target, cell, DROP_HINT).map_err(|e| {
                            if cell.parse::<f64>().is_err() && missing(cell).is_none() {
                                let hint = "for class labels pass --task classification";
                                let message = format!("`{cell}` is not a number; {hint}");
                                data_error(path, Some(line), Some(target), message)
                            } else {
                                e
                            }
                        })?,
                    )
            }
            Task::Classification => {
                if let Some(what) = missing(cell) {
                    let message = format!("{what}{DROP_HINT}");
                    return Err(data_error(path, Some(line), Some(target), message));
                }
            }
        }
        Ok(true)
    }
}

/// Class labels as they stream in: each distinct text gets a provisional index.
#[derive(Default)]
struct Labels {
    seen: std::collections::HashMap<String, usize>,
    order: Vec<String>,
    indices: Vec<usize>,
}

impl Labels {
    fn push(&mut self, cell: &str) {
        let next = self.order.len();
        let index = *self.seen.entry(cell.to_owned()).or_insert_with(|| {
            self.order.push(cell.to_owned());
            next
        });
        self.indices.push(index);
    }

    /// Final class indices: labels sorted numerically when they are all numbers, else
    /// alphabetically.
    fn finish(self, path: &Path, target: &str) -> Result<TargetValues> {
        let mut labels = self.order.clone();
        sort_labels(&mut labels);
        if labels.len() < 2 {
            return Err(data_error(
                path,
                None,
                Some(target),
                format!(
                    "has a single class (`{}`); classification needs two or more",
                    labels[0]
                ),
            ));
        }
        let rank: Vec<usize> = self
            .order
            .iter()
            .map(|l| labels.iter().position(|m| m == l).expect("same labels"))
            .collect();
        Ok(TargetValues::Classes {
            indices: self.indices.iter().map(|&i| rank[i]).collect(),
            labels,
        })
    }
}

/// Reads the columns `names` (in that order) from a CSV file for prediction; other columns are
/// ignored; `delimiter` as in [`read_table`]. Returns the values row-major.
pub fn read_features(path: &Path, names: &[String], delimiter: Option<char>) -> Result<Vec<f64>> {
    read_columns(path, names, delimiter, "")
}

/// Whether the CSV file has a column `name`: an error naming the file and its columns if not.
pub fn check_column(path: &Path, name: &str, delimiter: Option<char>) -> Result<()> {
    let table = open(path, delimiter)?;
    column_index(path, &table, name).map(drop)
}

/// The columns of a CSV file whose first row holds a number: what a model without a target
/// (an autoencoder, a GAN) learns from when no `--features` are named. A later row that is
/// not a number there is an error that names its line, as for any feature.
pub fn numeric_columns(path: &Path, delimiter: Option<char>) -> Result<Vec<String>> {
    let mut table = open(path, delimiter)?;
    let mut record = ::csv::StringRecord::new();
    let more = table
        .reader
        .read_record(&mut record)
        .map_err(|e| data_error(path, e.position().map(|p| p.line()), None, e.to_string()))?;
    if !more {
        return Err(no_rows(path));
    }
    let names: Vec<String> = table
        .header
        .iter()
        .zip(record.iter())
        .filter(|(_, cell)| cell.trim().parse::<f64>().is_ok())
        .map(|(name, _)| name.clone())
        .collect();
    if names.is_empty() {
        return Err(data_error(
            path,
            Some(2),
            None,
            "has no numeric column: name the columns to learn with --features".into(),
        ));
    }
    Ok(names)
}

/// Reads the columns `names` of a time series (see [`read_features`]): a missing cell is an
/// error that says why it cannot be skipped.
pub fn read_series_columns(
    path: &Path,
    names: &[String],
    delimiter: Option<char>,
) -> Result<Vec<f64>> {
    read_columns(
        path,
        names,
        delimiter,
        ": a series needs every step (skipping a row would join the steps on either side); \
         fill the gap",
    )
}

/// The columns `names` as numbers, row-major; `hint` ends the message for a missing value.
fn read_columns(
    path: &Path,
    names: &[String],
    delimiter: Option<char>,
    hint: &str,
) -> Result<Vec<f64>> {
    let mut table = open(path, delimiter)?;
    let indices = column_indices(path, &table, names)?;
    let mut values = Vec::new();
    for_each_row(path, &mut table, |line, record| {
        for (&i, name) in indices.iter().zip(names) {
            values.push(parse_number(path, line, name, &record[i], hint)?);
        }
        Ok(())
    })?;
    if values.is_empty() {
        return Err(no_rows(path));
    }
    Ok(values)
}

/// Reads labelled rows for scoring a trained run: the feature columns `names` and the
/// `target` column; with `classes` (the run's labels) the target is a class label that must
/// be one of them; `delimiter` as in [`read_table`].
pub fn read_labelled(
    path: &Path,
    names: &[String],
    target: &str,
    classes: Option<&[String]>,
    delimiter: Option<char>,
) -> Result<Dataset> {
    let task = if classes.is_some() {
        Task::Classification
    } else {
        Task::Regression
    };
    let mut table = open(path, delimiter)?;
    let target_index = column_index(path, &table, target)?;
    let indices = column_indices(path, &table, names)?;
    let mut values = Vec::new();
    let mut numbers = Vec::new();
    let mut labels = Vec::new();
    for_each_row(path, &mut table, |line, record| {
        for (&i, name) in indices.iter().zip(names) {
            values.push(parse_number(path, line, name, &record[i], "")?);
        }
        let cell = record[target_index].trim();
        match classes {
            None => numbers.push(parse_number(path, line, target, cell, "")?),
            Some(classes) => match classes.iter().position(|c| c == cell) {
                Some(index) => labels.push(index),
                None => {
                    return Err(data_error(
                        path,
                        Some(line),
                        Some(target),
                        format!(
                            "`{cell}` is not a class the model knows ({})",
                            classes.join(", ")
                        ),
                    ));
                }
            },
        }
        Ok(())
    })?;
    if values.is_empty() {
        return Err(no_rows(path));
    }
    let targets = match (task, classes) {
        (Task::Classification, Some(classes)) => TargetValues::Classes {
            indices: labels,
            labels: classes.to_vec(),
        },
        _ => TargetValues::Values(numbers),
    };
    Ok(Dataset {
        features: values,
        feature_names: names.to_vec(),
        target_name: target.to_owned(),
        targets,
    })
}

/// Reads a text column and the target column (none for prediction): each row's text as it is
/// (an empty cell is an empty text), and the target as classes (`classes`) or numbers.
pub fn read_text_column(
    path: &Path,
    column: &str,
    target: Option<&str>,
    classes: bool,
    delimiter: Option<char>,
) -> Result<(Vec<String>, TargetValues)> {
    let mut table = open(path, delimiter)?;
    let text_index = column_index(path, &table, column)?;
    let target_index = match target {
        Some(target) => Some(column_index(path, &table, target)?),
        None => None,
    };
    let target = target.unwrap_or_default();
    if Some(text_index) == target_index {
        return Err(data_error(
            path,
            Some(1),
            Some(target),
            "is the target and cannot also be the text".into(),
        ));
    }
    let mut texts = Vec::new();
    let mut numbers = Vec::new();
    let mut labels = Labels::default();
    for_each_row(path, &mut table, |line, record| {
        texts.push(record[text_index].to_string());
        let Some(target_index) = target_index else {
            return Ok(());
        };
        let cell = record[target_index].trim();
        if classes {
            if let Some(what) = missing(cell) {
                let message = what.to_string();
                return Err(data_error(path, Some(line), Some(target), message));
            }
            labels.push(cell);
        } else {
            numbers.push(parse_number(path, line, target, cell, "")?);
        }
        Ok(())
    })?;
    if texts.is_empty() {
        return Err(no_rows(path));
    }
    let targets = match (classes, target_index) {
        (true, Some(_)) => labels.finish(path, target)?,
        _ => TargetValues::Values(numbers),
    };
    Ok((texts, targets))
}

/// Orders class labels numerically when they are all numbers, else alphabetically.
pub fn sort_labels(labels: &mut [String]) {
    if labels.iter().all(|l| l.parse::<f64>().is_ok()) {
        labels.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap()
                .total_cmp(&b.parse::<f64>().unwrap())
        });
    } else {
        labels.sort();
    }
}

/// A column's cells as text, one per data row, with each row's line number.
pub fn read_cells(path: &Path, name: &str, delimiter: Option<char>) -> Result<Vec<(u64, String)>> {
    let mut table = open(path, delimiter)?;
    let i = column_index(path, &table, name)?;
    let mut cells = Vec::new();
    for_each_row(path, &mut table, |line, record| {
        cells.push((line, record[i].trim().to_string()));
        Ok(())
    })?;
    Ok(cells)
}

/// The header's names and the first data row's cells (empty without one).
pub fn read_first_row(path: &Path, delimiter: Option<char>) -> Result<(Vec<String>, Vec<String>)> {
    let mut table = open(path, delimiter)?;
    let mut record = ::csv::StringRecord::new();
    let more = (table.reader.read_record(&mut record)).map_err(|e| {
        let line = e.position().map(|p| p.line());
        data_error(path, line, None, e.to_string())
    })?;
    let cells = match more {
        true => record.iter().map(|c| c.trim().to_string()).collect(),
        false => Vec::new(),
    };
    Ok((table.header.clone(), cells))
}

#[cfg(test)]
mod tests {
    use super::plain_decimal;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn plain_decimals_parse_to_the_bits_str_parse_gives() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..200_000 {
            let digits = rng.random_range(1..=15);
            let m: u64 = rng.random_range(0..10u64.pow(digits));
            let text = m.to_string();
            let at = rng.random_range(0..=text.len());
            let sign = ["", "-", "+"][rng.random_range(0..3)];
            let cell = match at {
                0 => format!("{sign}{text}"),
                _ if at == text.len() => format!("{sign}{text}"),
                _ => format!("{sign}{}.{}", &text[..at], &text[at..]),
            };
            let want: f64 = cell.parse().unwrap();
            let got = plain_decimal(cell.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{cell}");
        }
        for other in [
            "",
            "-",
            ".",
            "1.",
            "1e5",
            "0x10",
            "1.2.3",
            "nan",
            "1234567890123456",
        ] {
            assert_eq!(plain_decimal(other.as_bytes()), None, "{other}");
        }
        assert_eq!(plain_decimal(b".5"), Some(0.5));
    }
}
