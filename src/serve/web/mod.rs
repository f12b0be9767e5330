//! The web page, for people: `GET /` lists what the served folder holds, `GET /runs/{name}`
//! shows one run, comparison or cross-validation, and `POST /runs/{name}` predicts the row its
//! form was filled with. Rendered here with no script; everything comes from the binary or the
//! run's own files, so it works offline.

pub mod html;
pub mod listing;
mod run_page;

use std::collections::HashMap;
use std::path::Path as FilePath;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use burn::tensor::backend::Backend;

use super::Server;
use super::runs::Missing;
use html::{escape, url};
use listing::{COLUMNS, Kind};

/// What pages may load: their own style sheet and pictures, nothing else, and no script.
const PAGE_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
                           form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// What a served picture may do: draw, and nothing else (an SVG could hold a script).
const FILE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

const STYLE: &str = include_str!("style.css");

/// An HTML answer.
fn html_answer(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!("<p class=\"error\">{}</p>", escape(message));
    html_answer(
        status,
        html::page(status.canonical_reason().unwrap_or("error"), &body),
    )
}

fn missing_page(m: Missing) -> Response {
    match m {
        Missing::BadName(e) => error_page(StatusCode::BAD_REQUEST, &e),
        Missing::Unknown(e) => error_page(StatusCode::NOT_FOUND, &e),
        Missing::Unavailable(e) => error_page(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// `GET /?sort=COLUMN&order=asc|desc`: a table of everything served.
pub async fn index<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let root = server.runs.root().to_path_buf();
    let sort = query.get("sort").map_or("name", String::as_str);
    let sort = COLUMNS.into_iter().find(|c| *c == sort).unwrap_or("name");
    let descending = query.get("order").is_some_and(|o| o == "desc");
    let listed = tokio::task::spawn_blocking(move || listing::list(&root)).await;
    let mut entries = listed.unwrap_or_default();
    listing::sort(&mut entries, sort, descending);
    let header: Vec<String> = COLUMNS
        .iter()
        .map(|&c| {
            let order = match (c == sort, descending) {
                (true, false) => "desc",
                _ => "asc",
            };
            let mark = match (c == sort, descending) {
                (true, false) => " ▲",
                (true, true) => " ▼",
                _ => "",
            };
            format!("<a href=\"/?sort={c}&amp;order={order}\">{c}{mark}</a>")
        })
        .collect();
    let rows: Vec<Vec<String>> = entries.iter().map(index_row).collect();
    let title = format!("Runs in {}", server.runs.root().display());
    let body = match rows.is_empty() {
        true => "<p>Nothing here yet: train a run with <code>nnlab train --out DIR</code> \
                 inside this folder.</p>"
            .to_string(),
        false => html::table("runs", &header, &rows),
    };
    html_answer(StatusCode::OK, html::page(&title, &body))
}

fn index_row(e: &listing::Entry) -> Vec<String> {
    let link = format!("<a href=\"/runs/{}\">{}</a>", url(&e.name), escape(&e.name));
    let score = match (&e.score, &e.problem) {
        (_, Some(problem)) => format!("<span class=\"error\">{}</span>", escape(problem)),
        (Some((value, what)), None) => format!("{value:.4} <small>{}</small>", escape(what)),
        (None, None) => String::new(),
    };
    vec![
        link,
        e.kind.as_str().into(),
        escape(&e.task),
        escape(&e.data),
        escape(&e.model),
        score,
        e.loss.map_or(String::new(), |l| format!("{l:.4}")),
        e.trained.map(html::when).unwrap_or_default(),
    ]
}

/// `work`'s page, rendered on the blocking pool: pages read files.
async fn blocking(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| error_page(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"))
}

/// `GET /runs/{name}`.
pub async fn page<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    Path(name): Path<String>,
) -> Response {
    blocking(move || {
        let dir = match server.runs.dir(&name) {
            Ok(dir) => dir,
            Err(m) => return missing_page(m),
        };
        match Kind::of(&dir) {
            Some(Kind::Run) => run_page::render(&dir, &name, None),
            Some(kind) => results_page(&dir, &name, kind),
            None => missing_page(Missing::Unknown(format!(
                "`{name}` holds no run, comparison or cross-validation"
            ))),
        }
    })
    .await
}

/// `POST /runs/{name}`: the form's row, predicted and shown on the run's page.
pub async fn predict<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    blocking(move || {
        let loaded = match server.runs.get(&name) {
            Ok(loaded) => loaded,
            Err(m) => return missing_page(m),
        };
        let result = run_page::predict_form(&loaded, &fields);
        run_page::render(&loaded.dir, &name, Some((fields.as_slice(), result)))
    })
    .await
}

/// A comparison's or cross-validation's page: its tables, its pictures, its config.
fn results_page(dir: &FilePath, name: &str, kind: Kind) -> Response {
    let file = match kind {
        Kind::Cv => "cv.json",
        _ => "summary.json",
    };
    let mut body = String::new();
    match listing::read_json(&dir.join(file)) {
        Ok(results) => {
            body.push_str(&html::pairs("summary", &html::flatten(&results)));
            body.push_str(&html::json_tables(&results));
        }
        Err(e) => body.push_str(&format!("<p class=\"error\">{}</p>", escape(&e))),
    }
    body.push_str(&run_page::pictures(dir, name));
    body.push_str(&run_page::config_table(dir));
    let title = format!("{} {name}", kind.as_str());
    html_answer(StatusCode::OK, html::page(&title, &body))
}

/// `GET /runs/{name}/files/{file}`: a picture, table or JSON file of the run, by its plain
/// name; nothing else in the folder, and nothing outside it.
pub async fn file<B: Backend>(
    State(server): State<Arc<Server<B>>>,
    Path((name, file)): Path<(String, String)>,
) -> Response {
    blocking(move || match server.runs.dir(&name) {
        Ok(dir) => run_file(&dir, &name, &file),
        Err(m) => missing_page(m),
    })
    .await
}

fn run_file(dir: &FilePath, name: &str, file: &str) -> Response {
    let Some(kind) = run_page::served_type(file) else {
        let message = format!("`{file}` is not a file the page serves");
        return error_page(StatusCode::NOT_FOUND, &message);
    };
    let path = dir.join(file);
    let inside = path.canonicalize().is_ok_and(|p| p.parent() == Some(dir));
    match std::fs::read(&path) {
        Ok(bytes) if inside => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CONTENT_SECURITY_POLICY, FILE_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        _ => error_page(
            StatusCode::NOT_FOUND,
            &format!("`{name}` has no file `{file}`"),
        ),
    }
}
