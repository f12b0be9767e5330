//! The HTTP API, after TensorFlow Serving's REST API: `POST /v1/models/{run}:predict` (JSON, or
//! CSV in and out like `nnlab predict`; an autoencoder's reconstructions, JSON only),
//! `POST /v1/models/{run}:generate` (a VAE's or GAN's new rows), `GET /v1/models/{run}`, `GET /healthz` and
//! `GET /metrics`. Every refusal is a 4xx (or a 503 for a run that does not load) with a JSON
//! body `{"error": "..."}`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use burn::tensor::backend::Backend;
use serde_json::{Value, json};

use super::answer::{error, json_answer};
use super::request::{decode_rows, decode_texts};
use super::runs::{Loaded, Missing};
use super::{Server, stream};
use crate::eval::predict::Predictions;

fn missing(m: Missing) -> Response {
    match m {
        Missing::BadName(e) => error(StatusCode::BAD_REQUEST, e),
        Missing::Unknown(e) => error(StatusCode::NOT_FOUND, e),
        Missing::Unavailable(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

pub async fn healthz() -> Response {
    json_answer(StatusCode::OK, json!({"status": "ok"}))
}

pub async fn metrics<B: Backend>(State(server): State<Arc<Server<B>>>) -> Response {
    let text = server.metrics.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `GET /v1/models/{run}`.
pub async fn status<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(name)) = name else {
        return error(StatusCode::BAD_REQUEST, "the run name is not valid UTF-8");
    };
    let answer = tokio::task::spawn_blocking(move || match server.runs.get(&name) {
        Ok(loaded) => json_answer(StatusCode::OK, loaded.status(&name)),
        Err(m) => missing(m),
    });
    answer
        .await
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"))
}

/// A body up to this size (a few rows) to a loaded run is predicted on the thread that
/// received it: the hand-over to the blocking pool costs more than the prediction, and under
/// load the pool's many threads queue on the run's lock. Larger bodies, and loading a run, go
/// to the pool so that they do not hold up other connections.
const INLINE_BODY: usize = 4096;

/// `POST /v1/models/{run}:predict`.
pub async fn predict<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    target: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(target)) = target else {
        return error(StatusCode::BAD_REQUEST, "the run name is not valid UTF-8");
    };
    let (name, generating) = match (
        target.strip_suffix(":predict"),
        target.strip_suffix(":generate"),
    ) {
        (Some(name), _) => (name.to_owned(), false),
        (None, Some(name)) => (name.to_owned(), true),
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                format!(
                    "no such method: POST /v1/models/{{run}}:predict and :generate are the ones \
                     there are, not `{target}`"
                ),
            );
        }
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let inline = body.len() <= INLINE_BODY && server.runs.knows(&name);
    let answer = move || {
        let loaded = match server.runs.get(&name) {
            Ok(loaded) => loaded,
            Err(m) => return missing(m),
        };
        match (generating, csv) {
            (true, _) => generate_json(&loaded, &body, server.max_rows),
            (false, _) if loaded.config.model.gan().is_some() => error(
                StatusCode::BAD_REQUEST,
                "a GAN has no predictions: POST /v1/models/{run}:generate asks it for new rows",
            ),
            (false, true) if loaded.config.model.is_generative() => error(
                StatusCode::BAD_REQUEST,
                "an autoencoder's reconstructions are answered in JSON: send the rows as JSON",
            ),
            (false, true) => stream::predict_csv(loaded, &body, server.max_rows),
            (false, false) => predict_json(&loaded, &body, server.max_rows),
        }
    };
    if inline {
        return answer();
    }
    tokio::task::spawn_blocking(answer)
        .await
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"))
}

/// The request's body as JSON, or why it is not.
fn json_body(body: &[u8]) -> std::result::Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))
}

