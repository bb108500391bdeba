//! The attach endpoint (docs/coprocessor-protocol.md, sections 1–2): a unix stream socket at
//! `PATH` over which the kernel sends `AttachFrame.attach` plus the region memfd and one doorbell
//! per worker (SCM_RIGHTS), and receives `AttachFrame.attachAck`.
//!
//! Both sides are here: [`Listener`], [`read_attach`] and [`write_ack`] for coprocessors;
//! [`send_attach`] and [`read_ack`] for kernels (and the tests' fake kernel).

use std::io::{IoSlice, IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use crate::error::{Error, Result};
use crate::frames::{control, encode, stream_frame_len, AlignedBuf, Frame};
use crate::ring::{Layout, MAX_WORKERS};

/// Largest attach-socket frame accepted (they are a few hundred bytes).
pub const MAX_ATTACH_FRAME: usize = 64 * 1024;
/// How long a peer may take to send a complete attach frame.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// `PATH.<pid>.ctl`: the file behind this process's ZeroMQ control endpoint.
pub fn control_path(path: &Path, pid: u32) -> PathBuf {
    suffixed(path, &format!(".{pid}.ctl"))
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The bound attach socket at `PATH`.
pub struct Listener {
    listener: UnixListener,
    path: PathBuf,
    inode: u64,
}

impl Listener {
    /// Removes stale `PATH.*.ctl` files whose pid is dead, binds `PATH.<pid>.tmp` (mode 0660)
    /// and renames it over `PATH`, so a running older build keeps serving its sessions while
    /// new kernels attach here.
    pub fn bind(path: &Path) -> Result<Listener> {
        remove_stale_control_files(path);
        let tmp = suffixed(path, &format!(".{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let listener = UnixListener::bind(&tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o660))?;
        std::fs::rename(&tmp, path)?;
        let inode = std::fs::metadata(path)?.ino();
        Ok(Listener { listener, path: path.to_owned(), inode })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the next kernel connection.
    pub fn accept(&self) -> Result<UnixStream> {
        Ok(self.listener.accept()?.0)
    }

    /// Removes `PATH` if it is still this listener's socket (not a newer build's).
    pub fn unlink_if_ours(&self) {
        if std::fs::metadata(&self.path).map(|m| m.ino() == self.inode).unwrap_or(false) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes `PATH.<pid>.ctl` and `PATH.<pid>.tmp` files left by processes that no longer exist.
pub fn remove_stale_control_files(path: &Path) {
    let (Some(dir), Some(base)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(base)).and_then(|n| n.strip_prefix('.')) else {
            continue;
        };
        let Some(pid) = rest.strip_suffix(".ctl").or_else(|| rest.strip_suffix(".tmp")) else { continue };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        let dead = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH);
        if dead {
            log::info!("removing stale {}", entry.path().display());
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// One frame read from the attach socket, with the descriptors that came with it.
pub struct ReceivedFrame {
    /// The frame's bytes (8-byte aligned).
    pub bytes: AlignedBuf,
    /// Descriptors received with it, in order (owned: closed when dropped).
    pub fds: Vec<OwnedFd>,
}

/// Reads one stream-framed message (and any SCM_RIGHTS descriptors) from `stream`.
/// `Error::Disconnected` on EOF before the first byte.
pub fn read_frame(stream: &UnixStream) -> Result<ReceivedFrame> {
    let mut bytes = Vec::new();
    let mut fds = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(len) = stream_frame_len(&bytes, MAX_ATTACH_FRAME)? {
            if bytes.len() >= len {
                if bytes.len() > len {
                    return Err(Error::Protocol("bytes after the attach frame".into()));
                }
                let mut aligned = AlignedBuf::new();
                aligned.fill(&bytes);
                return Ok(ReceivedFrame { bytes: aligned, fds });
            }
        }
        let mut cmsg = nix::cmsg_space!([RawFd; 1 + MAX_WORKERS as usize]);
        let mut iov = [IoSliceMut::new(&mut chunk)];
        let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)?;
        for c in msg.cmsgs() {
            if let ControlMessageOwned::ScmRights(received) = c {
                // SAFETY: the kernel just installed these descriptors in this process for us.
                fds.extend(received.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
        if msg.flags.contains(MsgFlags::MSG_CTRUNC) {
            return Err(Error::Protocol("too many descriptors with the attach frame".into()));
        }
        let n = msg.bytes;
        if n == 0 {
            return Err(if bytes.is_empty() { Error::Disconnected } else { Error::Protocol("EOF inside a frame".into()) });
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// A kernel's attach request, checked for consistency (layout rules, one doorbell per worker).
pub struct AttachRequest {
    /// Ties the control session to this attach.
    pub session_id: u64,
    /// The region's geometry.
    pub layout: Layout,
    /// The region's declared size.
    pub region_bytes: u64,
    /// The region memfd.
    pub memfd: OwnedFd,
    /// This side's end of each worker's doorbell socketpair, by worker.
    pub doorbells: Vec<OwnedFd>,
}

/// Reads the `AttachFrame.attach` message and its descriptors.
pub fn read_attach(stream: &UnixStream) -> Result<AttachRequest> {
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let received = read_frame(stream)?;
    stream.set_read_timeout(None)?;
    let frame = Frame::parse(received.bytes.bytes())?;
    let root = frame.root::<control::attach_frame::Reader<'_>>()?;
    let attach = match root.which()? {
        control::attach_frame::Which::Attach(attach) => attach,
        control::attach_frame::Which::AttachAck(_) => return Err(Error::Protocol("expected attach, got attachAck".into())),
    };
    let wire = attach.layout()?;
    if wire.layout_version() != crate::ring::LAYOUT_VERSION {
        return Err(Error::Protocol(format!(
            "region layout {}, this coprocessor speaks {}",
            wire.layout_version(),
            crate::ring::LAYOUT_VERSION
        )));
    }
    let layout = Layout { workers: wire.workers(), ring_bytes: wire.ring_bytes() };
    layout.validate()?;
    let mut fds = received.fds.into_iter();
    let memfd = fds.next().ok_or_else(|| Error::Protocol("attach came without the region memfd".into()))?;
    let doorbells: Vec<OwnedFd> = fds.collect();
    if doorbells.len() != layout.workers as usize {
        return Err(Error::Protocol(format!("{} doorbells for {} workers", doorbells.len(), layout.workers)));
    }
    Ok(AttachRequest { session_id: attach.session_id(), layout, region_bytes: wire.region_bytes(), memfd, doorbells })
}

/// The fields of an `AttachAck`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// Echo of the attach's session id.
    pub session_id: u64,
    /// `Err(reason)` when the coprocessor could not use the region.
    pub result: std::result::Result<(), String>,
    /// The coprocessor's ZeroMQ ROUTER endpoint (`ipc://PATH.<pid>.ctl`).
    pub control_endpoint: String,
    /// The coprocessor's pid.
    pub pid: u32,
}

/// Writes `AttachFrame.attachAck`.
pub fn write_ack(mut stream: &UnixStream, ack: &Ack) -> Result<()> {
    let bytes = encode(|m| {
        let mut a = m.init_root::<control::attach_frame::Builder<'_>>().init_attach_ack();
        a.set_session_id(ack.session_id);
        a.set_ok(ack.result.is_ok());
        a.set_error(ack.result.as_ref().err().map(String::as_str).unwrap_or(""));
        a.set_control_endpoint(&ack.control_endpoint);
        a.set_pid(ack.pid);
    });
    stream.write_all(&bytes)?;
    Ok(())
}

/// Kernel side: sends `AttachFrame.attach` with the memfd and the coprocessor's doorbell ends.
pub fn send_attach(stream: &UnixStream, session_id: u64, layout: Layout, memfd: &OwnedFd, doorbells: &[OwnedFd]) -> Result<()> {
    let bytes = encode(|m| {
        let mut a = m.init_root::<control::attach_frame::Builder<'_>>().init_attach();
        a.set_session_id(session_id);
        let mut l = a.init_layout();
        l.set_workers(layout.workers);
        l.set_ring_bytes(layout.ring_bytes);
        l.set_region_bytes(layout.region_bytes());
        l.set_layout_version(crate::ring::LAYOUT_VERSION);
    });
    let fds: Vec<RawFd> = std::iter::once(memfd).chain(doorbells).map(|fd| fd.as_raw_fd()).collect();
    let sent = sendmsg::<()>(stream.as_raw_fd(), &[IoSlice::new(&bytes)], &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None)?;
    (&*stream).write_all(&bytes[sent..])?;
    Ok(())
}

/// Kernel side: reads `AttachFrame.attachAck`.
pub fn read_ack(stream: &UnixStream) -> Result<Ack> {
    let received = read_frame(stream)?;
    let frame = Frame::parse(received.bytes.bytes())?;
    match frame.root::<control::attach_frame::Reader<'_>>()?.which()? {
        control::attach_frame::Which::AttachAck(a) => Ok(Ack {
            session_id: a.session_id(),
            result: if a.ok() { Ok(()) } else { Err(a.error()?.to_owned()) },
            control_endpoint: a.control_endpoint()?.to_owned(),
            pid: a.pid(),
        }),
        control::attach_frame::Which::Attach(_) => Err(Error::Protocol("expected attachAck, got attach".into())),
    }
}
