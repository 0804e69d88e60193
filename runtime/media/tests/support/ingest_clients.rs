//! Clients for the ingest tests: ffmpeg as the real publisher, and a hand-driven RTMP
//! client (rml_rtmp's client session over a blocking socket) that handshakes, connects
//! and publishes like a real encoder, then sends what no real encoder would (noise,
//! nested AMF0, messages rml_rtmp cannot handle) to check the server survives them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rml_rtmp::chunk_io::ChunkSerializer;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::messages::RtmpMessage;
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult, PublishRequestType,
};
use rml_rtmp::time::RtmpTimestamp;

/// The message stream id the server gives the first `createStream`.
pub const FIRST_STREAM_ID: u32 = 1;

pub struct RawClient {
    pub stream: TcpStream,
    session: ClientSession,
}

/// Connects and completes the RTMP handshake; returns the socket and bytes received
/// after the handshake.
pub fn handshake(addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect to the ingest server");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut handshake = Handshake::new(PeerType::Client);
    stream.write_all(&handshake.generate_outbound_p0_and_p1().unwrap()).unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).expect("read the server handshake");
        assert!(n > 0, "the server closed the connection during the handshake");
        match handshake.process_bytes(&buffer[..n]).expect("a valid server handshake") {
            HandshakeProcessResult::InProgress { response_bytes } => stream.write_all(&response_bytes).unwrap(),
            HandshakeProcessResult::Completed { response_bytes, remaining_bytes } => {
                stream.write_all(&response_bytes).unwrap();
                return (stream, remaining_bytes);
            }
        }
    }
}

impl RawClient {
    /// Handshakes, connects to `app` and publishes on `key`; panics unless the server
    /// accepts both.
    pub fn publish(addr: SocketAddr, app: &str, key: &str) -> RawClient {
        let (stream, remaining) = handshake(addr);
        let (session, results) = ClientSession::new(ClientSessionConfig::new()).unwrap();
        let mut client = RawClient { stream, session };
        client.send_results(results);
        client.handle(&remaining);
        let request = client.session.request_connection(app.to_owned()).unwrap();
        client.send_results(vec![request]);
        client.wait_for(|e| matches!(e, ClientSessionEvent::ConnectionRequestAccepted));
        let request = client.session.request_publishing(key.to_owned(), PublishRequestType::Live).unwrap();
        client.send_results(vec![request]);
        client.wait_for(|e| matches!(e, ClientSessionEvent::PublishRequestAccepted));
        client
    }

    /// Sends `message` on `stream_id` with a full chunk header (so it does not depend
    /// on the session's header compression), in chunks of 128 bytes.
    pub fn send_message(&mut self, message: RtmpMessage, stream_id: u32) {
        let payload = message.into_message_payload(RtmpTimestamp::new(0), stream_id).unwrap();
        let packet = ChunkSerializer::new().serialize(&payload, true, false).unwrap();
        self.stream.write_all(&packet.bytes).unwrap();
    }

    /// True when the server closes the connection within `timeout`.
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        closed_within(&mut self.stream, timeout)
    }

    fn send_results(&mut self, results: Vec<ClientSessionResult>) -> Vec<ClientSessionEvent> {
        let mut events = Vec::new();
        for result in results {
            match result {
                ClientSessionResult::OutboundResponse(packet) => self.stream.write_all(&packet.bytes).unwrap(),
                ClientSessionResult::RaisedEvent(event) => events.push(event),
                ClientSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        events
    }

    fn handle(&mut self, bytes: &[u8]) -> Vec<ClientSessionEvent> {
        let results = self.session.handle_input(bytes).expect("valid RTMP from the server");
        self.send_results(results)
    }

    fn wait_for(&mut self, wanted: impl Fn(&ClientSessionEvent) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buffer = [0u8; 4096];
        while Instant::now() < deadline {
            let n = self.stream.read(&mut buffer).expect("read from the server");
            assert!(n > 0, "the server closed the connection");
            if self.handle(&buffer[..n]).iter().any(&wanted) {
                return;
            }
        }
        panic!("the server did not answer in time");
    }
}

/// True when the peer closes `stream` within `timeout` (data it sends is discarded).
pub fn closed_within(stream: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// An ffmpeg process, killed when dropped.
pub struct Publisher(pub Child);

impl Publisher {
    /// ffmpeg publishing 320x240 0x20C040 at 30 fps in real time to `url` for up to a
    /// minute, with an AAC sine tone when `audio`.
    pub fn start(url: &str, audio: bool) -> Publisher {
        Publisher::start_for(url, audio, 60)
    }

    /// Like [`Publisher::start`], ending cleanly after `seconds`.
    pub fn start_for(url: &str, audio: bool, seconds: u32) -> Publisher {
        let mut command = Command::new("ffmpeg");
        command.args(["-hide_banner", "-loglevel", "error", "-re"]);
        command.args(["-f", "lavfi", "-i", "color=c=0x20C040:s=320x240:r=30"]);
        if audio {
            command.args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]);
        }
        command.args(["-t", &seconds.to_string(), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"]);
        command.args(["-pix_fmt", "yuv420p", "-g", "30"]);
        if audio {
            command.args(["-c:a", "aac"]);
        }
        command.args(["-f", "flv", url]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        Publisher(command.spawn().expect("spawn ffmpeg"))
    }

    pub fn exit_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// 64 KiB of deterministic noise.
pub fn noise(seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// An AMF0 `connect` command whose command object nests objects `depth` deep (never
/// closed): about 4 bytes per level.
pub fn nested_connect(depth: usize) -> Vec<u8> {
    let mut body = vec![0x02, 0, 7];
    body.extend_from_slice(b"connect");
    body.push(0x00);
    body.extend_from_slice(&1f64.to_be_bytes());
    for _ in 0..depth {
        body.extend_from_slice(&[0x03, 0, 1, b'a']);
    }
    body
}

/// `body` as one type-20 (AMF0 command) message on chunk stream 3, 128-byte chunks.
pub fn command_chunks(body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut bytes = vec![0x03, 0, 0, 0, len[1], len[2], len[3], 20, 0, 0, 0, 0];
    for (index, chunk) in body.chunks(128).enumerate() {
        if index > 0 {
            bytes.push(0xC3);
        }
        bytes.extend_from_slice(chunk);
    }
    bytes
}
