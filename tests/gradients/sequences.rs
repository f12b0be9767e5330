//! The sequence families' gradients (recurrent cells, attention, embeddings) against finite
//! differences, and token saliency against its definition, in `f64`.

use nnlab::data::{Dataset, SequenceShape, TargetValues};
use nnlab::eval::saliency::token_saliency;
use nnlab::lab::gradcheck::gradcheck;
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::{ModelConfig, Network, Pool, Positions, RnnConfig, TransformerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{F64, common};

/// Held by the tests that build models in this process: the CPU backend's random generator is one
/// per process, and the gradient check re-seeds it so that every pass draws the same dropout
/// masks, which a model initialized on another thread in between would break.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// 4 rows of `steps` steps: token ids (1..vocab, then padding) when `vocab` > 0, else
/// `features` values in [−2, 2] per step; 3 classes.
fn rows(steps: usize, features: usize, vocab: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(9);
    let mut values = Vec::new();
    for row in 0..4 {
        for t in 0..steps {
            values.extend((0..features).map(|_| match vocab {
                0 => rng.random_range(-2.0..2.0),
                _ if t >= 2 + row => 0.0,
                v => rng.random_range(1..v) as f64,
            }));
        }
    }
    Dataset {
        features: values,
        feature_names: (0..steps * features).map(|i| format!("x{i}")).collect(),
        target_name: "y".into(),
        targets: TargetValues::Classes {
            indices: vec![0, 1, 2, 1],
            labels: vec!["a".into(), "b".into(), "c".into()],
        },
    }
}

fn shape(steps: usize, features: usize) -> Option<SequenceShape> {
    Some(SequenceShape { steps, features })
}

/// Small models of every sequence family, numeric (`vocab` 0) or reading tokens.
fn families(vocab: usize) -> Vec<ModelConfig> {
    let features = if vocab > 0 { 1 } else { 2 };
    let rnn = RnnConfig::new()
        .with_sequence(shape(5, features))
        .with_vocab(vocab)
        .with_embedding(3)
        .with_hidden_size(3)
        .with_output_size(3);
    let attention = TransformerConfig::new()
        .with_sequence(shape(5, features))
        .with_vocab(vocab)
        .with_d_model(4)
        .with_heads(2)
        .with_layers(1)
        .with_feed_forward(6)
        .with_output_size(3);
    vec![
        ModelConfig::Rnn(rnn.clone().with_layers(2).with_bidirectional(true)),
        ModelConfig::Lstm(rnn.clone().with_layers(2).with_bidirectional(true)),
        ModelConfig::Gru(rnn.with_layers(2).with_dropout(0.3)),
        ModelConfig::Transformer(
            attention
                .clone()
                .with_positions(Positions::Learned)
                .with_pool(Pool::ClassToken),
        ),
        ModelConfig::Transformer(
            attention
                .clone()
                .with_layers(2)
                .with_pool(Pool::Last)
                .with_dropout(0.2),
        ),
        ModelConfig::Transformer(attention.with_pool(Pool::Mean).with_dropout(0.0)),
    ]
}

#[test]
fn recurrent_attention_and_embedding_gradients_match_finite_differences() {
    let _rng = rng_lock();
    common::f64();
    let loss = LossConfig::new().with_name(LossName::CrossEntropy);
    for vocab in [0, 7] {
        let data = rows(5, if vocab > 0 { 1 } else { 2 }, vocab);
        // Token models: the embedding, read by an LSTM and by attention.
        let picked = families(vocab)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| vocab == 0 || [1, 5].contains(i));
        for (_, config) in picked {
            let model = config.init::<F64>(3, &Default::default());
            let checks = gradcheck(&model, &loss, &data, &Default::default());
            let what = format!("{} vocab {vocab}", config.describe());
            common::assert_gradients_match(&checks, &what);
            assert_eq!(
                vocab > 0,
                checks.iter().any(|c| c.name.contains("embedding"))
            );
        }
    }
}

