//! Predictions from a trained model, and their CSV form.

use std::io::Write;

use burn::tensor::backend::Backend;

use crate::loss::LossName;
use crate::metrics::{class_probabilities, predicted_classes};
use crate::model::Mlp;

/// What a model says about each input row.
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// Regression: one value per row.
    Values(Vec<f32>),
    /// Classification: the class index of each row and the probability of every class.
    Classes {
        classes: Vec<usize>,
        /// `rows × labels.len()`, row-major.
        probabilities: Vec<f32>,
        labels: Vec<String>,
    },
}

/// Runs `model` on `features` (row-major, `width` columns) and reads its outputs as the loss
/// defines them: values for regression, class probabilities for classification.
pub fn predict<B: Backend>(
    model: &Mlp<B>,
    loss: LossName,
    labels: Option<&[String]>,
    features: &[f64],
    width: usize,
    device: &B::Device,
) -> Predictions {
    let output = model.forward(crate::data::features_tensor(features, width, device));
    match labels {
        None => Predictions::Values(output.into_data().to_vec().expect("f32 outputs")),
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
                    .to_vec()
                    .expect("f32 probabilities"),
                labels: labels.to_vec(),
            }
        }
    }
}

impl Predictions {
    /// Writes the predictions as CSV: a `prediction` column for regression; for
    /// classification a `class` column (the label) and one `probability_<label>` column per
    /// class. Numbers are written in full `f32` precision.
    pub fn write_csv(&self, out: impl Write) -> csv::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        match self {
            Predictions::Values(values) => {
                writer.write_record(["prediction"])?;
                for v in values {
                    writer.write_record([v.to_string()])?;
                }
            }
            Predictions::Classes {
                classes,
                probabilities,
                labels,
            } => {
                let mut header = vec!["class".to_string()];
                header.extend(labels.iter().map(|l| format!("probability_{l}")));
                writer.write_record(&header)?;
                for (row, &class) in classes.iter().enumerate() {
                    let mut record = vec![labels[class].clone()];
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
