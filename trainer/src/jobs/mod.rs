//! What the commands do, independent of the command line: train a model into a run directory,
//! make its figures, and the whole pipeline.

pub mod export;
pub mod figures;
pub mod import;
pub mod prepare;
pub mod serve;
pub mod study;
pub mod targets;
pub mod toy;
pub mod train;
pub mod trained;
pub mod validate;
