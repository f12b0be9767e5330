//! What the sequence families (recurrent and transformer) share: the shape of a row, the
//! inputs they read (numbers, or token ids that an embedding turns into vectors), and picking
//! steps per row when rows are padded to different lengths.
//!
//! A row arrives flat, step-major: `x[t·features + f]` is value `f` of step `t`. Token rows
//! hold one id per step, right-padded with id 0 ([`PAD`]); a row's length is its number of
//! non-zero ids, so padding appended to a row is never read by anything that reaches the
//! output (see `last_step`, `reverse_steps` and the transformer's mask).

use burn::nn::Embedding;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

pub use crate::data::sequence::SequenceShape;
use crate::error::{Error, Result};

/// The id of padding in token rows.
pub const PAD: i64 = 0;

/// A batch of rows as sequences `[rows, steps, width]`, with the real length of each row
/// (`None`: every step is real).
pub struct Steps<B: Backend> {
    pub x: Tensor<B, 3>,
    pub lengths: Option<Tensor<B, 1, Int>>,
    /// Where each row is padding, `[rows, steps]` (token rows only).
    pub padding: Option<Tensor<B, 2, Bool>>,
}

impl<B: Backend> Steps<B> {
    /// Flat rows as steps: values as they are, or token ids through `embedding`.
    pub fn read(x: Tensor<B, 2>, shape: [usize; 2], embedding: Option<&Embedding<B>>) -> Self {
        let [steps, features] = shape;
        let rows = x.dims()[0];
        let Some(embedding) = embedding else {
            return Steps {
                x: x.reshape([rows, steps, features]),
                lengths: None,
                padding: None,
            };
        };
        let embedded = embedding.forward(x.clone().int());
        Self::tokens(x, embedded)
    }

    /// Token rows given as their embeddings `embedded` `[rows, steps, width]`, with the
    /// lengths and padding of the ids `x` (gradient saliency differentiates by `embedded`).
    pub fn tokens(x: Tensor<B, 2>, embedded: Tensor<B, 3>) -> Self {
        let rows = x.dims()[0];
        let ids = x.int();
        let padding = ids.clone().equal_elem(PAD);
        let lengths = ids
            .not_equal_elem(PAD)
            .int()
            .sum_dim(1)
            .reshape([rows])
            .clamp_min(1);
        Steps {
            x: embedded,
            lengths: Some(lengths),
            padding: Some(padding),
        }
    }
}

/// The output at each row's last real step, `[rows, width]`.
pub fn last_step<B: Backend>(h: Tensor<B, 3>, lengths: Option<&Tensor<B, 1, Int>>) -> Tensor<B, 2> {
    let [rows, steps, width] = h.dims();
    match lengths {
        None => h.slice([0..rows, steps - 1..steps]).reshape([rows, width]),
        Some(lengths) => {
            let starts =
                Tensor::<B, 1, Int>::arange(0..rows as i64, &h.device()).mul_scalar(steps as i64);
            let at = starts + lengths.clone().sub_scalar(1);
            h.reshape([rows * steps, width]).select(0, at)
        }
    }
}

/// Each row's real steps in reverse order, its padding left where it is, so that a recurrent
/// layer run over the result reads every row backwards from its last real step.
pub fn reverse_steps<B: Backend>(
    h: Tensor<B, 3>,
    lengths: Option<&Tensor<B, 1, Int>>,
) -> Tensor<B, 3> {
    let [rows, steps, width] = h.dims();
    let Some(lengths) = lengths else {
        return h.flip([1]);
    };
    let device = h.device();
    let t = Tensor::<B, 1, Int>::arange(0..steps as i64, &device)
        .reshape([1, steps])
        .expand([rows, steps]);
    let length = lengths.clone().reshape([rows, 1]).expand([rows, steps]);
    let inside = t.clone().lower(length.clone());
    let step = t
        .clone()
        .mask_where(inside, (length - t.clone()).sub_scalar(1));
    let starts = Tensor::<B, 1, Int>::arange(0..rows as i64, &device)
        .mul_scalar(steps as i64)
        .reshape([rows, 1])
        .expand([rows, steps]);
    let at = (step + starts).reshape([rows * steps]);
    h.reshape([rows * steps, width])
        .select(0, at)
        .reshape([rows, steps, width])
}

/// The checks both sequence families share: each of `positive` (field, value) at least 1, a
/// vocabulary of 0 (numbers) or at least 2 ids, a dropout rate in [0, 1).
pub fn check_sizes(positive: &[(&str, usize)], vocab: usize, dropout: f64) -> Result<()> {
    if let Some((field, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(Error::config(
            format!("model.{field}"),
            "must be at least 1",
        ));
    }
    if vocab == 1 {
        return Err(Error::config(
            "model.vocab",
            "must be 0 (rows of numbers) or at least 2 (padding and unknown ids)",
        ));
    }
    if !(dropout.is_finite() && (0.0..1.0).contains(&dropout)) {
        return Err(Error::config(
            "model.dropout",
            format!("must be in [0, 1), got {dropout}"),
        ));
    }
    Ok(())
}
