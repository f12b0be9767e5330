//! Each optimizer computes the update rule `src/optim.rs` states: Burn's steps (on the CPU
//! backend in `f64`, for the whole process: no `f32` test belongs in this binary) against an independent reference in plain `f64`, parameter by parameter after each of
//! K steps. The bound, 1e-9 relative, is far below what a wrong ε, β or decay would give.

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::BackendTypes;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use nnlab::config::ExperimentConfig;
use nnlab::loss::Targets;
use nnlab::models::Network;
use nnlab::optim::{OptimizerConfig, OptimizerName, WithOptimizer};

mod common;

/// The CPU backend in `f64` ([`common::f64`]), so that the comparison sees the rule, not `f32`
/// rounding.
type Cpu = nnlab::backend::Cpu;

const STEPS: usize = 6;
const X: [[f64; 2]; 4] = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [1.0, 1.0]];
const Y: [f64; 4] = [1.0, -0.5, 2.0, 0.25];

/// ∇J of J = (1/N) Σ (w·x + b − y)² at `p = [w₁, w₂, b]`: (2/N) Xᵀr and (2/N) Σ r.
fn gradient(p: &[f64]) -> Vec<f64> {
    let n = X.len() as f64;
    let mut g = vec![0.0; 3];
    for (x, y) in X.iter().zip(Y) {
        let r = p[0] * x[0] + p[1] * x[1] + p[2] - y;
        g[0] += 2.0 / n * r * x[0];
        g[1] += 2.0 / n * r * x[1];
        g[2] += 2.0 / n * r;
    }
    g
}

/// The reference rules, written from the formulas in `src/optim.rs`.
#[derive(Default)]
struct Reference {
    t: i32,
    v: Vec<f64>,
    s: Vec<f64>,
    g_avg: Vec<f64>,
    m: Vec<f64>,
    v_max: Vec<f64>,
}

