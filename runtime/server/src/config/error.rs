//! What can go wrong while reading, checking or acting on the `showrunner serve`
//! settings. Every message names the setting (as the user wrote it: a dotted key in a
//! file, an environment variable or a flag), the value that was refused and what is
//! allowed, so it can be fixed without reading the code. It must not decide anything.

use std::path::PathBuf;

/// Where a value came from, so an error names the key the way the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingOrigin {
    /// The value as it stands after merging (a struct built in code).
    Resolved,
    /// A key in the TOML file.
    File(PathBuf),
    /// A `SHOWRUNNER_*` environment variable.
    Env,
    /// A command-line flag.
    Flag,
}

/// A failure to load, validate or use the server configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file given with `--config` is missing or unreadable.
    #[error("cannot read config file {path}: {source}; check the --config path")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{path}:{line}:{column}: TOML syntax error: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file holds a key that is not a setting.
    #[error("unknown setting `{key}` in {path}; known settings: {known}")]
    UnknownFileKey {
        path: PathBuf,
        key: String,
        known: String,
    },
    /// A `SHOWRUNNER_*` environment variable that is not a setting.
    #[error("unknown environment variable {key}; known: {known}")]
    UnknownEnvKey { key: String, known: String },
    /// A value that does not parse or is out of range.
    #[error("{setting}: {value} is not allowed; expected {allowed}")]
    InvalidValue {
        /// The key as the user wrote it, e.g. "`output.fps` in serve.toml" or "SHOWRUNNER_LISTEN".
        setting: String,
        /// The refused value, quoted as given.
        value: String,
        /// The values or range that are accepted.
        allowed: &'static str,
    },
    /// `allow_unauthenticated = true` with a listen address other machines can reach.
    #[error(
        "allow_unauthenticated = true is only allowed when `listen` is a loopback address \
         (127.0.0.1 or ::1), but listen is {listen}; set a token or listen on 127.0.0.1"
    )]
    UnauthenticatedOffLoopback { listen: std::net::SocketAddr },
    /// Both a token and `allow_unauthenticated = true`.
    #[error(
        "`token` and allow_unauthenticated = true are both set; keep the token or unset \
         allow_unauthenticated, not both"
    )]
    TokenAndUnauthenticated,
    /// The data directory could not be created.
    #[error(
        "cannot create the data directory {path}: {source}; check data_dir and its permissions"
    )]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The stored token file could not be read or written.
    #[error("cannot {action} the API token file {path}: {source}")]
    TokenFile {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The stored token file can be read by other users.
    #[error(
        "the API token file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TokenFileInsecure { path: PathBuf, mode: u32 },
    /// The stored token file does not hold a usable token.
    #[error(
        "the API token file {path} does not hold a valid token (1 to 1024 visible ASCII \
         characters); delete it to have a new one generated, or set `token`"
    )]
    TokenFileInvalid { path: PathBuf },
    /// The operating system's random source failed.
    #[error(
        "the operating system gave no random bytes for the API token: {0}; set `token` instead"
    )]
    Random(getrandom::Error),
}
