//! The CPU kernels against Burn's ops composed by the model: the same function, forward and
//! backward. Here, not in kernels.rs, so that the kernels do not depend on the model.

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use super::kernels::{conv2d, max_pool};
use super::model::{convolve_with_ops, max_pool_with_ops};
// f32, the type the kernels train in. (The gradient tests check them in f64 against finite
// differences; f64 here would make the CPU device default to f64 for the other tests of
// this binary, since Burn keys that default by device.)
use crate::backend::Cpu as B;

fn random<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &Default::default()).require_grad()
}

/// The largest difference between two tensors.
fn gap<K: Backend, const D: usize>(a: Tensor<K, D>, b: Tensor<K, D>) -> f64 {
    use burn::tensor::ElementConversion;
    assert_eq!(a.dims(), b.dims());
    (a - b).abs().max().into_scalar().elem()
}

#[test]
fn convolution_matches_burns_ops_forward_and_backward() {
    let cases = [
        (3, 1, 2, false),
        (3, 0, 1, true),
        (5, 2, 3, false),
        (1, 0, 4, true),
    ];
    for (k, pad, c, relu) in cases {
        let (x, w, b) = (random([5, 6, 3, c]), random([4, c, k, k]), random([4]));
        let kernel = conv2d((x.clone(), w.clone(), b.clone()), pad, relu)
            .ok()
            .unwrap();
        let ops = convolve_with_ops(x.clone(), w.clone(), b.clone(), pad);
        let ops = if relu {
            burn::tensor::activation::relu(ops)
        } else {
            ops
        };
        assert!(gap(kernel.clone(), ops.clone()) < 1e-4, "forward, k {k}");
        let weights = random(ops.dims()).detach();
        let g1 = (kernel * weights.clone()).sum().backward();
        let g2 = (ops * weights).sum().backward();
        let grad = |t: &Tensor<B, 4>, g| t.grad(g).unwrap();
        assert!(gap(grad(&x, &g1), grad(&x, &g2)) < 1e-4, "input, k {k}");
        assert!(gap(grad(&w, &g1), grad(&w, &g2)) < 1e-4, "weights, k {k}");
        assert!(
            gap(b.grad(&g1).unwrap(), b.grad(&g2).unwrap()) < 1e-4,
            "bias"
        );
    }
}

/// gemm and matrixmultiply compute the product on every transposition (CI's CPU may run
/// either).
#[test]
fn pooling_matches_burns_ops_forward_and_backward() {
    for (h, w, p) in [(4, 6, 2), (5, 7, 2), (6, 6, 3)] {
        let x = random([h, w, 3, 2]);
        let kernel = max_pool(x.clone(), p).ok().unwrap();
        let ops = max_pool_with_ops(x.clone(), p);
        assert!(gap(kernel.clone(), ops.clone()) < 1e-4, "forward, {h}x{w}");
        let weights = random(ops.dims()).detach();
        let g1 = (kernel * weights.clone()).sum().backward();
        let g2 = (ops * weights).sum().backward();
        assert!(gap(x.grad(&g1).unwrap(), x.grad(&g2).unwrap()) < 1e-4);
    }
}

#[test]
fn inference_runs_the_kernels_without_autodiff() {
    let x = random([5, 6, 3, 2]);
    let (w, b) = (random([4, 2, 3, 3]), random([4]));
    let plain = conv2d(
        (x.clone().inner(), w.clone().inner(), b.clone().inner()),
        1,
        false,
    );
    let ops = convolve_with_ops(x, w, b, 1).inner();
    assert!(gap(plain.ok().unwrap(), ops) < 1e-4);
}
