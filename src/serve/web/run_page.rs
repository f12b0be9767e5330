//! One run's page: what it is, a form that predicts one row, its final numbers, its pictures
//! and files, and its config as a table.

use std::fmt::Write;
use std::path::Path;

use axum::http::StatusCode;
use axum::response::Response;
use burn::tensor::backend::Backend;

use super::html::{self, escape, url};
use super::{error_page, html_answer};
use crate::eval::predict::Predictions;
use crate::run_dir::{RunDir, RunInfo};
use crate::serve::runs::Loaded;

/// The most feature columns a form asks for one by one; an image run (hundreds of pixels) is
/// predicted through the API or `nnlab predict` instead.
const FORM_FIELDS: usize = 64;

/// What a submitted form gave and what came of it: the result's HTML, or why there is none.
pub type Submitted<'a> = (&'a [(String, String)], Result<String, String>);

/// The page of the run in `dir`, with the prediction of a submitted form when there is one.
pub fn render(dir: &Path, name: &str, submitted: Option<Submitted>) -> Response {
    let run = RunDir::new(dir);
    let read = run
        .load_meta()
        .and_then(|meta| Ok((meta, run.load_summary()?)));
    let ((config, info), summary) = match read {
        Ok(read) => read,
        Err(e) => {
            let message = format!("the run `{name}` cannot be read: {e}");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &message);
        }
    };
    let defaults: Vec<f64> = run
        .load_scaler(&info)
        .map(|s| s.features.iter().map(|a| a.shift).collect())
        .unwrap_or_default();
    let written = std::fs::metadata(dir.join("run.json")).and_then(|m| m.modified());
    let mut body = format!(
        "<p class=\"facts\">{} · {} · {} · {} epochs on {} · saved {}</p>\n",
        escape(&info.task.to_string()),
        escape(&config.data.name()),
        escape(&config.model.describe()),
        info.epochs_done,
        escape(&info.backend),
        written.map(html::when).unwrap_or_default(),
    );
    let fields = submitted.as_ref().map(|(fields, _)| *fields);
    body.push_str(&form(name, &info, config.data.is_text(), &defaults, fields));
    let status = match submitted.map(|(_, result)| result) {
        Some(Ok(result)) => {
            body.push_str(&result);
            StatusCode::OK
        }
        Some(Err(e)) => {
            let _ = write!(
                body,
                "<p id=\"prediction-error\" class=\"error\">{}</p>",
                escape(&e)
            );
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    body.push_str(&baselines_html(&summary));
    body.push_str("<h2>Final numbers</h2>");
    body.push_str(&html::pairs("summary", &html::flatten(&summary)));
    body.push_str(&pictures(dir, name));
    body.push_str(&config_table(dir));
    html_answer(status, html::page(&format!("run {name}"), &body))
}

/// The network's score beside the simple baselines' on the same rows, from the summary a
/// table run (`baselines`) or a series run (`forecast`) wrote; with the note when one wins.
fn baselines_html(summary: &serde_json::Value) -> String {
    let (header, rows, note) = if let Some(b) = summary.get("baselines") {
        let score = b["score"].as_str().unwrap_or("score");
        let mut rows = vec![vec!["the network".into(), number(&b["network"])]];
        for (name, value) in b["baselines"].as_object().into_iter().flatten() {
            rows.push(vec![escape(name), number(value)]);
        }
        let note = b["note"].as_str().map(str::to_string);
        let on = format!("on {}", b["rows"].as_str().unwrap_or("the held-out rows"));
        (
            vec!["model".into(), format!("{} {}", escape(score), escape(&on))],
            rows,
            note,
        )
    } else if let Some(scores) = summary["forecast"]["scores"].as_array() {
        let rows: Vec<Vec<String>> = scores
            .iter()
            .map(|s| {
                let name = escape(s["method"].as_str().unwrap_or_default());
                vec![name, number(&s["mae"]), number(&s["mase"])]
            })
            .collect();
        let mae = |s: &serde_json::Value| s["mae"].as_f64().unwrap_or(f64::NAN);
        let best = scores
            .iter()
            .skip(1)
            .min_by(|a, b| mae(a).total_cmp(&mae(b)));
        let note = best.filter(|b| mae(b) < mae(&scores[0])).map(|b| {
            let method = b["method"].as_str().unwrap_or_default();
            format!(
                "note: {method} forecasts with MAE {:.4}, the network {:.4}",
                mae(b),
                mae(&scores[0])
            )
        });
        (
            vec!["forecast".into(), "MAE".into(), "MASE".into()],
            rows,
            note,
        )
    } else {
        return String::new();
    };
    let mut out = String::from("<h2>Against the baselines</h2>");
    out.push_str(&html::table("baselines", &header, &rows));
    if let Some(note) = note {
        let _ = write!(
            out,
            "<p id=\"baseline-note\" class=\"error\">{}</p>",
            escape(&note)
        );
    }
    out + "\n"
}

/// A JSON number to four decimals, or `-`.
fn number(value: &serde_json::Value) -> String {
    value.as_f64().map_or("-".into(), |v| format!("{v:.4}"))
}

/// The predict form: one number per feature (filled with the training data's centre), or one
/// text for a text run.
fn form(
    name: &str,
    info: &RunInfo,
    text: bool,
    defaults: &[f64],
    given: Option<&[(String, String)]>,
) -> String {
    let value = |field: &str, default: String| {
        let given = given.and_then(|g| g.iter().find(|(k, _)| k == field));
        given.map_or(default, |(_, v)| v.clone())
    };
    let mut out = String::from("<h2>Predict one row</h2>");
    if text {
        let _ = write!(
            out,
            "<form id=\"predict\" method=\"post\" action=\"/runs/{}\"><label>text \
             <textarea name=\"text\" rows=\"3\" required>{}</textarea></label>",
            url(name),
            escape(&value("text", String::new()))
        );
    } else if info.feature_names.len() <= FORM_FIELDS {
        let _ = write!(
            out,
            "<form id=\"predict\" method=\"post\" action=\"/runs/{}\">",
            url(name)
        );
        for (i, feature) in info.feature_names.iter().enumerate() {
            let default = defaults.get(i).map_or(String::new(), |v| format!("{v:.4}"));
            let _ = write!(
                out,
                "<label>{} <input name=\"x{i}\" value=\"{}\" inputmode=\"decimal\" required>\
                 </label>",
                escape(feature),
                escape(&value(&format!("x{i}"), default))
            );
        }
    } else {
        let _ = write!(
            out,
            "<p>This run reads {} inputs: predict with <code>POST /v1/models/{}:predict</code> \
             or <code>nnlab predict</code>.</p>",
            info.feature_names.len(),
            escape(name)
        );
        return out;
    }
    out.push_str("<button type=\"submit\">Predict</button></form>\n");
    out
}

/// The form's row predicted by `loaded`, as HTML; or what is wrong with the row.
pub fn predict_form<B: Backend>(
    loaded: &Loaded<B>,
    fields: &[(String, String)],
) -> Result<String, String> {
    let field = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let row = match loaded.is_text() {
        true => loaded.encode(vec![field("text").unwrap_or_default().to_string()]),
        false => {
            let features = &loaded.info.feature_names;
            let mut row = Vec::with_capacity(features.len());
            for (i, feature) in features.iter().enumerate() {
                let cell = field(&format!("x{i}")).unwrap_or_default().trim();
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => row.push(v),
                    _ => return Err(format!("`{feature}`: `{cell}` is not a number")),
                }
            }
            row
        }
    };
    if loaded.config.model.gan().is_some() {
        return Err(
            "a GAN has no predictions: POST /v1/models/{run}:generate asks it for new \
                    rows"
                .into(),
        );
    }
    if let Some(r) = loaded.reconstruct(&row) {
        return Ok(reconstruction_html(&loaded.info.feature_names, &r));
    }
    Ok(result_html(&loaded.predict(&row)))
}