impl Reference {
    fn step(&mut self, c: &OptimizerConfig, p: &mut [f64]) {
        let lr = c.learning_rate;
        let mut g = gradient(p);
        let n = p.len();
        let first = self.t == 0;
        if first {
            *self = Reference {
                v: vec![0.0; n],
                s: vec![0.0; n],
                g_avg: vec![0.0; n],
                m: vec![0.0; n],
                v_max: vec![0.0; n],
                ..Default::default()
            };
        }
        self.t += 1;
        let t = self.t;
        let l2 = |g: &mut [f64], p: &[f64], decay: f64| {
            g.iter_mut().zip(p).for_each(|(g, p)| *g += decay * p)
        };
        match c.name {
            OptimizerName::Gd => (0..n).for_each(|i| p[i] -= lr * g[i]),
            OptimizerName::Sgd | OptimizerName::Momentum => {
                let (mu, damp, nesterov, decay) = if c.name == OptimizerName::Sgd {
                    (
                        c.sgd.momentum,
                        c.sgd.dampening,
                        c.sgd.nesterov,
                        c.sgd.weight_decay,
                    )
                } else {
                    (
                        c.momentum.momentum,
                        c.momentum.dampening,
                        c.momentum.nesterov,
                        0.0,
                    )
                };
                l2(&mut g, p, f64::from(decay as f32));
                // Burn's momentum keeps μ in the backend's default element type: `f32` on flex,
                // even when its tensors are `f64`.
                let mu: f64 = mu.elem::<<Cpu as BackendTypes>::FloatElem>().elem();
                for i in 0..n {
                    let step = if mu > 0.0 {
                        self.v[i] = if first {
                            g[i]
                        } else {
                            mu * self.v[i] + (1.0 - damp) * g[i]
                        };
                        if nesterov {
                            g[i] + mu * self.v[i]
                        } else {
                            self.v[i]
                        }
                    } else {
                        g[i]
                    };
                    p[i] -= lr * step;
                }
            }
            OptimizerName::Adagrad => {
                let a = &c.adagrad;
                l2(&mut g, p, f64::from(a.weight_decay as f32));
                let lr_t = lr / (1.0 + f64::from(t - 1) * a.lr_decay);
                for i in 0..n {
                    self.s[i] += g[i] * g[i];
                    p[i] -= lr_t * g[i] / (self.s[i].sqrt() + f64::from(a.epsilon as f32));
                }
            }
            OptimizerName::Rmsprop => {
                // Burn keeps ρ, μ and ε as f32 and forms 1 − ρ in f32.
                let r = &c.rmsprop;
                let (rho, mu, eps) = (r.alpha as f32, r.momentum as f32, r.epsilon as f32);
                let (rho, keep, mu, eps) = (
                    f64::from(rho),
                    f64::from(1.0 - rho),
                    f64::from(mu),
                    f64::from(eps),
                );
                l2(&mut g, p, f64::from(r.weight_decay as f32));
                for i in 0..n {
                    self.s[i] = rho * self.s[i] + keep * g[i] * g[i];
                    let mut avg = self.s[i];
                    if r.centered {
                        self.g_avg[i] = rho * self.g_avg[i] + keep * g[i];
                        avg -= self.g_avg[i] * self.g_avg[i];
                    }
                    let mut u = g[i] / (avg.sqrt() + eps);
                    if mu > 0.0 {
                        self.v[i] = if first { u } else { mu * self.v[i] + u };
                        u = self.v[i];
                    }
                    p[i] -= lr * u;
                }
            }
            OptimizerName::Adam | OptimizerName::Adamw => {
                // Burn keeps β₁, β₂ and ε as f32 and computes 1 − β and the bias corrections
                // 1 − βᵗ in f32; the moments themselves are kept in the backend's precision.
                let a = if c.name == OptimizerName::Adam {
                    &c.adam
                } else {
                    &c.adamw
                };
                let (b1, b2, eps) = (a.beta_1 as f32, a.beta_2 as f32, a.epsilon as f32);
                let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                let decay = f64::from(a.weight_decay as f32);
                if c.name == OptimizerName::Adam {
                    l2(&mut g, p, decay);
                }
                for i in 0..n {
                    self.m[i] = f64::from(b1) * self.m[i] + f64::from(1.0 - b1) * g[i];
                    self.v[i] = f64::from(b2) * self.v[i] + f64::from(1.0 - b2) * g[i] * g[i];
                    self.v_max[i] = if first {
                        self.v[i]
                    } else {
                        self.v_max[i].max(self.v[i])
                    };
                    let v = if a.amsgrad { self.v_max[i] } else { self.v[i] };
                    let step = if c.name == OptimizerName::Adam {
                        // m·(√c₂ / c₁) / (√v + ε√c₂), which is m̂ / (√v̂ + ε).
                        let root = c2.sqrt();
                        self.m[i] * f64::from(root / c1) / (v.sqrt() + f64::from(eps * root))
                    } else {
                        (self.m[i] / f64::from(c1)) / ((v / f64::from(c2)).sqrt() + f64::from(eps))
                    };
                    if c.name == OptimizerName::Adamw {
                        p[i] *= 1.0 - lr * decay;
                    }
                    p[i] -= lr * step;
                }
            }
        }
    }
}

/// Runs K steps of Burn's optimizer on the problem, returning the parameters after each.
struct BurnSteps {
    model: Network<Cpu>,
    x: Tensor<Cpu, 2>,
    y: Targets<Cpu>,
    config: ExperimentConfig,
}

impl WithOptimizer<Cpu, Network<Cpu>> for BurnSteps {
    type Output = Vec<Vec<f64>>;

