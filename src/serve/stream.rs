//! `POST /v1/models/{run}:predict` with a CSV body: the rows of the run's columns, answered
//! with the CSV `nnlab predict` writes, streamed in pieces so that 100,000 rows never become
//! one string.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use burn::tensor::backend::Backend;
use tokio::sync::mpsc;

use super::answer::error;
use super::runs::Loaded;

/// Rows predicted and written per piece of the answer: the model's own inference chunk, so
/// that the answer is `nnlab predict`'s to the bit.
const PIECE_ROWS: usize = crate::models::CHUNK_ROWS;

/// Reads the whole body first, so that every refusal is a 400 before the answer starts, then
/// predicts and sends it piece by piece; a client that leaves stops the work.
pub fn predict_csv<B: Backend>(loaded: Arc<Loaded<B>>, body: &[u8], max_rows: usize) -> Response {
    let rows = match read_rows(&loaded, body, max_rows) {
        Ok(rows) => rows,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(2);
    tokio::task::spawn_blocking(move || {
        let width = loaded.info.feature_names.len().max(1);
        for (i, piece) in rows.chunks(PIECE_ROWS * width).enumerate() {
            let mut out = Vec::new();
            let written = loaded.predict(piece).write_csv_rows(&mut out, None, i == 0);
            if written.is_err() || sender.blocking_send(Bytes::from(out)).is_err() {
                return;
            }
        }
    });
    let pieces = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let piece = receiver.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(piece), receiver))
    });
    (
        [(header::CONTENT_TYPE, "text/csv")],
        Body::from_stream(pieces),
    )
        .into_response()
}

/// The body's rows: numbers in the run's feature columns, or a text run's texts as token ids.
fn read_rows<B: Backend>(
    loaded: &Loaded<B>,
    body: &[u8],
    max_rows: usize,
) -> Result<Vec<f64>, String> {
    let columns = loaded.columns();
    let mut reader = ::csv::Reader::from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| format!("the CSV body has no header: {e}"))?;
    let at: Vec<usize> = columns
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| format!("the CSV body has no column `{name}`"))
        })
        .collect::<Result<_, _>>()?;
    let mut values = Vec::new();
    let mut texts = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV line {}: {e}", i + 2))?;
        if i >= max_rows {
            return Err(format!(
                "more than the {max_rows} rows a request may hold (--max-rows)"
            ));
        }
        for (&c, name) in at.iter().zip(&columns) {
            let cell = record.get(c).unwrap_or("");
            match (loaded.is_text(), cell.trim().parse::<f64>()) {
                (true, _) => texts.push(cell.to_string()),
                (false, Ok(v)) if v.is_finite() => values.push(v),
                (false, _) => {
                    return Err(format!(
                        "CSV line {}, column `{name}`: `{}` is not a number",
                        i + 2,
                        cell.trim()
                    ));
                }
            }
        }
    }
    if !texts.is_empty() {
        values = loaded.encode(texts);
    }
    if values.is_empty() {
        return Err("there are no rows to predict".into());
    }
    Ok(values)
}
