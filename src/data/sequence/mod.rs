//! Sequence data: time series cut into windows, and the built-in sequence tasks.

pub mod calendar;
pub mod season;
pub mod series;
pub mod tasks;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use series::Series;

/// Past steps per window of a series when neither flag nor config says: a year of monthly
/// data, and short enough for a series of a few dozen steps.
pub const DEFAULT_WINDOW: usize = 12;

/// Windows a series must leave at least: enough to train on and to hold a validation and a
/// test part.
pub const MIN_WINDOWS: usize = 10;

/// Steps per row and values per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceShape {
    pub steps: usize,
    pub features: usize,
}

impl std::fmt::Display for SequenceShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} steps × {}", self.steps, self.features)
    }
}

impl SequenceShape {
    /// Values per row.
    pub fn values(&self) -> usize {
        self.steps * self.features
    }

    /// The shape of rows of `inputs` values: `asked` when it accounts for them; `asked`'s
    /// steps of `inputs / steps` values when it gives steps alone (features 0, from
    /// `--steps`); else one value per step. Token rows (`tokens`) have one id per step.
    pub fn fit(asked: Option<SequenceShape>, inputs: usize, tokens: bool) -> Result<Self> {
        if inputs == 0 {
            return Err(Error::Usage(
                "a sequence model needs at least one input column".into(),
            ));
        }
        let shape = match asked {
            Some(shape) if shape.features > 0 && shape.values() != inputs => {
                return Err(Error::Usage(format!(
                    "the model reads rows of {shape} but each row has {inputs} values"
                )));
            }
            Some(shape) if shape.features > 0 => shape,
            Some(SequenceShape { steps, .. }) if steps == 0 || !inputs.is_multiple_of(steps) => {
                return Err(Error::Usage(format!(
                    "--steps {steps} does not divide the {inputs} values of each row"
                )));
            }
            Some(SequenceShape { steps, .. }) => SequenceShape {
                steps,
                features: inputs / steps,
            },
            None => SequenceShape {
                steps: inputs,
                features: 1,
            },
        };
        if tokens && shape.features != 1 {
            return Err(Error::Usage(format!(
                "token rows hold one id per step, but {shape} was asked for"
            )));
        }
        Ok(shape)
    }
}
