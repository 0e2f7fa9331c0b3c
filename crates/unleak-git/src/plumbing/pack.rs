//! Reading wanted blobs straight from packfiles, each delta chain resolved once, from its base
//! down.
//!
//! Owns: parsing pack indexes (version 2), finding which wanted blobs a pack holds, reading
//! pack entries (header, zlib body, CRC-32), applying git deltas, the parallel walk of
//! delta trees that hands every wanted blob's content to a visitor, and reading single trees.
//!
//! Why not libgit2's object database: it reads one object at a time by id, and a blob stored
//! as a delta is rebuilt by inflating its whole chain (base and every delta above it); its
//! small delta-base cache rarely holds the right base when blobs come in id order. Here the
//! deltas of a pack are grouped under their bases, as `git index-pack` does: each base is
//! inflated once and every delta below it applied while the base is still in memory, so each
//! entry of the pack is inflated at most once. Content stays in a per-thread stack only as
//! long as the chain below it is being resolved; the pack is read with positioned reads, not
//! mapped, so only what is being resolved is resident.
//!
//! Integrity: every entry read is checked against the CRC-32 its index records (over its
//! header and compressed bytes), zlib checks the Adler-32 of what it inflates, and every
//! delta is checked against the sizes it declares. What this reader does not take on goes
//! back to the caller to read through libgit2, which reports problems by object id as
//! before: blobs in no usable pack (loose objects, alternates, version 1 indexes, packs whose
//! trailer does not match their index), entries that fail a check, deltas whose base is
//! outside the pack or not a blob, objects over the size limit and chains that would hold
//! more than the caller's stack limit (its share of the memory budget) at once.
//!
//! Trees for provenance are read one at a time by id ([`TreeReader`]), with the same checks
//! and a small per-worker cache of resolved objects as delta bases; callers sort their reads
//! by pack offset so that bases are still cached when their deltas come.
//!
//! Does not own: deciding which objects are wanted, matching, or reporting.

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;
use rayon::prelude::*;
use std::collections::HashMap;
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Most bytes of resolved content one worker keeps for the chain it is walking when its
/// share of the memory budget allows more; deeper or bigger chains go back to libgit2.
pub(crate) const MAX_STACK: usize = 64 * 1024 * 1024;

/// Bytes of bookkeeping per wanted blob while a pack's delta forest is built and walked:
/// its node and the node of (about) one base, the offset map entry, child lists and flags.
pub(crate) const BYTES_PER_WANTED: u64 = 2 * std::mem::size_of::<Node>() as u64 + 64;

/// Bytes read at once from a pack while inflating one entry.
const READ_CHUNK: usize = 64 * 1024;

/// The most bytes an entry header can take (type and size varint, then a base offset varint
/// or a 20-byte base id).
const MAX_HEADER: usize = 32;

const OBJ_BLOB: u8 = 3;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// An opened pack: its index mapped, its data file open for positioned reads.
pub(crate) struct Pack {
    file: File,
    index: memmap2::Mmap,
    count: usize,
    /// Index positions sorted by pack offset, to find the index entry (and so the CRC) of a
    /// base named by offset; built on the first such base.
    in_pack_order: OnceLock<Vec<u32>>,
}

impl Pack {
    /// Open the pack at `pack` (a `.pack` path) with its `.idx`; `None` when the index is not
    /// version 2 or is malformed (the caller reads those objects through libgit2).
    pub(crate) fn open(pack: &Path) -> Option<Pack> {
        let index_file = File::open(pack.with_extension("idx")).ok()?;
        // SAFETY: the index is only read; git writes new indexes under new names and renames
        // them into place, so a mapped index is not rewritten under us.
        let index = unsafe { memmap2::Mmap::map(&index_file) }.ok()?;
        let count = parse_index_header(&index)?;
        let file = File::open(pack).ok()?;
        Some(Pack {
            file,
            index,
            count,
            in_pack_order: OnceLock::new(),
        })
    }

    fn fanout(&self, byte: usize) -> usize {
        if byte == 0 {
            0
        } else {
            be32(&self.index[8 + 4 * (byte - 1)..]) as usize
        }
    }

    fn oid_at(&self, i: usize) -> &[u8] {
        let start = 8 + 256 * 4 + 20 * i;
        &self.index[start..start + 20]
    }

