//! The recurrent network: each layer reads the steps in order and carries a state from one to
//! the next, `h_t = cell(x_t, h_{t−1})`, with the same weights at every step (what lets it read
//! a sequence of any length and remember what came before). A bidirectional layer also reads
//! each row backwards from its last real step and joins the two states. The output layer
//! reads the last layer's state at each row's last real step (for a bidirectional layer, the
//! backward reader's state after the first step), so padding after a row never reaches it.

use burn::module::Module;
use burn::nn::{Dropout, Embedding, Gru, Linear, Lstm, Rnn};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::models::Family;
use crate::models::sequence::{Steps, last_step, reverse_steps};

/// One direction of one recurrent layer: Burn's module, run by [`super::cells`].
// Held once per layer; a Box would not derive `Module`.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Layer<B: Backend> {
    Elman(Rnn<B>),
    Lstm(Lstm<B>),
    Gru(Gru<B>),
}

impl<B: Backend> Layer<B> {
    /// The input-to-hidden matrices of each gate, `[in, hidden]`.
    fn matrices(&self) -> Vec<Tensor<B, 2>> {
        let gates = match self {
            Layer::Elman(m) => vec![&m.gate],
            Layer::Lstm(m) => vec![&m.input_gate, &m.forget_gate, &m.output_gate, &m.cell_gate],
            Layer::Gru(m) => vec![&m.update_gate, &m.reset_gate, &m.new_gate],
        };
        gates
            .into_iter()
            .flat_map(|g| {
                [
                    g.input_transform.weight.val(),
                    g.hidden_transform.weight.val(),
                ]
            })
            .collect()
    }
}

/// Stacked recurrent layers and a linear output; see the module docs.
#[derive(Module, Debug)]
pub struct Recurrent<B: Backend> {
    /// Token rows: the id → vector table.
    pub embedding: Option<Embedding<B>>,
    /// Each layer's forward reader.
    pub forward: Vec<Layer<B>>,
    /// Each layer's backward reader (bidirectional layers), else empty.
    pub backward: Vec<Layer<B>>,
    pub output: Linear<B>,
    pub dropout: Option<Dropout>,
    /// Steps and values per step of a row.
    #[module(skip)]
    pub sequence: [usize; 2],
    /// About how many values one row's forward pass holds.
    #[module(skip)]
    pub activations: usize,
}

impl<B: Backend> Recurrent<B> {
    fn drop(&self, h: Tensor<B, 2>) -> Tensor<B, 2> {
        match &self.dropout {
            Some(dropout) => dropout.forward(h),
            None => h,
        }
    }

    /// Runs one layer over the steps `h`; returns its states in step order and the state the
    /// output reads, `[rows, hidden × directions]`.
    fn layer(
        &self,
        i: usize,
        h: Vec<Tensor<B, 2>>,
        lengths: Option<&Tensor<B, 1, Int>>,
    ) -> (Vec<Tensor<B, 2>>, Tensor<B, 2>) {
        let ahead = self.forward[i].forward(h.clone());
        let last = at_last(&ahead, lengths);
        let Some(back) = self.backward.get(i) else {
            return (ahead, last);
        };
        let behind = back.forward(reversed(h, lengths));
        let first = at_last(&behind, lengths);
        let states = ahead
            .into_iter()
            .zip(reversed(behind, lengths))
            .map(|(a, b)| Tensor::cat(vec![a, b], 1))
            .collect();
        (states, Tensor::cat(vec![last, first], 1))
    }
}

/// The steps of `[rows, steps, width]`, one tensor each.
fn unstack<B: Backend>(h: Tensor<B, 3>) -> Vec<Tensor<B, 2>> {
    let [rows, steps, width] = h.dims();
    (0..steps)
        .map(|t| h.clone().slice([0..rows, t..t + 1]).reshape([rows, width]))
        .collect()
}

/// The state at each row's last real step.
fn at_last<B: Backend>(
    states: &[Tensor<B, 2>],
    lengths: Option<&Tensor<B, 1, Int>>,
) -> Tensor<B, 2> {
    match lengths {
        None => states.last().expect("at least one step").clone(),
        Some(_) => last_step(Tensor::stack(states.to_vec(), 1), lengths),
    }
}

/// Each row's real steps in reverse order (see [`reverse_steps`]).
fn reversed<B: Backend>(
    steps: Vec<Tensor<B, 2>>,
    lengths: Option<&Tensor<B, 1, Int>>,
) -> Vec<Tensor<B, 2>> {
    match lengths {
        None => steps.into_iter().rev().collect(),
        Some(_) => unstack(reverse_steps(Tensor::stack(steps, 1), lengths)),
    }
}

impl<B: Backend> Recurrent<B> {
    /// The outputs for rows read as steps.
    fn run(&self, steps: Steps<B>) -> Tensor<B, 2> {
        let Steps { x, lengths, .. } = steps;
        let mut h = unstack(x);
        let mut state = None;
        for i in 0..self.forward.len() {
            if i > 0 {
                h = h.into_iter().map(|s| self.drop(s)).collect();
            }
            let (states, read) = self.layer(i, h, lengths.as_ref());
            h = states;
            state = Some(read);
        }
        let state = self.drop(state.expect("at least one layer"));
        self.output.forward(state)
    }
}

impl<B: Backend> Family<B> for Recurrent<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.run(Steps::read(x, self.sequence, self.embedding.as_ref()))
    }

    fn embed_tokens(&self, x: Tensor<B, 2>) -> Option<Tensor<B, 3>> {
        Some(self.embedding.as_ref()?.forward(x.int()))
    }

    fn forward_embedded(&self, x: Tensor<B, 2>, embedded: Tensor<B, 3>) -> Option<Tensor<B, 2>> {
        self.embedding.as_ref()?;
        Some(self.run(Steps::tokens(x, embedded)))
    }

    /// The input matrix of each layer's first gate, then the output layer's.
    fn shapes(&self) -> Vec<Vec<usize>> {
        let mut shapes: Vec<Vec<usize>> = self
            .embedding
            .iter()
            .map(|e| e.weight.dims().to_vec())
            .collect();
        for layer in &self.forward {
            shapes.push(layer.matrices()[0].dims().to_vec());
        }
        shapes.push(self.output.weight.dims().to_vec());
        shapes
    }

    fn batch_norm(&self) -> bool {
        false
    }

    fn has_dropout(&self) -> bool {
        self.dropout.is_some()
    }

    /// Layer 0 is the embedding for token rows; then each recurrent layer (both readers); the
    /// output layer last.
    fn without_dropout(mut self) -> Self {
        self.dropout = None;
        self
    }

    fn freeze(mut self, layers: &[usize]) -> Self {
        let offset = usize::from(self.embedding.is_some());
        for &i in layers {
            if i < offset {
                self.embedding = self.embedding.map(|e| e.no_grad());
                continue;
            }
            let i = i - offset;
            if i == self.forward.len() {
                self.output = self.output.no_grad();
                continue;
            }
            self.forward[i] = self.forward[i].clone().no_grad();
            if let Some(back) = self.backward.get(i) {
                self.backward[i] = back.clone().no_grad();
            }
        }
        self
    }

    fn weights(&self) -> Vec<Tensor<B, 1>> {
        self.forward
            .iter()
            .chain(&self.backward)
            .flat_map(Layer::matrices)
            .chain([self.output.weight.val()])
            .map(|w| w.reshape([-1]))
            .collect()
    }

    fn activations(&self) -> usize {
        self.activations
    }
}
