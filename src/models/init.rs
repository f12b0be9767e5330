//! Initial weights drawn on the host from the config's seed, for families built from Burn's
//! modules (whose own initializers draw from the backend's generator): every backend then
//! starts from the same numbers, as the MLP and CNN do.
//!
//! By parameter name, as Keras starts the same layers: matrices Glorot-uniform, U(±√(6/(in +
//! out))); biases and layer norm's β zero, its γ one; embeddings, learned positions and the
//! class token U(±0.05); and an LSTM's forget-gate bias one, so that it starts out
//! remembering (Jozefowicz et al., 2015).

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Redraws every float parameter of `module` from `seed`, by name (see the module docs).
pub fn host_init<B: Backend, M: Module<B>>(module: M, seed: u64) -> M {
    module.map(&mut HostInit {
        rng: StdRng::seed_from_u64(seed),
        path: Vec::new(),
    })
}

struct HostInit {
    rng: StdRng,
    path: Vec<String>,
}

impl HostInit {
    fn within(&self, name: &str) -> bool {
        self.path.iter().any(|p| p == name)
    }

    fn values(&mut self, dims: &[usize]) -> Vec<f32> {
        let len = dims.iter().product();
        let name = self.path.last().map_or("", String::as_str);
        let small = ["embedding", "positions", "class_token"]
            .iter()
            .any(|n| self.within(n));
        let limit = match (name, dims) {
            ("gamma", _) => return vec![1.0; len],
            ("bias", _) if self.within("forget_gate") && self.within("input_transform") => {
                return vec![1.0; len];
            }
            ("bias" | "beta", _) => return vec![0.0; len],
            _ if small => 0.05,
            (_, [fan_in, fan_out, ..]) => (6.0 / (fan_in + fan_out) as f64).sqrt(),
            _ => 0.05,
        };
        (0..len)
            .map(|_| self.rng.random_range(-limit..limit) as f32)
            .collect()
    }
}

impl<B: Backend> ModuleMapper<B> for HostInit {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let dims = tensor.dims();
        let values = self.values(&dims);
        let drawn = Tensor::from_data(TensorData::new(values, dims), &tensor.device());
        let drawn = match tensor.is_require_grad() {
            true => drawn.require_grad(),
            false => drawn,
        };
        Param::from_mapped_value(id, drawn, mapper)
    }
}
