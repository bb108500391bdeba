//! The crate's error type.

use std::fmt;

/// Why an SDK operation failed. Every variant names the failing side clearly enough for one log line.
#[derive(Debug)]
pub enum Error {
    /// An operating-system call failed.
    Io(std::io::Error),
    /// Bytes did not decode as the expected Cap'n Proto message.
    Frame(String),
    /// The peer broke the protocol (bad record, unexpected message, wrong state).
    Protocol(String),
    /// The ZeroMQ control socket failed.
    Zmq(zmq::Error),
    /// The peer is gone (EOF on the attach socket or a doorbell).
    Disconnected,
}

impl Error {
    pub(crate) fn frame(error: capnp::Error) -> Error {
        Error::Frame(error.description)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Frame(e) => write!(f, "malformed frame: {e}"),
            Error::Protocol(e) => write!(f, "protocol violation: {e}"),
            Error::Zmq(e) => write!(f, "zeromq: {e}"),
            Error::Disconnected => write!(f, "peer disconnected"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<nix::Error> for Error {
    fn from(e: nix::Error) -> Self {
        Error::Io(std::io::Error::from_raw_os_error(e as i32))
    }
}

impl From<zmq::Error> for Error {
    fn from(e: zmq::Error) -> Self {
        Error::Zmq(e)
    }
}

impl From<capnp::Error> for Error {
    fn from(e: capnp::Error) -> Self {
        Error::frame(e)
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
