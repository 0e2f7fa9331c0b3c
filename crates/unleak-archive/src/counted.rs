//! A buffered reader that counts the compressed bytes a decoder has consumed, so the
//! compression ratio is measured exactly, not with a read-ahead buffer's slack.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// Small enough that what a decoder has buffered but not consumed does not matter.
const BUFFER: usize = 8 * 1024;

pub(crate) struct Counted<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Bytes handed to the decoder (consumed), shared with whoever checks the ratio.
    pub(crate) consumed: Rc<Cell<u64>>,
}

impl<R: Read> Counted<R> {
    pub(crate) fn new(inner: R) -> Self {
        Counted {
            inner,
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            filled: 0,
            consumed: Rc::new(Cell::new(0)),
        }
    }
}

impl<R: Read> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            self.filled = self.inner.read(&mut self.buf)?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.filled - self.pos);
        self.pos += n;
        self.consumed.set(self.consumed.get() + n as u64);
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}
