//! Reading whole files of a commit or of the index.

use crate::common::*;
use unleak_git::{read_paths, PathContent, Snapshot};

fn paths(list: &[&str]) -> Vec<String> {
    list.iter().map(|p| p.to_string()).collect()
}

#[test]
fn commit_and_index_snapshots_differ_where_the_index_moved_on() {
    let repo = Repo::init();
    repo.write("a.env", "A=1\n");
    repo.write("dir/b.env", "B=2\n");
    repo.commit("base");
    repo.git(&["mv", "dir/b.env", "c.env"]);
    repo.write("a.env", "A=changed\n");
    repo.git(&["add", "a.env"]);
    // An unstaged edit is in neither snapshot.
    repo.write("c.env", "unstaged\n");

    let wanted = paths(&["a.env", "dir/b.env", "c.env", "dir", "missing"]);
    let head = read_paths(repo.path(), Snapshot::Commit("HEAD"), &wanted).unwrap();
    assert_eq!(head["a.env"], PathContent::Text(b"A=1\n".to_vec()));
    assert_eq!(head["dir/b.env"], PathContent::Text(b"B=2\n".to_vec()));
    assert_eq!(head["c.env"], PathContent::Absent);
    assert_eq!(head["dir"], PathContent::Absent);
    assert_eq!(head["missing"], PathContent::Absent);

    let index = read_paths(repo.path(), Snapshot::Index, &wanted).unwrap();
    assert_eq!(index["a.env"], PathContent::Text(b"A=changed\n".to_vec()));
    assert_eq!(index["dir/b.env"], PathContent::Absent);
    assert_eq!(index["c.env"], PathContent::Text(b"B=2\n".to_vec()));
}

#[test]
fn binary_blobs_are_named_not_read_and_bad_revisions_are_errors() {
    let repo = Repo::init();
    repo.write("bin.dat", b"\x00\x01secret".as_slice());
    repo.commit("base");
    let got = read_paths(repo.path(), Snapshot::Commit("HEAD"), &paths(&["bin.dat"])).unwrap();
    assert_eq!(got["bin.dat"], PathContent::Unread("binary".into()));
    let e = read_paths(repo.path(), Snapshot::Commit("nope"), &paths(&["x"])).unwrap_err();
    assert!(e.to_string().contains("`nope`"), "{e}");
}
