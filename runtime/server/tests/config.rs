//! `showrunner serve` settings: layering (defaults < file < env < flags), the error
//! message for each kind of bad value, the token file and the redacted display.
//!
//! Run with `cargo test --release -p showrunner --test config`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use showrunner_server::config::{
    ConfigError, ConfigSources, OutputConfig, Overrides, ServeConfig, TokenSource,
    default_data_dir, ensure_token, token_file, token_matches,
};

fn write_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("serve.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load_env(pairs: &[(&str, &str)]) -> Result<ServeConfig, ConfigError> {
    ServeConfig::load(&ConfigSources {
        env: env(pairs),
        ..ConfigSources::default()
    })
}

fn load_file_text(text: &str) -> (tempfile::TempDir, Result<ServeConfig, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), text);
    let result = ServeConfig::load(&ConfigSources {
        file: Some(path),
        ..ConfigSources::default()
    });
    (dir, result)
}

fn error_text(result: Result<ServeConfig, ConfigError>) -> String {
    result
        .expect_err("expected a configuration error")
        .to_string()
}

#[test]
fn defaults_without_any_source() {
    let config = ServeConfig::load(&ConfigSources::default()).unwrap();
    assert_eq!(
        config.listen,
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(config.data_dir, default_data_dir());
    assert!(config.data_dir.ends_with("showrunner"));
    assert_eq!(config.token, None);
    assert!(!config.allow_unauthenticated);
    assert_eq!(config.max_module_bytes, 16 * 1024 * 1024);
    assert_eq!(config.max_body_bytes, 1024 * 1024);
    assert_eq!(config.log_level, "warn");
    assert_eq!(
        config.output,
        OutputConfig {
            width: 1920,
            height: 1080,
            fps: 30,
            bitrate_kbps: 4500
        }
    );
}

#[test]
fn file_overrides_defaults_and_keeps_the_rest() {
    let (_dir, result) = load_file_text(
        "listen = \"0.0.0.0:9000\"\ntoken = \"file-token\"\nlog_level = \"debug\"\n\
         [output]\nwidth = 1280\nheight = 720\n",
    );
    let config = result.unwrap();
    assert_eq!(config.listen, "0.0.0.0:9000".parse::<SocketAddr>().unwrap());
    assert_eq!(config.token.as_deref(), Some("file-token"));
    assert_eq!(config.log_level, "debug");
    assert_eq!((config.output.width, config.output.height), (1280, 720));
    assert_eq!(config.output.fps, 30, "unset keys keep their defaults");
    assert_eq!(config.max_body_bytes, 1024 * 1024);
}

#[test]
fn env_overrides_file_and_flags_override_env() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "listen = \"127.0.0.1:9000\"\ndata_dir = \"/from/file\"\n[output]\nfps = 25\nbitrate_kbps = 3000\n",
    );
    let mut sources = ConfigSources {
        file: Some(path),
        env: env(&[
            ("SHOWRUNNER_LISTEN", "127.0.0.1:9100"),
            ("SHOWRUNNER_DATA_DIR", "/from/env"),
            ("SHOWRUNNER_OUTPUT_FPS", "60"),
            ("SHOWRUNNER_CACHE_DIR", "/not/a/serve/setting"),
            ("PATH", "/usr/bin"),
        ]),
        overrides: Overrides::default(),
    };
    let from_env = ServeConfig::load(&sources).unwrap();
    assert_eq!(from_env.listen.port(), 9100);
    assert_eq!(from_env.data_dir, PathBuf::from("/from/env"));
    assert_eq!(from_env.output.fps, 60);
    assert_eq!(
        from_env.output.bitrate_kbps, 3000,
        "file value not in env is kept"
    );

    sources.overrides = Overrides {
        listen: Some("127.0.0.1:9200".parse().unwrap()),
        data_dir: Some(PathBuf::from("/from/flag")),
    };
    let from_flags = ServeConfig::load(&sources).unwrap();
    assert_eq!(from_flags.listen.port(), 9200);
    assert_eq!(from_flags.data_dir, PathBuf::from("/from/flag"));
    assert_eq!(from_flags.output.fps, 60);
}

#[test]
fn ingest_listen_defaults_to_loopback_1935_and_is_set_by_file_or_env() {
    let defaults = ServeConfig::load(&ConfigSources::default()).unwrap();
    assert_eq!(defaults.ingest_listen, "127.0.0.1:1935".parse::<SocketAddr>().unwrap());
    let (_dir, from_file) = load_file_text("ingest_listen = \"0.0.0.0:1936\"\n");
    assert_eq!(from_file.unwrap().ingest_listen, "0.0.0.0:1936".parse::<SocketAddr>().unwrap());
    let from_env = load_env(&[("SHOWRUNNER_INGEST_LISTEN", "127.0.0.1:19350")]).unwrap();
    assert_eq!(from_env.ingest_listen.port(), 19350);
    let shown: toml::Table = toml::from_str(&from_env.to_display_toml()).unwrap();
    assert_eq!(shown["ingest_listen"].as_str(), Some("127.0.0.1:19350"));
    let message = error_text(load_env(&[("SHOWRUNNER_INGEST_LISTEN", "rtmp://0.0.0.0")]));
    assert!(message.contains("SHOWRUNNER_INGEST_LISTEN") && message.contains("IP address and port"), "{message}");
}