    /// The position of `oid` in the index.
    fn find(&self, oid: &[u8]) -> Option<usize> {
        let (mut lo, mut hi) = (
            self.fanout(oid[0] as usize),
            self.fanout(oid[0] as usize + 1),
        );
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.oid_at(mid).cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The index position of the entry at pack offset `offset`.
    fn position_at_offset(&self, offset: u64) -> Option<usize> {
        let order = self.in_pack_order.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.count as u32).collect();
            order.sort_unstable_by_key(|&p| self.offset_at(p as usize).unwrap_or(u64::MAX));
            order
        });
        let i = order
            .binary_search_by_key(&offset, |&p| self.offset_at(p as usize).unwrap_or(u64::MAX))
            .ok()?;
        Some(order[i] as usize)
    }

    fn crc_at(&self, i: usize) -> u32 {
        be32(&self.index[8 + 256 * 4 + 20 * self.count + 4 * i..])
    }

    fn offset_at(&self, i: usize) -> Option<u64> {
        let table = 8 + 256 * 4 + 24 * self.count;
        let small = be32(&self.index[table + 4 * i..]);
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let large = table + 4 * self.count + 8 * (small & 0x7fff_ffff) as usize;
        // The 64-bit table ends where the two trailing checksums start.
        let bytes = self.index[..self.index.len() - 40].get(large..large + 8)?;
        Some(u64::from_be_bytes(bytes.try_into().ok()?))
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The object count of a version 2 index, after checking that its tables fit the file.
fn parse_index_header(index: &[u8]) -> Option<usize> {
    if index.len() < 8 + 256 * 4 || index[..4] != [0xff, b't', b'O', b'c'] || be32(&index[4..]) != 2
    {
        return None;
    }
    let count = be32(&index[8 + 255 * 4..]) as usize;
    // Fan-out, ids, CRCs, offsets and the two trailing checksums, at the least.
    let least = count.checked_mul(28)?.checked_add(8 + 256 * 4 + 40)?;
    // The fan-out bounds every id search: it must rise and end at the count, or a search
    // would index past the id table.
    let mut last = 0;
    for byte in 0..256 {
        let upto = be32(&index[8 + 4 * byte..]);
        if upto < last {
            return None;
        }
        last = upto;
    }
    (index.len() >= least).then_some(count)
}

/// What an entry is, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A whole object of this type (1 commit, 2 tree, 3 blob, 4 tag).
    Base(u8),
    /// A delta against the entry at this pack offset.
    OfsDelta(u64),
    /// A delta against the object with this id.
    RefDelta([u8; 20]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    kind: Kind,
    /// Inflated size of the entry's body (the object, or the delta instructions).
    size: u64,
    /// Bytes before the zlib stream.
    len: usize,
}

/// Parse the entry header at pack offset `at` from `b` (the bytes starting there).
fn parse_header(b: &[u8], at: u64) -> Option<Header> {
    let mut i = 0;
    let mut c = *b.get(i)?;
    i += 1;
    let ty = (c >> 4) & 7;
    let mut size = u64::from(c & 0x0f);
    let mut shift = 4;
    while c & 0x80 != 0 {
        c = *b.get(i)?;
        i += 1;
        if shift > 57 {
            return None;
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
    }
    let kind = match ty {
        1..=4 => Kind::Base(ty),
        OBJ_OFS_DELTA => {
            let mut c = *b.get(i)?;
            i += 1;
            let mut back = u64::from(c & 0x7f);
            while c & 0x80 != 0 {
                c = *b.get(i)?;
                i += 1;
                back = back.checked_add(1)?.checked_mul(128)? | u64::from(c & 0x7f);
            }
            if back == 0 || back > at {
                return None;
            }
            Kind::OfsDelta(at - back)
        }
        OBJ_REF_DELTA => {
            let id = b.get(i..i + 20)?;
            i += 20;
            Kind::RefDelta(id.try_into().ok()?)
        }
        _ => return None,
    };
    Some(Header { kind, size, len: i })
}

/// Apply the git delta `delta` to `base`.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    let varint = |i: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let c = *delta.get(*i)?;
            *i += 1;
            if shift > 63 {
                return None;
            }
            v |= u64::from(c & 0x7f) << shift;
            shift += 7;
            if c & 0x80 == 0 {
                return Some(v);
            }
        }
    };
    if varint(&mut i)? != base.len() as u64 {
        return None;
    }
    let size = usize::try_from(varint(&mut i)?).ok()?;
    // The declared size is checked against what the instructions build, not trusted to
    // allocate: a damaged delta may declare any size.
    let mut out = Vec::with_capacity(size.min(base.len().saturating_add(delta.len())));
    while i < delta.len() {
        let op = delta[i];
        i += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    offset |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    len |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(len)?)?);
        } else if op != 0 {
            let len = usize::from(op);
            out.extend_from_slice(delta.get(i..i + len)?);
            i += len;
        } else {
            return None;
        }
        if out.len() > size {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

/// Read one entry at `at` and inflate its body into a new buffer, checking the CRC-32 the
/// index records for it. `header` was parsed from the same bytes beforehand. A body that
/// declares more than `max` bytes is not read: the buffer is allocated from the declared
/// size, which a damaged header may set to anything.
fn read_entry(
    file: &File,
    at: u64,
    header: &Header,
    crc: u32,
    max: usize,
    inflater: &mut Decompress,
    chunk: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    let size = usize::try_from(header.size).ok().filter(|&s| s <= max)?;
    let mut out = vec![0u8; size];
    let mut hasher = crc32fast::Hasher::new();
    inflater.reset(true);
    // zlib never grows data by more than a few bytes per 16 KiB block.
    let guess = header.len + size + size / 64 + 64;
    let mut pos = at;
    let mut first = true;
    loop {
        chunk.resize(guess.min(READ_CHUNK), 0);
        let got = read_some(file, pos, chunk)?;
        let input = if first {
            hasher.update(&chunk[..header.len.min(got)]);
            chunk.get(header.len..got)?
        } else {
            &chunk[..got]
        };
        let before = inflater.total_in();
        let written = inflater.total_out() as usize;
        let status = inflater
            .decompress(input, &mut out[written..], FlushDecompress::None)
            .ok()?;
        let used = (inflater.total_in() - before) as usize;
        hasher.update(&input[..used]);
        pos += (if first { header.len } else { 0 } + used) as u64;
        first = false;
        match status {
            Status::StreamEnd => break,
            // Input ran out (read more) unless the output is already full, which means the
            // stream holds more than the header declared.
            Status::Ok | Status::BufError if used == input.len() && !input.is_empty() => {
                if inflater.total_out() as usize > size {
                    return None;
                }
            }
            _ => return None,
        }
    }
    (inflater.total_out() == header.size && hasher.finalize() == crc).then_some(out)
}

/// Fill as much of `buf` as the file has from `at`; the count read (0 at the end), `None`
/// on a read error (the caller hands the object back to libgit2, which names it).
fn read_some(file: &File, at: u64, buf: &mut [u8]) -> Option<usize> {
    super::pread::read_full_at(file, buf, at).ok()
}

const NONE: u32 = u32::MAX;

/// Bytes per object of an opened pack that count against the index share: its mapped
/// index entry (id, CRC, offset) and its place in the pack-order table.
pub(crate) const BYTES_PER_PACKED_OBJECT: u64 = 28 + 4;

/// Objects in the packs this reader can open.
pub(crate) fn packed_objects(packs: &[PathBuf]) -> u64 {
    packs
        .iter()
        .filter_map(|p| Pack::open(p))
        .map(|p| p.count as u64)
        .sum()
}

/// One entry of the delta forest of a pack: a wanted blob or a base some wanted blob needs.
struct Node {
    offset: u64,
    header: Header,
    crc: u32,
    /// Index of the base's node, or [`NONE`] for a whole object.
    parent: u32,
    /// Index into the wanted list, or [`NONE`] for a base nobody asked for.
    wanted: u32,
}

/// Hand `visit` the content of every blob in `wanted` (sorted, distinct) that one of `packs`
/// holds and this reader can resolve, in parallel on the current rayon pool, each worker with
/// its own state from `init` and at most `stack` bytes of resolved content at once. Returns the workers' states and the wanted blobs left for the
/// caller to read another way, sorted.
pub(crate) fn read_blobs<S, I, V>(
    packs: &[PathBuf],
    wanted: &[Oid],
    max_size: u64,
    stack: usize,
    init: I,
    visit: V,
) -> (Vec<S>, Vec<Oid>)
where
    S: Send,
    I: Fn() -> S + Sync,
    V: Fn(&mut S, Oid, &[u8]) + Sync,
{
    let mut claimed = vec![false; wanted.len()];
    let mut left: Vec<Oid> = Vec::new();
    let mut states: Vec<S> = Vec::new();
    for path in packs {
        let Some(pack) = Pack::open(path) else {
            continue;
        };
        let (nodes, refused) = forest(&pack, wanted, &mut claimed);
        left.extend(refused.into_iter().map(|w| wanted[w as usize]));
        let limits = (max_size, stack);
        let (mut s, l) = resolve(&pack, &nodes, wanted, limits, &init, &visit);
        states.append(&mut s);
        left.extend(l);
    }
    left.extend(
        wanted
            .iter()
            .zip(&claimed)
            .filter(|(_, c)| !**c)
            .map(|(o, _)| *o),
    );
    left.sort_unstable();
    left.dedup();
    (states, left)
}

/// The nodes this pack needs for the wanted blobs it holds (claiming them), and the wanted
/// indexes it holds but cannot resolve (a broken header, a base outside the pack).
fn forest(pack: &Pack, wanted: &[Oid], claimed: &mut [bool]) -> (Vec<Node>, Vec<u32>) {
    let mut nodes: Vec<Node> = Vec::new();
    let mut by_offset: HashMap<u64, u32> = HashMap::new();
    let mut refused = Vec::new();
    let mut buf = [0u8; MAX_HEADER];
    for (w, oid) in wanted.iter().enumerate() {
        if claimed[w] {
            continue;
        }
        let Some(pos) = pack.find(oid.as_bytes()) else {
            continue;
        };
        claimed[w] = true;
        // Walk from the wanted entry towards its base, adding nodes until one is known.
        let first = nodes.len();
        let mut at = Some(pos);
        let mut child: Option<u32> = None;
        let complete = loop {
            let Some((offset, crc)) = at.and_then(|p| Some((pack.offset_at(p)?, pack.crc_at(p))))
            else {
                break false;
            };
            if let Some(&known) = by_offset.get(&offset) {
                if known as usize >= first {
                    // A delta whose base chain comes back to itself (only REF_DELTA can
                    // point forward): no base to start from.
                    break false;
                }
                match child {
                    Some(c) => nodes[c as usize].parent = known,
                    // A base some earlier chain needed is itself wanted.
                    None => nodes[known as usize].wanted = w as u32,
                }
                break true;
            }
            let header = read_some(&pack.file, offset, &mut buf)
                .and_then(|got| parse_header(&buf[..got], offset));
            let Some(header) = header else {
                break false;
            };
            let id = nodes.len() as u32;
            nodes.push(Node {
                offset,
                header,
                crc,
                parent: NONE,
                wanted: if child.is_none() { w as u32 } else { NONE },
            });
            by_offset.insert(offset, id);
            if let Some(c) = child {
                nodes[c as usize].parent = id;
            }
            child = Some(id);
            at = match header.kind {
                Kind::Base(_) => break true,
                Kind::OfsDelta(base) => pack.position_at_offset(base),
                Kind::RefDelta(base) => pack.find(&base),
            };
        };
        if !complete {
            // Undo this walk: the wanted blob goes back to libgit2.
            for n in &nodes[first..] {
                by_offset.remove(&n.offset);
            }
            nodes.truncate(first);
            refused.push(w as u32);
        }
    }
    (nodes, refused)
}

/// Resolve `nodes` (one pack's delta forest) in parallel, one base and everything below it
/// per task, in pack order. Returns the workers' states and the wanted blobs not resolved.
fn resolve<S, I, V>(
    pack: &Pack,
    nodes: &[Node],
    wanted: &[Oid],
    (max_size, stack): (u64, usize),
    init: &I,
    visit: &V,
) -> (Vec<S>, Vec<Oid>)
where
    S: Send,
    I: Fn() -> S + Sync,
    V: Fn(&mut S, Oid, &[u8]) + Sync,
{
    // Children of each node, as ranges of one array (compressed sparse rows).
    let mut order: Vec<u32> = (0..nodes.len() as u32).collect();
    order.sort_unstable_by_key(|&n| (nodes[n as usize].parent, nodes[n as usize].offset));
    let split = order.partition_point(|&n| nodes[n as usize].parent != NONE);
    let (children, roots) = order.split_at(split);
    let mut first_child = vec![0u32; nodes.len() + 1];
    for &c in children {
        first_child[nodes[c as usize].parent as usize + 1] += 1;
    }
    let mut sum = 0;
    for start in first_child.iter_mut() {
        sum += *start;
        *start = sum;
    }
    let forest = Forest {
        pack,
        nodes,
        wanted,
        children,
        first_child: &first_child,
        max_size,
        stack,
    };
    let results: Vec<(S, Vec<Oid>)> = roots
        .par_iter()
        .with_min_len(8)
        .fold(
            || Worker {
                state: init(),
                left: Vec::new(),
                inflater: Decompress::new(true),
                chunk: Vec::new(),
            },
            |mut worker, &root| {
                forest.walk(root, &mut worker, visit);
                worker
            },
        )
        .map(|w| (w.state, w.left))
        .collect();
    let mut states = Vec::with_capacity(results.len());
    let mut left = Vec::new();
    for (s, mut l) in results {
        states.push(s);
        left.append(&mut l);
    }
    (states, left)
}

struct Forest<'a> {
    pack: &'a Pack,
    nodes: &'a [Node],
    wanted: &'a [Oid],
    /// Node ids grouped by parent; node `n`'s are `children[first_child[n]..first_child[n + 1]]`.
    children: &'a [u32],
    first_child: &'a [u32],
    max_size: u64,
    /// Most bytes of resolved content held at once.
    stack: usize,
}

