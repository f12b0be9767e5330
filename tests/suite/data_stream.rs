//! The textbook data is NumPy's legacy stream for seed 1, bit for bit.

use nnlab::data::synthetic;

use crate::common;

#[test]
fn textbook_data_matches_numpy() {
    let data = synthetic::linear();
    let x = &data.features;
    let y = common::values(&data);
    assert_eq!((x.len(), y.len()), (100, 100));
    let close = |a: f64, b: f64, tol: f64| assert!((a - b).abs() <= tol, "{a} != {b}");
    close(x[0], 0.417022005, 5e-10);
    close(x[1], 0.720324493, 5e-10);
    close(x[2], 0.000114374817, 5e-13);
    close(y[0], 1.57771092, 5e-9);
    close(x.iter().sum(), 48.5877928, 5e-8);
    close(y.iter().sum(), 194.247283, 5e-7);
}

#[test]
fn closed_form_solution_matches_the_issue() {
    let (w, b, mse) = common::least_squares();
    assert!((w - 2.97328974).abs() < 5e-9, "w = {w}");
    assert!((b - 0.49781698).abs() < 5e-9, "b = {b}");
    assert!((mse - 0.0999430229).abs() < 5e-11, "mse = {mse}");
}
