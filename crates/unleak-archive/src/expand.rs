//! Walking an archive's members, nested archives included, within the [`Limits`].

use crate::format::{is_tar, Format, HEAD};
use crate::inflate::Inflate;
use crate::limits::{Limits, Skip};
use std::io::{self, Cursor, Read, Seek};

/// Output of a member past which the ratio to its compressed size applies.
const RATIO_AFTER: u64 = 1 << 20;
/// Bytes read from a member at a time, so the bounds are checked as it inflates.
const STEP: usize = 64 * 1024;

/// What [`expand`] reports. `path` is the chain of member names from the outermost
/// archive in; an empty chain is the input itself.
pub enum Event<'a> {
    /// A member that is no archive, with its bytes (binary or text: the caller decides).
    Member {
        /// The member names from the outermost archive in.
        path: &'a [String],
        /// The member's bytes.
        data: &'a [u8],
    },
    /// A member or archive not read, or not to its end, and why.
    Skipped {
        /// The member names from the outermost archive in.
        path: &'a [String],
        /// Why it was not read.
        reason: Skip,
    },
}

/// Expand `input`, an archive or compressed stream of `format`, calling `visit` for each
/// member and each skip. Nothing is returned: a corrupt archive, a bound reached or an
/// unreadable member is an [`Event::Skipped`], and what came before it was reported.
pub fn expand<R: Read + Seek>(
    format: Format,
    input: R,
    limits: &Limits,
    visit: &mut dyn FnMut(Event<'_>),
) {
    Expander::new(limits, visit).container(format, input, 1);
}

/// [`expand`] for a tar that arrives as a stream (an image layer being decompressed).
pub fn expand_tar(input: impl Read, limits: &Limits, visit: &mut dyn FnMut(Event<'_>)) {
    Expander::new(limits, visit).tar(input, 1);
}

struct Expander<'l, 'v> {
    limits: &'l Limits,
    visit: &'v mut dyn FnMut(Event<'_>),
    chain: Vec<String>,
    entries: u64,
    total: u64,
    held: u64,
    /// A bound of the whole archive was reached: nothing more is read.
    stopped: bool,
}

/// Why reading a member stopped.
enum Stop {
    Skip(Skip),
    Io(io::Error),
    /// A bound of the whole archive, already reported.
    Stopped,
}

impl<'l, 'v> Expander<'l, 'v> {
    fn new(limits: &'l Limits, visit: &'v mut dyn FnMut(Event<'_>)) -> Self {
        Expander {
            limits,
            visit,
            chain: Vec::new(),
            entries: 0,
            total: 0,
            held: 0,
            stopped: false,
        }
    }

    fn skip(&mut self, reason: Skip) {
        (self.visit)(Event::Skipped {
            path: &self.chain,
            reason,
        });
    }

    /// Skip the whole rest of the outermost archive.
    fn stop(&mut self, reason: Skip) {
        self.skip(reason);
        self.stopped = true;
    }

    /// `input` at nesting `depth` (the outermost archive is 1).
    fn container<R: Read + Seek>(&mut self, format: Format, input: R, depth: u32) {
        if depth > self.limits.max_depth {
            return self.skip(Skip::TooDeep {
                depth: self.limits.max_depth,
            });
        }
        match format {
            Format::Zip => self.zip(input, depth),
            Format::Tar => self.tar(input, depth),
            _ => self.stream(format, input, depth),
        }
    }

    fn zip<R: Read + Seek>(&mut self, input: R, depth: u32) {
        let mut archive = match zip::ZipArchive::new(input) {
            Ok(a) => a,
            Err(e) => return self.skip(Skip::Corrupt(e.to_string())),
        };
        for i in 0..archive.len() {
            if self.stopped || !self.count_entry() {
                return;
            }
            let (name, compressed, size) = {
                let raw = match archive.by_index_raw(i) {
                    Ok(raw) => raw,
                    Err(e) => return self.skip(Skip::Corrupt(e.to_string())),
                };
                let name = raw.name().to_string();
                if raw.is_dir() {
                    continue;
                }
                let reason = if raw.encrypted() {
                    Some(Skip::Encrypted)
                } else if raw.is_symlink() {
                    Some(Skip::Link)
                } else if raw.size() > self.limits.max_member_size {
                    Some(Skip::TooLarge {
                        limit: self.limits.max_member_size,
                    })
                } else {
                    None
                };
                if let Some(reason) = reason {
                    self.in_member(name, |x| x.skip(reason));
                    continue;
                }
                (name, raw.compressed_size(), raw.size())
            };
            let read = match archive.by_index(i) {
                Ok(file) => self.read_member(file, Some(compressed), size),
                Err(zip::result::ZipError::UnsupportedArchive(what)) => {
                    Err(Stop::Skip(Skip::Unsupported(what.to_string())))
                }
                Err(e) => Err(Stop::Skip(Skip::Corrupt(e.to_string()))),
            };
            self.member(name, read, depth);
        }
    }

    fn tar(&mut self, input: impl Read, depth: u32) {
        if let Err(reason) = self.tar_entries(input, depth) {
            self.skip(reason);
        }
    }

    /// The members of a tar; `Err` when the archive itself is broken.
    fn tar_entries(&mut self, input: impl Read, depth: u32) -> Result<(), Skip> {
        let mut archive = tar::Archive::new(input);
        let entries = archive
            .entries()
            .map_err(|e| Skip::Corrupt(e.to_string()))?;
        for entry in entries {
            if self.stopped || !self.count_entry() {
                return Ok(());
            }
            let entry = entry.map_err(|e| Skip::Corrupt(e.to_string()))?;
            let kind = entry.header().entry_type();
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if kind.is_symlink() || kind.is_hard_link() {
                self.in_member(name, |x| x.skip(Skip::Link));
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                continue;
            }
            let size = entry.size();
            if size > self.limits.max_member_size {
                let limit = self.limits.max_member_size;
                self.in_member(name, |x| x.skip(Skip::TooLarge { limit }));
                continue;
            }
            let read = self.read_member(entry, None, size);
            self.member(name, read, depth);
        }
        Ok(())
    }

    /// A gzip, bzip2, xz or zstd stream: a tar inside is expanded, else the content is one
    /// member under the stream's own name (the chain does not grow).
    fn stream(&mut self, format: Format, input: impl Read, depth: u32) {
        let room = self.room();
        let limit = self.limits.max_member_size.min(room);
        let mut inflate = match Inflate::new(format, input, u64::MAX, self.limits.max_ratio) {
            Ok(i) => i,
            Err(e) => return self.skip(Skip::Corrupt(e.to_string())),
        };
        let mut head = Vec::with_capacity(HEAD);
        if let Err(e) = (&mut inflate).take(HEAD as u64).read_to_end(&mut head) {
            return self.skip(Skip::Corrupt(e.to_string()));
        }
        if is_tar(&head) {
            let mut tar = TarStream {
                head: Cursor::new(head),
                inflate,
            };
            let mut broken = self.tar_entries(&mut tar, depth).err();
            if broken.is_none() && !self.stopped {
                // Past the tar's end blocks: the stream's own checksum is only read there.
                if let Err(e) = io::copy(&mut tar, &mut io::sink()) {
                    broken = Some(Skip::Corrupt(e.to_string()));
                }
            }
            // A stream cut at a bound ends the tar early: the bound is the reason.
            if let Some(reason) = tar.inflate.cut().cloned().or(broken) {
                self.skip(reason);
            }
            return;
        }
        let mut data = head;
        let read = (&mut inflate)
            .take(limit.saturating_sub(data.len() as u64).saturating_add(1))
            .read_to_end(&mut data);
        if let Err(e) = read {
            return self.skip(Skip::Corrupt(e.to_string()));
        }
        if let Some(reason) = inflate.cut().cloned() {
            return self.skip(reason);
        }
        if data.len() as u64 > limit {
            return self.skip(self.over(limit));
        }
        if !self.add_total(data.len() as u64) {
            return;
        }
        self.held += data.len() as u64;
        self.leaf(&data, depth);
        self.held -= data.len() as u64;
    }

    /// A member read (or not): report it under `name`.
    fn member(&mut self, name: String, read: Result<Vec<u8>, Stop>, depth: u32) {
        self.in_member(name, |x| match read {
            Ok(data) => {
                x.held += data.len() as u64;
                x.leaf(&data, depth);
                x.held -= data.len() as u64;
            }
            Err(Stop::Skip(reason)) => x.skip(reason),
            Err(Stop::Io(e)) => x.skip(Skip::Corrupt(e.to_string())),
            Err(Stop::Stopped) => {}
        });
    }

    fn in_member(&mut self, name: String, f: impl FnOnce(&mut Self)) {
        self.chain.push(name);
        f(self);
        self.chain.pop();
    }

    /// A member's bytes: an archive is expanded one level deeper, anything else visited.
    fn leaf(&mut self, data: &[u8], depth: u32) {
        match Format::detect(&data[..data.len().min(HEAD)]) {
            Some(format) => self.container(format, Cursor::new(data), depth + 1),
            None => (self.visit)(Event::Member {
                path: &self.chain,
                data,
            }),
        }
    }

    /// Count one entry; `false` (and the archive stopped) past the limit.
    fn count_entry(&mut self) -> bool {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            let limit = self.limits.max_entries;
            self.stop(Skip::TooManyEntries { limit });
            return false;
        }
        true
    }

    /// Count inflated bytes; `false` (and the archive stopped) past the total.
    fn add_total(&mut self, bytes: u64) -> bool {
        self.total += bytes;
        if self.total > self.limits.max_total {
            let limit = self.limits.max_total;
            self.stop(Skip::TotalTooLarge { limit });
            return false;
        }
        true
    }

    /// Bytes a member may still take from what may be held.
    fn room(&self) -> u64 {
        self.limits.max_held.saturating_sub(self.held)
    }

    /// The skip for a member past `limit`: its own size cap, or the memory left.
    fn over(&self, limit: u64) -> Skip {
        if limit < self.limits.max_member_size {
            Skip::OverMemory {
                limit: self.limits.max_held,
            }
        } else {
            Skip::TooLarge {
                limit: self.limits.max_member_size,
            }
        }
    }

    /// Read one member of `size` declared bytes (`compressed` of them stored, for zip)
    /// within the member cap, the memory left, the total and the ratio.
    fn read_member(
        &mut self,
        mut input: impl Read,
        compressed: Option<u64>,
        size: u64,
    ) -> Result<Vec<u8>, Stop> {
        let limit = self.limits.max_member_size.min(self.room());
        if size > limit {
            return Err(Stop::Skip(self.over(limit)));
        }
        let mut data = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
        let mut step = vec![0u8; STEP];
        loop {
            let n = match input.read(&mut step) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Io(e)),
            };
            if (data.len() + n) as u64 > limit {
                return Err(Stop::Skip(self.over(limit)));
            }
            data.extend_from_slice(&step[..n]);
            if !self.add_total(n as u64) {
                return Err(Stop::Stopped);
            }
            let out = data.len() as u64;
            if let Some(stored) = compressed {
                if out > RATIO_AFTER && out / stored.max(1) > self.limits.max_ratio {
                    return Err(Stop::Skip(Skip::Bomb {
                        ratio: self.limits.max_ratio,
                    }));
                }
            }
        }
        Ok(data)
    }
}

