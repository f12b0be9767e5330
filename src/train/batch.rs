//! Batches of the training rows: a slice of the table in order, or the rows of a shuffled
//! order, copied a whole row at a time.

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::backend::{Values, cpu_slice};
use crate::loss::Targets;
use crate::models::cpu::primitive;

/// The training table and the order an epoch visits its rows in.
pub struct Batches<'a, B: AutodiffBackend> {
    pub x: &'a Tensor<B, 2>,
    pub y: &'a Targets<B>,
    /// The epoch's shuffled order; `None` visits the rows in order.
    pub order: Option<Vec<i64>>,
}

impl<B: AutodiffBackend> Batches<'_, B> {
    /// Features and targets of the rows at `start..end` of the epoch's order.
    pub fn get(&self, start: usize, end: usize) -> (Tensor<B, 2>, Targets<B>) {
        let Some(order) = &self.order else {
            return (self.x.clone().slice(start..end), self.y.slice(start, end));
        };
        self.pick(&order[start..end])
    }

    /// Features and targets of the rows `order` of the table, in that order.
    pub fn pick(&self, order: &[i64]) -> (Tensor<B, 2>, Targets<B>) {
        let device = self.x.device();
        let picked = || {
            Tensor::<B, 1, Int>::from_data(TensorData::new(order.to_vec(), [order.len()]), &device)
        };
        let x = rows(self.x, order).unwrap_or_else(|| self.x.clone().select(0, picked()));
        let y = match self.y {
            Targets::Values(t) => {
                Targets::Values(rows(t, order).unwrap_or_else(|| t.clone().select(0, picked())))
            }
            // A one-axis select copies value by value on every backend.
            Targets::Classes(t) => Targets::Classes(t.clone().select(0, picked())),
            Targets::Taught { classes, teacher } => Targets::Taught {
                classes: classes.clone().select(0, picked()),
                teacher: rows(teacher, order)
                    .unwrap_or_else(|| teacher.clone().select(0, picked())),
            },
        };
        (x, y)
    }
}

/// The rows `order` of a table whose values the CPU backend (ndarray, flex) lends in order,
/// copied a row at a time: ndarray's own `select` builds a view per row and concatenates them,
/// about 600 ns a row. `None` elsewhere: wgpu gathers on the GPU.
fn rows<B: AutodiffBackend>(table: &Tensor<B, 2>, order: &[i64]) -> Option<Tensor<B, 2>> {
    let [_, width] = table.dims();
    let inner = primitive(table.clone().inner());
    let data = match cpu_slice(&inner)? {
        Values::F32(values) => {
            TensorData::new(copy_rows(values, width, order), [order.len(), width])
        }
        Values::F64(values) => {
            TensorData::new(copy_rows(values, width, order), [order.len(), width])
        }
    };
    Some(Tensor::from_inner(Tensor::<B::InnerBackend, 2>::from_data(
        data,
        &table.device(),
    )))
}

fn copy_rows<E: Copy>(values: &[E], width: usize, order: &[i64]) -> Vec<E> {
    let mut out = Vec::with_capacity(order.len() * width);
    for &row in order {
        let start = row as usize * width;
        out.extend_from_slice(&values[start..start + width]);
    }
    out
}
