//! The shared-memory region and its rings (docs/coprocessor-protocol.md, section 3).
//!
//! [`Region`] maps (or, on the kernel side, creates) the memfd; [`Consumer`] and [`Producer`]
//! implement one side of one ring each, direction-agnostic, so the same code serves the
//! coprocessor (consumes calls, produces answers) and the tests' fake kernel (the reverse).
//! [`Doorbell`] is the worker's end of its unix socketpair.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use memmap2::MmapMut;

use crate::error::{Error, Result};

/// `HERZRING`, the first 8 bytes of every region.
pub const MAGIC: [u8; 8] = *b"HERZRING";
/// The region layout this crate speaks.
pub const LAYOUT_VERSION: u32 = 1;
/// Bytes before the first ring.
pub const HEADER_BYTES: usize = 4096;
/// Bytes of a ring's control block (four 64-byte lines).
pub const CONTROL_BYTES: usize = 256;
/// Record kind: one Cap'n Proto message.
pub const KIND_MESSAGE: u32 = 1;
/// Record kind: skip to the start of the ring.
pub const KIND_WRAP: u32 = 2;
/// Bytes of a record header (`u32 length`, `u32 kind`).
pub const RECORD_HEADER: usize = 8;
/// Largest number of workers a region may declare (bounds the fds accepted with an attach).
pub const MAX_WORKERS: u32 = 256;

const TAIL: usize = 0;
const HEAD: usize = 64;
const CONSUMER_SLEEPING: usize = 128;
const PRODUCER_WAITING: usize = 192;

/// Which ring of a worker's pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Ring 0: kernel → coprocessor.
    Calls = 0,
    /// Ring 1: coprocessor → kernel.
    Answers = 1,
}

/// Geometry of a region, as carried in `RingLayout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Ring pairs, one per kernel worker.
    pub workers: u32,
    /// Data bytes of each ring (a power of two, at least 4096).
    pub ring_bytes: u32,
}

impl Layout {
    /// Checks the layout rules of the doc; `Err` names the broken rule.
    pub fn validate(&self) -> Result<()> {
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return Err(Error::Protocol(format!("workers = {} (1…{MAX_WORKERS})", self.workers)));
        }
        if !self.ring_bytes.is_power_of_two() || self.ring_bytes < 4096 {
            return Err(Error::Protocol(format!("ringBytes = {} (a power of two ≥ 4096)", self.ring_bytes)));
        }
        Ok(())
    }

    /// `4096 + 2 · workers · (256 + ringBytes)`.
    pub fn region_bytes(&self) -> u64 {
        HEADER_BYTES as u64 + 2 * self.workers as u64 * (CONTROL_BYTES as u64 + self.ring_bytes as u64)
    }

    /// The largest message payload a record may carry: `ringBytes / 2 - 8`.
    pub fn max_frame(&self) -> usize {
        self.ring_bytes as usize / 2 - RECORD_HEADER
    }

    fn ring_offset(&self, worker: u32, direction: Direction) -> usize {
        HEADER_BYTES + (2 * worker as usize + direction as usize) * (CONTROL_BYTES + self.ring_bytes as usize)
    }
}

/// One mapped session region. Rings borrow it through an `Arc`, so it stays mapped while any
/// ring of it is in use.
pub struct Region {
    map: MmapMut,
    layout: Layout,
}

impl Region {
    /// Maps the memfd `fd` sent by the kernel and checks it against `layout` and
    /// `region_bytes`: the file size, the magic, the layout version, workers and ringBytes.
    pub fn attach(fd: OwnedFd, layout: Layout, region_bytes: u64) -> Result<Arc<Region>> {
        layout.validate()?;
        if region_bytes != layout.region_bytes() {
            return Err(Error::Protocol(format!(
                "regionBytes = {region_bytes}, layout needs {}",
                layout.region_bytes()
            )));
        }
        let file = File::from(fd);
        let size = file.metadata()?.len();
        if size < region_bytes {
            return Err(Error::Protocol(format!("region file has {size} bytes, layout needs {region_bytes}")));
        }
        // SAFETY: the mapping is shared with the kernel, which writes it concurrently; this module
        // only touches it through atomics (control blocks) and raw copies of ranges the protocol
        // hands to one side, and validates everything it copies out.
        let map = unsafe { memmap2::MmapOptions::new().len(region_bytes as usize).map_mut(&file)? };
        let region = Region { map, layout };
        let header = region.header_bytes();
        let word = |at: usize| u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
        if header[..8] != MAGIC {
            return Err(Error::Protocol("region magic is not HERZRING".into()));
        }
        if word(8) != LAYOUT_VERSION {
            return Err(Error::Protocol(format!("region layout {}, this coprocessor speaks {LAYOUT_VERSION}", word(8))));
        }
        if word(12) != layout.workers || word(16) != layout.ring_bytes {
            return Err(Error::Protocol(format!(
                "region header says {} workers × {} bytes, attach says {} × {}",
                word(12),
                word(16),
                layout.workers,
                layout.ring_bytes
            )));
        }
        Ok(Arc::new(region))
    }

