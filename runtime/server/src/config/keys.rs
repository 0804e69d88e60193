//! The table of settings: each key's dotted name, environment variable, allowed values,
//! how a raw value (environment text or a TOML value) becomes a typed field, and the
//! range check. Loading and validation both go through here, so a rule lives once.
//! It must not read files or the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::ServeConfig;
use super::error::{ConfigError, SettingOrigin};

/// The log levels `log_level` accepts.
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];
/// Bounds of `max_module_bytes`.
pub const MODULE_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1024..=256 * 1024 * 1024;
/// Bounds of `max_body_bytes`.
pub const BODY_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1024..=16 * 1024 * 1024;
/// Longest accepted token.
pub const MAX_TOKEN_LEN: usize = 1024;

/// One setting of [`ServeConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Listen,
    DataDir,
    Token,
    AllowUnauthenticated,
    MaxModuleBytes,
    MaxBodyBytes,
    LogLevel,
    IngestListen,
    OutputWidth,
    OutputHeight,
    OutputFps,
    OutputBitrateKbps,
    Redis,
    NodeId,
    ClusterName,
}

/// A value before it is typed: text from the environment, or a TOML value from the file.
pub enum RawValue<'a> {
    Text(&'a str),
    Toml(&'a toml::Value),
}

impl RawValue<'_> {
    /// The value as the user wrote it, quoted, for error messages.
    fn shown(&self) -> String {
        match self {
            RawValue::Text(text) => format!("{text:?}"),
            RawValue::Toml(value) => value.to_string(),
        }
    }

    fn as_text(&self) -> Option<&str> {
        match self {
            RawValue::Text(text) => Some(text),
            RawValue::Toml(value) => value.as_str(),
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            RawValue::Text(text) => text.trim().parse().ok(),
            RawValue::Toml(value) => value.as_integer().and_then(|n| u64::try_from(n).ok()),
        }
    }

    fn as_u32(&self) -> Option<u32> {
        self.as_u64().and_then(|n| u32::try_from(n).ok())
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            RawValue::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            RawValue::Toml(value) => value.as_bool(),
        }
    }
}

impl Key {
    /// Every setting, in the order the file and the display list them.
    pub const ALL: [Key; 15] = [
        Key::Listen,
        Key::DataDir,
        Key::Token,
        Key::AllowUnauthenticated,
        Key::MaxModuleBytes,
        Key::MaxBodyBytes,
        Key::LogLevel,
        Key::IngestListen,
        Key::OutputWidth,
        Key::OutputHeight,
        Key::OutputFps,
        Key::OutputBitrateKbps,
        Key::Redis,
        Key::NodeId,
        Key::ClusterName,
    ];

