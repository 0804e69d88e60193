//! Settings of `showrunner serve`: what they are ([`ServeConfig`]), where they come from
//! (defaults < TOML file < `SHOWRUNNER_*` environment < flags, see [`ServeConfig::load`]),
//! which values are allowed, how they are shown back without the secret, and the API
//! token ([`ensure_token`], [`token_matches`]).
//!
//! This module owns settings only: values a user sets, and which of them a running
//! server may take from a changed file ([`config_change`]). It must not parse the command line (the binary's `cli` turns flags into
//! [`Overrides`]), open sockets or hold runtime state.

mod error;
mod file;
mod keys;
mod reload;
mod token;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub use error::{ConfigError, SettingOrigin};
pub use keys::{BODY_BYTES_RANGE, Key, LOG_LEVELS, MODULE_BYTES_RANGE};
pub use reload::{ConfigChange, config_change};
pub use token::{
    GENERATED_TOKEN_BYTES, TOKEN_FILE_NAME, TokenSource, ensure_token, token_file, token_matches,
};

use keys::{RawValue, known_envs};

/// `SHOWRUNNER_*` variables that other commands read and `serve` leaves alone.
pub const NON_SETTING_ENV: [&str; 3] = [
    "SHOWRUNNER_CACHE_DIR",
    "SHOWRUNNER_LOG",
    // The path of the TOML file, for a command line that reads `--config` from it.
    "SHOWRUNNER_CONFIG",
];
/// Prefix of the environment variables that configure `serve`.
pub const ENV_PREFIX: &str = "SHOWRUNNER_";

/// Everything `showrunner serve` is configured with.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Where the show database and the generated token live.
    pub data_dir: PathBuf,
    /// Bearer token requests must present; `None` → generated on first serve.
    pub token: Option<String>,
    /// Skip the token check; only allowed on a loopback `listen` address.
    pub allow_unauthenticated: bool,
    /// Largest accepted Wasm module upload, in bytes.
    pub max_module_bytes: u64,
    /// Largest accepted JSON request body, in bytes.
    pub max_body_bytes: u64,
    /// One of [`LOG_LEVELS`].
    pub log_level: String,
    /// Address the RTMP ingest server listens on (it starts with the first ingest input).
    pub ingest_listen: SocketAddr,
    /// The `[output]` table: the video the show renders.
    pub output: OutputConfig,
    /// Redis URL: set, the node shares its show with the other nodes of `cluster_name`.
    pub redis: Option<String>,
    /// This node's name in the cluster; `None`: the host name and the listen port.
    pub node_id: Option<String>,
    /// The show the nodes share (nodes on one Redis with the same name run one show).
    pub cluster_name: String,
}

/// The `[output]` table: size, rate and bitrate of the rendered video.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Even, 16..=7680.
    pub width: u32,
    /// Even, 16..=4320.
    pub height: u32,
    /// Frames per second, 1..=120.
    pub fps: u32,
    /// Video bitrate, 200..=50000 kbit/s.
    pub bitrate_kbps: u32,
}

/// Settings given as command-line flags; they win over everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

/// Where [`ServeConfig::load`] reads settings from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The `--config` TOML file, if one was given (it must then exist).
    pub file: Option<PathBuf>,
    /// Environment variables; only the `SHOWRUNNER_*` ones are looked at.
    pub env: Vec<(String, String)>,
    /// Flags.
    pub overrides: Overrides,
}

impl ConfigSources {
    /// Sources with the `SHOWRUNNER_*` variables of this process's environment.
    pub fn from_process_env(file: Option<PathBuf>, overrides: Overrides) -> Self {
        let env = std::env::vars_os()
            .filter_map(|(name, value)| {
                let name = name.into_string().ok()?;
                name.starts_with(ENV_PREFIX)
                    .then(|| (name, value.to_string_lossy().into_owned()))
            })
            .collect();
        ConfigSources {
            file,
            env,
            overrides,
        }
    }
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            width: 1920,
            height: 1080,
            fps: 30,
            bitrate_kbps: 4500,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            data_dir: default_data_dir(),
            token: None,
            allow_unauthenticated: false,
            max_module_bytes: 16 * 1024 * 1024,
            max_body_bytes: 1024 * 1024,
            log_level: "warn".to_owned(),
            ingest_listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 1935)),
            output: OutputConfig::default(),
            redis: None,
            node_id: None,
            cluster_name: "show".to_owned(),
        }
    }
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("token", &self.token.as_ref().map(|_| "****"))
            .field("allow_unauthenticated", &self.allow_unauthenticated)
            .field("max_module_bytes", &self.max_module_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("log_level", &self.log_level)
            .field("ingest_listen", &self.ingest_listen)
            .field("output", &self.output)
            .field("redis", &self.redis.as_ref().map(|_| "****"))
            .field("node_id", &self.node_id)
            .field("cluster_name", &self.cluster_name)
            .finish()
    }
}