#[test]
fn env_port_text_names_the_variable_value_and_form() {
    let message = error_text(load_env(&[("SHOWRUNNER_LISTEN", "127.0.0.1:http")]));
    assert!(message.contains("SHOWRUNNER_LISTEN"), "{message}");
    assert!(message.contains("\"127.0.0.1:http\""), "{message}");
    assert!(message.contains("IP address and port"), "{message}");
}

#[test]
fn fps_zero_names_the_key_and_range() {
    let (_dir, result) = load_file_text("[output]\nfps = 0\n");
    let message = error_text(result);
    assert!(message.contains("`output.fps` in"), "{message}");
    assert!(message.contains("serve.toml"), "{message}");
    assert!(message.contains(": 0 is not allowed"), "{message}");
    assert!(message.contains("from 1 to 120"), "{message}");
}

#[test]
fn odd_width_is_refused_with_the_even_rule() {
    let message = error_text(load_env(&[("SHOWRUNNER_OUTPUT_WIDTH", "1281")]));
    assert!(message.contains("SHOWRUNNER_OUTPUT_WIDTH"), "{message}");
    assert!(message.contains("\"1281\""), "{message}");
    assert!(
        message.contains("an even integer from 16 to 7680"),
        "{message}"
    );
}

#[test]
fn bitrate_out_of_range_names_the_range() {
    let (_dir, result) = load_file_text("[output]\nbitrate_kbps = 60000\n");
    let message = error_text(result);
    assert!(message.contains("`output.bitrate_kbps`"), "{message}");
    assert!(message.contains("60000"), "{message}");
    assert!(message.contains("from 200 to 50000"), "{message}");
}

#[test]
fn size_limits_out_of_range_are_refused() {
    let message = error_text(load_env(&[("SHOWRUNNER_MAX_MODULE_BYTES", "1023")]));
    assert!(message.contains("SHOWRUNNER_MAX_MODULE_BYTES"), "{message}");
    assert!(message.contains("268435456 (256 MiB)"), "{message}");
    let message = error_text(load_env(&[("SHOWRUNNER_MAX_BODY_BYTES", "16777217")]));
    assert!(message.contains("SHOWRUNNER_MAX_BODY_BYTES"), "{message}");
    assert!(message.contains("16777216 (16 MiB)"), "{message}");
    let ok = load_env(&[("SHOWRUNNER_MAX_BODY_BYTES", "16777216")]).unwrap();
    assert_eq!(
        ok.max_body_bytes,
        16 * 1024 * 1024,
        "the upper bound itself is allowed"
    );
}

#[test]
fn unknown_file_field_is_named_with_the_known_ones() {
    let (_dir, result) = load_file_text("listen = \"127.0.0.1:1\"\nlisten_port = 9\n");
    let message = error_text(result);
    assert!(
        message.contains("unknown setting `listen_port`"),
        "{message}"
    );
    assert!(
        message.contains("known settings: listen, data_dir"),
        "{message}"
    );

    let (_dir, result) = load_file_text("[output]\nframerate = 30\n");
    let message = error_text(result);
    assert!(message.contains("`output.framerate`"), "{message}");
    assert!(message.contains("output.fps"), "{message}");
}

#[test]
fn unknown_showrunner_env_key_is_named_with_the_known_ones() {
    let message = error_text(load_env(&[("SHOWRUNNER_PORT", "8080")]));
    assert!(
        message.contains("unknown environment variable SHOWRUNNER_PORT"),
        "{message}"
    );
    assert!(message.contains("SHOWRUNNER_LISTEN"), "{message}");
    assert!(
        message.contains("SHOWRUNNER_OUTPUT_BITRATE_KBPS"),
        "{message}"
    );
    // Variables other commands use are left alone.
    load_env(&[
        ("SHOWRUNNER_CACHE_DIR", "/tmp/x"),
        ("SHOWRUNNER_LOG", "debug"),
    ])
    .unwrap();
}

#[test]
fn bad_log_level_lists_the_levels() {
    let message = error_text(load_env(&[("SHOWRUNNER_LOG_LEVEL", "verbose")]));
    assert!(message.contains("SHOWRUNNER_LOG_LEVEL"), "{message}");
    assert!(message.contains("\"verbose\""), "{message}");
    assert!(
        message.contains("one of error, warn, info, debug, trace"),
        "{message}"
    );
    assert_eq!(
        load_env(&[("SHOWRUNNER_LOG_LEVEL", "INFO")])
            .unwrap()
            .log_level,
        "info"
    );
}