/// An autoencoder's reconstruction of the form's row, column by column, and its error.
fn reconstruction_html(columns: &[String], r: &crate::eval::generative::Reconstruction) -> String {
    let mut out = String::from("<section id=\"prediction\"><h2>Reconstruction</h2>");
    let _ = write!(
        out,
        "<p>reconstruction error (mean squared) <strong id=\"reconstruction-error\">{}</strong></p>",
        r.errors[0]
    );
    let rows: Vec<Vec<String>> = columns
        .iter()
        .zip(&r.values)
        .map(|(c, v)| vec![escape(c), v.to_string()])
        .collect();
    let header = ["column".to_string(), "reconstruction".to_string()];
    out.push_str(&html::table("reconstruction", &header, &rows));
    out.push_str("</section>\n");
    out
}

fn result_html(predictions: &Predictions) -> String {
    let mut out = String::from("<section id=\"prediction\"><h2>Prediction</h2>");
    match predictions {
        Predictions::Values(values) => {
            let values: Vec<String> = values.iter().map(f32::to_string).collect();
            let _ = write!(
                out,
                "<p>prediction <strong id=\"predicted-value\">{}</strong></p>",
                values.join(", ")
            );
        }
        Predictions::Classes {
            classes,
            probabilities,
            labels,
        } => {
            let _ = write!(
                out,
                "<p>class <strong id=\"predicted-class\">{}</strong></p>",
                escape(&labels[classes[0]])
            );
            let rows: Vec<Vec<String>> = labels
                .iter()
                .zip(probabilities)
                .map(|(l, p)| vec![escape(l), p.to_string()])
                .collect();
            let header = ["class".to_string(), "probability".to_string()];
            out.push_str(&html::table("probabilities", &header, &rows));
        }
    }
    out.push_str("</section>\n");
    out
}

