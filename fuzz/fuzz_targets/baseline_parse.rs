//! Baselines are committed to the scanned repository, so a pull request controls them:
//! any bytes must parse or fail with an error naming the file, never panic. A baseline
//! that parses writes back bytes that parse to the same baseline, and writing again gives
//! the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use unleak_filters::Baseline;

fuzz_target!(|data: &[u8]| {
    let file = Path::new(".unleak-baseline.json");
    match Baseline::parse(file, data) {
        Ok(b) => {
            let bytes = b.to_bytes();
            let again = Baseline::parse(file, &bytes).expect("written baselines parse");
            assert_eq!(again, b);
            assert_eq!(again.to_bytes(), bytes);
        }
        Err(e) => {
            assert!(
                e.to_string().contains(".unleak-baseline.json"),
                "error does not name the file: {e}"
            );
        }
    }
});
