//! The three small real datasets, compiled into the binary as the gzipped CSV files that the
//! `linfa-datasets` crate (0.8) ships, so nothing is downloaded at run time. Reading them here
//! instead of through that crate spares every build a second `ndarray`, `linfa` and `sprs`.

use std::io::Read;

use flate2::read::GzDecoder;

/// A table read from an embedded file: `columns` numbers a row, rows one after another.
pub struct Table {
    pub values: Vec<f64>,
    pub columns: usize,
}

impl Table {
    /// Column `index` of every row.
    pub fn column(&self, index: usize) -> impl Iterator<Item = f64> + '_ {
        self.values.chunks(self.columns).map(move |row| row[index])
    }

    /// Columns `0..end` of every row, rows one after another.
    pub fn leading(&self, end: usize) -> Vec<f64> {
        let rows = self.values.chunks(self.columns);
        rows.flat_map(|row| &row[..end]).copied().collect()
    }
}

/// Fisher's iris: four measurements and the species (0, 1, 2); 150 rows.
pub fn iris() -> Table {
    read(include_bytes!("iris.csv.gz"))
}

/// The diabetes study's ten standardised features; 441 rows.
pub fn diabetes_features() -> Table {
    read(include_bytes!("diabetes_data.csv.gz"))
}

/// The diabetes study's disease progression a year later; 441 rows.
pub fn diabetes_target() -> Table {
    read(include_bytes!("diabetes_target.csv.gz"))
}

/// Red wine: eleven measurements and the quality score; 1,599 rows.
pub fn wine_quality() -> Table {
    read(include_bytes!("winequality-red.csv.gz"))
}

/// The numbers of an embedded gzipped CSV. Its first line is skipped as a header, as
/// `linfa-datasets` read these files. The diabetes files have no header line, so their first
/// patient is left out (441 of scikit-learn's 442 rows), which keeps every result recorded
/// before this reader the same.
fn read(gz: &[u8]) -> Table {
    let mut text = String::new();
    GzDecoder::new(gz)
        .read_to_string(&mut text)
        .expect("an embedded dataset is valid gzip");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let mut values = Vec::new();
    let mut columns = 0;
    for record in reader.records() {
        let record = record.expect("an embedded dataset is valid CSV");
        columns = record.len();
        values.extend(record.iter().map(|cell| {
            cell.trim()
                .parse::<f64>()
                .expect("an embedded dataset holds numbers")
        }));
    }
    Table { values, columns }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_has_its_rows_and_columns() {
        for (table, rows, columns) in [
            (iris(), 150, 5),
            (diabetes_features(), 441, 10),
            (diabetes_target(), 441, 1),
            (wine_quality(), 1599, 12),
        ] {
            assert_eq!(table.columns, columns);
            assert_eq!(table.values.len(), rows * columns);
        }
    }

    #[test]
    fn the_first_rows_read_as_written() {
        assert_eq!(iris().values[..5], [5.1, 3.5, 1.4, 0.2, 0.0]);
        let wine = wine_quality();
        assert_eq!(wine.values[..3], [7.4, 0.7, 0.0]);
        assert_eq!(wine.column(11).next(), Some(5.0));
        assert_eq!(wine.leading(11).len(), 1599 * 11);
    }
}
