//! Where a dataset's files were found, and why that folder was chosen.

use std::fmt;
use std::path::PathBuf;

/// Environment variable naming a folder of IDX files.
pub const DATA_ENV: &str = "BOTTLENECK_DATA";
/// Where Debian's `dataset-fashion-mnist` installs the files.
pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// How a data folder was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The `--data` flag.
    Flag,
    /// The `BOTTLENECK_DATA` variable.
    Env,
    /// Debian's `dataset-fashion-mnist` package.
    Debian,
    /// The sample shipped in the repository.
    Sample,
    /// The folder an existing run recorded in its `config.toml`.
    Run,
}

/// A folder holding the four IDX files, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// How the folder was chosen.
    pub origin: Origin,
    /// The folder.
    pub dir: PathBuf,
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = self.dir.display();
        match self.origin {
            Origin::Flag => write!(f, "{dir} (from --data)"),
            Origin::Env => write!(f, "{dir} (from {DATA_ENV})"),
            Origin::Debian => write!(f, "{dir} (Debian package dataset-fashion-mnist)"),
            Origin::Sample => write!(
                f,
                "{dir} (the small sample shipped with Bottleneck; for the full 60,000/10,000 images \
                 run `apt-get install dataset-fashion-mnist` or pass --data DIR)"
            ),
            Origin::Run => write!(f, "{dir} (recorded in the run's config.toml)"),
        }
    }
}
