//! The IDX reader on arbitrary bytes, raw and behind a `.gz` name: it must return an error, never
//! panic, and never allocate more than the header promises once checked.
#![no_main]

use std::path::Path;

use bottleneck::data::idx::IdxArray;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz-idx3-ubyte", "fuzz-idx3-ubyte.gz"] {
        if let Ok(a) = IdxArray::from_bytes(Path::new(name), data) {
            // What parses must describe itself consistently and write back to equal bytes.
            let n: usize = a.dims.iter().product();
            assert_eq!(n, a.data.len());
            let again = IdxArray::from_bytes(Path::new("again"), &a.to_bytes()).expect("round trip");
            assert_eq!(again, a);
        }
    }
});
