//! The embedded RTMP ingest server: cameras, encoders and remote guests publish to
//! `rtmp://HOST:PORT/APP/KEY`; each known stream key feeds one named input, whose
//! decoded video lands in [`LiveInputs`] for `video` ops.
//!
//! A listener thread accepts at most `max_connections` clients, each served on its own
//! thread (see `connection`); this module owns the settings, starting and stopping
//! (closing the listener and every connection, joining every thread, within a fraction
//! of a second), and changing keys while running. It must not log or report a full
//! stream key, and nothing a client sends may stop the server.
//!
//! ```no_run
//! use showrunner_assets::LiveInputs;
//! use showrunner_media::{IngestKey, IngestServer, IngestSettings, InputEvents};
//! # fn main() -> Result<(), showrunner_media::MediaError> {
//! let settings = IngestSettings {
//!     keys: vec![IngestKey { input: "cam1".into(), key: "s3cret-cam1".into() }],
//!     ..IngestSettings::default()
//! };
//! let server = IngestServer::start(settings, LiveInputs::new(), InputEvents::default())?;
//! println!("publish to rtmp://{}/live/<key>", server.local_addr());
//! # Ok(())
//! # }
//! ```

mod chunk_guard;
mod connection;
mod decoder;
mod registry;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use showrunner_assets::LiveInputs;

use connection::Shared;
use registry::Registry;

use crate::MediaError;
use crate::input::{AudioFeed, InputEvent, InputEvents, InputState, InputStatus};

/// A client that sends nothing for this long is disconnected.
pub const INGEST_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// A client must have started publishing this long after connecting.
pub const INGEST_PUBLISH_DEADLINE: Duration = Duration::from_secs(10);
/// How often the listener wakes to notice a stop when nobody connects.
const ACCEPT_POLL: Duration = Duration::from_millis(20);
/// Pause after a failed accept (out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(200);
/// Stack of a connection thread: room for `rml_rtmp`'s recursive AMF0 parser on the
/// deepest value a command message under the chunk guard's 8 KiB cap can hold (about
/// 2000 levels; 4000 levels overflow the default 2 MiB stack in a release build and
/// fit in 4 MiB). Untouched stack pages cost no memory.
const CONNECTION_STACK: usize = 16 * 1024 * 1024;

/// How the ingest server listens and which keys it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestSettings {
    /// Address to listen on; port 0 picks a free one ([`IngestServer::local_addr`]).
    pub listen: SocketAddr,
    /// The RTMP application publishers connect to (`live` in `rtmp://HOST/live/KEY`).
    pub app: String,
    pub keys: Vec<IngestKey>,
    /// Clients connected at once; more are refused with a `Rejected` event.
    pub max_connections: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 1935)),
            app: "live".into(),
            keys: Vec::new(),
            max_connections: 16,
        }
    }
}

/// One stream key and the input it feeds. `Debug` masks the key.
#[derive(Clone, PartialEq, Eq)]
pub struct IngestKey {
    /// The name `video` ops draw the feed by.
    pub input: String,
    /// The secret stream key the publisher puts at the end of its URL.
    pub key: String,
}

impl std::fmt::Debug for IngestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestKey").field("input", &self.input).field("key", &"****").finish()
    }
}

/// A client's thread and a handle on its socket (to close it from outside).
struct Client {
    stream: TcpStream,
    thread: JoinHandle<()>,
}

type Clients = Arc<Mutex<HashMap<u64, Client>>>;

fn lock(clients: &Clients) -> MutexGuard<'_, HashMap<u64, Client>> {
    clients.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running ingest server; dropping it stops it (as [`IngestServer::stop`] does).
pub struct IngestServer {
    shared: Arc<Shared>,
    clients: Clients,
    local_addr: SocketAddr,
    listener: Option<JoinHandle<()>>,
}

impl IngestServer {
    /// Checks the settings and keys, binds the listener and starts accepting.
    pub fn start(
        settings: IngestSettings,
        inputs: LiveInputs,
        events: InputEvents,
    ) -> Result<IngestServer, MediaError> {
        crate::elements::init()?;
        let app = settings.app.trim_end_matches('/').to_owned();
        if app.is_empty() || app.contains(['/', ' ', '?']) {
            return Err(MediaError::InvalidInput {
                input: "ingest".into(),
                reason: format!(
                    "the RTMP application `{}` must be one non-empty path segment, e.g. `live`",
                    settings.app
                ),
            });
        }
        if settings.max_connections == 0 {
            return Err(MediaError::InvalidInput {
                input: "ingest".into(),
                reason: "max_connections is 0: no publisher could connect".into(),
            });
        }
        let io_error =
            |action, source| MediaError::Io { action, path: PathBuf::from(settings.listen.to_string()), source };
        let listener =
            TcpListener::bind(settings.listen).map_err(|e| io_error("cannot listen for RTMP ingest on", e))?;
        let local_addr = listener.local_addr().map_err(|e| io_error("cannot read the address of", e))?;
        listener.set_nonblocking(true).map_err(|e| io_error("cannot make non-blocking the listener on", e))?;

        let registry = Registry::new(format!("rtmp://{local_addr}/{app}/"));
        for key in settings.keys {
            registry.add(key)?;
        }
        let shared = Arc::new(Shared {
            app,
            registry,
            inputs,
            events,
            audio_feeds: std::sync::Mutex::default(),
            stopping: AtomicBool::new(false),
        });
        let clients = Clients::default();
        let thread = {
            let (shared, clients) = (Arc::clone(&shared), Arc::clone(&clients));
            let max = settings.max_connections;
            std::thread::Builder::new()
                .name("rtmp-ingest".into())
                .spawn(move || accept_loop(&listener, &shared, &clients, max))
                .map_err(|e| io_error("cannot start the ingest thread for", e))?
        };
        tracing::info!(%local_addr, app = %shared.app, "RTMP ingest listening");
        Ok(IngestServer { shared, clients, local_addr, listener: Some(thread) })
    }