fn predict_json<B: Backend>(loaded: &Loaded<B>, body: &[u8], max_rows: usize) -> Response {
    let body = match json_body(body) {
        Ok(body) => body,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let rows = match loaded.is_text() {
        true => decode_texts(&body, loaded.config.data.text_column(), max_rows)
            .map(|texts| loaded.encode(texts)),
        false => decode_rows(&body, &loaded.info.feature_names, max_rows),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(bad) => return error(StatusCode::BAD_REQUEST, bad.0),
    };
    let n = rows.len() / loaded.info.feature_names.len().max(1);
    if let Some(r) = loaded.reconstruct(&rows) {
        let width = loaded.info.feature_names.len().max(1);
        let answers = r
            .values
            .chunks(width)
            .zip(&r.errors)
            .map(|(v, e)| json!({"reconstruction": v, "reconstruction_error": e}));
        return json_answer(
            StatusCode::OK,
            json!({ "predictions": answers.collect::<Vec<_>>() }),
        );
    }
    json_answer(
        StatusCode::OK,
        json!({ "predictions": predictions_json(loaded.predict(&rows), n) }),
    )
}

/// `{"count": N, "seed": S}` → `{"columns": [...], "samples": [[...], ...]}`: N new rows of a
/// VAE or GAN run in the input's columns and units, the same for the same seed. N is at most
/// the server's `--max-rows`.
fn generate_json<B: Backend>(loaded: &Loaded<B>, body: &[u8], max_rows: usize) -> Response {
    let body = match json_body(body) {
        Ok(body) => body,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let count = match body.get("count").map(Value::as_u64) {
        None => 1,
        Some(Some(n)) if (1..=max_rows as u64).contains(&n) => n as usize,
        Some(_) => {
            let message =
                format!("`count` must be a whole number from 1 to {max_rows} (--max-rows)");
            return error(StatusCode::BAD_REQUEST, message);
        }
    };
    let seed = match body.get("seed").map(Value::as_u64) {
        None => 0,
        Some(Some(s)) => s,
        Some(None) => return error(StatusCode::BAD_REQUEST, "`seed` must be a whole number"),
    };
    let Some(rows) = loaded.generate(count, seed) else {
        let message = format!(
            "the run is a --model {} run, which cannot generate: :generate needs a VAE or a GAN",
            loaded.config.model.kind_name()
        );
        return error(StatusCode::BAD_REQUEST, message);
    };
    let width = loaded.info.feature_names.len().max(1);
    let samples: Vec<Value> = rows.chunks(width).map(|r| json!(r)).collect();
    json_answer(
        StatusCode::OK,
        json!({"columns": loaded.info.feature_names, "samples": samples}),
    )
}

/// TensorFlow Serving's `predictions`: one value (or list, for several steps ahead) per row,
/// or per row the class and the probability of each class.
fn predictions_json(predictions: Predictions, rows: usize) -> Value {
    match predictions {
        Predictions::Values(values) => {
            let k = values.len() / rows.max(1);
            match k {
                1 => json!(values),
                _ => Value::Array(values.chunks(k).map(|c| json!(c)).collect()),
            }
        }
        Predictions::Classes {
            classes,
            probabilities,
            labels,
        } => {
            let k = labels.len();
            let rows = classes.iter().enumerate().map(|(i, &c)| {
                let p: serde_json::Map<String, Value> = labels
                    .iter()
                    .zip(&probabilities[i * k..(i + 1) * k])
                    .map(|(l, p)| (l.clone(), json!(p)))
                    .collect();
                json!({"class": labels[c], "probabilities": p})
            });
            Value::Array(rows.collect())
        }
    }
}

/// Answers 408 for a request not answered within the server's `--timeout`: a client that
/// sends its body slowly, or never, holds nothing for longer.
pub async fn deadline<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(server.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request was not answered within {} s (--timeout)",
                server.timeout.as_secs_f64()
            ),
        ),
    }
}

/// Logs one line per request to stderr and records it in the metrics.
pub async fn log<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let named = path
        .strip_prefix("/v1/models/")
        .map(|rest| rest.split(':').next().unwrap_or(rest))
        .unwrap_or("");
    // Only loaded runs get a label of their own, so that made-up names cannot grow the table.
    let run = if server.runs.knows(named) { named } else { "" };
    server.metrics.observe(run, status, seconds);
    eprintln!("{method} {path} {status} {:.3} ms", seconds * 1e3);
    response
}