    /// The dotted name in the TOML file, e.g. `output.fps`.
    pub fn path(self) -> &'static str {
        match self {
            Key::Listen => "listen",
            Key::IngestListen => "ingest_listen",
            Key::DataDir => "data_dir",
            Key::Token => "token",
            Key::AllowUnauthenticated => "allow_unauthenticated",
            Key::MaxModuleBytes => "max_module_bytes",
            Key::MaxBodyBytes => "max_body_bytes",
            Key::LogLevel => "log_level",
            Key::OutputWidth => "output.width",
            Key::OutputHeight => "output.height",
            Key::OutputFps => "output.fps",
            Key::OutputBitrateKbps => "output.bitrate_kbps",
            Key::Redis => "redis",
            Key::NodeId => "node_id",
            Key::ClusterName => "cluster_name",
        }
    }

    /// The environment variable, e.g. `SHOWRUNNER_OUTPUT_FPS`.
    pub fn env(self) -> &'static str {
        match self {
            Key::Listen => "SHOWRUNNER_LISTEN",
            Key::IngestListen => "SHOWRUNNER_INGEST_LISTEN",
            Key::DataDir => "SHOWRUNNER_DATA_DIR",
            Key::Token => "SHOWRUNNER_TOKEN",
            Key::AllowUnauthenticated => "SHOWRUNNER_ALLOW_UNAUTHENTICATED",
            Key::MaxModuleBytes => "SHOWRUNNER_MAX_MODULE_BYTES",
            Key::MaxBodyBytes => "SHOWRUNNER_MAX_BODY_BYTES",
            Key::LogLevel => "SHOWRUNNER_LOG_LEVEL",
            Key::OutputWidth => "SHOWRUNNER_OUTPUT_WIDTH",
            Key::OutputHeight => "SHOWRUNNER_OUTPUT_HEIGHT",
            Key::OutputFps => "SHOWRUNNER_OUTPUT_FPS",
            Key::OutputBitrateKbps => "SHOWRUNNER_OUTPUT_BITRATE_KBPS",
            Key::Redis => "SHOWRUNNER_REDIS",
            Key::NodeId => "SHOWRUNNER_NODE_ID",
            Key::ClusterName => "SHOWRUNNER_CLUSTER_NAME",
        }
    }

    /// What values are accepted, in words.
    pub fn allowed(self) -> &'static str {
        match self {
            Key::Listen => "an IP address and port, e.g. 127.0.0.1:8080 or [::1]:8080",
            Key::IngestListen => "an IP address and port for RTMP publishers, e.g. 127.0.0.1:1935 or 0.0.0.0:1935",
            Key::DataDir => "a non-empty directory path",
            Key::Token => "1 to 1024 visible ASCII characters (no spaces)",
            Key::AllowUnauthenticated => "true or false",
            Key::MaxModuleBytes => "an integer from 1024 (1 KiB) to 268435456 (256 MiB)",
            Key::MaxBodyBytes => "an integer from 1024 (1 KiB) to 16777216 (16 MiB)",
            Key::LogLevel => "one of error, warn, info, debug, trace",
            Key::OutputWidth => "an even integer from 16 to 7680",
            Key::OutputHeight => "an even integer from 16 to 4320",
            Key::OutputFps => "an integer from 1 to 120",
            Key::OutputBitrateKbps => "an integer from 200 to 50000",
            Key::Redis => "a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/",
            Key::NodeId => "1 to 64 of A-Z, a-z, 0-9, `-`, `_` and `.`",
            Key::ClusterName => "1 to 64 of A-Z, a-z, 0-9, `-`, `_` and `.`",
        }
    }

    /// The key for a file path (`listen`, `output.fps`), if it is one.
    pub fn from_path(path: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.path() == path)
    }

    /// The key for an environment variable name, if it is one.
    pub fn from_env(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.env() == name)
    }

    /// How this key is named in an error for a value from `origin`.
    pub fn describe(self, origin: &SettingOrigin) -> String {
        match origin {
            SettingOrigin::Resolved => self.path().to_owned(),
            SettingOrigin::File(file) => format!("`{}` in {}", self.path(), file.display()),
            SettingOrigin::Env => self.env().to_owned(),
            SettingOrigin::Flag => format!("--{}", self.path().replace('_', "-")),
        }
    }

    fn invalid(self, origin: &SettingOrigin, value: String) -> ConfigError {
        ConfigError::InvalidValue {
            setting: self.describe(origin),
            value,
            allowed: self.allowed(),
        }
    }

    /// Parses `raw`, stores it in `config` and checks its range.
    pub fn apply(
        self,
        config: &mut ServeConfig,
        raw: &RawValue<'_>,
        origin: &SettingOrigin,
    ) -> Result<(), ConfigError> {
        let bad = || self.invalid(origin, raw.shown());
        match self {
            Key::Listen => {
                let text = raw.as_text().ok_or_else(bad)?;
                config.listen = text.trim().parse::<SocketAddr>().map_err(|_| bad())?;
            }
            Key::IngestListen => {
                let text = raw.as_text().ok_or_else(bad)?;
                config.ingest_listen = text.trim().parse::<SocketAddr>().map_err(|_| bad())?;
            }
            Key::DataDir => config.data_dir = PathBuf::from(raw.as_text().ok_or_else(bad)?),
            Key::Token => config.token = Some(raw.as_text().ok_or_else(bad)?.to_owned()),
            Key::AllowUnauthenticated => {
                config.allow_unauthenticated = raw.as_bool().ok_or_else(bad)?;
            }
            Key::MaxModuleBytes => config.max_module_bytes = raw.as_u64().ok_or_else(bad)?,
            Key::MaxBodyBytes => config.max_body_bytes = raw.as_u64().ok_or_else(bad)?,
            Key::LogLevel => {
                config.log_level = raw.as_text().ok_or_else(bad)?.trim().to_ascii_lowercase();
            }
            Key::OutputWidth => config.output.width = raw.as_u32().ok_or_else(bad)?,
            Key::OutputHeight => config.output.height = raw.as_u32().ok_or_else(bad)?,
            Key::OutputFps => config.output.fps = raw.as_u32().ok_or_else(bad)?,
            Key::OutputBitrateKbps => config.output.bitrate_kbps = raw.as_u32().ok_or_else(bad)?,
            Key::Redis => config.redis = Some(raw.as_text().ok_or_else(bad)?.trim().to_owned()),
            Key::NodeId => config.node_id = Some(raw.as_text().ok_or_else(bad)?.trim().to_owned()),
            Key::ClusterName => config.cluster_name = raw.as_text().ok_or_else(bad)?.trim().to_owned(),
        }
        if self.violation(config).is_some() {
            return Err(bad());
        }
        Ok(())
    }

    /// Checks this key's value in `config`; an error names it as `origin` says.
    pub fn check(self, config: &ServeConfig, origin: &SettingOrigin) -> Result<(), ConfigError> {
        match self.violation(config) {
            Some(value) => Err(self.invalid(origin, value)),
            None => Ok(()),
        }
    }

    /// The value, quoted, when it is outside what [`Key::allowed`] says.
    fn violation(self, config: &ServeConfig) -> Option<String> {
        let output = &config.output;
        let ok = match self {
            Key::Listen | Key::IngestListen | Key::AllowUnauthenticated => true,
            Key::DataDir => !config.data_dir.as_os_str().is_empty(),
            Key::Token => config.token.as_deref().is_none_or(token_is_well_formed),
            Key::MaxModuleBytes => MODULE_BYTES_RANGE.contains(&config.max_module_bytes),
            Key::MaxBodyBytes => BODY_BYTES_RANGE.contains(&config.max_body_bytes),
            Key::LogLevel => LOG_LEVELS.contains(&config.log_level.as_str()),
            Key::OutputWidth => {
                (16..=7680).contains(&output.width) && output.width.is_multiple_of(2)
            }
            Key::OutputHeight => {
                (16..=4320).contains(&output.height) && output.height.is_multiple_of(2)
            }
            Key::OutputFps => (1..=120).contains(&output.fps),
            Key::OutputBitrateKbps => (200..=50_000).contains(&output.bitrate_kbps),
            Key::Redis => config.redis.as_deref().is_none_or(|url| url.starts_with("redis://") || url.starts_with("rediss://")),
            Key::NodeId => config.node_id.as_deref().is_none_or(is_cluster_name),
            Key::ClusterName => is_cluster_name(&config.cluster_name),
        };
        if ok {
            return None;
        }
        Some(match self {
            Key::Listen => config.listen.to_string(),
            Key::IngestListen => config.ingest_listen.to_string(),
            Key::DataDir => format!("{:?}", config.data_dir.display().to_string()),
            Key::Token => "the token (not shown)".to_owned(),
            Key::AllowUnauthenticated => config.allow_unauthenticated.to_string(),
            Key::MaxModuleBytes => config.max_module_bytes.to_string(),
            Key::MaxBodyBytes => config.max_body_bytes.to_string(),
            Key::LogLevel => format!("{:?}", config.log_level),
            Key::OutputWidth => output.width.to_string(),
            Key::OutputHeight => output.height.to_string(),
            Key::OutputFps => output.fps.to_string(),
            Key::OutputBitrateKbps => output.bitrate_kbps.to_string(),
            Key::Redis => "the Redis URL (not shown: it may hold a password)".to_owned(),
            Key::NodeId => format!("{:?}", config.node_id.as_deref().unwrap_or_default()),
            Key::ClusterName => format!("{:?}", config.cluster_name),
        })
    }
}

/// Whether `name` can name a node or a cluster: 1 to 64 of A-Z, a-z, 0-9, `-`, `_`, `.`.
pub fn is_cluster_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Whether `token` can be sent as a bearer token: 1 to 1024 visible ASCII characters.
pub fn token_is_well_formed(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_LEN && token.bytes().all(|b| b.is_ascii_graphic())
}

/// Every setting's dotted name, comma-separated, for error messages.
pub fn known_paths() -> String {
    Key::ALL.map(Key::path).join(", ")
}

/// Every setting's environment variable, comma-separated, for error messages.
pub fn known_envs() -> String {
    Key::ALL.map(Key::env).join(", ")
}
