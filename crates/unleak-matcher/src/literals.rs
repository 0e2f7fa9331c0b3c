//! Finds every occurrence of a set of literals in a blob, ASCII case-insensitively and
//! overlapping ones included: the keyword pass that decides where rules run.
//!
//! Owns: the automata and how they walk the bytes. A DFA's walk is a chain of dependent
//! table loads, so one walk cannot use more than a fraction of a core; a large blob is cut
//! into four slices that are walked in lockstep (each slice starting early enough to see
//! any literal ending in it), which keeps four independent loads in flight. The DFA takes
//! a few milliseconds to build, more than a pre-commit run spends scanning, so it is built
//! on the first blob big enough to repay it; smaller blobs before that use an NFA.
//!
//! Does not own: what a literal means (rules, key fragments). Occurrences come in up to
//! [`LANES`] interleaved streams, each in the order of where the occurrences end; callers
//! that need one order merge them.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, MatchKind};
use std::sync::OnceLock;

/// Slices walked together in a large blob (the walk below names four states).
const STREAMS: usize = 4;
/// How many streams [`Literals::for_each_lane`] may number its occurrences with.
pub const LANES: usize = STREAMS;
/// Below this a blob is walked in one piece: slices shorter than a few hundred bytes would
/// spend much of their walk re-reading the overlap.
const MIN_SPLIT: usize = 2 * 1024;
/// The first blob this big builds the DFA.
const MIN_DFA: usize = 16 * 1024;

/// A compiled literal set.
pub struct Literals {
    literals: Vec<String>,
    /// Byte length of each literal, by pattern id.
    lens: Vec<usize>,
    nfa: AhoCorasick,
    /// `None` inside when the set is too large for a DFA (then the NFA does everything).
    dfa: OnceLock<Option<(DFA, StateID)>>,
}

impl Literals {
    /// Compile `literals` (matched ASCII case-insensitively); pattern ids are positions in
    /// the slice.
    pub fn new(literals: &[String]) -> Literals {
        let nfa = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(literals)
            .expect("plain literals always compile");
        Literals {
            literals: literals.to_vec(),
            lens: literals.iter().map(String::len).collect(),
            nfa,
            dfa: OnceLock::new(),
        }
    }

    fn dfa(&self) -> Option<&(DFA, StateID)> {
        self.dfa
            .get_or_init(|| {
                let dfa = DFA::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&self.literals)
                    .ok()?;
                let start = dfa.start_state(Anchored::No).ok()?;
                Some((dfa, start))
            })
            .as_ref()
    }

    /// Call `found(pattern, start)` once for every occurrence of every literal in `data`,
    /// in no particular order.
    pub fn for_each(&self, data: &[u8], mut found: impl FnMut(usize, usize)) {
        self.for_each_lane(data, |_, pattern, start| found(pattern, start));
    }

    /// Call `found(lane, pattern, start)` once for every occurrence of every literal in
    /// `data`. `lane` is below `LANES`; the occurrences of one lane come in the order of
    /// their ends (so those of one literal come in the order of their starts), and lanes
    /// interleave.
    pub fn for_each_lane(&self, data: &[u8], mut found: impl FnMut(usize, usize, usize)) {
        let dfa = match self.dfa.get() {
            Some(built) => built.as_ref(),
            None if data.len() >= MIN_DFA => self.dfa(),
            None => None,
        };
        match dfa {
            None => {
                for m in self.nfa.find_overlapping_iter(data) {
                    found(0, m.pattern().as_usize(), m.start());
                }
            }
            Some((dfa, start)) if data.len() < MIN_SPLIT => {
                let mut sid = *start;
                for (i, &b) in data.iter().enumerate() {
                    sid = dfa.next_state(Anchored::No, sid, b);
                    if dfa.is_match(sid) {
                        self.report(dfa, sid, i + 1, &mut |p, s| found(0, p, s));
                    }
                }
            }
            Some((dfa, start)) => self.lockstep(dfa, *start, data, &mut found),
        }
    }

    /// Every literal that ends just before `end` in state `sid`.
    fn report(&self, dfa: &DFA, sid: StateID, end: usize, found: &mut impl FnMut(usize, usize)) {
        for k in 0..dfa.match_len(sid) {
            let pattern = dfa.match_pattern(sid, k).as_usize();
            found(pattern, end - self.lens[pattern]);
        }
    }

    /// Walk [`STREAMS`] slices of `data` in lockstep. Slice `j` owns the occurrences that
    /// end in `(own[j], end[j]]` and starts its walk `longest - 1` bytes before `own[j]`,
    /// so every occurrence it owns lies wholly in what it read, and each occurrence has
    /// exactly one owner.
    fn lockstep(
        &self,
        dfa: &DFA,
        start: StateID,
        data: &[u8],
        found: &mut impl FnMut(usize, usize, usize),
    ) {
        let longest = self.lens.iter().copied().max().unwrap_or(1).max(1);
        let slice = data.len() / STREAMS;
        let mut pos = [0usize; STREAMS];
        let mut own = [0usize; STREAMS];
        let mut end = [0usize; STREAMS];
        for j in 0..STREAMS {
            own[j] = j * slice;
            pos[j] = own[j].saturating_sub(longest - 1);
            end[j] = if j + 1 == STREAMS {
                data.len()
            } else {
                (j + 1) * slice
            };
        }
        let steps = (0..STREAMS).map(|j| end[j] - pos[j]).min().unwrap_or(0);
        let lanes: [&[u8]; STREAMS] = std::array::from_fn(|j| &data[pos[j]..pos[j] + steps]);
        let mut states = [start; STREAMS];
        let mut done = 0;
        while done < steps {
            (done, states) = walk_until_match(dfa, lanes, done, states);
            for (j, &sid) in states.iter().enumerate() {
                let at = pos[j] + done;
                if dfa.is_match(sid) && at > own[j] {
                    self.report(dfa, sid, at, &mut |p, s| found(j, p, s));
                }
            }
        }
        for (j, mut sid) in states.into_iter().enumerate() {
            for (i, &b) in data[pos[j] + steps..end[j]].iter().enumerate() {
                sid = dfa.next_state(Anchored::No, sid, b);
                let at = pos[j] + steps + i + 1;
                if dfa.is_match(sid) && at > own[j] {
                    self.report(dfa, sid, at, &mut |p, s| found(j, p, s));
                }
            }
        }
    }
}

