//! `bottleneck data`: where the images come from, and the bundled sample.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::args::DataArgs;
use crate::data::source;
use crate::data::{Dataset, DatasetKind, prepare, stratified_subset};

#[derive(Debug, Args)]
pub struct DataCmd {
    #[command(subcommand)]
    action: Option<DataAction>,
    #[command(flatten)]
    data: DataArgs,
    /// Seed of the validation split shown.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Debug, Subcommand)]
enum DataAction {
    /// Write a stratified sample of the dataset as gzip IDX files (how data/fashion-mnist-sample
    /// was made: `cargo xtask sample-data`).
    Sample(SampleCmd),
}

#[derive(Debug, Args)]
struct SampleCmd {
    /// Folder to write the four IDX files into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Training images to keep (spread evenly over the classes).
    #[arg(long, default_value_t = 6000)]
    train: usize,
    /// Test images to keep.
    #[arg(long, default_value_t = 1000)]
    test: usize,
    /// Seed of the selection.
    #[arg(long, default_value_t = 2024)]
    sample_seed: u64,
}

impl DataCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let ds = self.data.selection().load()?;
        match self.action {
            None => {
                print_summary(&ds, &self.data, self.seed);
                Ok(())
            }
            Some(DataAction::Sample(s)) => s.run(&ds),
        }
    }
}

fn print_summary(ds: &Dataset, args: &DataArgs, seed: u64) {
    let p = prepare(ds, args.limit_train, args.limit_test, args.valid_fraction, seed);
    let classes = ds.classes();
    println!("dataset: {}", ds.kind);
    println!("source:  {}", ds.source);
    let colour = if ds.train.channels == 1 { "grey".to_string() } else { format!("{} channels", ds.train.channels) };
    println!("images:  {}x{}, {colour}", ds.train.height, ds.train.width);
    println!(
        "splits:  train {} (of which {} held out for validation, --valid-fraction {}), test {}",
        p.train.len() + p.valid.len(),
        p.valid.len(),
        args.valid_fraction,
        p.test.len()
    );
    println!();
    let width = classes.iter().map(|c| c.chars().count() + 4).max().unwrap_or(0).max(14);
    println!("{:<width$} {:>8} {:>8} {:>8}", "class", "train", "valid", "test");
    let (tr, va, te) =
        (p.train.class_counts(classes.len()), p.valid.class_counts(classes.len()), p.test.class_counts(classes.len()));
    for (c, name) in classes.iter().enumerate() {
        println!("{:<width$} {:>8} {:>8} {:>8}", format!("{c} {name}"), tr[c], va[c], te[c]);
    }
    println!("{:<width$} {:>8} {:>8} {:>8}", "total", p.train.len(), p.valid.len(), p.test.len());
}

impl SampleCmd {
    fn run(&self, ds: &Dataset) -> anyhow::Result<()> {
        anyhow::ensure!(
            ds.kind == DatasetKind::FashionMnist || self.out != Path::new(source::SAMPLE_DIR),
            "the bundled sample is Fashion-MNIST"
        );
        anyhow::ensure!(
            ds.train.channels == 1,
            "IDX files hold grey images; {} has {} channels (copy the image folder instead)",
            ds.source,
            ds.train.channels
        );
        let train = stratified_subset(&ds.train, self.train, self.sample_seed);
        let test = stratified_subset(&ds.test, self.test, self.sample_seed);
        source::write_split(&self.out, "train", &train).context("writing the training sample")?;
        source::write_split(&self.out, "t10k", &test).context("writing the test sample")?;
        println!(
            "wrote {} training and {} test images from {} to {}",
            train.len(),
            test.len(),
            ds.source,
            self.out.display()
        );
        Ok(())
    }
}
