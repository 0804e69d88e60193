//! What a changed config means for a running server: which settings differ, and of
//! those, which a running server takes at once ([`Key::applies_live`]: the encoder
//! bitrate, the log level, the request size limits) and which wait for a restart
//! (addresses, the data dir, the token, the output's size and rate).
//!
//! Must not: apply anything (the `serve` command does), or read files.

use super::{Key, ServeConfig};

/// The settings that differ between two configs, split by when they take effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChange {
    /// Changed settings a running server applies at once.
    pub live: Vec<Key>,
    /// Changed settings that need a restart.
    pub restart: Vec<Key>,
}

impl ConfigChange {
    pub fn is_empty(&self) -> bool {
        self.live.is_empty() && self.restart.is_empty()
    }

    /// Dotted names, for messages and events.
    pub fn names(keys: &[Key]) -> Vec<String> {
        keys.iter().map(|key| key.path().to_string()).collect()
    }
}

impl Key {
    /// Whether a running server applies a change of this setting without a restart.
    pub fn applies_live(self) -> bool {
        matches!(self, Key::LogLevel | Key::OutputBitrateKbps | Key::MaxModuleBytes | Key::MaxBodyBytes)
    }
}

/// Whether `key` has the same value in both configs.
fn same(key: Key, a: &ServeConfig, b: &ServeConfig) -> bool {
    match key {
        Key::Listen => a.listen == b.listen,
        Key::DataDir => a.data_dir == b.data_dir,
        Key::Token => a.token == b.token,
        Key::AllowUnauthenticated => a.allow_unauthenticated == b.allow_unauthenticated,
        Key::MaxModuleBytes => a.max_module_bytes == b.max_module_bytes,
        Key::MaxBodyBytes => a.max_body_bytes == b.max_body_bytes,
        Key::LogLevel => a.log_level == b.log_level,
        Key::IngestListen => a.ingest_listen == b.ingest_listen,
        Key::OutputWidth => a.output.width == b.output.width,
        Key::OutputHeight => a.output.height == b.output.height,
        Key::OutputFps => a.output.fps == b.output.fps,
        Key::OutputBitrateKbps => a.output.bitrate_kbps == b.output.bitrate_kbps,
        Key::Redis => a.redis == b.redis,
        Key::NodeId => a.node_id == b.node_id,
        Key::ClusterName => a.cluster_name == b.cluster_name,
    }
}

/// The settings `new` changes relative to `running`, in [`Key::ALL`] order.
pub fn config_change(running: &ServeConfig, new: &ServeConfig) -> ConfigChange {
    let (live, restart) = Key::ALL.into_iter().filter(|key| !same(*key, running, new)).partition(|key| key.applies_live());
    ConfigChange { live, restart }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_split_into_live_and_restart() {
        let running = ServeConfig::default();
        assert!(config_change(&running, &running).is_empty());
        let mut new = running.clone();
        new.log_level = "debug".into();
        new.output.bitrate_kbps += 500;
        new.output.fps = 60;
        new.max_body_bytes *= 2;
        new.token = Some("another-token-of-enough-length".into());
        let change = config_change(&running, &new);
        assert_eq!(change.live, [Key::MaxBodyBytes, Key::LogLevel, Key::OutputBitrateKbps]);
        assert_eq!(change.restart, [Key::Token, Key::OutputFps]);
        assert_eq!(ConfigChange::names(&change.restart), ["token", "output.fps"]);
    }
}
