//! JSON answers, shared by the API and its streamed CSV answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An answer with a JSON body.
pub(super) fn json_answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A refusal: `status` with the body `{"error": message}`.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_answer(status, json!({ "error": message.into() }))
}