/// `$XDG_DATA_HOME/showrunner` when that is an absolute path, else
/// `$HOME/.local/share/showrunner`, else `showrunner-data` in the current directory.
pub fn default_data_dir() -> PathBuf {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    if let Some(xdg) = absolute("XDG_DATA_HOME") {
        return xdg.join("showrunner");
    }
    if let Some(home) = absolute("HOME") {
        return home.join(".local").join("share").join("showrunner");
    }
    PathBuf::from("showrunner-data")
}

impl ServeConfig {
    /// Defaults < TOML file < `SHOWRUNNER_*` environment < flags; then validated.
    /// The first bad value stops loading; its error names the key as it was given.
    pub fn load(sources: &ConfigSources) -> Result<ServeConfig, ConfigError> {
        let mut config = ServeConfig::default();
        if let Some(path) = &sources.file {
            file::apply_file(&mut config, path)?;
        }
        for (name, value) in &sources.env {
            if !name.starts_with(ENV_PREFIX) || NON_SETTING_ENV.contains(&name.as_str()) {
                continue;
            }
            let key = Key::from_env(name).ok_or_else(|| ConfigError::UnknownEnvKey {
                key: name.clone(),
                known: known_envs(),
            })?;
            key.apply(&mut config, &RawValue::Text(value), &SettingOrigin::Env)?;
        }
        if let Some(listen) = sources.overrides.listen {
            config.listen = listen;
        }
        if let Some(data_dir) = &sources.overrides.data_dir {
            config.data_dir.clone_from(data_dir);
            Key::DataDir.check(&config, &SettingOrigin::Flag)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every value's range and the rules between settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for key in Key::ALL {
            key.check(self, &SettingOrigin::Resolved)?;
        }
        if self.allow_unauthenticated {
            if self.token.is_some() {
                return Err(ConfigError::TokenAndUnauthenticated);
            }
            if !self.listen.ip().to_canonical().is_loopback() {
                return Err(ConfigError::UnauthenticatedOffLoopback {
                    listen: self.listen,
                });
            }
        }
        Ok(())
    }

    /// The effective configuration as TOML, the token shown as `"****"` (or
    /// `"(generated on first serve)"`, or `"(none: allow_unauthenticated)"`).
    pub fn to_display_toml(&self) -> String {
        let token = match (&self.token, self.allow_unauthenticated) {
            (Some(_), _) => "****",
            (None, true) => "(none: allow_unauthenticated)",
            (None, false) => "(generated on first serve)",
        };
        let shown = DisplayConfig {
            listen: self.listen.to_string(),
            data_dir: self.data_dir.to_string_lossy().into_owned(),
            token,
            allow_unauthenticated: self.allow_unauthenticated,
            max_module_bytes: self.max_module_bytes,
            max_body_bytes: self.max_body_bytes,
            log_level: &self.log_level,
            ingest_listen: self.ingest_listen.to_string(),
            output: &self.output,
            redis: self.redis.as_deref().map(showrunner_cluster::redacted_url),
            node_id: self.node_id.as_deref(),
            cluster_name: &self.cluster_name,
        };
        toml::to_string(&shown).unwrap_or_else(|error| {
            format!("# the configuration cannot be shown as TOML: {error}\n")
        })
    }
}

/// [`ServeConfig`] as shown to a user: every field as text TOML can hold, no secret.
#[derive(serde::Serialize)]
struct DisplayConfig<'a> {
    listen: String,
    data_dir: String,
    token: &'a str,
    allow_unauthenticated: bool,
    max_module_bytes: u64,
    max_body_bytes: u64,
    log_level: &'a str,
    ingest_listen: String,
    output: &'a OutputConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_id: Option<&'a str>,
    cluster_name: &'a str,
}