struct Worker<S> {
    state: S,
    left: Vec<Oid>,
    inflater: Decompress,
    chunk: Vec<u8>,
}

impl Forest<'_> {
    fn children(&self, n: u32) -> &[u32] {
        &self.children
            [self.first_child[n as usize] as usize..self.first_child[n as usize + 1] as usize]
    }

    /// Every wanted blob at or below `n` goes back to the caller.
    fn give_back<S>(&self, n: u32, worker: &mut Worker<S>) {
        let mut todo = vec![n];
        while let Some(n) = todo.pop() {
            let w = self.nodes[n as usize].wanted;
            if w != NONE {
                worker.left.push(self.wanted[w as usize]);
            }
            todo.extend_from_slice(self.children(n));
        }
    }

    fn read(&self, n: u32, worker: &mut Worker<impl Sized>) -> Option<Vec<u8>> {
        let node = &self.nodes[n as usize];
        read_entry(
            &self.pack.file,
            node.offset,
            &node.header,
            node.crc,
            self.stack,
            &mut worker.inflater,
            &mut worker.chunk,
        )
    }

    fn emit<S, V: Fn(&mut S, Oid, &[u8])>(
        &self,
        n: u32,
        content: &[u8],
        worker: &mut Worker<S>,
        visit: &V,
    ) {
        let w = self.nodes[n as usize].wanted;
        if w == NONE {
            return;
        }
        let oid = self.wanted[w as usize];
        if content.len() as u64 > self.max_size {
            // libgit2 reports its size without reading it again.
            worker.left.push(oid);
        } else {
            visit(&mut worker.state, oid, content);
        }
    }

    /// Resolve the tree of deltas under base `root`, depth first, holding only the chain
    /// being resolved.
    fn walk<S, V: Fn(&mut S, Oid, &[u8])>(&self, root: u32, worker: &mut Worker<S>, visit: &V) {
        let node = &self.nodes[root as usize];
        let fits = |size: u64| size <= self.max_size && size <= self.stack as u64;
        // Deltas only ever rebuild objects of their base's type, so a tree of deltas under
        // anything but a blob holds no blob (libgit2 names what it is instead).
        if node.header.kind != Kind::Base(OBJ_BLOB) || !fits(node.header.size) {
            return self.give_back(root, worker);
        }
        let Some(content) = self.read(root, worker) else {
            return self.give_back(root, worker);
        };
        self.emit(root, &content, worker, visit);
        // (node, its content, index of the next child to resolve)
        let mut stack: Vec<(u32, Vec<u8>, usize)> = vec![(root, content, 0)];
        let mut held = stack[0].1.len();
        while let Some((n, base, next)) = stack.last_mut() {
            let Some(&child) = self.children(*n).get(*next) else {
                held -= base.len();
                stack.pop();
                continue;
            };
            *next += 1;
            let rebuilt = self.read(child, worker).and_then(|delta| {
                let size = delta_target_size(&delta)?;
                if !fits(size) || held as u64 + size > self.stack as u64 {
                    return None;
                }
                apply_delta(base, &delta)
            });
            let Some(content) = rebuilt else {
                self.give_back(child, worker);
                continue;
            };
            self.emit(child, &content, worker, visit);
            if !self.children(child).is_empty() {
                held += content.len();
                stack.push((child, content, 0));
            }
        }
    }
}

/// The size a delta declares for its result (its second varint).
fn delta_target_size(delta: &[u8]) -> Option<u64> {
    let mut i = 0;
    let mut result = 0;
    for _ in 0..2 {
        result = 0u64;
        let mut shift = 0;
        loop {
            let c = *delta.get(i)?;
            i += 1;
            if shift > 63 {
                return None;
            }
            result |= u64::from(c & 0x7f) << shift;
            shift += 7;
            if c & 0x80 == 0 {
                break;
            }
        }
    }
    Some(result)
}

/// Bytes of resolved objects each worker of a [`TreeReader`] keeps as delta bases when its
/// share of the memory budget allows more.
pub(crate) const MAX_BASE_CACHE: usize = 8 * 1024 * 1024;

/// Reading single objects (trees, for provenance) by id from a set of packs, with a small
/// per-worker cache of resolved objects as delta bases. Callers read in pack-offset order
/// where they can ([`TreeReader::locate`]): a delta's base always lies before it, so recent
/// objects are the likely bases.
pub(crate) struct TreeReader {
    packs: Vec<Pack>,
    /// Bytes of cached bases per worker; larger objects are never cached, and a tree bigger
    /// than a worker's stack limit goes back to libgit2.
    cache_limit: usize,
    stack: usize,
    /// One per worker thread (by rayon thread index), so never contended.
    workers: Vec<Mutex<ReaderState>>,
}

struct ReaderState {
    inflater: Decompress,
    chunk: Vec<u8>,
    /// Resolved objects by (pack, offset), evicted oldest first past the cache limit.
    cache: HashMap<(usize, u64), std::sync::Arc<[u8]>>,
    order: VecDeque<(usize, u64)>,
    held: usize,
}

