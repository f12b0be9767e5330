//! Predictions from a trained model, and their CSV form.

use std::io::Write;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::data::Dataset;
use crate::data::scale::Scaler;
pub use crate::eval::metrics::Predictions;
use crate::eval::metrics::{Evaluation, class_probabilities, evaluate, predicted_classes};
use crate::loss::LossName;
use crate::models::Network;

/// Runs `model` on raw `features` (row-major, `width` columns): scales them as the run was
/// trained, and reads the outputs as the loss defines them: values in the target's original
/// units for regression, class probabilities for classification.
pub fn predict<B: Backend>(
    model: &Network<B>,
    loss: LossName,
    labels: Option<&[String]>,
    scaler: &Scaler,
    features: &[f64],
    width: usize,
    device: &B::Device,
) -> Predictions {
    let x = crate::data::features_tensor(&scaler.features(features), width, device);
    Predictions::from_output(model.forward_rows(x), loss, labels, scaler)
}

/// The metrics of `model`'s predictions of `data`'s rows (raw features) against its targets.
pub fn score<B: Backend>(
    model: &Network<B>,
    loss: LossName,
    labels: Option<&[String]>,
    scaler: &Scaler,
    data: &Dataset,
    device: &B::Device,
) -> Evaluation {
    let predictions = predict(
        model,
        loss,
        labels,
        scaler,
        &data.features,
        data.width(),
        device,
    );
    evaluate(&predictions, &data.targets, data.rows())
}

impl Predictions {
    /// Reads a model's outputs `[rows, outputs]`: values mapped back to the target's units for
    /// regression (no `labels`), classes and probabilities for classification.
    pub fn from_output<B: Backend>(
        output: Tensor<B, 2>,
        loss: LossName,
        labels: Option<&[String]>,
        scaler: &Scaler,
    ) -> Self {
        match labels {
            None => {
                let values: Vec<f32> = output
                    .into_data()
                    .convert::<f32>()
                    .to_vec()
                    .expect("f32 outputs");
                Predictions::Values(
                    values
                        .into_iter()
                        .map(|v| scaler.restore_target(f64::from(v)) as f32)
                        .collect(),
                )
            }
            Some(labels) => {
                let classes: Vec<i64> = predicted_classes(output.clone(), loss)
                    .into_data()
                    .convert::<i64>()
                    .to_vec()
                    .expect("integer classes");
                Predictions::Classes {
                    classes: classes.into_iter().map(|c| c as usize).collect(),
                    probabilities: class_probabilities(output, loss)
                        .into_data()
                        .convert::<f32>()
                        .to_vec()
                        .expect("f32 probabilities"),
                    labels: labels.to_vec(),
                }
            }
        }
    }

    /// Writes the predictions as CSV: a `prediction` column for regression; for
    /// classification a `class` column (the label) and one `probability_<label>` column per
    /// class. Numbers are written in full `f32` precision. With `names` (a column header and
    /// one name per row, e.g. `image` and the image files), that column comes first.
    pub fn write_csv(&self, out: impl Write, names: Option<(&str, &[String])>) -> csv::Result<()> {
        self.write_csv_rows(out, names, true)
    }

    /// [`Predictions::write_csv`], with the header line or without it (for the rows that
    /// continue a CSV already begun).
    pub fn write_csv_rows(
        &self,
        out: impl Write,
        names: Option<(&str, &[String])>,
        header_line: bool,
    ) -> csv::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        let write_header = |writer: &mut csv::Writer<_>, header: &[String]| match header_line {
            true => writer.write_record(header),
            false => Ok(()),
        };
        let name = |row: usize| names.map(|(_, n)| n[row].clone());
        let mut header: Vec<String> = names.map(|(h, _)| h.to_string()).into_iter().collect();
        match self {
            Predictions::Values(values) => {
                header.push("prediction".into());
                write_header(&mut writer, &header)?;
                for (row, v) in values.iter().enumerate() {
                    let mut record: Vec<String> = name(row).into_iter().collect();
                    record.push(v.to_string());
                    writer.write_record(&record)?;
                }
            }
            Predictions::Classes {
                classes,
                probabilities,
                labels,
            } => {
                header.push("class".into());
                header.extend(labels.iter().map(|l| format!("probability_{l}")));
                write_header(&mut writer, &header)?;
                for (row, &class) in classes.iter().enumerate() {
                    let mut record: Vec<String> = name(row).into_iter().collect();
                    record.push(labels[class].clone());
                    let k = labels.len();
                    record.extend(
                        probabilities[row * k..(row + 1) * k]
                            .iter()
                            .map(f32::to_string),
                    );
                    writer.write_record(&record)?;
                }
            }
        }
        writer.flush()?;
        Ok(())
    }
}