#[test]
fn wrong_toml_type_names_the_key_and_value() {
    let (_dir, result) = load_file_text("allow_unauthenticated = \"yes\"\n");
    let message = error_text(result);
    assert!(message.contains("`allow_unauthenticated` in"), "{message}");
    assert!(message.contains("\"yes\""), "{message}");
    assert!(message.contains("true or false"), "{message}");
}

#[test]
fn unauthenticated_needs_a_loopback_listen_address() {
    let message = error_text(load_env(&[
        ("SHOWRUNNER_LISTEN", "0.0.0.0:8080"),
        ("SHOWRUNNER_ALLOW_UNAUTHENTICATED", "true"),
    ]));
    assert!(message.contains("allow_unauthenticated"), "{message}");
    assert!(message.contains("0.0.0.0:8080"), "{message}");
    assert!(
        message.contains("loopback address (127.0.0.1 or ::1)"),
        "{message}"
    );

    let local = load_env(&[
        ("SHOWRUNNER_LISTEN", "[::1]:8080"),
        ("SHOWRUNNER_ALLOW_UNAUTHENTICATED", "true"),
    ])
    .unwrap();
    assert!(local.allow_unauthenticated);
    assert_eq!(ensure_token(&local).unwrap(), TokenSource::Disabled);
}

#[test]
fn toml_syntax_error_gives_file_line_and_column() {
    let (dir, result) = load_file_text("listen = \"127.0.0.1:8080\"\n[output]\nfps = = 3\n");
    let message = error_text(result);
    let expected = format!("{}:3:", dir.path().join("serve.toml").display());
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("TOML syntax error"), "{message}");
}

#[test]
fn missing_config_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let result = ServeConfig::load(&ConfigSources {
        file: Some(path.clone()),
        ..Default::default()
    });
    let error = result.unwrap_err();
    assert!(matches!(error, ConfigError::ReadFile { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[cfg(unix)]
#[test]
fn token_is_generated_once_private_and_then_reread() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data").join("showrunner");
    let config = ServeConfig {
        data_dir: data_dir.clone(),
        ..ServeConfig::default()
    };

    let TokenSource::Generated(token) = ensure_token(&config).unwrap() else {
        panic!("first call must generate a token");
    };
    assert_eq!(token.len(), 64);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{token}"
    );
    let file = token_file(&config);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777,
        0o700
    );

    assert_eq!(
        ensure_token(&config).unwrap(),
        TokenSource::Stored(token.clone())
    );

    let other_dir = ServeConfig {
        data_dir: dir.path().join("other"),
        ..ServeConfig::default()
    };
    let other = ensure_token(&other_dir).unwrap();
    assert_ne!(
        other.token(),
        Some(token.as_str()),
        "each data dir gets its own random token"
    );
}

#[cfg(unix)]
#[test]
fn world_readable_token_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServeConfig::default()
    };
    ensure_token(&config).unwrap();
    let file = token_file(&config);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = ensure_token(&config).unwrap_err();
    assert!(
        matches!(error, ConfigError::TokenFileInsecure { mode: 0o644, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("chmod 600"), "{error}");
}

#[test]
fn configured_token_wins_over_a_stored_one() {
    let dir = tempfile::tempdir().unwrap();
    let stored = ServeConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServeConfig::default()
    };
    ensure_token(&stored).unwrap();
    let config = load_env(&[
        ("SHOWRUNNER_DATA_DIR", dir.path().to_str().unwrap()),
        ("SHOWRUNNER_TOKEN", "configured-secret-123"),
    ])
    .unwrap();
    assert_eq!(
        ensure_token(&config).unwrap(),
        TokenSource::Configured("configured-secret-123".to_owned())
    );
}

#[test]
fn token_matches_only_the_exact_token() {
    assert!(token_matches("abc123", "abc123"));
    assert!(!token_matches("abc123", "abc124"));
    assert!(!token_matches("abc123", "abc12"));
    assert!(!token_matches("abc123", "abc1234"));
    assert!(
        !token_matches("", ""),
        "an empty expected token matches nothing"
    );
}

#[test]
fn display_toml_never_contains_the_token() {
    let config = load_env(&[("SHOWRUNNER_TOKEN", "super-secret-token-value")]).unwrap();
    let shown = config.to_display_toml();
    assert!(!shown.contains("super-secret-token-value"), "{shown}");
    assert!(shown.contains("token = \"****\""), "{shown}");
    assert!(!format!("{config:?}").contains("super-secret-token-value"));

    let parsed: toml::Table = toml::from_str(&shown).unwrap();
    assert_eq!(parsed["listen"].as_str(), Some("127.0.0.1:8080"));
    assert_eq!(parsed["output"]["fps"].as_integer(), Some(30));

    let generated = ServeConfig::default().to_display_toml();
    assert!(
        generated.contains("token = \"(generated on first serve)\""),
        "{generated}"
    );
}