    /// Kernel side: creates a sealed memfd region (mode 0600, `F_SEAL_SHRINK | F_SEAL_GROW`) with
    /// its header written and every ring empty. Returns the region and the fd to send.
    pub fn create(layout: Layout) -> Result<(Arc<Region>, OwnedFd)> {
        use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
        layout.validate()?;
        let raw = memfd_create(
            &std::ffi::CString::new("herz-region").expect("no NUL"),
            MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING,
        )?;
        // SAFETY: memfd_create just returned this fd; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let file = File::from(fd.try_clone()?);
        file.set_len(layout.region_bytes())?;
        nix::fcntl::fcntl(
            fd.as_raw_fd(),
            nix::fcntl::FcntlArg::F_ADD_SEALS(nix::fcntl::SealFlag::F_SEAL_SHRINK | nix::fcntl::SealFlag::F_SEAL_GROW),
        )?;
        // SAFETY: as in `attach`; the file was just sized to the mapping's length.
        let mut map = unsafe { memmap2::MmapOptions::new().len(layout.region_bytes() as usize).map_mut(&file)? };
        map[..8].copy_from_slice(&MAGIC);
        map[8..12].copy_from_slice(&LAYOUT_VERSION.to_le_bytes());
        map[12..16].copy_from_slice(&layout.workers.to_le_bytes());
        map[16..20].copy_from_slice(&layout.ring_bytes.to_le_bytes());
        Ok((Arc::new(Region { map, layout }), fd))
    }

    /// The region's geometry.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    fn header_bytes(&self) -> &[u8] {
        &self.map[..HEADER_BYTES]
    }

    fn ring(self: &Arc<Self>, worker: u32, direction: Direction) -> Ring {
        assert!(worker < self.layout.workers, "worker {worker} out of range");
        let offset = self.layout.ring_offset(worker, direction);
        // SAFETY: `offset + 256 + ringBytes <= regionBytes` by the layout formula, checked
        // against the mapping's length in `attach`/`create`.
        let base = unsafe { (self.map.as_ptr() as *mut u8).add(offset) };
        Ring { region: self.clone(), base, size: self.layout.ring_bytes as u64 }
    }

    /// The consumer side of ring `direction` of `worker` (panics when `worker` is out of range).
    /// Exactly one consumer per ring may exist across both processes.
    pub fn consumer(self: &Arc<Self>, worker: u32, direction: Direction) -> Consumer {
        let ring = self.ring(worker, direction);
        let head = ring.head().load(Ordering::Acquire);
        Consumer { ring, head }
    }

    /// The producer side of ring `direction` of `worker` (panics when `worker` is out of range).
    /// Exactly one producer per ring may exist across both processes.
    pub fn producer(self: &Arc<Self>, worker: u32, direction: Direction) -> Producer {
        let ring = self.ring(worker, direction);
        let tail = ring.tail().load(Ordering::Acquire);
        Producer { ring, tail, published: tail }
    }
}

/// One ring: a control block followed by `size` data bytes.
struct Ring {
    region: Arc<Region>,
    base: *mut u8,
    size: u64,
}

// SAFETY: the ring's memory is shared memory designed for concurrent access from two processes;
// a Ring value is used by one thread at a time (Consumer/Producer take `&mut self`).
unsafe impl Send for Ring {}

impl Ring {
    fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: offsets 0 and 64 of the control block are 8-byte aligned (the mapping is page
        // aligned, rings start at multiples of 64) and live as long as `self.region`.
        unsafe { &*(self.base.add(offset) as *const AtomicU64) }
    }

    fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: as for `atomic_u64`, with offsets 128 and 192.
        unsafe { &*(self.base.add(offset) as *const AtomicU32) }
    }

    fn tail(&self) -> &AtomicU64 {
        self.atomic_u64(TAIL)
    }

    fn head(&self) -> &AtomicU64 {
        self.atomic_u64(HEAD)
    }

    fn consumer_sleeping(&self) -> &AtomicU32 {
        self.atomic_u32(CONSUMER_SLEEPING)
    }

    fn producer_waiting(&self) -> &AtomicU32 {
        self.atomic_u32(PRODUCER_WAITING)
    }

    fn max_frame(&self) -> usize {
        self.region.layout.max_frame()
    }

    /// Copies `dst.len()` bytes out of data offset `offset`.
    fn read(&self, offset: u64, dst: &mut [u8]) {
        assert!(offset + dst.len() as u64 <= self.size);
        // SAFETY: the range is inside this ring's data area (asserted above); the peer does not
        // write it while it lies between head and tail, and a copy tolerates it anyway.
        unsafe { std::ptr::copy_nonoverlapping(self.base.add(CONTROL_BYTES + offset as usize), dst.as_mut_ptr(), dst.len()) }
    }

    /// Copies `src` to data offset `offset`.
    fn write(&self, offset: u64, src: &[u8]) {
        assert!(offset + src.len() as u64 <= self.size);
        // SAFETY: the range is inside this ring's data area (asserted above) and lies beyond the
        // published tail, which the consumer does not read.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.base.add(CONTROL_BYTES + offset as usize), src.len()) }
    }

    fn read_header(&self, offset: u64) -> (u32, u32) {
        let mut header = [0u8; RECORD_HEADER];
        self.read(offset, &mut header);
        (
            u32::from_le_bytes([header[0], header[1], header[2], header[3]]),
            u32::from_le_bytes([header[4], header[5], header[6], header[7]]),
        )
    }

    fn write_header(&self, offset: u64, length: u32, kind: u32) {
        let mut header = [0u8; RECORD_HEADER];
        header[..4].copy_from_slice(&length.to_le_bytes());
        header[4..].copy_from_slice(&kind.to_le_bytes());
        self.write(offset, &header);
    }
}

/// Reads records from one ring and validates each of them.
pub struct Consumer {
    ring: Ring,
    head: u64,
}