/// A decompressed tar: the bytes peeked to detect it, then the rest of the stream.
struct TarStream<'a> {
    head: Cursor<Vec<u8>>,
    inflate: Inflate<'a>,
}

impl Read for TarStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.head.read(buf)? {
            0 => self.inflate.read(buf),
            n => Ok(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// (chain joined by `!`, text or reason) pairs.
    type Seen = Vec<(String, String)>;

    /// Every member and skip of `data`.
    fn run(data: &[u8], limits: &Limits) -> (Seen, Seen) {
        let (mut members, mut skips) = (Vec::new(), Vec::new());
        let format = Format::detect(data).expect("an archive");
        expand(format, Cursor::new(data), limits, &mut |e| match e {
            Event::Member { path, data } => {
                members.push((path.join("!"), String::from_utf8_lossy(data).into_owned()))
            }
            Event::Skipped { path, reason } => skips.push((path.join("!"), reason.to_string())),
        });
        (members, skips)
    }

    #[test]
    fn nested_archives_name_every_level() {
        let jar = zip_of(&[("BOOT-INF/classes/application.yml", b"token: a\n")]);
        let war = zip_of(&[("WEB-INF/lib/app.jar", &jar), ("index.html", b"<p>")]);
        let tgz = gzip(&tar_of(&[
            ("dist/app.war", &war),
            ("etc/app.env", b"K=v\n"),
        ]));
        let (members, skips) = run(&tgz, &Limits::default());
        assert_eq!(
            members,
            vec![
                (
                    "dist/app.war!WEB-INF/lib/app.jar!BOOT-INF/classes/application.yml".into(),
                    "token: a\n".into()
                ),
                ("dist/app.war!index.html".into(), "<p>".into()),
                ("etc/app.env".into(), "K=v\n".into()),
            ]
        );
        assert!(skips.is_empty(), "{skips:?}");
        // A compressed single file is one member under its own name: the chain stays.
        let (members, _) = run(&gzip(b"plain log\n"), &Limits::default());
        assert_eq!(members, vec![(String::new(), "plain log\n".into())]);
    }

    #[test]
    fn depth_entries_total_and_member_size_are_bounded() {
        let mut nested = zip_of(&[("deep.txt", b"x")]);
        for i in 0..5 {
            nested = zip_of(&[(&format!("level{i}.zip"), &nested)]);
        }
        let (members, skips) = run(&nested, &Limits::default());
        assert!(members.is_empty());
        assert_eq!(skips.len(), 1, "{skips:?}");
        assert!(skips[0].0.ends_with("level1.zip"), "{skips:?}");
        assert_eq!(skips[0].1, "archive nested more than 4 deep; not expanded");

        let many: Vec<(String, Vec<u8>)> = (0..20)
            .map(|i| (format!("f{i}.txt"), b"x".to_vec()))
            .collect();
        let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        let (members, skips) = run(&zip_of(&refs), &limits);
        assert_eq!(members.len(), 10, "what came before the bound is read");
        assert_eq!(
            skips,
            vec![(
                String::new(),
                "archive has more than 10 entries; the rest was not scanned".into()
            )]
        );

        let big = vec![b'a'; 5000];
        let limits = Limits {
            max_member_size: 4096,
            max_total: 5000,
            ..Limits::default()
        };
        let (members, skips) = run(
            &tar_of(&[("big", &big), ("a", &big[..3000]), ("b", &big[..3000])]),
            &limits,
        );
        assert_eq!(members.len(), 1);
        assert_eq!(skips[0].0, "big");
        assert!(skips[0].1.contains("--max-file-size (4096 bytes)"));
        assert_eq!(
            skips[1],
            (
                String::new(),
                "archive inflates past 5000 bytes in all; the rest was not scanned".into()
            )
        );
        // Nested bytes held at once count against the memory share.
        let inner = zip_of(&[("inner.txt", &big)]);
        let limits = Limits {
            max_held: inner.len() as u64 + 100,
            ..Limits::default()
        };
        let (_, skips) = run(&zip_of(&[("inner.zip", &inner)]), &limits);
        assert_eq!(skips[0].0, "inner.zip!inner.txt");
        assert!(skips[0].1.contains("--memory-budget"), "{skips:?}");
    }

    #[test]
    fn a_zip_bomb_member_is_skipped_and_the_next_read() {
        let zeros = vec![0u8; 64 << 20];
        let bomb = zip_of(&[("zeros.bin", &zeros), ("after.txt", b"still read")]);
        assert!(bomb.len() < 200 * 1024);
        let (members, skips) = run(&bomb, &Limits::default());
        assert_eq!(members, vec![("after.txt".into(), "still read".into())]);
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].0, "zeros.bin");
        assert!(skips[0].1.contains("decompression bomb"));
    }

    #[test]
    fn corrupt_archives_are_skipped_with_what_came_before_read() {
        let zip = zip_of(&[("a.txt", b"alpha")]);
        let truncated = &zip[..zip.len() - 10];
        let (members, skips) = run(truncated, &Limits::default());
        assert!(members.is_empty());
        assert!(skips[0].1.starts_with("corrupt archive"), "{skips:?}");

        let mut tgz = gzip(&tar_of(&[("a.txt", b"alpha"), ("b.txt", b"beta")]));
        let crc_at = tgz.len() - 8;
        tgz[crc_at] ^= 0xff;
        let (members, skips) = run(&tgz, &Limits::default());
        assert_eq!(members.len(), 2, "the members came before the checksum");
        assert_eq!(skips.len(), 1);
        assert!(skips[0].1.starts_with("corrupt archive"), "{skips:?}");
    }

    #[test]
    fn links_encryption_and_hostile_names_are_labels_or_skips() {
        let mut b = tar::Builder::new(Vec::new());
        for (kind, name) in [
            (tar::EntryType::Symlink, "ln"),
            (tar::EntryType::Link, "hard"),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(0);
            b.append_link(&mut h, name, "/etc/shadow").unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(4);
        h.set_cksum();
        // `append_data` refuses `..`: write the name into the header as an attacker would.
        h.as_old_mut().name[..16].copy_from_slice(b"../../etc/passwd");
        h.set_cksum();
        b.append(&h, &b"root"[..]).unwrap();
        let (members, skips) = run(&b.into_inner().unwrap(), &Limits::default());
        assert_eq!(members, vec![("../../etc/passwd".into(), "root".into())]);
        let link = "link inside an archive (not followed)".to_string();
        assert_eq!(
            skips,
            vec![("ln".into(), link.clone()), ("hard".into(), link)]
        );

        let mut zip = zip_of(&[("secret.txt", b"hidden"), ("open.txt", b"shown")]);
        // Set the encryption flag of the first member in its local and central headers.
        zip[6] |= 1;
        let central = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        zip[central + 8] |= 1;
        let (members, skips) = run(&zip, &Limits::default());
        assert_eq!(members, vec![("open.txt".into(), "shown".into())]);
        assert_eq!(
            skips,
            vec![("secret.txt".into(), "encrypted archive member".into())]
        );
    }
}
