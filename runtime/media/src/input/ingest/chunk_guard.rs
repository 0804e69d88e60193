//! A bounds check on the RTMP chunk stream, run on every received byte before
//! `rml_rtmp` parses it. It reads chunk headers exactly as `rml_rtmp`'s deserializer
//! does and refuses what that deserializer would buffer without limit or mishandle: a
//! message longer than a per-type cap (so one connection buffers at most one capped
//! message), a new message interleaved into an unfinished one (the deserializer keeps
//! one payload buffer for all chunk streams), a chunk size of zero and an unbounded
//! number of chunk streams. Small control messages also bound how deeply nested the
//! AMF0 values `rml_rtmp` parses recursively can be, and a rate limit on control
//! messages bounds what the session keeps per command (a stream per `createStream`).
//!
//! It only reads headers and counts bytes: it never copies payloads (except the four
//! bytes of a chunk-size message) and never decides anything about publishing.

use std::collections::HashMap;
use std::time::Instant;

/// The chunk size every RTMP connection starts with.
const INITIAL_CHUNK_SIZE: u32 = 128;
/// The largest chunk size `rml_rtmp` accepts.
const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// A timestamp field with this value is followed by a 4-byte extended timestamp.
const EXTENDED_TIMESTAMP: u32 = 0xFF_FFFF;
/// Chunk streams one connection may use (publishers use fewer than ten).
pub(crate) const MAX_CHUNK_STREAMS: usize = 64;
/// Largest audio or video message: a keyframe of a high-bitrate 4K feed fits.
pub(crate) const MAX_MEDIA_MESSAGE: u32 = 8 * 1024 * 1024;
/// Largest command, data or control message (`connect`, `publish`, `onMetaData` are
/// well under 2 KiB).
pub(crate) const MAX_CONTROL_MESSAGE: u32 = 8 * 1024;
/// Control (non-media) messages a client may send in a burst, and per second after it;
/// a publisher sends a dozen to start and a few an hour after.
pub(crate) const CONTROL_BURST: u32 = 256;
pub(crate) const CONTROL_PER_SECOND: u32 = 16;

const TYPE_SET_CHUNK_SIZE: u8 = 1;
const TYPE_AUDIO: u8 = 8;
const TYPE_VIDEO: u8 = 9;

/// Why the chunk stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkViolation {
    #[error("a chunk on chunk stream {csid} refers to an earlier header that was never sent")]
    NoPreviousHeader { csid: u32 },
    #[error("a message of type {type_id} declares {length} bytes, over the {limit}-byte limit for its type")]
    TooLong { type_id: u8, length: u32, limit: u32 },
    #[error("a chunk on chunk stream {csid} interrupts an unfinished message on chunk stream {open}")]
    Interleaved { csid: u32, open: u32 },
    #[error("the client used more than {MAX_CHUNK_STREAMS} chunk streams")]
    TooManyChunkStreams,
    #[error("the client set a chunk size of 0")]
    ZeroChunkSize,
    #[error(
        "the client sent more than {CONTROL_BURST} control messages at once (or over {CONTROL_PER_SECOND} a second)"
    )]
    TooManyControlMessages,
}

/// What a chunk stream's last header said.
#[derive(Debug, Clone, Copy, Default)]
struct Header {
    timestamp_field: u32,
    length: u32,
    type_id: u8,
}

/// A message whose chunks have started arriving.
#[derive(Debug, Clone, Copy)]
struct OpenMessage {
    csid: u32,
    header: Header,
    received: u32,
}

/// Follows the chunk headers of one connection (after the handshake).
#[derive(Debug)]
pub(crate) struct ChunkGuard {
    chunk_size: u32,
    headers: HashMap<u32, Header>,
    /// Bytes of the chunk header being read (at most 3 + 11 + 4).
    pending: Vec<u8>,
    /// Payload bytes left in the current chunk; `None` while reading a header.
    payload_left: Option<u32>,
    open: Option<OpenMessage>,
    /// The first bytes of a chunk-size message's payload.
    chunk_size_bytes: Vec<u8>,
    /// Messages seen complete (read by the tests).
    completed: u64,
    /// Control messages the client may still send now, refilled over time.
    control_tokens: f64,
    refilled_at: Instant,
}

impl Default for ChunkGuard {
    fn default() -> Self {
        ChunkGuard {
            chunk_size: INITIAL_CHUNK_SIZE,
            headers: HashMap::new(),
            pending: Vec::with_capacity(18),
            payload_left: None,
            open: None,
            chunk_size_bytes: Vec::with_capacity(4),
            completed: 0,
            control_tokens: f64::from(CONTROL_BURST),
            refilled_at: Instant::now(),
        }
    }
}

