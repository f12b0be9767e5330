//! The textbook example, its data reproduced exactly (NumPy's generator bit for bit):
//!
//! ```python
//! np.random.seed(1)
//! X = np.random.rand(100, 1)
//! y = 3 * X + np.random.rand(100, 1)
//! model = tf.keras.models.Sequential([tf.keras.layers.Dense(1, input_shape=(1,))])
//! model.compile(optimizer='sgd', loss='mse')
//! model.fit(X, y, epochs=1000, verbose=0)
//! pred = model.predict(X)
//! ```
//!
//! One neuron y = w·x + b, SGD with learning rate 0.01, MSE, 1000 epochs of batch 32 with
//! shuffling (Keras's defaults): 4000 steps. The initial weight and the shuffles come from
//! nnlab's seeded generators, not TensorFlow's, so w and b are not Keras's bit for bit; it
//! prints them beside the least-squares solution and saves the run.
//!
//! The training itself is `nnlab::lab::textbook`, compiled with the library (see there).
//!
//! `cargo run --example regression [-- OUT_DIR] [--backend ndarray|flex|wgpu]`
//! (default `artifacts/regression`, on flex when compiled in, else ndarray, else wgpu).

use nnlab::cli::ExampleArgs;
use nnlab::data::{TargetValues, synthetic};
use nnlab::lab::textbook::{self, Textbook};
use nnlab::{Error, Result};

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/regression");
    show_data();
    let result = textbook::run(backend, &out).and_then(|run| {
        println!(
            "\ntrained on {backend}: {} steps in {:.3}s",
            run.steps, run.train_seconds
        );
        show(&run);
        println!("\nsaved to {}", out.display());
        check(&run)
    });
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code());
    }
}

/// The first points and the sums, to compare with NumPy's.
fn show_data() {
    let data = synthetic::linear();
    let x = &data.features;
    let TargetValues::Values(y) = &data.targets else {
        unreachable!("the textbook data is a regression problem")
    };
    println!("data: NumPy seed 1, 100 points");
    println!(
        "  X[0] = {:.9}  X[1] = {:.9}  X[2] = {:.9e}  y[0] = {:.8}",
        x[0], x[1], x[2], y[0]
    );
    println!(
        "  ΣX = {:.7}  Σy = {:.6}",
        x.iter().sum::<f64>(),
        y.iter().sum::<f64>()
    );
}

/// The trained neuron beside the least-squares line, and the first predictions.
fn show(run: &Textbook) {
    println!("             {:>12} {:>12} {:>12}", "w", "b", "MSE");
    println!(
        "  SGD        {:>12.8} {:>12.8} {:>12.10}",
        run.w, run.b, run.train_mse
    );
    println!(
        "  lstsq      {:>12.8} {:>12.8} {:>12.10}",
        run.lstsq_w, run.lstsq_b, run.lstsq_mse
    );
    println!(
        "  training MSE is {:+.4}% of the least-squares MSE",
        100.0 * run.gap()
    );
    println!("\npredictions:");
    for i in 0..5 {
        println!(
            "  x = {:.6}  y = {:.6}  ŷ = {:.6}",
            run.x[i], run.y[i], run.predictions[i]
        );
    }
}

/// SGD must end within 0.5% of the least-squares MSE.
fn check(run: &Textbook) -> Result<()> {
    if run.gap().abs() > 0.005 {
        return Err(Error::Training(format!(
            "the training MSE is {:.3}% away from the least-squares MSE (allowed 0.5%)",
            100.0 * run.gap()
        )));
    }
    Ok(())
}
