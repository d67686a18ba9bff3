//! The run-directory readers on arbitrary text: `config.toml` (then its checks), `metrics.csv`
//! and `summary.toml`. The first byte picks the reader; each must return an error, never panic.
#![no_main]

use bottleneck::config::RunConfig;
use bottleneck::fit::History;
use bottleneck::run_dir::LearningSpeed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match which % 3 {
        0 => {
            if let Ok(c) = RunConfig::from_toml(text, "fuzz") {
                // A config that reads back must write and read again to the same value.
                let again = RunConfig::from_toml(&c.to_toml().expect("serialise"), "again").expect("re-read");
                assert_eq!(format!("{again:?}"), format!("{c:?}"));
            }
        }
        1 => {
            if let Ok(h) = History::from_csv(text) {
                let again = History::from_csv(&h.to_csv()).expect("re-read");
                assert_eq!(again.columns, h.columns);
                assert_eq!(again.rows.len(), h.rows.len());
            }
        }
        _ => {
            let _ = LearningSpeed::from_toml(text, "fuzz");
        }
    }
});
