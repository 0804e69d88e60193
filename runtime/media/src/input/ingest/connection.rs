//! One RTMP client, on its own thread: the handshake, the `rml_rtmp` server session,
//! and at most one publish at a time, whose video messages go to a [`Decoder`].
//!
//! Everything the client sends is untrusted: bytes pass the [`ChunkGuard`] before the
//! session parses them, every `rml_rtmp` call runs under `catch_unwind`, reads time out
//! (a silent client is dropped after [`super::INGEST_IDLE_TIMEOUT`], one that never
//! publishes after [`super::INGEST_PUBLISH_DEADLINE`]) and anything malformed closes
//! only this connection. Each connection ends with exactly one report: `Unpublished`
//! if it went live, otherwise `Rejected`. It must not log or report a stream key.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use showrunner_assets::LiveInputs;

use super::chunk_guard::ChunkGuard;
use super::decoder::{Decoder, Pushed};
use super::registry::{Refusal, Registry};
use super::{INGEST_IDLE_TIMEOUT as IDLE_TIMEOUT, INGEST_PUBLISH_DEADLINE as PUBLISH_DEADLINE};
use crate::input::{AudioFeed, InputEvent, InputEvents, InputState};

/// How often a waiting read wakes to check deadlines and the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// A client that does not read our replies for this long is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const READ_BUFFER: usize = 64 * 1024;
/// Longest client-supplied text (an application name) quoted in a report.
const MAX_QUOTED: usize = 64;

/// What every connection thread of one server shares.
pub(crate) struct Shared {
    pub(crate) app: String,
    pub(crate) registry: Registry,
    pub(crate) inputs: LiveInputs,
    pub(crate) events: InputEvents,
    /// Inputs whose decoded audio feeds the programme audio, by input name.
    pub(crate) audio_feeds: std::sync::Mutex<std::collections::HashMap<String, AudioFeed>>,
    pub(crate) stopping: AtomicBool,
}

impl Shared {
    fn audio_feed(&self, input: &str) -> Option<AudioFeed> {
        self.audio_feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(input).cloned()
    }
}

/// Why a connection ended; `reported` when a `Rejected` event already said so.
struct Ended {
    reason: String,
    reported: bool,
}

fn closed(reason: impl Into<String>) -> Ended {
    Ended { reason: reason.into(), reported: false }
}

struct Publish {
    input: String,
    stream_key: String,
    decoder: Decoder,
    video: u64,
    dropped: u64,
}

struct Connection<'a> {
    id: u64,
    peer: String,
    stream: TcpStream,
    shared: &'a Shared,
    handshake: Handshake,
    session: Option<(ServerSession, ChunkGuard)>,
    publish: Option<Publish>,
    published_once: bool,
    connected_at: Instant,
    last_bytes: Instant,
    audio_messages: u64,
}

/// Serves one accepted client until it leaves, misbehaves or the server stops.
pub(crate) fn serve(id: u64, stream: TcpStream, peer: String, shared: &Shared) {
    let now = Instant::now();
    let mut connection = Connection {
        id,
        peer,
        stream,
        shared,
        handshake: Handshake::new(PeerType::Server),
        session: None,
        publish: None,
        published_once: false,
        connected_at: now,
        last_bytes: now,
        audio_messages: 0,
    };
    let ended = catch_unwind(AssertUnwindSafe(|| connection.run()))
        .unwrap_or_else(|_| closed("the connection handler failed unexpectedly"));
    connection.finish(ended);
}

