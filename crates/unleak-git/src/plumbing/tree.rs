//! Git's raw tree format: a tree object's bytes parsed into entries, and a tree read raw
//! through libgit2 when the pack reader does not have it.
//!
//! Owns: `MODE SP NAME NUL` + 20-byte id entries, refusing malformed trees, and the
//! libgit2 fallback read (loose trees, alternates, whatever the pack reader refuses).
//!
//! Does not own: what is done with the entries (the history's provenance pass), or reading
//! trees from packs (pack).

use git2::{ObjectType, Oid, Repository};
use std::sync::Arc;

/// A tree's raw content (checked to parse), or why it could not be read. Raw and shared
/// with the pack reader's cache, so a batch of listings costs what the trees weigh.
pub(crate) type TreeListing = Result<Arc<[u8]>, git2::Error>;

/// One entry of a tree, borrowed from its raw form.
pub(crate) struct TreeEntry<'a> {
    pub(crate) mode: u32,
    pub(crate) id: Oid,
    pub(crate) name: &'a [u8],
}

/// The entries of tree `id`, read raw from the object database.
pub(crate) fn read_tree(repo: &Repository, id: Oid) -> TreeListing {
    let odb = repo.odb()?;
    let object = odb.read(id)?;
    if object.kind() != ObjectType::Tree {
        return Err(git2::Error::from_str(&format!(
            "expected a tree, found a {}",
            object.kind().str()
        )));
    }
    match parse_tree(object.data()) {
        Some(_) => Ok(object.data().into()),
        None => Err(git2::Error::from_str(&format!("tree {id} is malformed"))),
    }
}

/// Parse a raw tree: entries of `MODE SP NAME NUL` and a 20-byte id.
pub(crate) fn parse_tree(mut data: &[u8]) -> Option<Vec<TreeEntry<'_>>> {
    let mut entries = Vec::new();
    while !data.is_empty() {
        let space = memchr::memchr(b' ', data)?;
        let mode = std::str::from_utf8(&data[..space]).ok()?;
        let mode = u32::from_str_radix(mode, 8).ok()?;
        let rest = &data[space + 1..];
        let nul = memchr::memchr(0, rest)?;
        let name = &rest[..nul];
        let id = rest.get(nul + 1..nul + 21)?;
        if name.is_empty() {
            return None;
        }
        entries.push(TreeEntry {
            mode,
            id: Oid::from_bytes(id).ok()?,
            name,
        });
        data = &rest[nul + 21..];
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_trees_parse_and_malformed_ones_do_not() {
        let mut raw = Vec::new();
        raw.extend_from_slice(b"100644 a.txt\0");
        raw.extend_from_slice(&[1u8; 20]);
        raw.extend_from_slice(b"40000 src\0");
        raw.extend_from_slice(&[2u8; 20]);
        raw.extend_from_slice(b"160000 vendor\0");
        raw.extend_from_slice(&[3u8; 20]);
        let entries = parse_tree(&raw).unwrap();
        let got: Vec<(u32, &[u8], Oid)> = entries.iter().map(|e| (e.mode, e.name, e.id)).collect();
        assert_eq!(
            got,
            vec![
                (0o100644, &b"a.txt"[..], Oid::from_bytes(&[1; 20]).unwrap()),
                (0o040000, &b"src"[..], Oid::from_bytes(&[2; 20]).unwrap()),
                (0o160000, &b"vendor"[..], Oid::from_bytes(&[3; 20]).unwrap()),
            ]
        );
        assert_eq!(parse_tree(b"").map(|e| e.len()), Some(0));
        // Cut-off id, no NUL, a mode that is not octal, an empty name.
        assert!(parse_tree(&raw[..raw.len() - 1]).is_none());
        assert!(parse_tree(b"100644 a.txt").is_none());
        assert!(parse_tree(b"10064x a\0aaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(parse_tree(b"100644 \0aaaaaaaaaaaaaaaaaaaa").is_none());
    }
}