impl TreeReader {
    /// A reader over `packs` (those that fail to open are left out) for `threads` workers,
    /// each caching up to `cache_limit` bytes of bases and resolving objects up to `stack`.
    pub(crate) fn new(
        packs: &[PathBuf],
        threads: usize,
        cache_limit: usize,
        stack: usize,
    ) -> TreeReader {
        TreeReader {
            packs: packs.iter().filter_map(|p| Pack::open(p)).collect(),
            cache_limit,
            stack,
            workers: (0..threads.max(1))
                .map(|_| {
                    Mutex::new(ReaderState {
                        inflater: Decompress::new(true),
                        chunk: Vec::new(),
                        cache: HashMap::new(),
                        order: VecDeque::new(),
                        held: 0,
                    })
                })
                .collect(),
        }
    }

    /// Where `oid` is: (pack, offset), for sorting reads; `None` if no pack has it.
    pub(crate) fn locate(&self, oid: Oid) -> Option<(usize, u64)> {
        self.packs.iter().enumerate().find_map(|(i, p)| {
            let pos = p.find(oid.as_bytes())?;
            Some((i, p.offset_at(pos)?))
        })
    }

    /// The content of the tree at `at` (from [`TreeReader::locate`]); `None` when it is not
    /// a tree or fails a check (the caller reads it through libgit2 instead).
    pub(crate) fn read_tree(&self, at: (usize, u64)) -> Option<std::sync::Arc<[u8]>> {
        let worker = rayon::current_thread_index().unwrap_or(0) % self.workers.len();
        let mut state = self.workers[worker].lock().ok()?;
        let (pack_no, offset) = at;
        let pack = self.packs.get(pack_no)?;
        // Walk towards the base until a cached object or a whole one.
        let mut chain: Vec<(u64, Header, u32)> = Vec::new();
        let mut buf = [0u8; MAX_HEADER];
        let mut at = offset;
        let mut base: Option<std::sync::Arc<[u8]>> = None;
        loop {
            if let Some(hit) = state.cache.get(&(pack_no, at)) {
                base = Some(hit.clone());
                break;
            }
            if chain.len() > 10_000 {
                return None;
            }
            let crc = pack.crc_at(pack.position_at_offset(at)?);
            let got = read_some(&pack.file, at, &mut buf)?;
            let header = parse_header(&buf[..got], at)?;
            chain.push((at, header, crc));
            at = match header.kind {
                Kind::Base(2) => break,
                Kind::Base(_) => return None,
                Kind::OfsDelta(b) => b,
                Kind::RefDelta(id) => pack.offset_at(pack.find(&id)?)?,
            };
            if header.size > self.stack as u64 {
                return None;
            }
        }
        let state = &mut *state;
        let mut content = match base {
            Some(hit) => hit,
            None => {
                let (at, header, crc) = chain.pop()?;
                let data: std::sync::Arc<[u8]> = read_entry(
                    &pack.file,
                    at,
                    &header,
                    crc,
                    self.stack,
                    &mut state.inflater,
                    &mut state.chunk,
                )?
                .into();
                state.remember((pack_no, at), data.clone(), self.cache_limit);
                data
            }
        };
        while let Some((at, header, crc)) = chain.pop() {
            let delta = read_entry(
                &pack.file,
                at,
                &header,
                crc,
                self.stack,
                &mut state.inflater,
                &mut state.chunk,
            )?;
            if delta_target_size(&delta)? > self.stack as u64 {
                return None;
            }
            content = apply_delta(&content, &delta)?.into();
            state.remember((pack_no, at), content.clone(), self.cache_limit);
        }
        Some(content)
    }
}

impl ReaderState {
    fn remember(&mut self, key: (usize, u64), data: std::sync::Arc<[u8]>, limit: usize) {
        if data.len() > limit / 4 {
            return;
        }
        self.held += data.len();
        match self.cache.insert(key, data) {
            Some(old) => self.held -= old.len(),
            None => self.order.push_back(key),
        }
        while self.held > limit {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.cache.remove(&old) {
                self.held -= gone.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn headers_parse_all_three_kinds() {
        // A blob of 300 bytes: type 3, size 300 = 0b1_0010_1100.
        let blob = [0b1011_1100, 0b0001_0010];
        assert_eq!(
            parse_header(&blob, 100),
            Some(Header {
                kind: Kind::Base(OBJ_BLOB),
                size: 300,
                len: 2
            })
        );
        // An offset delta of 5 bytes whose base is 200 bytes back: 200 = (0 + 1) * 128 + 72.
        let ofs = [0b0110_0101, 0b1000_0000, 72];
        assert_eq!(
            parse_header(&ofs, 1000).map(|h| h.kind),
            Some(Kind::OfsDelta(800))
        );
        // A base before the start of the pack is refused, as is a cut-off header.
        assert_eq!(parse_header(&ofs, 100), None);
        assert_eq!(parse_header(&[0b1011_1100], 0), None);
        let mut refd = vec![0b0111_0001];
        refd.extend([7u8; 20]);
        assert_eq!(
            parse_header(&refd, 10).map(|h| h.kind),
            Some(Kind::RefDelta([7; 20]))
        );
        assert_eq!(parse_header(&refd[..15], 10), None);
    }

    #[test]
    fn deltas_copy_and_insert_and_reject_bad_input() {
        let base = b"hello, world";
        // base size 12, result size 11: copy "hello" (offset 0, len 5), insert " dear".
        let delta = [12, 10, 0x90, 5, 5, b' ', b't', b'h', b'e', b'r'];
        assert_eq!(delta_target_size(&delta), Some(10));
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello ther"[..])
        );
        // Wrong base size, a copy past the base, a result longer than declared, opcode 0.
        assert_eq!(apply_delta(b"short", &delta), None);
        assert_eq!(apply_delta(base, &[12, 5, 0x91, 10, 5]), None);
        assert_eq!(apply_delta(base, &[12, 2, 3, b'a', b'b', b'c']), None);
        assert_eq!(apply_delta(base, &[12, 1, 0]), None);
    }

    /// Packs built byte by byte, as git lays them out: an entry is its type-and-size
    /// header, then (for deltas) the base's offset or id, then the zlib body; the version 2
    /// index lists ids in order with each entry's CRC-32 and offset.
    mod built {
        use super::*;
        use std::io::Write;

        pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(data).unwrap();
            z.finish().unwrap()
        }

        /// The type-and-size varint that starts every entry.
        pub(super) fn header(ty: u8, size: u64) -> Vec<u8> {
            let mut out = vec![(ty << 4) | (size & 0x0f) as u8];
            let mut rest = size >> 4;
            while rest != 0 {
                *out.last_mut().unwrap() |= 0x80;
                out.push((rest & 0x7f) as u8);
                rest >>= 7;
            }
            out
        }

        /// git's base-offset encoding: big-endian 7-bit groups, each but the last one less.
        pub(super) fn back(mut back: u64) -> Vec<u8> {
            let mut out = vec![(back & 0x7f) as u8];
            back >>= 7;
            while back != 0 {
                back -= 1;
                out.insert(0, 0x80 | (back & 0x7f) as u8);
                back >>= 7;
            }
            out
        }

        /// A delta's little-endian size varint.
        pub(super) fn size(mut n: u64) -> Vec<u8> {
            let mut out = Vec::new();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(b);
                    return out;
                }
                out.push(b | 0x80);
            }
        }

        /// A copy instruction with only the offset and length bytes that are not zero.
        pub(super) fn copy(offset: u32, len: u32) -> Vec<u8> {
            let mut op = 0x80u8;
            let mut args = Vec::new();
            for (bit, byte) in offset.to_le_bytes().into_iter().enumerate() {
                if byte != 0 {
                    op |= 1 << bit;
                    args.push(byte);
                }
            }
            for (bit, byte) in len.to_le_bytes().into_iter().take(3).enumerate() {
                if byte != 0 {
                    op |= 0x10 << bit;
                    args.push(byte);
                }
            }
            [vec![op], args].concat()
        }

        pub(super) fn delta(base_len: usize, result_len: usize, ops: &[Vec<u8>]) -> Vec<u8> {
            [size(base_len as u64), size(result_len as u64), ops.concat()].concat()
        }