impl Consumer {
    /// The next message record's payload, copied into `buf` (8-byte aligned), skipping wrap
    /// records; `Ok(None)` when the ring is empty. Any record breaking the rules of the doc
    /// (unknown kind, bad length, past `tail`, past the ring's end) is an `Error::Protocol`, after
    /// which the ring must not be used any more. Frees the space at once (see [`Consumer::release`]).
    pub fn try_read<'b>(&mut self, buf: &'b mut crate::frames::AlignedBuf) -> Result<Option<&'b [u8]>> {
        let size = self.ring.size;
        loop {
            let tail = self.ring.tail().load(Ordering::Acquire);
            if tail == self.head {
                return Ok(None);
            }
            let available = tail.wrapping_sub(self.head);
            if available > size || available < RECORD_HEADER as u64 {
                return Err(Error::Protocol(format!("tail {tail} is not a record boundary after head {}", self.head)));
            }
            let offset = self.head % size;
            let (length, kind) = self.ring.read_header(offset);
            let length = length as u64;
            if length % 8 != 0 {
                return Err(Error::Protocol(format!("record length {length} is not a multiple of 8")));
            }
            if RECORD_HEADER as u64 + length > available {
                return Err(Error::Protocol(format!("record of {length} bytes extends past tail")));
            }
            match kind {
                KIND_WRAP => {
                    if offset + RECORD_HEADER as u64 + length != size {
                        return Err(Error::Protocol(format!("wrap record at {offset} does not end at the ring's end")));
                    }
                    self.head += RECORD_HEADER as u64 + length;
                }
                KIND_MESSAGE => {
                    if length as usize > self.ring.max_frame() {
                        return Err(Error::Protocol(format!(
                            "record of {length} bytes exceeds maxFrame {}",
                            self.ring.max_frame()
                        )));
                    }
                    if offset + RECORD_HEADER as u64 + length > size {
                        return Err(Error::Protocol(format!("record at {offset} extends past the ring's end")));
                    }
                    let ring = &self.ring;
                    buf.fill_with(length as usize, |dst| ring.read(offset + RECORD_HEADER as u64, dst));
                    self.head += RECORD_HEADER as u64 + length;
                    return Ok(Some(buf.bytes()));
                }
                other => return Err(Error::Protocol(format!("unknown record kind {other}"))),
            }
        }
    }

    /// Publishes `head` (release) and returns true when the producer was waiting for space and
    /// must be woken: the caller then rings the doorbell.
    pub fn release(&mut self) -> bool {
        self.ring.head().store(self.head, Ordering::Release);
        fence(Ordering::SeqCst);
        self.ring.producer_waiting().load(Ordering::Relaxed) == 1
            && self.ring.producer_waiting().swap(0, Ordering::SeqCst) == 1
    }

    /// True when `tail` moved past what was consumed.
    pub fn has_data(&self) -> bool {
        self.ring.tail().load(Ordering::Acquire) != self.head
    }

    /// Steps 1–2 of "before sleeping": sets `consumerSleeping` and re-reads `tail`. Returns true
    /// when the caller may sleep; false (flag cleared again) when data arrived meanwhile.
    pub fn prepare_sleep(&self) -> bool {
        self.ring.consumer_sleeping().store(1, Ordering::SeqCst);
        if self.has_data() {
            self.ring.consumer_sleeping().store(0, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Clears `consumerSleeping` after waking.
    pub fn woke(&self) {
        self.ring.consumer_sleeping().store(0, Ordering::SeqCst);
    }
}

/// Why [`Producer::try_write`] did not write.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The ring has no room now; retry after the consumer frees space.
    Full,
    /// The payload exceeds `maxFrame` and never fits (`frame-too-large`).
    TooLarge(usize),
}

/// Writes records into one ring.
pub struct Producer {
    ring: Ring,
    tail: u64,
    published: u64,
}

impl Producer {
    /// The largest payload [`Producer::try_write`] accepts.
    pub fn max_frame(&self) -> usize {
        self.ring.max_frame()
    }

    /// Writes one message record (not yet visible: call [`Producer::publish`]). The payload is
    /// padded to a multiple of 8 (stream framing already is). Writes a wrap record first when the
    /// message does not fit before the ring's end.
    pub fn try_write(&mut self, payload: &[u8]) -> std::result::Result<(), WriteError> {
        if payload.len() > self.max_frame() {
            return Err(WriteError::TooLarge(payload.len()));
        }
        let padded = (payload.len() + 7) / 8 * 8;
        self.write_record(KIND_MESSAGE, padded as u32, payload)
    }

    /// Writes a record with an arbitrary header: only for fault injection (the rogue coprocessor
    /// and tests). `length` is what the header claims; `payload` is what is copied after it.
    /// The ring space reserved is `8 + max(length, payload)` rounded up, wrapping as usual when it fits.
    pub fn write_raw(&mut self, kind: u32, length: u32, payload: &[u8]) -> std::result::Result<(), WriteError> {
        self.write_record(kind, length, payload)
    }

    fn write_record(&mut self, kind: u32, length: u32, payload: &[u8]) -> std::result::Result<(), WriteError> {
        let size = self.ring.size;
        let body = ((length as u64).max(payload.len() as u64) + 7) / 8 * 8;
        let need = RECORD_HEADER as u64 + body;
        if need > size {
            return Err(WriteError::TooLarge(payload.len()));
        }
        let head = self.ring.head().load(Ordering::Acquire);
        let free = size - self.tail.wrapping_sub(head).min(size);
        let offset = self.tail % size;
        let to_end = size - offset;
        if need > to_end {
            if free < to_end + need {
                return Err(WriteError::Full);
            }
            self.ring.write_header(offset, (to_end - RECORD_HEADER as u64) as u32, KIND_WRAP);
            self.tail += to_end;
        } else if free < need {
            return Err(WriteError::Full);
        }
        let offset = self.tail % size;
        self.ring.write_header(offset, length, kind);
        self.ring.write(offset + RECORD_HEADER as u64, payload);
        self.tail += need;
        Ok(())
    }

    /// Publishes everything written (release store of `tail`, then a full fence) and returns
    /// true when the consumer was asleep and must be woken: the caller then rings the doorbell.
    /// No-op (false) when nothing new was written.
    pub fn publish(&mut self) -> bool {
        if self.published == self.tail {
            return false;
        }
        self.published = self.tail;
        self.ring.tail().store(self.tail, Ordering::Release);
        fence(Ordering::SeqCst);
        self.ring.consumer_sleeping().load(Ordering::Relaxed) == 1
            && self.ring.consumer_sleeping().swap(0, Ordering::SeqCst) == 1
    }

    /// Full ring: sets `producerWaiting` and re-checks whether `bytes` of payload fit now.
    /// Returns true when the caller should wait for a wake-up; false (flag cleared) when space
    /// appeared meanwhile.
    pub fn prepare_wait(&self, bytes: usize) -> bool {
        self.ring.producer_waiting().store(1, Ordering::SeqCst);
        let head = self.ring.head().load(Ordering::SeqCst);
        let free = self.ring.size - self.tail.wrapping_sub(head).min(self.ring.size);
        // Worst case a wrap wastes up to one record's size: wait for room for two.
        if free >= 2 * (RECORD_HEADER + (bytes + 7) / 8 * 8) as u64 {
            self.ring.producer_waiting().store(0, Ordering::SeqCst);
            return false;
        }
        true
    }
}

/// This side's end of a worker's doorbell socketpair (non-blocking).
pub struct Doorbell {
    socket: std::os::unix::net::UnixStream,
}

impl Doorbell {
    /// Takes ownership of a doorbell fd and makes it non-blocking.
    pub fn new(fd: OwnedFd) -> Result<Doorbell> {
        let socket = std::os::unix::net::UnixStream::from(fd);
        socket.set_nonblocking(true)?;
        Ok(Doorbell { socket })
    }

    /// Writes one wake-up byte. EAGAIN counts as success (wake-ups are already pending);
    /// a broken pipe is `Error::Disconnected`.
    pub fn ring(&self) -> Result<()> {
        match (&self.socket).write(&[1]) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.ring(),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::Disconnected),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads and discards every pending byte. `Error::Disconnected` on EOF (the peer is gone).
    pub fn drain(&self) -> Result<()> {
        let mut scratch = [0u8; 256];
        loop {
            match (&self.socket).read(&mut scratch) {
                Ok(0) => return Err(Error::Disconnected),
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Blocks in poll(2) until a byte (or EOF) is pending or `timeout` passes, then drains.
    /// Returns true when woken, false on timeout.
    pub fn wait(&self, timeout: Duration) -> Result<bool> {
        use nix::poll::{poll, PollFd, PollFlags};
        let mut fds = [PollFd::new(self.socket.as_raw_fd(), PollFlags::POLLIN)];
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        match poll(&mut fds, millis) {
            Ok(0) => Ok(false),
            Ok(_) => self.drain().map(|()| true),
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::AlignedBuf;

    fn region() -> Arc<Region> {
        Region::create(Layout { workers: 1, ring_bytes: 4096 }).unwrap().0
    }

    fn payload(n: usize, fill: u8) -> Vec<u8> {
        vec![fill; n]
    }

    #[test]
    fn layout_rules() {
        assert!(Layout { workers: 1, ring_bytes: 4096 }.validate().is_ok());
        assert!(Layout { workers: 0, ring_bytes: 4096 }.validate().is_err());
        assert!(Layout { workers: 1, ring_bytes: 2048 }.validate().is_err());
        assert!(Layout { workers: 1, ring_bytes: 6000 }.validate().is_err());
        assert_eq!(Layout { workers: 2, ring_bytes: 4096 }.region_bytes(), 4096 + 4 * (256 + 4096));
        assert_eq!(Layout { workers: 1, ring_bytes: 4096 }.max_frame(), 2040);
    }

    #[test]
    fn attach_checks_header() {
        let layout = Layout { workers: 1, ring_bytes: 4096 };
        let (_region, fd) = Region::create(layout).unwrap();
        assert!(Region::attach(fd.try_clone().unwrap(), layout, layout.region_bytes()).is_ok());
        let wrong = Layout { workers: 1, ring_bytes: 8192 };
        assert!(Region::attach(fd.try_clone().unwrap(), wrong, wrong.region_bytes()).is_err());
        assert!(Region::attach(fd, layout, layout.region_bytes() + 8).is_err());
    }

    #[test]
    fn wraps_around_many_times_in_order() {
        let region = region();
        let mut producer = region.producer(0, Direction::Calls);
        let mut consumer = region.consumer(0, Direction::Calls);
        let mut buf = AlignedBuf::new();
        // 3 records of varying size per round, many rounds: every offset alignment gets a wrap.
        for round in 0..500usize {
            let sizes = [8 * (1 + round % 7), 8 * (1 + round % 131), 1000 + round % 40 * 8];
            for (i, &n) in sizes.iter().enumerate() {
                producer.try_write(&payload(n, (round + i) as u8)).unwrap();
                producer.publish();
                let got = consumer.try_read(&mut buf).unwrap().unwrap();
                assert_eq!(got, &payload(n, (round + i) as u8)[..]);
                consumer.release();
            }
        }
        assert!(consumer.try_read(&mut buf).unwrap().is_none());
    }

    #[test]
    fn full_ring_refuses_then_accepts_after_release() {
        let region = region();
        let mut producer = region.producer(0, Direction::Answers);
        let mut consumer = region.consumer(0, Direction::Answers);
        let mut buf = AlignedBuf::new();
        let frame = payload(1016, 7); // 1024-byte records: exactly 4 fit
        for _ in 0..4 {
            producer.try_write(&frame).unwrap();
        }
        assert_eq!(producer.try_write(&frame), Err(WriteError::Full));
        assert!(producer.prepare_wait(frame.len()));
        producer.publish();
        assert!(consumer.try_read(&mut buf).unwrap().is_some());
        assert!(consumer.release(), "a waiting producer is reported for a wake-up");
        assert!(!consumer.release(), "only once");
        producer.try_write(&frame).unwrap();
        assert_eq!(producer.try_write(&payload(2041, 0)), Err(WriteError::TooLarge(2041)));
    }

    #[test]
    fn sleeping_consumer_is_woken_once() {
        let region = region();
        let mut producer = region.producer(0, Direction::Calls);
        let consumer = region.consumer(0, Direction::Calls);
        assert!(consumer.prepare_sleep());
        producer.try_write(&payload(8, 1)).unwrap();
        assert!(producer.publish(), "the sleeper needs a doorbell");
        producer.try_write(&payload(8, 1)).unwrap();
        assert!(!producer.publish(), "flag already cleared: no second doorbell");
        assert!(!consumer.prepare_sleep(), "data pending: do not sleep");
    }

    /// Writes one raw record and returns what the consumer says about it.
    fn consume_raw(kind: u32, length: u32, payload_len: usize, advance: Option<u64>) -> Result<Option<Vec<u8>>> {
        let region = region();
        let mut producer = region.producer(0, Direction::Calls);
        let _ = producer.write_raw(kind, length, &vec![0; payload_len]);
        if let Some(tail) = advance {
            producer.ring.tail().store(tail, Ordering::Release);
        } else {
            producer.publish();
        }
        let mut consumer = region.consumer(0, Direction::Calls);
        let mut buf = AlignedBuf::new();
        consumer.try_read(&mut buf).map(|r| r.map(|b| b.to_vec()))
    }

    #[test]
    fn validation_rejects_each_bad_record() {
        assert!(consume_raw(KIND_MESSAGE, 16, 16, None).unwrap().is_some(), "control: a good record");
        assert!(consume_raw(7, 16, 16, None).is_err(), "unknown kind");
        assert!(consume_raw(KIND_MESSAGE, 12, 16, None).is_err(), "length not a multiple of 8");
        assert!(consume_raw(KIND_MESSAGE, 2048, 2048, None).is_err(), "length above maxFrame");
        assert!(consume_raw(KIND_MESSAGE, 64, 64, Some(24)).is_err(), "record past tail");
        assert!(consume_raw(KIND_MESSAGE, 16, 16, Some(4)).is_err(), "tail inside a header");
        assert!(consume_raw(KIND_MESSAGE, 16, 16, Some(8192)).is_err(), "tail more than a ring ahead");
        assert!(consume_raw(KIND_WRAP, 16, 16, None).is_err(), "wrap not reaching the ring's end");
    }

    #[test]
    fn record_past_ring_end_is_rejected() {
        let region = region();
        let mut producer = region.producer(0, Direction::Calls);
        let mut consumer = region.consumer(0, Direction::Calls);
        let mut buf = AlignedBuf::new();
        for _ in 0..3 {
            producer.try_write(&payload(1016, 0)).unwrap();
        }
        producer.try_write(&payload(1008, 0)).unwrap();
        producer.publish();
        for _ in 0..4 {
            consumer.try_read(&mut buf).unwrap().unwrap();
        }
        consumer.release();
        // At data offset 4088: a header claiming 16 bytes would run 16 bytes past the end.
        producer.ring.write_header(4088, 16, KIND_MESSAGE);
        producer.ring.tail().store(producer.tail + 24, Ordering::Release);
        assert!(consumer.try_read(&mut buf).is_err());
    }
}