/// The CPU backend without autodiff, in `f64` as the gradient checks.
type Infer = <F64 as burn::tensor::backend::AutodiffBackend>::InnerBackend;

/// The model's outputs for `rows` of token ids, read as `steps` steps each.
fn outputs(model: &Network<Infer>, ids: &[Vec<i64>], steps: usize) -> Vec<f32> {
    let mut model = model.clone();
    match &mut model {
        Network::Recurrent(m) => m.sequence = [steps, 1],
        Network::Transformer(m) => m.sequence = [steps, 1],
        _ => unreachable!("a sequence family"),
    }
    let values: Vec<f64> = ids
        .iter()
        .flat_map(|row| (0..steps).map(|t| row.get(t).copied().unwrap_or(0) as f64))
        .collect();
    let x = nnlab::data::features_tensor::<Infer>(&values, steps, &Default::default());
    model
        .forward(x)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap()
}

#[test]
fn padding_appended_to_token_rows_changes_no_prediction() {
    let _rng = rng_lock();
    common::f64();
    let ids = vec![vec![3, 1, 4], vec![1, 5, 6, 2, 6], vec![5]];
    for mut config in families(9) {
        config.take_sequence(SequenceShape {
            steps: 16,
            features: 1,
        });
        let model = config.init::<Infer>(5, &Default::default());
        let (short, long) = (outputs(&model, &ids, 6), outputs(&model, &ids, 16));
        let diff = common::max_abs_diff(&short, &long);
        assert!(
            diff < 1e-5,
            "{}: padding moved outputs by {diff}",
            config.describe()
        );
        // Not vacuous: a real token does change them.
        let mut changed = ids.clone();
        changed[0][0] = 2;
        let moved = common::max_abs_diff(&short, &outputs(&model, &changed, 6));
        assert!(moved > 1e-4, "{}: tokens change nothing", config.describe());
    }
}

#[test]
fn token_saliency_is_the_gradient_norm_of_the_answer_by_finite_differences() {
    let _rng = rng_lock();
    common::f64();
    use burn::module::AutodiffModule;
    use burn::tensor::{Tensor, TensorData};
    let device = Default::default();
    let row = [3.0, 1.0, 4.0, 2.0, 0.0];
    for config in families(9) {
        let inner: Network<Infer> = config.init::<F64>(3, &device).valid();
        let saliency = token_saliency::<F64>(&inner, &row, &device).unwrap();
        assert_eq!(saliency.len(), 4, "one score per real token");
        let x = nnlab::data::features_tensor::<Infer>(&row, row.len(), &device);
        let embedded = inner.embed_tokens(x.clone()).unwrap();
        let dims = embedded.dims();
        let values: Vec<f64> = embedded.into_data().convert::<f64>().to_vec().unwrap();
        let output = |values: &[f64]| -> Vec<f64> {
            let e = Tensor::<Infer, 3>::from_data(TensorData::new(values.to_vec(), dims), &device);
            let out = inner.forward_embedded(x.clone(), e).unwrap();
            out.into_data().convert::<f64>().to_vec().unwrap()
        };
        let base = output(&values);
        let answer = (0..base.len())
            .max_by(|&i, &j| base[i].total_cmp(&base[j]))
            .unwrap();
        let width = dims[2];
        let h = 1e-6;
        for (k, &score) in saliency.iter().enumerate() {
            let squares: f64 = (0..width)
                .map(|d| {
                    let (mut up, mut down) = (values.clone(), values.clone());
                    up[k * width + d] += h;
                    down[k * width + d] -= h;
                    ((output(&up)[answer] - output(&down)[answer]) / (2.0 * h)).powi(2)
                })
                .sum();
            let what = config.describe();
            assert!(
                (squares.sqrt() - score).abs() < 1e-6,
                "{what} token {k}: {score} against {}",
                squares.sqrt()
            );
        }
        assert!(saliency.iter().any(|&s| s > 1e-4), "{saliency:?}");
    }
}