/// Step the four lanes from byte `from` of each until one of them is in a match state (or
/// their end); returns how many bytes of each were read and the states after them.
///
/// A function of its own, kept out of line, so the walk holds its states in registers: when
/// it shared a body with the reporting (and its closures) the compiler kept them on the
/// stack, and each step waited on a store and a reload besides the table load, which made
/// this pass about a third slower (measured on the benchmark corpus).
#[inline(never)]
fn walk_until_match(
    dfa: &DFA,
    lanes: [&[u8]; STREAMS],
    from: usize,
    states: [StateID; STREAMS],
) -> (usize, [StateID; STREAMS]) {
    let [l0, l1, l2, l3] = lanes;
    // One length for all four, so the indexing below needs no bounds checks of its own.
    let n = l0.len().min(l1.len()).min(l2.len()).min(l3.len());
    let (l0, l1, l2, l3) = (&l0[..n], &l1[..n], &l2[..n], &l3[..n]);
    let [mut s0, mut s1, mut s2, mut s3] = states;
    let mut i = from;
    while i < n {
        s0 = dfa.next_state(Anchored::No, s0, l0[i]);
        s1 = dfa.next_state(Anchored::No, s1, l1[i]);
        s2 = dfa.next_state(Anchored::No, s2, l2[i]);
        s3 = dfa.next_state(Anchored::No, s3, l3[i]);
        i += 1;
        if dfa.is_match(s0) | dfa.is_match(s1) | dfa.is_match(s2) | dfa.is_match(s3) {
            break;
        }
    }
    (i, [s0, s1, s2, s3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrences(lits: &Literals, data: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        lits.for_each(data, |p, s| out.push((p, s)));
        out.sort_unstable();
        out
    }

    /// Every occurrence by brute force.
    fn naive(literals: &[String], data: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (p, lit) in literals.iter().enumerate() {
            for s in 0..=data.len().saturating_sub(lit.len()) {
                if data.len() >= lit.len()
                    && data[s..s + lit.len()].eq_ignore_ascii_case(lit.as_bytes())
                {
                    out.push((p, s));
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn small_and_large_blobs_report_every_occurrence_once() {
        let literals: Vec<String> = ["key", "api_key", "ghp_", "password", "pass", "y_a"]
            .map(String::from)
            .to_vec();
        let lits = Literals::new(&literals);
        let nfa_only = Literals::new(&literals);
        // A pseudo-random text over a small alphabet puts occurrences (overlapping ones
        // too) on every slice boundary of the lockstep walk.
        let alphabet = b"keyapi_KEYghpPASSWORDsword_";
        let mut x = 12345u32;
        for len in [
            0,
            1,
            7,
            100,
            MIN_SPLIT - 1,
            MIN_SPLIT,
            MIN_SPLIT + 3,
            300_001,
        ] {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    alphabet[(x >> 16) as usize % alphabet.len()]
                })
                .collect();
            assert_eq!(
                occurrences(&lits, &data),
                naive(&literals, &data),
                "length {len}"
            );
            if len < MIN_DFA {
                assert_eq!(occurrences(&nfa_only, &data), naive(&literals, &data));
                assert!(nfa_only.dfa.get().is_none(), "small blobs build no DFA");
            }
        }
        assert!(lits.dfa.get().is_some_and(|d| d.is_some()));
    }

    #[test]
    fn no_literals_find_nothing() {
        let lits = Literals::new(&[]);
        assert!(occurrences(&lits, &vec![b'a'; MIN_SPLIT * 2]).is_empty());
    }
}