    /// The address the server listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// One status per key, in the order the keys were added.
    pub fn statuses(&self) -> Vec<InputStatus> {
        self.shared.registry.statuses(&self.shared.inputs)
    }

    /// Decodes the audio of `input`'s publishers into `feed` (the programme audio) from
    /// its next publish on, or stops with `None`.
    pub fn set_audio_feed(&self, input: &str, feed: Option<AudioFeed>) {
        let mut feeds = self.shared.audio_feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match feed {
            Some(feed) => feeds.insert(input.to_owned(), feed),
            None => feeds.remove(input),
        };
    }

    /// Accepts a new key from now on.
    pub fn add_key(&self, key: IngestKey) -> Result<(), MediaError> {
        let input = key.input.clone();
        self.shared.registry.add(key)?;
        self.shared.events.send(InputEvent::StateChanged { name: input, state: InputState::Waiting });
        Ok(())
    }

    /// Stops accepting the key feeding `input`; a publisher on it is disconnected and
    /// the input cleared before this returns.
    pub fn remove_key(&self, input: &str) -> Result<(), MediaError> {
        if let Some(connection) = self.shared.registry.remove(input)? {
            let client = lock(&self.clients).remove(&connection);
            if let Some(client) = client {
                close(client);
            }
        }
        self.shared.inputs.clear(input);
        self.shared.events.send(InputEvent::StateChanged { name: input.to_owned(), state: InputState::Stopped });
        Ok(())
    }

    /// Closes the listener and every connection and waits for their threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(listener) = self.listener.take() else { return };
        self.shared.stopping.store(true, Ordering::Relaxed);
        if listener.join().is_err() {
            tracing::error!("the RTMP ingest listener thread panicked");
        }
        let clients: Vec<Client> = lock(&self.clients).drain().map(|(_, client)| client).collect();
        for client in &clients {
            let _ = client.stream.shutdown(Shutdown::Both);
        }
        for client in clients {
            close(client);
        }
        for name in self.shared.registry.inputs() {
            self.shared.events.send(InputEvent::StateChanged { name, state: InputState::Stopped });
        }
        tracing::info!(local_addr = %self.local_addr, "RTMP ingest stopped");
    }
}

impl Drop for IngestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Closes a client's socket and waits for its thread to report and exit.
fn close(client: Client) {
    let _ = client.stream.shutdown(Shutdown::Both);
    if client.thread.join().is_err() {
        tracing::error!("an RTMP ingest connection thread panicked");
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, clients: &Clients, max_connections: usize) {
    let mut next_id = 0u64;
    while !shared.stopping.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                next_id += 1;
                admit(next_id, stream, peer, shared, clients, max_connections);
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => {
                tracing::warn!(%err, "RTMP ingest cannot accept a connection");
                std::thread::sleep(ACCEPT_BACKOFF);
            }
        }
    }
}

/// Starts a thread for a new client, unless the server is full.
fn admit(id: u64, stream: TcpStream, peer: SocketAddr, shared: &Arc<Shared>, clients: &Clients, max: usize) {
    let peer = peer.to_string();
    let refuse = |reason: String| {
        tracing::warn!(%peer, %reason, "ingest connection refused");
        shared.events.send(InputEvent::Rejected { peer: peer.clone(), reason });
    };
    let mut clients = lock(clients);
    let finished: Vec<u64> = clients.iter().filter(|(_, c)| c.thread.is_finished()).map(|(id, _)| *id).collect();
    for id in finished {
        if let Some(client) = clients.remove(&id) {
            close(client);
        }
    }
    if clients.len() >= max {
        let _ = stream.shutdown(Shutdown::Both);
        return refuse(format!("too many connections: the server takes {max} at once"));
    }
    let handle = match stream.set_nonblocking(false).and_then(|()| stream.try_clone()) {
        Ok(handle) => handle,
        Err(err) => return refuse(format!("cannot set up the socket: {err}")),
    };
    let thread_shared = Arc::clone(shared);
    let thread_peer = peer.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("rtmp-ingest-{id}"))
        .stack_size(CONNECTION_STACK)
        .spawn(move || connection::serve(id, stream, thread_peer, &thread_shared));
    match spawned {
        Ok(thread) => {
            clients.insert(id, Client { stream: handle, thread });
        }
        Err(err) => refuse(format!("cannot start a thread for the connection: {err}")),
    }
}
