//! Text as token ids: a column of text split into words or characters, a vocabulary of the
//! most frequent tokens of the training rows (id 0 is padding, id 1 stands for every token
//! outside it), and each row's ids cut or right-padded to a fixed length.

use std::collections::HashMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, TargetValues};
use crate::error::{Error, Result};

/// The names of ids 0 and 1.
pub const PAD_TOKEN: &str = "<pad>";
pub const UNKNOWN_TOKEN: &str = "<unk>";

/// How text splits into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Tokens {
    /// Lower-cased runs of letters, digits and apostrophes; everything else separates them.
    Word,
    /// Each character, as written.
    Char,
}

/// `text` as tokens.
pub fn tokenize(text: &str, tokens: Tokens) -> Vec<String> {
    match tokens {
        Tokens::Char => text.chars().map(String::from).collect(),
        Tokens::Word => text
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect(),
    }
}

/// Padding, unknown, then the `cap − 2` most frequent tokens of `rows` (ties alphabetical):
/// the token of each id.
pub fn fit_vocabulary<'a>(rows: impl Iterator<Item = &'a [String]>, cap: usize) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for token in rows.flatten() {
        *counts.entry(token.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut vocabulary = vec![PAD_TOKEN.to_string(), UNKNOWN_TOKEN.to_string()];
    let kept = ranked.into_iter().take(cap.saturating_sub(2));
    vocabulary.extend(kept.map(|(t, _)| t.to_string()));
    vocabulary
}

/// Ids of tokens, built from a vocabulary.
pub struct Encoder {
    ids: HashMap<String, usize>,
    max_len: usize,
}

impl Encoder {
    pub fn new(vocabulary: &[String], max_len: usize) -> Self {
        let ids = vocabulary
            .iter()
            .enumerate()
            .skip(2)
            .map(|(i, t)| (t.clone(), i))
            .collect();
        Encoder { ids, max_len }
    }

    /// The first `max_len` tokens' ids (1 for a token outside the vocabulary), then 0s.
    pub fn encode(&self, tokens: &[String]) -> Vec<f64> {
        let mut ids: Vec<f64> = tokens
            .iter()
            .take(self.max_len)
            .map(|t| self.ids.get(t).copied().unwrap_or(1) as f64)
            .collect();
        ids.resize(self.max_len, 0.0);
        ids
    }
}

/// Rows of text with their targets, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Texts {
    pub texts: Vec<String>,
    pub target_name: String,
    pub targets: TargetValues,
}

/// The most words of a [`reviews`] text: two clauses of five and `but`.
pub const REVIEWS_MAX_LEN: usize = 11;

impl Texts {
    /// Each row's tokens.
    pub fn tokens(&self, tokens: Tokens) -> Vec<Vec<String>> {
        self.texts.iter().map(|t| tokenize(t, tokens)).collect()
    }

    /// The rows as `max_len` token ids each, with `vocabulary` (or one fitted on every row,
    /// capped at 10,000).
    pub fn encoded(
        &self,
        tokens: Tokens,
        vocabulary: Option<&[String]>,
        max_len: usize,
    ) -> Dataset {
        let rows = self.tokens(tokens);
        let fitted;
        let vocabulary = match vocabulary {
            Some(v) => v,
            None => {
                fitted = fit_vocabulary(rows.iter().map(Vec::as_slice), 10_000);
                &fitted
            }
        };
        let encoder = Encoder::new(vocabulary, max_len);
        Dataset {
            features: rows.iter().flat_map(|r| encoder.encode(r)).collect(),
            feature_names: (0..max_len).map(|i| format!("token[{i}]")).collect(),
            target_name: self.target_name.clone(),
            targets: self.targets.clone(),
        }
    }

    /// Refuses a text column without a single token; `what` names it.
    pub fn check_tokens(&self, tokens: Tokens, what: &str) -> Result<()> {
        if self.texts.iter().all(|t| tokenize(t, tokens).is_empty()) {
            return Err(Error::Usage(format!(
                "{what} holds no {} in any row: there is nothing to read",
                match tokens {
                    Tokens::Word => "word",
                    Tokens::Char => "character",
                }
            )));
        }
        Ok(())
    }
}

/// Reads the text column `column` and the target column of a CSV file; the target as
/// [`crate::data::csv::read_table`] reads it for `task`.
pub fn read_texts(
    path: &Path,
    column: &str,
    target: &str,
    classes: bool,
    delimiter: Option<char>,
) -> Result<Texts> {
    let (texts, targets) =
        crate::data::csv::read_text_column(path, column, Some(target), classes, delimiter)?;
    Ok(Texts {
        texts,
        target_name: target.to_string(),
        targets,
    })
}

/// The built-in `reviews`: `samples` short generated reviews of one or two clauses ("the food
/// was not bad but the service was slow"), labelled by the sentiment of the last clause, which
/// a negation flips. Both orders of two clauses occur with opposite labels, so the same bag of
/// words can be either class: word order matters.
pub fn reviews(samples: usize, seed: u64) -> Texts {
    const SUBJECTS: [&str; 6] = [
        "the food",
        "the service",
        "the film",
        "the room",
        "the staff",
        "the ending",
    ];
    const GOOD: [&str; 6] = ["good", "great", "friendly", "clean", "fun", "tasty"];
    const BAD: [&str; 6] = ["bad", "awful", "slow", "dirty", "boring", "rude"];
    let mut rng = StdRng::seed_from_u64(seed);
    let clause = |rng: &mut StdRng| -> (String, bool) {
        let positive = rng.random_bool(0.5);
        let negated = rng.random_bool(0.4);
        let word = if positive {
            GOOD.choose(rng)
        } else {
            BAD.choose(rng)
        };
        let subject = SUBJECTS.choose(rng).expect("subjects");
        let not = if negated { "not " } else { "" };
        (
            format!("{subject} was {not}{}", word.expect("words")),
            positive != negated,
        )
    };
    let mut texts = Vec::with_capacity(samples);
    let mut indices = Vec::with_capacity(samples);
    for _ in 0..samples {
        let (first, good) = clause(&mut rng);
        let (text, good) = if rng.random_bool(0.6) {
            let (second, last) = clause(&mut rng);
            (format!("{first} but {second}"), last)
        } else {
            (first, good)
        };
        texts.push(text);
        indices.push(usize::from(good));
    }
    Texts {
        texts,
        target_name: "sentiment".into(),
        targets: TargetValues::Classes {
            indices,
            labels: vec!["negative".into(), "positive".into()],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_lower_case_and_split_on_punctuation() {
        assert_eq!(
            tokenize("Don't stop, NOW!", Tokens::Word),
            ["don't", "stop", "now"]
        );
        assert_eq!(tokenize("ab c", Tokens::Char), ["a", "b", " ", "c"]);
    }

    #[test]
    fn the_vocabulary_keeps_the_most_frequent_and_encodes_the_rest_as_unknown() {
        let rows = [
            tokenize("a a a b b c", Tokens::Word),
            tokenize("b d", Tokens::Word),
        ];
        let vocabulary = fit_vocabulary(rows.iter().map(Vec::as_slice), 4);
        assert_eq!(vocabulary, ["<pad>", "<unk>", "a", "b"]);
        let encoder = Encoder::new(&vocabulary, 5);
        let ids = encoder.encode(&tokenize("b c a", Tokens::Word));
        assert_eq!(ids, [3.0, 1.0, 2.0, 0.0, 0.0]);
        assert_eq!(
            encoder
                .encode(&tokenize("a a a a a a a", Tokens::Word))
                .len(),
            5
        );
    }
}
