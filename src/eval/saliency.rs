//! Gradient saliency of text (Simonyan et al., 2014, read for tokens as by Li et al., 2016):
//! how strongly the model's answer for a row responds to each token, the norm of the gradient
//! of the answer's output z with respect to the token's embedding, ‖∂z/∂e_k‖₂. A token whose
//! embedding could move z most is the one the answer leans on.

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use crate::models::Network;

/// The saliency of each real token (up to the first padding id) of one row of token ids, for
/// the output the model answers with: the arg-max output (the predicted class, or the single
/// output of a binary classifier or a regression). `None` for a model that reads no tokens.
pub fn token_saliency<B: AutodiffBackend>(
    model: &Network<B::InnerBackend>,
    row: &[f64],
    device: &B::Device,
) -> Option<Vec<f64>> {
    let model = Network::<B>::from_inner(model.clone().without_dropout());
    let x = crate::data::features_tensor::<B>(row, row.len(), device);
    let embedded = model.embed_tokens(x.clone())?.detach().require_grad();
    let output = model.forward_embedded(x, embedded.clone())?;
    let answer = output.clone().inner().argmax(1).into_scalar();
    let answer = usize::try_from(burn::tensor::ElementConversion::elem::<i64>(answer)).ok()?;
    let z: Tensor<B, 1> = output.slice([0..1, answer..answer + 1]).sum();
    let gradients = z.backward();
    let grad = embedded.grad(&gradients)?;
    let norms: Vec<f64> = grad
        .powi_scalar(2)
        .sum_dim(2)
        .sqrt()
        .into_data()
        .convert::<f64>()
        .to_vec()
        .ok()?;
    let real = row.iter().take_while(|&&id| id != 0.0).count();
    Some(norms.into_iter().take(real).collect())
}
