//! Positioned reads of a shared file: read bytes at an offset without a seek that other
//! threads would see.
//!
//! Owns: the one platform difference the pack reader has. On Unix this is `pread`
//! (`FileExt::read_at`), which leaves the file position alone, so workers read one `File`
//! at once. On Windows it is `ReadFile` with an offset (`FileExt::seek_read`): each call
//! names its own offset, so concurrent calls still read the right bytes; it also moves the
//! file position, which nothing here uses, and Windows serialises reads on a handle opened
//! for synchronous I/O, so workers wait for one another there rather than read wrong data.
//!
//! Does not own: what is read or how much (the pack reader decides both).

use std::fs::File;
use std::io;

/// Read into `buf` from offset `at` of `file`; the count read, 0 at the end of the file.
/// Like `Read::read`, it may read less than `buf` holds.
#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

/// Read into `buf` from offset `at` of `file`; the count read, 0 at the end of the file.
/// Like `Read::read`, it may read less than `buf` holds.
#[cfg(windows)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

/// Fill as much of `buf` as `file` has from `at`; the count read (less than `buf.len()`
/// only at the end of the file).
pub(crate) fn read_full_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match read_at(file, &mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_at_offsets_in_any_order_and_stops_at_the_end() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"0123456789").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(read_full_at(&f, &mut buf, 6).unwrap(), 4);
        assert_eq!(&buf, b"6789");
        // A later read at a lower offset is not affected by the earlier one.
        assert_eq!(read_full_at(&f, &mut buf, 1).unwrap(), 4);
        assert_eq!(&buf, b"1234");
        assert_eq!(read_full_at(&f, &mut buf, 8).unwrap(), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(read_full_at(&f, &mut buf, 10).unwrap(), 0);
        assert_eq!(read_full_at(&f, &mut buf, 1 << 40).unwrap(), 0);
    }

    #[test]
    fn threads_sharing_one_file_each_read_their_own_offset() {
        let mut f = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
        f.write_all(&data).unwrap();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (f, data) = (&f, &data);
                s.spawn(move || {
                    let mut buf = [0u8; 97];
                    for i in 0..200u64 {
                        let at = (i * 331 + t * 7919) % (data.len() as u64 - 97);
                        assert_eq!(read_full_at(f, &mut buf, at).unwrap(), 97);
                        assert_eq!(&buf[..], &data[at as usize..at as usize + 97]);
                    }
                });
            }
        });
    }
}