        pub(super) fn blob_id(data: &[u8]) -> [u8; 20] {
            let oid = Oid::hash_object(git2::ObjectType::Blob, data).unwrap();
            oid.as_bytes().try_into().unwrap()
        }

        #[derive(Default)]
        pub(super) struct PackBytes {
            pub(super) bytes: Vec<u8>,
            /// (id, offset, CRC-32) of each entry.
            pub(super) entries: Vec<([u8; 20], u64, u32)>,
        }

        impl PackBytes {
            pub(super) fn new() -> PackBytes {
                let mut p = PackBytes::default();
                p.bytes.extend_from_slice(b"PACK\0\0\0\x02\0\0\0\0");
                p
            }

            /// Append an entry: `head` (header and base) then `body` as it is (already
            /// compressed, or damaged on purpose). Returns its offset.
            pub(super) fn raw(&mut self, id: [u8; 20], head: &[u8], body: &[u8]) -> u64 {
                let at = self.bytes.len() as u64;
                let entry = [head, body].concat();
                self.entries.push((id, at, crc32fast::hash(&entry)));
                self.bytes.extend_from_slice(&entry);
                at
            }

            pub(super) fn whole(&mut self, ty: u8, data: &[u8]) -> u64 {
                let id = Oid::hash_object(
                    if ty == 2 {
                        git2::ObjectType::Tree
                    } else {
                        git2::ObjectType::Blob
                    },
                    data,
                )
                .unwrap();
                let head = header(ty, data.len() as u64);
                self.raw(id.as_bytes().try_into().unwrap(), &head, &zlib(data))
            }

            /// An offset delta against the entry at `base`, rebuilding `result`.
            pub(super) fn ofs_delta(&mut self, id: [u8; 20], base: u64, delta: &[u8]) -> u64 {
                let at = self.bytes.len() as u64;
                let head = [header(OBJ_OFS_DELTA, delta.len() as u64), back(at - base)].concat();
                self.raw(id, &head, &zlib(delta))
            }

            pub(super) fn ref_delta(&mut self, id: [u8; 20], base: [u8; 20], delta: &[u8]) -> u64 {
                let head = [header(OBJ_REF_DELTA, delta.len() as u64), base.to_vec()].concat();
                self.raw(id, &head, &zlib(delta))
            }

            /// Write `name.pack` and `name.idx` into `dir`; with `large`, every offset goes
            /// through the 64-bit table, as for entries past 2 GiB. The trailing checksums
            /// are zeros: this reader leaves them to `packs::check_packs`.
            pub(super) fn write(&self, dir: &Path, name: &str, large: bool) -> PathBuf {
                let mut pack = self.bytes.clone();
                pack[8..12].copy_from_slice(&(self.entries.len() as u32).to_be_bytes());
                pack.extend_from_slice(&[0; 20]);
                let path = dir.join(format!("{name}.pack"));
                std::fs::write(&path, pack).unwrap();
                std::fs::write(path.with_extension("idx"), self.index(large)).unwrap();
                path
            }