/// The content type of a file the page serves from a run folder, by its extension.
pub fn served_type(file: &str) -> Option<&'static str> {
    if file.starts_with('.') || file.contains(['/', '\\', '\0']) {
        return None;
    }
    match file.rsplit_once('.')?.1 {
        "png" => Some("image/png"),
        "svg" => Some("image/svg+xml"),
        "csv" => Some("text/csv; charset=utf-8"),
        "json" => Some("application/json"),
        _ => None,
    }
}

/// The folder's pictures (the PNG of each, or the SVG where there is no PNG), then links to
/// its tables and JSON files.
pub fn pictures(dir: &Path, name: &str) -> String {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|f| served_type(f).is_some() && dir.join(f).is_file());
    files.sort();
    let has = |f: &str| files.iter().any(|g| g == f);
    let link = |f: &str| format!("/runs/{}/files/{}", url(name), url(f));
    let mut out = String::from("<h2>Pictures</h2><div class=\"pictures\">");
    for f in &files {
        let png_beside = f
            .strip_suffix(".svg")
            .is_some_and(|stem| has(&format!("{stem}.png")));
        if (f.ends_with(".png") || f.ends_with(".svg")) && !png_beside {
            let _ = write!(
                out,
                "<figure><img src=\"{}\" alt=\"{f}\"><figcaption>{f}</figcaption></figure>",
                link(f),
                f = escape(f)
            );
        }
    }
    out.push_str("</div><h2>Files</h2><ul class=\"files\">");
    for f in &files {
        let _ = write!(out, "<li><a href=\"{}\">{}</a></li>", link(f), escape(f));
    }
    out.push_str("</ul>\n");
    out
}

/// `config.json` as a table of dotted names and values.
pub fn config_table(dir: &Path) -> String {
    match super::listing::read_json(&dir.join("config.json")) {
        Ok(config) => format!(
            "<h2>Config</h2>{}",
            html::pairs("config", &html::flatten(&config))
        ),
        Err(e) => format!("<p class=\"error\">{}</p>", escape(&e)),
    }
}
