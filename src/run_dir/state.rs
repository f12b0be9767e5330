//! A run in memory: what training produced ([`Trained`]), what it resumes from ([`Resume`]),
//! and why it stopped. The run directory stores exactly these, so they live here, below the
//! training loop that makes them.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::data::scale::Scaler;
use crate::error::Result;
use crate::eval::metrics::{EpochRecord, Evaluation};
use crate::models::Network;

/// Where a resumed run left off, or (with no optimizer state and no history) the weights a
/// new run starts from (`--init-from`).
pub struct Resume<B: AutodiffBackend> {
    pub model: Network<B>,
    /// The optimizer's state as saved by [`Trained::optimizer_state`]; `None` starts the
    /// optimizer afresh.
    pub optimizer_state: Option<Vec<u8>>,
    pub history: Vec<EpochRecord>,
    pub steps: u64,
    /// The preprocessing fitted when the run started; `None` fits it on this data.
    pub scaler: Option<Scaler>,
    /// The best model so far and its epoch, when the run validates.
    pub best: Option<Best<B>>,
    /// How far the epoch after `history` got before a signal stopped it, if one did.
    pub partial: Option<PartialEpoch>,
}

/// How far an interrupted epoch got: the batches it trained and the sum of their losses
/// weighted by rows (what the epoch's running mean is made of), so a resumed run finishes
/// the epoch as an uninterrupted one would.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialEpoch {
    pub batches: usize,
    pub loss_sum: f64,
}

/// The model of the epoch with the lowest validation loss, without autodiff: a snapshot
/// (`valid()` copies running statistics, which clones of a training model would share).
#[derive(Clone, Debug)]
pub struct Best<B: AutodiffBackend> {
    pub epoch: usize,
    pub valid_loss: f64,
    pub model: Network<B::InnerBackend>,
}

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// Every epoch asked for was trained.
    Completed,
    /// The validation loss had not improved for `patience` epochs after `best_epoch`.
    EarlyStopped { epoch: usize, best_epoch: usize },
    /// The training loss became NaN or infinite in `epoch`.
    Diverged { epoch: usize },
    /// A signal (SIGINT, SIGTERM) stopped training after `batches` batches of `epoch`.
    Interrupted {
        signal: i32,
        epoch: usize,
        batches: usize,
    },
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Completed => f.write_str("completed every epoch"),
            Stop::EarlyStopped { epoch, best_epoch } => write!(
                f,
                "stopped early after epoch {epoch}: no better validation loss since epoch {best_epoch}"
            ),
            Stop::Diverged { epoch } => {
                write!(
                    f,
                    "diverged: the training loss became NaN or infinite in epoch {epoch}"
                )
            }
            Stop::Interrupted {
                signal,
                epoch,
                batches,
            } => write!(
                f,
                "stopped by {} after batch {batches} of epoch {epoch}",
                crate::interrupt::name(*signal)
            ),
        }
    }
}

/// The result of [`fit`].
pub struct Trained<B: AutodiffBackend> {
    pub model: Network<B>,
    /// The optimizer's state (moments, velocities, step counts), encoded for a checkpoint.
    pub optimizer_state: Vec<u8>,
    /// The preprocessing fitted on the training rows; the model reads scaled features.
    pub scaler: Scaler,
    /// One record per epoch, including those of earlier sessions of a resumed run.
    pub history: Vec<EpochRecord>,
    /// Gradient steps taken in all sessions.
    pub steps: u64,
    /// Wall time of this session's training loop.
    pub train_seconds: f64,
    /// Seconds from the start of this session's loop to the end of each of its epochs.
    pub epoch_seconds: Vec<f64>,
    /// Why training ended.
    pub stop: Stop,
    /// The model of the epoch with the lowest validation loss (when the run validates).
    pub best: Option<Best<B>>,
    /// The chosen model's metrics on the validation rows, when there are any.
    pub valid: Option<Evaluation>,
    /// The chosen model's metrics on the test rows, when `training.test_fraction` > 0.
    pub test: Option<Evaluation>,
    /// How far the epoch after `history` got, when a signal stopped training inside it.
    pub partial: Option<PartialEpoch>,
}

/// Receives a snapshot of the run at the end of every `training.checkpoint_every`-th epoch.
pub type OnCheckpoint<'a, B> = &'a mut (dyn FnMut(&Trained<B>) -> Result<()> + Send);

impl<B: AutodiffBackend> Trained<B> {
    /// The model to predict with: the best by validation loss when the run validates, else
    /// the last.
    pub fn chosen(&self) -> Network<B::InnerBackend> {
        self.best
            .as_ref()
            .map_or_else(|| self.model.valid(), |b| b.model.clone())
    }
}