            pub(super) fn index(&self, large: bool) -> Vec<u8> {
                let mut entries = self.entries.clone();
                entries.sort_unstable();
                let mut idx = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
                for byte in 0..=255u8 {
                    let upto = entries.iter().filter(|e| e.0[0] <= byte).count() as u32;
                    idx.extend_from_slice(&upto.to_be_bytes());
                }
                for e in &entries {
                    idx.extend_from_slice(&e.0);
                }
                for e in &entries {
                    idx.extend_from_slice(&e.2.to_be_bytes());
                }
                for (i, e) in entries.iter().enumerate() {
                    let small = if large {
                        0x8000_0000 | i as u32
                    } else {
                        e.1 as u32
                    };
                    idx.extend_from_slice(&small.to_be_bytes());
                }
                if large {
                    for e in &entries {
                        idx.extend_from_slice(&e.1.to_be_bytes());
                    }
                }
                idx.extend_from_slice(&[0; 40]);
                idx
            }
        }
    }

    /// What `read_blobs` makes of the packs: content by id, and the ids handed back.
    fn read_built(packs: &[PathBuf], wanted: &[[u8; 20]]) -> (HashMap<Oid, Vec<u8>>, Vec<Oid>) {
        let mut wanted: Vec<Oid> = wanted.iter().map(|b| Oid::from_bytes(b).unwrap()).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (states, left) = read_blobs(packs, &wanted, u64::MAX, MAX_STACK, Vec::new, {
            |s: &mut Vec<(Oid, Vec<u8>)>, oid, data: &[u8]| s.push((oid, data.to_vec()))
        });
        (states.into_iter().flatten().collect(), left)
    }

    fn id(b: &[u8; 20]) -> Oid {
        Oid::from_bytes(b).unwrap()
    }

    #[test]
    fn header_varints_of_every_length_and_overflow() {
        for size in [0, 15, 16, 300, 1 << 20, (1 << 35) + 7, u64::MAX >> 4] {
            let h = built::header(OBJ_BLOB, size);
            assert_eq!(
                parse_header(&h, 0),
                Some(Header {
                    kind: Kind::Base(OBJ_BLOB),
                    size,
                    len: h.len()
                }),
                "{size}"
            );
        }
        // Eleven continuation bytes: more than 64 bits of size. Refused, not wrapped.
        let mut long = vec![0xb0];
        long.extend([0xff; 10]);
        long.push(0x01);
        assert_eq!(parse_header(&long, 0), None);
        // Every base offset the encoding can say, back from the far end of a large pack.
        for back in [1, 127, 128, 16_511, 16_512, 1 << 31, (1 << 40) + 3] {
            let at = 1 << 41;
            let h = [built::header(OBJ_OFS_DELTA, 9), built::back(back)].concat();
            assert_eq!(
                parse_header(&h, at).map(|h| h.kind),
                Some(Kind::OfsDelta(at - back)),
                "{back}"
            );
        }
        // An offset varint that overflows 64 bits, and unknown types 0 and 5.
        let mut huge = built::header(OBJ_OFS_DELTA, 9);
        huge.extend([0xff; 12]);
        huge.push(0x7f);
        assert_eq!(parse_header(&huge, u64::MAX), None);
        assert_eq!(parse_header(&built::header(0, 4), 0), None);
        assert_eq!(parse_header(&built::header(5, 4), 0), None);
    }

    #[test]
    fn delta_copies_with_every_argument_byte_and_the_64k_default() {
        let base: Vec<u8> = (0..0x2_0100u32).map(|i| (i * 7 % 251) as u8).collect();
        // Every argument byte present, zero ones included: offset 0x10203, length 0x102.
        let wide = vec![0x80 | 0x0f | 0x70, 0x03, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];
        // The short form leaves out zero bytes: offset 0x10203 takes three, length two.
        assert_eq!(
            built::copy(0x1_0203, 0x102),
            [0x80 | 0x07 | 0x30, 3, 2, 1, 2, 1]
        );
        // Length 0 means 0x10000; an offset of 0 takes no byte.
        let default_len = vec![0x80 | 0x01, 0x10];
        let delta = built::delta(
            base.len(),
            0x102 + 0x1_0000 + 3 + 1,
            &[
                wide,
                default_len,
                vec![3, b'a', b'b', b'c'],
                built::copy(0, 1),
            ],
        );
        let want = [
            &base[0x1_0203..0x1_0203 + 0x102],
            &base[0x10..0x1_0010],
            b"abc",
            &base[..1],
        ]
        .concat();
        assert_eq!(delta_target_size(&delta), Some(want.len() as u64));
        assert_eq!(apply_delta(&base, &delta), Some(want));
    }

    #[test]
    fn damaged_deltas_are_refused_without_panicking() {
        let base = b"0123456789";
        let good = built::delta(10, 7, &[built::copy(2, 4), vec![3, b'x', b'y', b'z']]);
        assert_eq!(apply_delta(base, &good).as_deref(), Some(&b"2345xyz"[..]));
        // Cut anywhere: inside the size varints, a copy's arguments, an insert's bytes.
        for cut in 0..good.len() {
            assert_eq!(apply_delta(base, &good[..cut]), None, "cut at {cut}");
        }
        // A result size no allocation could hold: refused by the instructions, not by
        // running out of memory.
        let huge = built::delta(10, usize::MAX >> 1, &[built::copy(0, 10)]);
        assert_eq!(apply_delta(base, &huge), None);
        // A copy whose offset plus length overflows, and a size varint past 64 bits.
        let wrap = built::delta(
            10,
            1,
            &[vec![
                0x80 | 0x0f | 0x70,
                0xff,
                0xff,
                0xff,
                0xff,
                0xff,
                0xff,
                0xff,
            ]],
        );
        assert_eq!(apply_delta(base, &wrap), None);
        let mut long = vec![0xff; 10];
        long.push(1);
        assert_eq!(apply_delta(base, &long), None);
        assert_eq!(delta_target_size(&long), None);
    }

    /// A pack with a whole blob, an offset delta and a ref delta on it, a delta on that
    /// delta, and a tree with a delta: every object is rebuilt, through both index forms.
    #[test]
    fn hand_built_pack_reads_whole_objects_and_both_delta_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let base = b"[db]\nuser = app\nhost = db.internal\n".to_vec();
        let mut p = built::PackBytes::new();
        let at_base = p.whole(OBJ_BLOB, &base);
        // "[db]\nuser = app\n" + "port = 5432\n"
        let v1 = [&base[..16], b"port = 5432\n"].concat();
        let d1 = built::delta(
            base.len(),
            v1.len(),
            &[
                built::copy(0, 16),
                [vec![12], b"port = 5432\n".to_vec()].concat(),
            ],
        );
        let at_v1 = p.ofs_delta(built::blob_id(&v1), at_base, &d1);
        let v2 = [&v1[..], b"# end\n"].concat();
        let d2 = built::delta(
            v1.len(),
            v2.len(),
            &[
                built::copy(0, v1.len() as u32),
                [vec![6], b"# end\n".to_vec()].concat(),
            ],
        );
        p.ofs_delta(built::blob_id(&v2), at_v1, &d2);
        let v3 = base[5..].to_vec();
        let d3 = built::delta(base.len(), v3.len(), &[built::copy(5, v3.len() as u32)]);
        p.ref_delta(built::blob_id(&v3), built::blob_id(&base), &d3);
        let tree = b"100644 a.txt\0aaaaaaaaaaaaaaaaaaaa".to_vec();
        let at_tree = p.whole(2, &tree);
        let tree2 = [&tree[..], b"100644 b.txt\0bbbbbbbbbbbbbbbbbbbb"].concat();
        let dt = built::delta(
            tree.len(),
            tree2.len(),
            &[
                built::copy(0, tree.len() as u32),
                [vec![33], tree2[tree.len()..].to_vec()].concat(),
            ],
        );
        let tree2_id = Oid::hash_object(git2::ObjectType::Tree, &tree2).unwrap();
        let at_tree2 = p.ofs_delta(tree2_id.as_bytes().try_into().unwrap(), at_tree, &dt);

        for large in [false, true] {
            let name = if large { "large" } else { "small" };
            let path = p.write(dir.path(), name, large);
            let pack = Pack::open(&path).unwrap();
            for &(oid, offset, _) in &p.entries {
                assert_eq!(pack.offset_at(pack.find(&oid).unwrap()), Some(offset));
            }
            let blobs: Vec<[u8; 20]> = [&base, &v1, &v2, &v3].map(|b| built::blob_id(b)).to_vec();
            let (seen, left) = read_built(std::slice::from_ref(&path), &blobs);
            assert!(left.is_empty(), "{name}: {left:?}");
            for data in [&base, &v1, &v2, &v3] {
                assert_eq!(seen.get(&id(&built::blob_id(data))), Some(data), "{name}");
            }
            // Trees are refused as blobs and read by the tree reader.
            let (seen, left) = read_built(
                std::slice::from_ref(&path),
                &[tree2_id.as_bytes().try_into().unwrap()],
            );
            assert!(seen.is_empty());
            assert_eq!(left, vec![tree2_id]);
            let reader = TreeReader::new(std::slice::from_ref(&path), 1, MAX_BASE_CACHE, MAX_STACK);
            assert_eq!(reader.locate(tree2_id), Some((0, at_tree2)));
            assert_eq!(reader.read_tree((0, at_tree2)).as_deref(), Some(&tree2[..]));
            assert_eq!(reader.read_tree((0, at_tree)).as_deref(), Some(&tree[..]));
            assert_eq!(reader.read_tree((0, at_base)), None);
        }
    }

    #[test]
    fn a_pack_cut_short_hands_back_what_it_no_longer_holds() {
        let dir = tempfile::tempdir().unwrap();
        let first = b"first blob, whole\n".to_vec();
        let second: Vec<u8> = (0..4000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut p = built::PackBytes::new();
        p.whole(OBJ_BLOB, &first);
        let at_second = p.whole(OBJ_BLOB, &second);
        let wanted = [built::blob_id(&first), built::blob_id(&second)];
        // Cut inside the second entry's zlib body, then inside its header.
        for keep in [p.bytes.len() - 40, at_second as usize + 1] {
            let mut cut = built::PackBytes::new();
            cut.bytes = p.bytes[..keep].to_vec();
            cut.entries = p.entries.clone();
            let path = cut.write(dir.path(), &format!("cut{keep}"), false);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.truncate(keep);
            std::fs::write(&path, bytes).unwrap();
            let (seen, left) = read_built(std::slice::from_ref(&path), &wanted);
            assert_eq!(seen.get(&id(&wanted[0])), Some(&first), "cut at {keep}");
            assert_eq!(left, vec![id(&wanted[1])], "cut at {keep}");
        }
        // An index whose tables run past its end is not opened at all.
        let path = p.write(dir.path(), "short-index", false);
        let idx = std::fs::read(path.with_extension("idx")).unwrap();
        std::fs::write(path.with_extension("idx"), &idx[..idx.len() - 41]).unwrap();
        assert!(Pack::open(&path).is_none());
        let (seen, left) = read_built(&[path], &wanted);
        assert!(seen.is_empty());
        assert_eq!(left.len(), 2);
    }

    #[test]
    fn corrupt_zlib_streams_are_handed_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"password = not-a-real-one\n".repeat(20);
        let good = built::zlib(&data);
        let mut cases: Vec<(&str, Vec<u8>, Vec<u8>)> = Vec::new();
        // Each body's CRC is recorded over the damaged bytes, so only zlib can notice.
        let mut flipped = good.clone();
        flipped[good.len() / 2] ^= 0x40;
        cases.push((
            "flipped byte",
            built::header(OBJ_BLOB, data.len() as u64),
            flipped,
        ));
        let mut adler = good.clone();
        *adler.last_mut().unwrap() ^= 1;
        cases.push((
            "bad Adler-32",
            built::header(OBJ_BLOB, data.len() as u64),
            adler,
        ));
        cases.push((
            "not zlib",
            built::header(OBJ_BLOB, data.len() as u64),
            vec![0x42; 64],
        ));
        cases.push((
            "declared size too small",
            built::header(OBJ_BLOB, data.len() as u64 - 1),
            good.clone(),
        ));
        cases.push((
            "declared size too big",
            built::header(OBJ_BLOB, data.len() as u64 + 1),
            good.clone(),
        ));
        for (i, (what, head, body)) in cases.into_iter().enumerate() {
            let mut p = built::PackBytes::new();
            let oid = built::blob_id(&data);
            p.raw(oid, &head, &body);
            let path = p.write(dir.path(), &format!("z{i}"), false);
            let (seen, left) = read_built(&[path], &[oid]);
            assert!(seen.is_empty(), "{what}");
            assert_eq!(left, vec![id(&oid)], "{what}");
        }
        // A right stream whose recorded CRC is wrong: handed back as well.
        let mut p = built::PackBytes::new();
        let oid = built::blob_id(&data);
        p.raw(oid, &built::header(OBJ_BLOB, data.len() as u64), &good);
        p.entries[0].2 ^= 1;
        let path = p.write(dir.path(), "crc", false);
        assert_eq!(read_built(&[path], &[oid]).1, vec![id(&oid)]);
    }

    /// Headers that declare sizes no allocation could hold, on a blob delta and on a tree:
    /// handed back before any buffer is made.
    #[test]
    fn declared_sizes_beyond_the_stack_are_not_allocated() {
        let dir = tempfile::tempdir().unwrap();
        let base = b"base content\n".to_vec();
        let mut p = built::PackBytes::new();
        let at_base = p.whole(OBJ_BLOB, &base);
        let delta = built::delta(base.len(), 4, &[built::copy(0, 4)]);
        let lying = built::blob_id(b"base");
        let at = p.bytes.len() as u64;
        let head = [
            built::header(OBJ_OFS_DELTA, 1 << 46),
            built::back(at - at_base),
        ]
        .concat();
        p.raw(lying, &head, &built::zlib(&delta));
        let at_tree = p.raw([9; 20], &built::header(2, 1 << 46), &built::zlib(b"x"));
        // A tree delta that declares a result of 2^62 bytes.
        let tree = b"100644 a\0aaaaaaaaaaaaaaaaaaaa".to_vec();
        let at_small_tree = p.whole(2, &tree);
        let huge = built::delta(tree.len(), 1 << 62, &[built::copy(0, 4)]);
        let at_huge = p.ofs_delta([8; 20], at_small_tree, &huge);
        let path = p.write(dir.path(), "huge", false);
        let (seen, left) = read_built(std::slice::from_ref(&path), &[built::blob_id(&base), lying]);
        assert_eq!(seen.get(&id(&built::blob_id(&base))), Some(&base));
        assert_eq!(left, vec![id(&lying)]);
        let reader = TreeReader::new(&[path], 1, MAX_BASE_CACHE, MAX_STACK);
        assert_eq!(reader.read_tree((0, at_tree)), None);
        assert_eq!(reader.read_tree((0, at_huge)), None);
        assert_eq!(
            reader.read_tree((0, at_small_tree)).as_deref(),
            Some(&tree[..])
        );
    }

    /// REF_DELTA names its base by id, so a damaged pack can make a chain that comes back
    /// to itself. Such blobs have no base to start from and go back to libgit2, which
    /// reports them: they are never silently left out.
    #[test]
    fn ref_delta_cycles_are_handed_back_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let delta = built::delta(4, 4, &[built::copy(0, 4)]);
        let (a, b) = (built::blob_id(b"aaaa"), built::blob_id(b"bbbb"));
        let mut p = built::PackBytes::new();
        p.ref_delta(a, b, &delta);
        p.ref_delta(b, a, &delta);
        let own = built::blob_id(b"self");
        p.ref_delta(own, own, &delta);
        let path = p.write(dir.path(), "cycle", false);
        let (seen, left) = read_built(&[path], &[a, b, own]);
        assert!(seen.is_empty());
        let mut want = vec![id(&a), id(&b), id(&own)];
        want.sort_unstable();
        assert_eq!(left, want);
    }

    #[test]
    fn damaged_indexes_are_refused_or_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"one blob\n".to_vec();
        let mut p = built::PackBytes::new();
        p.whole(OBJ_BLOB, &data);
        let oid = built::blob_id(&data);
        let path = p.write(dir.path(), "idx", false);
        let good = p.index(false);
        let fanout = |byte: usize| 8 + 4 * byte;
        // A fan-out entry past the object count would send the id search past the table.
        let mut high = good.clone();
        high[fanout(oid[0] as usize)..][..4].copy_from_slice(&u32::MAX.to_be_bytes());
        // A fan-out that falls.
        let mut falling = good.clone();
        falling[fanout(0)..][..4].copy_from_slice(&1u32.to_be_bytes());
        falling[fanout(1)..][..4].copy_from_slice(&0u32.to_be_bytes());
        for bytes in [high, falling] {
            std::fs::write(path.with_extension("idx"), bytes).unwrap();
            assert!(Pack::open(&path).is_none());
            assert_eq!(
                read_built(std::slice::from_ref(&path), &[oid]).1,
                vec![id(&oid)]
            );
        }
        // Version 1, and a wrong magic.
        for (at, byte) in [(7, 1), (1, b'T')] {
            let mut bad = good.clone();
            bad[at] = byte;
            std::fs::write(path.with_extension("idx"), bad).unwrap();
            assert!(Pack::open(&path).is_none());
        }
        // A 64-bit offset entry that points past the 64-bit table.
        let mut large = p.index(true);
        let offsets = 8 + 256 * 4 + 24;
        large[offsets..offsets + 4].copy_from_slice(&0x8000_0005u32.to_be_bytes());
        std::fs::write(path.with_extension("idx"), large).unwrap();
        let pack = Pack::open(&path).unwrap();
        assert_eq!(pack.offset_at(0), None);
        drop(pack);
        assert_eq!(read_built(&[path], &[oid]).1, vec![id(&oid)]);
    }

    #[test]
    fn delta_edge_sizes_and_every_base_type() {
        let base: Vec<u8> = (0..0x1_000au32).map(|i| (i % 253) as u8).collect();
        // The longest insert (127 bytes), a bare copy opcode (offset 0, length 0x10000) and
        // a copy that ends exactly at the end of the base.
        let insert: Vec<u8> = (0..127u8).collect();
        let ops = [
            [vec![0x7f], insert.clone()].concat(),
            vec![0x80],
            built::copy(0x1_0000, 10),
        ];
        let want = [&insert[..], &base[..]].concat();
        let delta = built::delta(base.len(), want.len(), &ops);
        assert_eq!(apply_delta(&base, &delta), Some(want));
        // One byte past the end of the base, and an insert cut short by the delta's end.
        let past = built::delta(base.len(), 11, &[built::copy(0x1_0000, 11)]);
        assert_eq!(apply_delta(&base, &past), None);
        let cut = built::delta(base.len(), 127, &[vec![0x7f, 1, 2]]);
        assert_eq!(apply_delta(&base, &cut), None);
        // Length 0x10000 written out (only the third length byte) copies what the bare
        // opcode does.
        let explicit = built::copy(0, 0x1_0000);
        assert_eq!(explicit, [0x80 | 0x40, 1]);
        assert_eq!(
            apply_delta(&base, &built::delta(base.len(), 0x1_0000, &[explicit])).as_deref(),
            Some(&base[..0x1_0000])
        );
        // An empty result needs no instruction; an empty base can still take inserts.
        assert_eq!(
            apply_delta(&base, &built::delta(base.len(), 0, &[])),
            Some(vec![])
        );
        let on_empty = built::delta(0, 3, &[vec![3, b'x', b'y', b'z']]);
        assert_eq!(apply_delta(b"", &on_empty).as_deref(), Some(&b"xyz"[..]));
        // Commit, tree, blob and tag are whole objects of their own type.
        for ty in 1..=4 {
            assert_eq!(
                parse_header(&built::header(ty, 17), 0).map(|h| h.kind),
                Some(Kind::Base(ty))
            );
        }
    }

    /// Index entries the pack cannot back: past its end, an offset delta whose base offset
    /// starts no entry, a ref delta whose base the pack does not hold. Each blob is handed
    /// back for libgit2 to name, the rest of the pack is read, and nothing panics.
    #[test]
    fn entries_the_pack_cannot_back_are_handed_back() {
        let dir = tempfile::tempdir().unwrap();
        let whole = b"a whole blob\n".to_vec();
        let mut p = built::PackBytes::new();
        let at_whole = p.whole(OBJ_BLOB, &whole);
        let delta = built::delta(whole.len(), 5, &[built::copy(0, 5)]);
        let inside = built::blob_id(b"a who");
        p.ofs_delta(inside, at_whole + 1, &delta);
        let elsewhere = built::blob_id(b"elsewhere");
        p.ref_delta(elsewhere, built::blob_id(b"not in this pack"), &delta);
        // The pack ends with its 20-byte trailer.
        let end = p.bytes.len() as u64 + 20;
        let (at_end, past_end) = (built::blob_id(b"at the end"), built::blob_id(b"past"));
        p.entries.push((at_end, end, 0));
        p.entries.push((past_end, end + 4096, 0));
        let path = p.write(dir.path(), "holes", false);
        let (seen, left) = read_built(
            std::slice::from_ref(&path),
            &[built::blob_id(&whole), inside, elsewhere, at_end, past_end],
        );
        assert_eq!(seen.len(), 1);
        assert_eq!(seen.get(&id(&built::blob_id(&whole))), Some(&whole));
        let mut want = vec![id(&inside), id(&elsewhere), id(&at_end), id(&past_end)];
        want.sort_unstable();
        assert_eq!(left, want);
        let reader = TreeReader::new(&[path], 1, MAX_BASE_CACHE, MAX_STACK);
        for (oid, offset) in [(at_end, end), (past_end, end + 4096)] {
            assert_eq!(reader.locate(id(&oid)), Some((0, offset)));
            assert_eq!(reader.read_tree((0, offset)), None);
        }
        // A pack at an index outside the reader's list, too.
        assert_eq!(reader.read_tree((1, at_whole)), None);
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// A packed repository where one file went through many versions (so most are deltas),
    /// and every blob id in it.
    fn packed_repo() -> (tempfile::TempDir, Vec<Oid>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        git(p, &["init", "-q"]);
        git(p, &["config", "user.name", "t"]);
        git(p, &["config", "user.email", "t@example.com"]);
        let mut text = String::new();
        for i in 0..40 {
            for j in 0..30 {
                text.push_str(&format!("line {i} {j} of a file that changes a little\n"));
            }
            std::fs::write(p.join("a.txt"), &text).unwrap();
            std::fs::write(p.join(format!("b{}.txt", i % 3)), format!("{i}\n{text}")).unwrap();
            git(p, &["add", "-A"]);
            git(p, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        git(p, &["repack", "-a", "-d", "-f", "-q", "--depth=10"]);
        let list = git(
            p,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype) %(objectname)",
            ],
        );
        let mut blobs: Vec<Oid> = list
            .lines()
            .filter_map(|l| l.strip_prefix("blob "))
            .map(|id| Oid::from_str(id).unwrap())
            .collect();
        blobs.sort_unstable();
        (dir, blobs)
    }

    fn packs(dir: &Path) -> Vec<PathBuf> {
        let mut packs: Vec<PathBuf> = std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pack"))
            .collect();
        packs.sort();
        packs
    }

    fn read_all(dir: &Path, wanted: &[Oid], max: u64) -> (HashMap<Oid, Vec<u8>>, Vec<Oid>) {
        let (states, left) = read_blobs(
            &packs(dir),
            wanted,
            max,
            MAX_STACK,
            Vec::new,
            |s, oid, data| s.push((oid, data.to_vec())),
        );
        let mut seen = HashMap::new();
        for (oid, data) in states.into_iter().flatten() {
            assert!(seen.insert(oid, data).is_none(), "{oid} visited twice");
        }
        (seen, left)
    }

    #[test]
    fn every_packed_blob_reads_as_libgit2_reads_it() {
        let (dir, blobs) = packed_repo();
        let repo = git2::Repository::open(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let (seen, left) = read_all(dir.path(), &blobs, u64::MAX);
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(seen.len(), blobs.len());
        for (oid, data) in &seen {
            assert_eq!(odb.read(*oid).unwrap().data(), &data[..], "{oid}");
        }
        // A subset: only those are visited, and bases nobody asked for are not.
        let some: Vec<Oid> = blobs.iter().copied().step_by(5).collect();
        let (seen, left) = read_all(dir.path(), &some, u64::MAX);
        assert!(left.is_empty());
        assert_eq!(seen.len(), some.len());
        // Over the size limit: handed back, not visited.
        let (seen, left) = read_all(dir.path(), &blobs, 100);
        assert!(seen.values().all(|d| d.len() <= 100));
        assert_eq!(seen.len() + left.len(), blobs.len());
        assert!(!left.is_empty());
        // A chain bigger than the stack a worker may hold: handed back, not visited.
        let (states, left) = read_blobs(&packs(dir.path()), &blobs, u64::MAX, 100, Vec::new, {
            |s: &mut Vec<usize>, _, data: &[u8]| s.push(data.len())
        });
        assert!(states.into_iter().flatten().all(|len| len <= 100));
        assert!(!left.is_empty());
        // An id no pack holds comes back untouched.
        let missing = Oid::from_str("0123456789012345678901234567890123456789").unwrap();
        let (_, left) = read_all(dir.path(), &[missing], u64::MAX);
        assert_eq!(left, vec![missing]);
    }

    #[test]
    fn every_packed_tree_reads_as_libgit2_reads_it() {
        let (dir, _) = packed_repo();
        let repo = git2::Repository::open(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let list = git(
            dir.path(),
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype) %(objectname)",
            ],
        );
        let reader = TreeReader::new(&packs(dir.path()), 1, MAX_BASE_CACHE, MAX_STACK);
        let mut trees: Vec<((usize, u64), Oid)> = list
            .lines()
            .filter_map(|l| l.strip_prefix("tree "))
            .map(|id| Oid::from_str(id).unwrap())
            .map(|oid| (reader.locate(oid).unwrap(), oid))
            .collect();
        assert!(trees.len() >= 40);
        // Pack order, as callers read, then id order, which misses the cache more.
        trees.sort_unstable();
        for pass in 0..2 {
            for (at, oid) in &trees {
                let raw = reader.read_tree(*at).unwrap();
                assert_eq!(
                    &raw[..],
                    odb.read(*oid).unwrap().data(),
                    "{oid} (pass {pass})"
                );
            }
            trees.sort_unstable_by_key(|(_, oid)| *oid);
        }
        // A blob is not a tree: refused, for libgit2 to name.
        let blob = git(dir.path(), &["rev-parse", "HEAD:a.txt"]);
        let blob = Oid::from_str(blob.trim()).unwrap();
        assert!(reader.read_tree(reader.locate(blob).unwrap()).is_none());
    }

    #[test]
    fn a_damaged_entry_is_handed_back_not_read() {
        let (dir, blobs) = packed_repo();
        let pack = packs(dir.path()).remove(0);
        let index = Pack::open(&pack).unwrap();
        // Damage the last byte of the biggest whole blob: its CRC no longer matches.
        let repo = git2::Repository::open(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let mut buf = [0u8; MAX_HEADER];
        let (victim, offset) = blobs
            .iter()
            .filter_map(|oid| {
                let at = index.offset_at(index.find(oid.as_bytes())?)?;
                let got = read_some(&index.file, at, &mut buf)?;
                let h = parse_header(&buf[..got], at)?;
                (h.kind == Kind::Base(OBJ_BLOB)).then_some((*oid, at + h.len as u64 + 4))
            })
            .max_by_key(|(oid, _)| odb.read(*oid).unwrap().len())
            .unwrap();
        drop(index);
        let mut bytes = std::fs::read(&pack).unwrap();
        bytes[offset as usize] ^= 0x55;
        // git makes packs read-only; a new file under the same name replaces it.
        std::fs::remove_file(&pack).unwrap();
        std::fs::write(&pack, bytes).unwrap();

        let (seen, left) = read_all(dir.path(), &blobs, u64::MAX);
        assert!(left.contains(&victim), "{left:?}");
        assert!(!seen.contains_key(&victim));
        assert_eq!(seen.len() + left.len(), blobs.len());
    }
}
