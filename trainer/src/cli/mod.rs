//! The `bottleneck` command line: flags become library values, results become text. Every
//! argument documented here is the manual (`bottleneck help COMMAND`).

mod args;
mod cv;
mod data;
mod explore;
mod export;
mod import;
mod info;
mod report;
mod resume;
mod run;
mod serve;
mod study;
mod train;
mod tune;
mod validate;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Train, explore, export and validate autoencoders on small images.
///
/// Quick start: `bottleneck run` trains every model on Fashion-MNIST (the installed dataset or the
/// sample shipped with Bottleneck) into runs/pipeline/, exports the deployable ones and validates
/// them. `bottleneck help COMMAND` explains each command.
#[derive(Debug, Parser)]
#[command(name = "bottleneck", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show which dataset files are used and how many images each split and class has; or make
    /// the small stratified sample shipped in the repository.
    Data(data::DataCmd),
    /// Train one model into a run directory.
    Train(train::TrainCmd),
    /// Continue a run from its latest checkpoint (at most one epoch is lost when a run is killed).
    Resume(resume::ResumeCmd),
    /// Search hyperparameters: a study of trials (grid, random or TPE sampler; median or
    /// successive-halving pruner) that several workers can share.
    ///
    /// Trials of KIND (each an ordinary run directory under RUNS/STUDY/trials/) are proposed by
    /// a sampler, stopped early by a pruner, and kept in a storage that several workers can share.
    /// The objective is the kind's validation metric (MSE, VAE loss, or accuracy, maximised),
    /// never the test set. The options of `bottleneck train KIND` fix everything the space does not
    /// vary (epochs, data, device, ...); tune options may come before or after KIND. Running the
    /// command again continues the study; start it in several terminals, or on several machines
    /// with a PostgreSQL --storage, to run trials in parallel. Writes RUNS/STUDY/trials.csv,
    /// best.toml (for `train --config`) and figures/. See docs/tuning.md.
    Tune(tune::TuneCmd),
    /// Cross-validate a configuration over k stratified folds of the training images.
    ///
    /// Each fold in turn is the validation set of a run (RUNS/NAME/fold-1, ...); the validation
    /// metric per fold, its mean and standard deviation go to cv.md, cv.csv and figures/cv.png.
    /// Give a KIND with its options (its --name names the folder, default `cv-KIND`, replaced when
    /// it exists), or --config (a study's best.toml, or a run's config.toml).
    Cv(cv::CvCmd),
    /// Describe a run directory: its model, parameters, metrics and exported files.
    Info(info::InfoCmd),
    /// What a trained model learned: codes by PCA and t-SNE, interpolations, per-class tables,
    /// the architecture table.
    ///
    /// Writes the codes of test images (explore/codes.csv) on their first two principal
    /// components (figures/pca.png, pca-variance.png) and by t-SNE (figures/tsne.png), coloured by
    /// class; decodings of the line between two test images' codes and of the square between four
    /// (figures/interpolation.png, traversal.png); for classifiers, precision, recall and F1 per
    /// class (explore/classification.md) and the confusion matrix (figures/confusion.png); the
    /// architecture table (explore/architecture.md). See docs/exploration.md.
    Explore(explore::ExploreCmd),
    /// Write the int8 runtime file (RUN_DIR/export/model.bnq) and validation vectors
    /// (vectors.bin) of a trained run; with --onnx also ONNX and safetensors.
    Export(export::ExportCmd),
    /// Bring an outside ONNX autoencoder (and classifier) in as a run directory that export and
    /// validate accept.
    Import(import::ImportCmd),
    /// Run the int8 runtime on the validation vectors and the test set and compare it with the
    /// float model; exits non-zero when agreement falls below the thresholds.
    Validate(validate::ValidateCmd),
    /// Compare training set-ups in one figure: optimizers on the conv autoencoder, gradient
    /// descent against stochastic gradient descent on the toy set.
    Study(study::StudyCmd),
    /// Serve the browser demo of an exported run on localhost: pick or draw an image, see its
    /// reconstruction and class, move the code's sliders, draw samples, verify bit-identity.
    ServeDemo(serve::ServeCmd),
    /// Write the homework report (report.html) from a pipeline's runs.
    ///
    /// One self-contained file (images embedded) with introduction, method (architecture tables,
    /// hyperparameters, the search space), results (every figure and table with captions), a
    /// conclusion of measured comparisons and an appendix with the PyTorch code. Print it from a
    /// browser to A4 (six pages before the appendix). `bottleneck run` writes it as its last stage.
    Report(report::ReportCmd),
    /// The whole pipeline: every model trained into runs/pipeline/, the deployable ones exported
    /// to int8, ONNX and safetensors and validated.
    Run(run::RunCmd),
}

/// The command line with each model kind's training defaults filled in from the library's table.
#[must_use]
pub fn command() -> clap::Command {
    Cli::command()
        .mut_subcommand("train", train::with_kind_defaults)
        .mut_subcommand("tune", train::with_kind_defaults)
        .mut_subcommand("cv", train::with_kind_defaults)
}

/// Parses the command line, runs the command, prints any error with its causes, and returns the
/// process exit code (0 on success, 1 on error; clap exits with 2 on a usage error).
#[must_use]
pub fn main() -> ExitCode {
    let matches = command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Data(c) => c.run(),
        Command::Train(c) => c.run(),
        Command::Resume(c) => c.run(),
        Command::Info(c) => c.run(),
        Command::Explore(c) => c.run(),
        Command::Tune(c) => c.run(),
        Command::Cv(c) => c.run(),
        Command::Run(c) => c.run(),
        Command::Report(c) => c.run(),
        Command::Export(c) => c.run(),
        Command::Validate(c) => c.run(),
        Command::Import(c) => c.run(),
        Command::Study(c) => c.run(),
        Command::ServeDemo(c) => c.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        super::command().debug_assert();
    }
}