    fn run<O: Optimizer<Network<Cpu>, Cpu>>(self, mut optim: O) -> Self::Output {
        let loss = self.config.loss.init(&Default::default());
        let mut model = self.model;
        (0..STEPS)
            .map(|_| {
                let l = loss.forward(model.forward(self.x.clone()), &self.y);
                let grads = GradientsParams::from_grads(l.backward(), &model);
                model = optim.step(self.config.optimizer.learning_rate, model.clone(), grads);
                common::parameters(&model.valid())
            })
            .collect()
    }
}

fn check(optimizer: OptimizerConfig) {
    common::f64();
    let device = Default::default();
    let config = common::textbook(OptimizerName::Gd, 0.1, 1, nnlab::config::BatchSize::Full)
        .with_model(
            nnlab::models::MlpConfig::new()
                .with_input_size(2)
                .with_hidden(vec![])
                .into(),
        )
        .with_optimizer(optimizer);
    config.validate().unwrap();
    let model = config.model.init::<Cpu>(3, &device);
    let mut p = common::parameters(&model);
    let x: Vec<f64> = X.iter().flatten().copied().collect();
    let job = BurnSteps {
        model,
        x: Tensor::from_data(TensorData::new(x, [4, 2]), &device),
        y: Targets::Values(Tensor::from_data(
            TensorData::new(Y.to_vec(), [4, 1]),
            &device,
        )),
        config: config.clone(),
    };
    let burn_steps = config.optimizer.dispatch::<Cpu, Network<Cpu>, _>(job);
    let mut reference = Reference::default();
    for (k, burn) in burn_steps.iter().enumerate() {
        reference.step(&config.optimizer, &mut p);
        for (i, (&b, &r)) in burn.iter().zip(&p).enumerate() {
            let rel = (b - r).abs() / r.abs().max(1e-6);
            assert!(
                rel <= 1e-9,
                "{:?} step {} parameter {i}: Burn {b}, reference {r} (relative error {rel:e})",
                config.optimizer.name,
                k + 1
            );
        }
    }
}

fn named(name: OptimizerName) -> OptimizerConfig {
    OptimizerConfig::new()
        .with_name(name)
        .with_learning_rate(0.1)
}

#[test]
fn gd_steps_against_the_gradient() {
    check(named(OptimizerName::Gd));
}

#[test]
fn sgd_plain_momentum_nesterov_and_weight_decay() {
    check(named(OptimizerName::Sgd));
    let mut c = named(OptimizerName::Sgd);
    c.sgd.momentum = 0.9;
    c.sgd.dampening = 0.1;
    c.sgd.weight_decay = 0.01;
    check(c);
    let mut c = named(OptimizerName::Sgd);
    c.sgd.momentum = 0.8;
    c.sgd.nesterov = true;
    check(c);
}

#[test]
fn momentum_uses_burns_defaults() {
    check(named(OptimizerName::Momentum));
}

#[test]
fn adagrad_with_learning_rate_decay_and_weight_decay() {
    check(named(OptimizerName::Adagrad));
    let mut c = named(OptimizerName::Adagrad);
    c.adagrad.lr_decay = 0.1;
    c.adagrad.weight_decay = 0.05;
    check(c);
}

#[test]
fn rmsprop_plain_centered_and_without_momentum() {
    check(named(OptimizerName::Rmsprop).with_learning_rate(0.01));
    let mut c = named(OptimizerName::Rmsprop).with_learning_rate(0.01);
    c.rmsprop.centered = true;
    c.rmsprop.momentum = 0.0;
    c.rmsprop.weight_decay = 0.01;
    check(c);
}

#[test]
fn adam_with_bias_correction_weight_decay_and_amsgrad() {
    check(named(OptimizerName::Adam));
    let mut c = named(OptimizerName::Adam);
    c.adam.weight_decay = 0.05;
    c.adam.amsgrad = true;
    c.adam.beta_1 = 0.8;
    check(c);
}

#[test]
fn adamw_decouples_weight_decay() {
    check(named(OptimizerName::Adamw));
    let mut c = named(OptimizerName::Adamw);
    c.adamw.weight_decay = 0.2;
    check(c);
}
