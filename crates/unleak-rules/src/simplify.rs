//! Rewrites a rule's regex so that it compiles small and fast.
//!
//! A counted repetition with a large upper bound (`[A-Za-z0-9]{15,511}`) compiles to one
//! automaton state per possible repetition, and nested ones multiply
//! (`(?:;[^;]{1,256}){0,20}`): a catalog written that way takes half a second and tens of
//! megabytes to compile. unleak only ever runs a regex inside a window around a keyword
//! hit, and that window already bounds how long a match can be, so an upper bound above
//! [`MAX_COUNTED_UPPER`] is dropped (`{15,511}` becomes `{15,}`). Lower bounds, exact
//! counts and small ranges are kept as written.

use regex_syntax::ast::{self, parse::Parser, print::Printer, Ast, RepetitionRange};

/// The largest upper bound kept as written.
pub const MAX_COUNTED_UPPER: u32 = 64;

/// The pattern with large upper bounds dropped, or the parse error.
pub fn simplify(pattern: &str) -> Result<String, Box<ast::Error>> {
    let mut tree = Parser::new().parse(pattern).map_err(Box::new)?;
    relax(&mut tree);
    let mut out = String::with_capacity(pattern.len());
    Printer::new()
        .print(&tree, &mut out)
        .expect("printing to a String cannot fail");
    Ok(out)
}

fn relax(node: &mut Ast) {
    match node {
        Ast::Repetition(rep) => {
            if let ast::RepetitionKind::Range(RepetitionRange::Bounded(min, max)) = rep.op.kind {
                if max > MAX_COUNTED_UPPER {
                    rep.op.kind = ast::RepetitionKind::Range(RepetitionRange::AtLeast(min));
                }
            }
            relax(&mut rep.ast);
        }
        Ast::Group(g) => relax(&mut g.ast),
        Ast::Alternation(a) => a.asts.iter_mut().for_each(relax),
        Ast::Concat(c) => c.asts.iter_mut().for_each(relax),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_upper_bounds_are_dropped_small_ones_kept() {
        assert_eq!(
            simplify(r"(?-u)x(?P<secret>[a-z]{15,511})").unwrap(),
            r"(?-u)x(?P<secret>[a-z]{15,})"
        );
        assert_eq!(
            simplify(r"a{2,8}b{36}c{0,64}?").unwrap(),
            r"a{2,8}b{36}c{0,64}?"
        );
        assert_eq!(
            simplify(r"(?:;[^;]{1,256}){0,20}?").unwrap(),
            r"(?:;[^;]{1,}){0,20}?"
        );
    }

    #[test]
    fn the_rewrite_keeps_what_matches_inside_a_window() {
        let original = regex::Regex::new(r"k=(?P<secret>[a-z]{4,300})").unwrap();
        let relaxed = regex::Regex::new(&simplify(original.as_str()).unwrap()).unwrap();
        for hay in ["k=abcd", "k=abc", "k=abcdefghij;", "x k=zzzzzz y"] {
            assert_eq!(
                original.find(hay).map(|m| m.range()),
                relaxed.find(hay).map(|m| m.range())
            );
        }
    }
}
