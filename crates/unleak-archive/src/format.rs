//! Which archive or compression format a blob is, from its first bytes.

/// Bytes [`Format::detect`] needs to see (a tar header's magic sits at 257).
pub const HEAD: usize = 512;

/// An archive or compression format unleak reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Zip and the formats built on it (jar, war, ear, whl, apk, nupkg, vsix, …).
    Zip,
    /// A tar archive (ustar, GNU or pax).
    Tar,
    /// A gzip stream.
    Gzip,
    /// A bzip2 stream.
    Bzip2,
    /// An xz stream.
    Xz,
    /// A Zstandard stream.
    Zstd,
}

impl Format {
    /// The format `head` (the first [`HEAD`] bytes, or all of a shorter blob) opens with,
    /// by magic number, never by file name: a `.jar` renamed `.bin` is still read, a text
    /// file named `.zip` is still text.
    pub fn detect(head: &[u8]) -> Option<Format> {
        // Local file header, or the end record of an empty archive.
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            return Some(Format::Zip);
        }
        // ID1 ID2 and deflate, the only method gzip defines.
        if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            return Some(Format::Gzip);
        }
        // "BZh", a block size digit, then the magic of a first block or of the end of an
        // empty stream: six bytes no text begins with.
        if head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
                || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
        {
            return Some(Format::Bzip2);
        }
        if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            return Some(Format::Xz);
        }
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Some(Format::Zstd);
        }
        is_tar(head).then_some(Format::Tar)
    }

    /// Gzip, bzip2, xz or zstd: one compressed stream, not a container.
    pub fn is_compression(self) -> bool {
        !matches!(self, Format::Zip | Format::Tar)
    }
}

/// A POSIX or GNU tar header: `ustar` at 257 and a header checksum that adds up (the sum
/// of the header's bytes with the checksum field read as spaces), so text that happens to
/// hold `ustar` there is not taken for an archive.
pub fn is_tar(head: &[u8]) -> bool {
    if head.len() < HEAD || &head[257..262] != b"ustar" {
        return false;
    }
    let field = &head[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(u8::is_ascii_digit)
        .collect();
    let Some(recorded) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 8).ok())
    else {
        return false;
    };
    let sum: u32 = head[..HEAD]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == recorded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_decide_not_names() {
        assert_eq!(Format::detect(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(Format::detect(b"PK\x05\x06\0\0"), Some(Format::Zip));
        assert_eq!(Format::detect(&[0x1f, 0x8b, 8, 0]), Some(Format::Gzip));
        assert_eq!(Format::detect(b"BZh91AY&SY\0\0"), Some(Format::Bzip2));
        assert_eq!(Format::detect(b"\xfd7zXZ\0\0\x04"), Some(Format::Xz));
        assert_eq!(
            Format::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(Format::Zstd)
        );
        // Text that begins like some of them is text.
        for text in [
            &b"PK is a key"[..],
            b"BZh9 is not bzip2",
            b"\x1f\x8b",
            b"ustar",
        ] {
            assert_eq!(Format::detect(text), None);
        }
    }

    #[test]
    fn a_tar_header_needs_its_checksum() {
        let mut header = tar::Header::new_ustar();
        header.set_path("a.txt").unwrap();
        header.set_size(0);
        header.set_cksum();
        assert!(is_tar(header.as_bytes()));
        let mut text = vec![b'x'; HEAD];
        text[257..262].copy_from_slice(b"ustar");
        assert!(!is_tar(&text));
        let mut forged = header.as_bytes().to_vec();
        forged[0] ^= 1;
        assert!(!is_tar(&forged));
    }
}
