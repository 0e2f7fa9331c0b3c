//! Property: any baseline (any paths, including quotes, backslashes, control characters,
//! newlines and non-ASCII; any rule ids; any entry order) saves to a file that loads back
//! to the same baseline, and saving that again gives the same bytes. Inserting the same
//! entries in another order gives the same file, which is what lets baselines merge.

use proptest::prelude::*;
use unleak_core::{Fingerprint, FingerprintKey};
use unleak_filters::{Baseline, Entry};

fn entry() -> impl Strategy<Value = Entry> {
    (
        // Any non-empty string: control characters, quotes, `\`, newlines, emoji.
        "(?s).{1,24}",
        "[a-z0-9-]{1,30}",
        any::<[u8; 8]>(),
    )
        .prop_map(|(path, rule, salt)| Entry {
            fingerprint: Fingerprint::compute(&FingerprintKey::default(), &rule, &salt),
            path,
            rule,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn save_then_load_is_byte_for_byte(entries in prop::collection::vec(entry(), 0..20)) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".unleak-baseline.json");
        let mut baseline = Baseline::with_random_key().unwrap();
        for e in &entries {
            baseline.insert(e.clone());
        }
        baseline.save(&file).unwrap();
        let saved = std::fs::read(&file).unwrap();
        let loaded = Baseline::load(&file).unwrap();
        prop_assert_eq!(&loaded, &baseline);
        prop_assert_eq!(loaded.fingerprint_key(), baseline.fingerprint_key());
        loaded.save(&file).unwrap();
        prop_assert_eq!(std::fs::read(&file).unwrap(), saved.clone());

        // The same entries inserted in reverse order: the same file.
        let mut reversed = loaded.clone();
        reversed.clear();
        for e in entries.iter().rev() {
            reversed.insert(e.clone());
        }
        prop_assert_eq!(reversed.to_bytes(), saved);
    }
}
