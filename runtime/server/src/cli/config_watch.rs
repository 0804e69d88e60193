//! `serve`'s live config reload: watches the `--config` file (its folder, since editors
//! save by writing a new file and renaming it) and, once it has been quiet for
//! [`SETTLE`], reads the settings again from the same sources as at start (file <
//! environment < flags). Settings a running server can take (log level, encoder
//! bitrate, request size limits) apply at once; the others are reported as waiting
//! for a restart. Every outcome is printed and published on the show's bus
//! (`config_reloaded`, `config_rejected`), so the dashboard and WebSocket clients see it.
//!
//! Must not: apply a file that does not load and validate as a whole (the settings in
//! force stay), or stop the show because of a bad file.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Duration;

use anyhow::Context;
use showrunner_server::api::ApiLimits;
use showrunner_server::api::limits::LiveLimits;
use showrunner_server::config::{ConfigChange, ConfigSources, Key, ServeConfig, config_change};
use showrunner_server::show::{Request, ShowEvent, ShowHandle};

/// How long the file must be quiet before it is read (editors write in several steps).
pub const SETTLE: Duration = Duration::from_millis(300);

/// What a reload changes in the running server.
pub struct LiveTargets {
    pub show: ShowHandle,
    pub limits: LiveLimits,
    /// Runs the show requests (the bitrate) from the watcher's thread.
    pub runtime: tokio::runtime::Handle,
}

/// Watches until dropped.
pub struct ConfigWatch {
    _watcher: notify::RecommendedWatcher,
}

/// Starts watching `sources.file` (which must be set); `running` is the config in force.
pub fn start(sources: ConfigSources, running: ServeConfig, targets: LiveTargets) -> anyhow::Result<ConfigWatch> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let file = sources.file.clone().context("there is no config file to watch")?;
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = file.file_name().map(|n| n.to_os_string());
    // One waiting note is enough: any number of changes leads to one reload.
    let (changed, changes) = sync_channel(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, EventKind::Access(_))
            && event.paths.iter().any(|p| p.file_name().map(|n| n.to_os_string()) == name)
        {
            let _ = changed.try_send(());
        }
    })
    .context("cannot start watching the config file")?;
    watcher.watch(&folder, RecursiveMode::NonRecursive).with_context(|| format!("cannot watch {}", folder.display()))?;
    std::thread::Builder::new().name("config-watch".into()).spawn(move || reload_loop(&changes, &sources, running, &targets)).context("cannot start the config watcher")?;
    Ok(ConfigWatch { _watcher: watcher })
}

fn reload_loop(changes: &Receiver<()>, sources: &ConfigSources, mut running: ServeConfig, targets: &LiveTargets) {
    while changes.recv().is_ok() {
        loop {
            match changes.recv_timeout(SETTLE) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        reload(sources, &mut running, targets);
    }
}

fn reload(sources: &ConfigSources, running: &mut ServeConfig, targets: &LiveTargets) {
    let bus = targets.show.bus();
    let new = match ServeConfig::load(sources) {
        Ok(new) => new,
        Err(e) => {
            eprintln!("config: the changed file is not used ({e}); the settings in force stay");
            bus.publish(ShowEvent::ConfigRejected { reason: e.to_string() });
            return;
        }
    };
    let change = config_change(running, &new);
    if change.is_empty() {
        return;
    }
    let mut applied = Vec::new();
    for key in &change.live {
        match apply(*key, &new, targets) {
            Ok(()) => {
                copy_setting(*key, &new, running);
                applied.push(*key);
            }
            Err(e) => eprintln!("config: cannot apply {}: {e:#}", key.path()),
        }
    }
    let (applied, needs_restart) = (ConfigChange::names(&applied), ConfigChange::names(&change.restart));
    eprintln!(
        "config: reloaded; applied: {}; needs a restart: {}",
        if applied.is_empty() { "nothing".into() } else { applied.join(", ") },
        if needs_restart.is_empty() { "nothing".into() } else { needs_restart.join(", ") }
    );
    bus.publish(ShowEvent::ConfigReloaded { applied, needs_restart });
}

/// Puts `key`'s new value into effect.
fn apply(key: Key, new: &ServeConfig, targets: &LiveTargets) -> anyhow::Result<()> {
    match key {
        Key::LogLevel => super::set_log_level(&new.log_level),
        Key::MaxModuleBytes | Key::MaxBodyBytes => {
            let current = targets.limits.get();
            let limits = match key {
                Key::MaxModuleBytes => ApiLimits { max_module_bytes: new.max_module_bytes, ..current },
                _ => ApiLimits { max_body_bytes: new.max_body_bytes, ..current },
            };
            targets.limits.set(limits);
        }
        Key::OutputBitrateKbps => {
            let kbps = new.output.bitrate_kbps;
            targets.runtime.block_on(targets.show.ask(|reply| Request::SetBitrate { kbps, reply }))?;
        }
        other => anyhow::bail!("{} is not applied live", other.path()),
    }
    Ok(())
}

/// Copies one applied setting into the config in force.
fn copy_setting(key: Key, from: &ServeConfig, to: &mut ServeConfig) {
    match key {
        Key::LogLevel => to.log_level.clone_from(&from.log_level),
        Key::MaxModuleBytes => to.max_module_bytes = from.max_module_bytes,
        Key::MaxBodyBytes => to.max_body_bytes = from.max_body_bytes,
        Key::OutputBitrateKbps => to.output.bitrate_kbps = from.output.bitrate_kbps,
        _ => {}
    }
}
