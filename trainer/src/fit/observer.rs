//! Watching training epoch by epoch: an [`EpochObserver`] sees every epoch's metrics row, may stop
//! the run (a pruner does), and may take snapshots of the model through a [`Probe`] (e.g.
//! reconstructions every N epochs).

use burn::prelude::*;

use super::history::{History, Row};

/// What an observer tells the training loop after an epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Train on.
    Continue,
    /// Stop after this epoch; the reason is recorded in the outcome.
    Stop(String),
}

/// What an observer can ask of the model at the end of an epoch (evaluation mode).
pub trait Probe {
    /// `[B, pixels]` inputs to `[B, pixels]` reconstructions, for models that reconstruct images.
    fn reconstruct(&self, images: Tensor<2>) -> Option<Tensor<2>>;
}

/// The state at the end of an epoch.
pub struct EpochEnd<'a> {
    /// Epochs the run trains in total.
    pub epochs: usize,
    /// Metrics so far; the last row is this epoch's.
    pub history: &'a History,
    /// The model in evaluation mode, where the objective offers one.
    pub probe: Option<&'a dyn Probe>,
    /// The device the model lives on (for the tensors a snapshot feeds it).
    pub device: &'a Device,
}

impl EpochEnd<'_> {
    /// This epoch's row.
    ///
    /// # Panics
    /// Never: the loop only builds an `EpochEnd` after pushing the row.
    #[must_use]
    pub fn row(&self) -> &Row {
        self.history.rows.last().expect("an epoch end has a row")
    }
}

impl std::fmt::Debug for EpochEnd<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochEnd").field("epochs", &self.epochs).field("row", &self.history.rows.last()).finish()
    }
}

/// Called after every epoch (after its checkpoint is written).
pub trait EpochObserver {
    /// Sees the epoch; returns whether to go on.
    ///
    /// # Errors
    /// An error stops training and is returned by it (the last checkpoint stays).
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> anyhow::Result<Control>;
}

impl std::fmt::Debug for dyn EpochObserver + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochObserver")
    }
}

/// Several observers in turn; the first `Stop` wins (the rest still see the epoch).
#[derive(Default)]
pub struct Observers<'a> {
    list: Vec<&'a mut dyn EpochObserver>,
}

impl std::fmt::Debug for Observers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Observers({})", self.list.len())
    }
}

impl<'a> Observers<'a> {
    /// No observer.
    #[must_use]
    pub fn new() -> Self {
        Self { list: Vec::new() }
    }

    /// Adds one.
    pub fn push(&mut self, o: &'a mut dyn EpochObserver) {
        self.list.push(o);
    }
}

impl EpochObserver for Observers<'_> {
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> anyhow::Result<Control> {
        let mut control = Control::Continue;
        for o in &mut self.list {
            if let Control::Stop(why) = o.epoch_end(end)?
                && control == Control::Continue
            {
                control = Control::Stop(why);
            }
        }
        Ok(control)
    }
}

impl<F: FnMut(&EpochEnd<'_>) -> anyhow::Result<Control>> EpochObserver for F {
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> anyhow::Result<Control> {
        self(end)
    }
}
