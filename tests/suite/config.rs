//! Configs: JSON round trip, partial files with defaults, and errors that name the field.

use std::path::Path;

use nnlab::Error;
use nnlab::config::{BatchSize, ExperimentConfig};
use nnlab::models::{MlpConfig, ModelConfig};
use nnlab::optim::OptimizerName;

fn parse(json: &str) -> Result<ExperimentConfig, Error> {
    ExperimentConfig::from_json(json, Path::new("test.json"))
}

/// The field a config error names, with its message.
fn config_error(json: &str) -> (String, String) {
    match parse(json) {
        Err(Error::Config { field, message }) => (field, message),
        other => panic!("expected a config error for {json}, got {other:?}"),
    }
}

#[test]
fn round_trip_keeps_every_field() {
    let mut config = ExperimentConfig::new();
    let ModelConfig::Mlp(mlp) = &mut config.model else {
        unreachable!("the default model is an MLP")
    };
    mlp.hidden = vec![8, 4];
    config.optimizer.name = OptimizerName::Rmsprop;
    config.optimizer.rmsprop.centered = true;
    config.training.batch_size = BatchSize::Full;
    config.training.validation_fraction = 0.25;
    let json = config.to_json();
    let back = parse(&json).unwrap();
    assert_eq!(back.to_json(), json);
    assert_eq!(back.training.batch_size, BatchSize::Full);
    assert!(json.contains("\"batch_size\": \"full\""), "{json}");
}

#[test]
fn a_partial_file_keeps_the_defaults() {
    let config = parse(r#"{"optimizer": {"name": "adam", "adam": {"beta_1": 0.8}}, "training": {"batch_size": 8}}"#)
        .unwrap();
    assert_eq!(config.optimizer.name, OptimizerName::Adam);
    assert_eq!(config.optimizer.adam.beta_1, 0.8);
    assert_eq!(config.optimizer.adam.beta_2, 0.999);
    assert_eq!(config.optimizer.learning_rate, 0.001);
    assert_eq!(config.training.batch_size, BatchSize::Rows(8));
    assert_eq!(config.training.epochs, 150);
    assert_eq!(
        config.model,
        ModelConfig::Mlp(MlpConfig::new()),
        "hidden [64] and the rest"
    );
}

#[test]
fn unknown_fields_are_named_with_the_known_ones() {
    let (field, message) = config_error(r#"{"optimizer": {"nmae": "adam"}}"#);
    assert_eq!(field, "optimizer.nmae");
    assert!(
        message.contains("name") && message.contains("learning_rate"),
        "{message}"
    );
}

#[test]
fn wrong_types_and_names_are_named() {
    assert_eq!(
        config_error(r#"{"training": {"epochs": "ten"}}"#).0,
        "training.epochs"
    );
    let (field, message) = config_error(r#"{"model": {"activation": "swish"}}"#);
    assert_eq!(field, "model.activation");
    assert!(message.contains("leaky_relu"), "{message}");
    assert_eq!(
        config_error(r#"{"training": {"batch_size": "half"}}"#).0,
        "training.batch_size"
    );
}

#[test]
fn syntax_errors_give_the_line() {
    match parse("{\n  \"training\": {\n    \"epochs\": 10,\n  }\n}") {
        Err(Error::Data {
            line: Some(4),
            message,
            ..
        }) => assert!(message.contains("column"), "{message}"),
        other => panic!("expected a syntax error on line 4, got {other:?}"),
    }
}

#[test]
fn out_of_range_values_are_rejected_by_field() {
    let cases = [
        (r#"{"training": {"epochs": 0}}"#, "training.epochs"),
        (r#"{"training": {"batch_size": 0}}"#, "training.batch_size"),
        (
            r#"{"training": {"validation_fraction": 1.0}}"#,
            "training.validation_fraction",
        ),
        (
            r#"{"optimizer": {"learning_rate": 0}}"#,
            "optimizer.learning_rate",
        ),
        (
            r#"{"optimizer": {"learning_rate": -0.1}}"#,
            "optimizer.learning_rate",
        ),
        (r#"{"model": {"hidden": [4, 0]}}"#, "model.hidden[1]"),
        (
            r#"{"optimizer": {"name": "adam", "adam": {"beta_1": 1.0}}}"#,
            "optimizer.adam.beta_1",
        ),
        (r#"{"loss": {"name": "cross_entropy"}}"#, "loss.name"),
    ];
    for (json, want) in cases {
        assert_eq!(config_error(json).0, want, "{json}");
    }
    let mut config = ExperimentConfig::new();
    config.optimizer.learning_rate = f64::NAN;
    match config.validate() {
        Err(e @ Error::Config { .. }) => {
            assert!(e.to_string().contains("optimizer.learning_rate"), "{e}");
            assert_eq!(e.exit_code(), 2);
        }
        other => panic!("NaN learning rate accepted: {other:?}"),
    }
}

#[test]
fn a_config_that_is_not_an_object_is_refused_naming_what_it_is() {
    for (text, kind) in [
        ("5", "a number"),
        ("[]", "an array"),
        ("null", "null"),
        ("\"x\"", "a string"),
    ] {
        let message = parse(text).unwrap_err().to_string();
        assert!(message.starts_with("test.json"), "{text}: {message}");
        assert!(
            message.ends_with(&format!("not {kind}")),
            "{text}: {message}"
        );
    }
}