impl Connection<'_> {
    fn run(&mut self) -> Ended {
        let configured = self
            .stream
            .set_read_timeout(Some(POLL))
            .and_then(|()| self.stream.set_write_timeout(Some(WRITE_TIMEOUT)))
            .and_then(|()| self.stream.set_nodelay(true));
        if let Err(err) = configured {
            return closed(format!("cannot configure the socket: {err}"));
        }
        let mut buffer = vec![0u8; READ_BUFFER];
        loop {
            if self.shared.stopping.load(Ordering::Relaxed) {
                return closed("the ingest server stopped");
            }
            if let Some(failure) = self.publish.as_ref().and_then(|p| p.decoder.failure()) {
                return closed(format!("decoding failed: {failure}"));
            }
            match self.stream.read(&mut buffer) {
                Ok(0) => return closed("the client closed the connection"),
                Ok(n) => {
                    self.last_bytes = Instant::now();
                    if let Err(ended) = self.receive(&buffer[..n]) {
                        return ended;
                    }
                }
                Err(err)
                    if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(err) => return closed(format!("the connection was lost: {err}")),
            }
            if self.last_bytes.elapsed() > IDLE_TIMEOUT {
                return closed(format!("the client sent nothing for {} s", IDLE_TIMEOUT.as_secs()));
            }
            if !self.published_once && self.connected_at.elapsed() > PUBLISH_DEADLINE {
                return closed(format!("the client did not start publishing within {} s", PUBLISH_DEADLINE.as_secs()));
            }
        }
    }

    fn receive(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        let Some((session, guard)) = self.session.as_mut() else { return self.receive_handshake(bytes) };
        guard.check(bytes).map_err(|violation| closed(format!("malformed RTMP: {violation}")))?;
        let results = guarded(|| session.handle_input(bytes))?;
        self.handle_results(results)
    }

    fn receive_handshake(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        let handshake = &mut self.handshake;
        let outcome = catch_unwind(AssertUnwindSafe(|| handshake.process_bytes(bytes)))
            .map_err(|_| closed("malformed RTMP handshake"))?
            .map_err(|err| closed(format!("malformed RTMP handshake: {err}")))?;
        match outcome {
            HandshakeProcessResult::InProgress { response_bytes } => self.send(&response_bytes),
            HandshakeProcessResult::Completed { response_bytes, remaining_bytes } => {
                self.send(&response_bytes)?;
                let (session, results) = guarded(|| ServerSession::new(ServerSessionConfig::new()))?;
                self.session = Some((session, ChunkGuard::default()));
                self.handle_results(results)?;
                if remaining_bytes.is_empty() { Ok(()) } else { self.receive(&remaining_bytes) }
            }
        }
    }

    fn handle_results(&mut self, results: Vec<ServerSessionResult>) -> Result<(), Ended> {
        for result in results {
            match result {
                ServerSessionResult::OutboundResponse(packet) => self.send(&packet.bytes)?,
                ServerSessionResult::RaisedEvent(event) => self.on_event(event)?,
                ServerSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        Ok(())
    }

    /// Runs `op` on the session and sends what it produced.
    fn session_do(
        &mut self,
        op: impl FnOnce(&mut ServerSession) -> Result<Vec<ServerSessionResult>, rml_rtmp::sessions::ServerSessionError>,
    ) -> Result<(), Ended> {
        let Some((session, _)) = self.session.as_mut() else { return Ok(()) };
        let results = guarded(|| op(session))?;
        self.handle_results(results)
    }

    fn on_event(&mut self, event: ServerSessionEvent) -> Result<(), Ended> {
        match event {
            ServerSessionEvent::ConnectionRequested { request_id, app_name } => {
                if app_name == self.shared.app {
                    return self.session_do(|s| s.accept_request(request_id));
                }
                self.session_do(|s| {
                    s.reject_request(request_id, "NetConnection.Connect.Rejected", "unknown application")
                })?;
                Err(self.refuse(format!("unknown application `{}`", quote(&app_name))))
            }
            ServerSessionEvent::PublishStreamRequested { request_id, stream_key, .. } => {
                self.on_publish(request_id, stream_key)
            }
            ServerSessionEvent::PublishStreamFinished { stream_key, .. } => {
                if self.publish.as_ref().is_some_and(|p| p.stream_key == stream_key) {
                    self.end_publish("the publisher stopped publishing");
                }
                Ok(())
            }
            ServerSessionEvent::VideoDataReceived { stream_key, data, timestamp, .. } => {
                let Some(publish) = self.publish.as_mut().filter(|p| p.stream_key == stream_key) else { return Ok(()) };
                match publish.decoder.push_video(timestamp.value, &data) {
                    Ok(Pushed::Queued) => publish.video += 1,
                    Ok(Pushed::Dropped) => publish.dropped += 1,
                    Err(failure) => return Err(closed(format!("decoding failed: {failure}"))),
                }
                Ok(())
            }
            ServerSessionEvent::AudioDataReceived { stream_key, data, timestamp, .. } => {
                self.audio_messages += 1;
                let Some(publish) = self.publish.as_mut().filter(|p| p.stream_key == stream_key) else { return Ok(()) };
                if let Err(failure) = publish.decoder.push_audio(timestamp.value, &data) {
                    return Err(closed(format!("decoding failed: {failure}")));
                }
                Ok(())
            }
            ServerSessionEvent::PlayStreamRequested { request_id, .. } => {
                self.session_do(|s| s.reject_request(request_id, "NetStream.Play.Failed", "this server only ingests"))?;
                Err(self.refuse("play requests are refused: this server only accepts publishers".into()))
            }
            _ => Ok(()),
        }
    }

    fn on_publish(&mut self, request_id: u32, stream_key: String) -> Result<(), Ended> {
        let masked = self.shared.registry.masked("key");
        if self.publish.is_some() {
            self.session_do(|s| s.reject_request(request_id, "NetStream.Publish.BadName", "already publishing"))?;
            return Err(self.refuse(format!("a second publish on one connection ({masked})")));
        }
        let input = match self.shared.registry.claim(&stream_key, self.id, &self.peer) {
            Ok(input) => input,
            Err(refusal) => {
                self.session_do(|s| s.reject_request(request_id, "NetStream.Publish.BadName", "stream key refused"))?;
                return Err(self.refuse(match refusal {
                    Refusal::UnknownKey => format!("unknown stream key ({masked})"),
                    Refusal::Busy { input } => format!("input `{input}` already has a publisher ({masked})"),
                }));
            }
        };
        let decoder = match Decoder::start(&input, self.shared.inputs.clone(), self.shared.audio_feed(&input)) {
            Ok(decoder) => decoder,
            Err(err) => {
                self.shared.registry.release(self.id, false);
                tracing::error!(%input, %err, "cannot start decoding an ingest feed");
                self.session_do(|s| s.reject_request(request_id, "NetStream.Publish.Failed", "cannot decode"))?;
                return Err(self.refuse(format!("input `{input}` cannot decode: {err}")));
            }
        };
        self.shared.registry.attach(self.id, decoder.counters());
        self.publish = Some(Publish { input: input.clone(), stream_key, decoder, video: 0, dropped: 0 });
        self.published_once = true;
        tracing::info!(%input, peer = %self.peer, "ingest publisher live");
        let events = &self.shared.events;
        events.send(InputEvent::Published { name: input.clone(), peer: self.peer.clone() });
        events.send(InputEvent::StateChanged { name: input, state: InputState::Live { peer: self.peer.clone() } });
        self.session_do(|s| s.accept_request(request_id))
    }

    /// Stops the decoder (no frame arrives after this), hides the input and reports.
    fn end_publish(&mut self, reason: &str) {
        let Some(publish) = self.publish.take() else { return };
        let Publish { input, decoder, video, dropped, .. } = publish;
        drop(decoder);
        self.shared.inputs.clear(&input);
        if let Some(feed) = self.shared.audio_feed(&input) {
            feed.clear();
        }
        let key_kept = self.shared.registry.release(self.id, true);
        let reason = if !key_kept {
            "the stream key was removed"
        } else if self.shared.stopping.load(Ordering::Relaxed) {
            "the ingest server stopped"
        } else {
            reason
        };
        tracing::info!(%input, peer = %self.peer, video, dropped, audio = self.audio_messages, %reason, "ingest publisher gone");
        self.shared.events.send(InputEvent::Unpublished { name: input.clone(), reason: reason.to_owned() });
        if key_kept {
            self.shared.events.send(InputEvent::StateChanged { name: input, state: InputState::Waiting });
        }
    }

    /// Reports a refusal now; the connection then closes.
    fn refuse(&self, reason: String) -> Ended {
        tracing::info!(peer = %self.peer, %reason, "ingest connection refused");
        self.shared.events.send(InputEvent::Rejected { peer: self.peer.clone(), reason: reason.clone() });
        Ended { reason, reported: true }
    }

    fn finish(&mut self, ended: Ended) {
        if self.publish.is_some() {
            self.end_publish(&ended.reason);
        } else if !self.published_once && !ended.reported {
            let reason =
                if self.shared.stopping.load(Ordering::Relaxed) { "the ingest server stopped" } else { &ended.reason };
            let _ = self.refuse(reason.to_owned());
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        self.stream.write_all(bytes).map_err(|err| closed(format!("cannot send to the client: {err}")))
    }
}

/// Runs an `rml_rtmp` call that parses client input; an error or a panic inside it
/// becomes the reason the connection closes.
fn guarded<T, E: std::fmt::Display>(op: impl FnOnce() -> Result<T, E>) -> Result<T, Ended> {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(closed(format!("malformed RTMP: {err}"))),
        Err(_) => Err(closed("malformed RTMP: the RTMP parser could not handle it")),
    }
}

/// Client-supplied text made safe to show: at most [`MAX_QUOTED`] characters, escaped.
fn quote(text: &str) -> String {
    let mut quoted: String = text.chars().take(MAX_QUOTED).flat_map(char::escape_debug).collect();
    if text.chars().count() > MAX_QUOTED {
        quoted.push('…');
    }
    quoted
}