impl ChunkGuard {
    /// Checks the next received bytes. After an error the guard (and the connection)
    /// must not be used again.
    pub(crate) fn check(&mut self, mut bytes: &[u8]) -> Result<(), ChunkViolation> {
        while !bytes.is_empty() {
            match self.payload_left {
                Some(left) => {
                    let take = bytes.len().min(left as usize);
                    self.take_payload(&bytes[..take])?;
                    bytes = &bytes[take..];
                }
                None => {
                    let need = self.header_len();
                    let take = bytes.len().min(need - self.pending.len());
                    self.pending.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.pending.len() == self.header_len() {
                        self.start_chunk()?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Messages completed so far.
    #[cfg(test)]
    pub(crate) fn completed(&self) -> u64 {
        self.completed
    }

    /// Length of the header being read, as far as its bytes so far tell.
    fn header_len(&self) -> usize {
        let Some(&first) = self.pending.first() else { return 1 };
        let basic = match first & 0x3F {
            0 => 2,
            1 => 3,
            _ => 1,
        };
        let format = first >> 6;
        let message = [11, 7, 3, 0][usize::from(format)];
        let fixed = basic + message;
        if self.pending.len() < fixed {
            return fixed;
        }
        let timestamp_field = if format == 3 {
            self.headers.get(&csid(&self.pending)).map_or(0, |h| h.timestamp_field)
        } else {
            u24(&self.pending[basic..basic + 3])
        };
        if timestamp_field >= EXTENDED_TIMESTAMP { fixed + 4 } else { fixed }
    }

    /// A complete chunk header is in `pending`.
    fn start_chunk(&mut self) -> Result<(), ChunkViolation> {
        let first = self.pending[0];
        let format = first >> 6;
        let id = csid(&self.pending);
        let basic = match first & 0x3F {
            0 => 2,
            1 => 3,
            _ => 1,
        };
        let fields = &self.pending[basic..];
        let header = match (format, self.headers.get(&id)) {
            (0, _) => Header { timestamp_field: u24(&fields[0..3]), length: u24(&fields[3..6]), type_id: fields[6] },
            (_, None) => return Err(ChunkViolation::NoPreviousHeader { csid: id }),
            (1, Some(_)) => {
                Header { timestamp_field: u24(&fields[0..3]), length: u24(&fields[3..6]), type_id: fields[6] }
            }
            (2, Some(previous)) => Header { timestamp_field: u24(&fields[0..3]), ..*previous },
            (_, Some(previous)) => *previous,
        };
        self.pending.clear();
        if !self.headers.contains_key(&id) && self.headers.len() >= MAX_CHUNK_STREAMS {
            return Err(ChunkViolation::TooManyChunkStreams);
        }
        self.headers.insert(id, header);
        let open = match self.open {
            Some(open) if open.csid != id || format != 3 => {
                return Err(ChunkViolation::Interleaved { csid: id, open: open.csid });
            }
            Some(open) => open,
            None => {
                let limit = match header.type_id {
                    TYPE_AUDIO | TYPE_VIDEO => MAX_MEDIA_MESSAGE,
                    _ => MAX_CONTROL_MESSAGE,
                };
                if header.length > limit {
                    return Err(ChunkViolation::TooLong { type_id: header.type_id, length: header.length, limit });
                }
                self.chunk_size_bytes.clear();
                OpenMessage { csid: id, header, received: 0 }
            }
        };
        let left = (open.header.length - open.received).min(self.chunk_size);
        self.open = Some(open);
        self.payload_left = Some(left);
        if left == 0 {
            self.take_payload(&[])?;
        }
        Ok(())
    }

    /// Payload bytes of the current chunk (no more than it has left).
    fn take_payload(&mut self, bytes: &[u8]) -> Result<(), ChunkViolation> {
        let (Some(left), Some(mut open)) = (self.payload_left, self.open) else { return Ok(()) };
        let taken = bytes.len() as u32;
        if open.header.type_id == TYPE_SET_CHUNK_SIZE && self.chunk_size_bytes.len() < 4 {
            let want = (4 - self.chunk_size_bytes.len()).min(bytes.len());
            self.chunk_size_bytes.extend_from_slice(&bytes[..want]);
        }
        open.received += taken;
        let left = left - taken;
        if left > 0 {
            self.payload_left = Some(left);
            self.open = Some(open);
            return Ok(());
        }
        self.payload_left = None;
        if open.received < open.header.length {
            self.open = Some(open);
            return Ok(());
        }
        self.open = None;
        self.completed += 1;
        if !matches!(open.header.type_id, TYPE_AUDIO | TYPE_VIDEO) {
            self.spend_control_token()?;
        }
        if open.header.type_id == TYPE_SET_CHUNK_SIZE
            && let Ok(size) = <[u8; 4]>::try_from(self.chunk_size_bytes.as_slice())
        {
            match u32::from_be_bytes(size) {
                0 => return Err(ChunkViolation::ZeroChunkSize),
                size if size <= MAX_CHUNK_SIZE => self.chunk_size = size,
                // rml_rtmp refuses it and the connection closes.
                _ => {}
            }
        }
        Ok(())
    }
}

impl ChunkGuard {
    fn spend_control_token(&mut self) -> Result<(), ChunkViolation> {
        let now = Instant::now();
        let refill = now.duration_since(self.refilled_at).as_secs_f64() * f64::from(CONTROL_PER_SECOND);
        self.control_tokens = (self.control_tokens + refill).min(f64::from(CONTROL_BURST));
        self.refilled_at = now;
        if self.control_tokens < 1.0 {
            return Err(ChunkViolation::TooManyControlMessages);
        }
        self.control_tokens -= 1.0;
        Ok(())
    }
}

/// The chunk stream id of a basic header (at least as many bytes as its form needs).
fn csid(header: &[u8]) -> u32 {
    match header[0] & 0x3F {
        0 => u32::from(header[1]) + 64,
        1 => u32::from(header[2]) * 256 + u32::from(header[1]) + 64,
        id => u32::from(id),
    }
}

fn u24(bytes: &[u8]) -> u32 {
    u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2])
}

#[cfg(test)]
#[path = "chunk_guard_tests.rs"]
mod tests;
