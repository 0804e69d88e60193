//! `showrunner serve` and `showrunner config`: the live show and its HTTP API over the
//! embedded show database, with settings from defaults, a TOML file (`--config`),
//! `SHOWRUNNER_*` environment variables and flags. `serve` makes sure there is a
//! bearer token (a generated one is kept in the data dir and printed once), opens the
//! store, brings the show back as it was, runs it and serves `showrunner_server::api`
//! until Ctrl-C, then stops the show cleanly (outputs closed, guest state saved). It
//! must not implement API or show behaviour itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use showrunner_server::api::{ApiLimits, ApiState, router};
use showrunner_server::show::inputs::InputManager;
use showrunner_server::show::{Format, ShowRuntime, ShowSetup};
use showrunner_server::config::{ConfigSources, Overrides, ServeConfig, TokenSource, ensure_token, token_file};
use showrunner_server::store::Store;
use showrunner_wasm::Host;

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Settings file (TOML); see docs/api.md for every key.
    #[arg(long, value_name = "FILE", env = "SHOWRUNNER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on (overrides the file and SHOWRUNNER_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Where the show database and the generated token live (overrides the file and SHOWRUNNER_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Trace recording (`serve` only; `config` ignores it).
    #[command(flatten)]
    pub trace: super::trace::TraceArgs,
}

impl ConfigArgs {
    fn sources(&self) -> ConfigSources {
        let overrides = Overrides { listen: self.listen, data_dir: self.data_dir.clone() };
        ConfigSources::from_process_env(self.config.clone(), overrides)
    }

    fn load(&self) -> anyhow::Result<ServeConfig> {
        Ok(ServeConfig::load(&self.sources())?)
    }
}

/// `showrunner config`: prints the effective settings (the token masked).
pub fn print_config(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = args.load()?;
    out!("{}", config.to_display_toml());
    Ok(ExitCode::SUCCESS)
}

/// `showrunner serve`.
pub fn serve(args: &ConfigArgs, host: Arc<Host>, services: &super::services::RenderServices) -> anyhow::Result<ExitCode> {
    let config = args.load()?;
    super::set_log_level(&config.log_level);
    let token = match ensure_token(&config)? {
        TokenSource::Configured(token) | TokenSource::Stored(token) => Some(token),
        TokenSource::Generated(token) => {
            eprintln!("generated an API token (kept in {}):\n  {token}", token_file(&config).display());
            eprintln!("send it as `Authorization: Bearer TOKEN`; set `token` in the config file or SHOWRUNNER_TOKEN to choose your own");
            Some(token)
        }
        TokenSource::Disabled => {
            eprintln!("warning: no API token: anyone who can reach {} can change the show", config.listen);
            None
        }
    };
    let store = Store::open(&config.data_dir).with_context(|| format!("cannot open the show database in {}", config.data_dir.display()))?;
    let store = Arc::new(store);
    let output = &config.output;
    let frames = showrunner_assets::LiveInputs::default();
    let setup = ShowSetup {
        store: store.clone(),
        host: host.clone(),
        assets: services.assets.clone(),
        inputs: frames.clone(),
        format: Format { width: output.width, height: output.height, fps_num: output.fps, fps_den: 1 },
        bitrate_kbps: output.bitrate_kbps,
    };
    let show = ShowRuntime::start(setup).context("cannot start the show")?;
    eprintln!("show: {}x{} @ {} fps on {}; {} layer(s) restored", output.width, output.height, output.fps, show.adapter, show.restored_layers);
    for problem in &show.restore_problems {
        eprintln!("warning: {problem}");
    }
    let inputs = InputManager::start(frames, show.handle().bus().clone(), config.ingest_listen).context("cannot start the live inputs")?;
    for problem in inputs.restore(&store) {
        eprintln!("warning: {problem}");
    }
    let restored_inputs = inputs.statuses().len();
    if restored_inputs > 0 {
        eprintln!("inputs: {restored_inputs} restored{}", inputs.ingest_addr().map(|addr| format!("; RTMP ingest on rtmp://{addr}/live/KEY")).unwrap_or_default());
    }
    let inputs = Arc::new(inputs);
    let limits = ApiLimits { max_module_bytes: config.max_module_bytes, max_body_bytes: config.max_body_bytes };
    let mut state = ApiState::new(store, host, token, limits, show.handle(), inputs);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    if let Some(url) = &config.redis {
        let node_id = config.node_id.clone().unwrap_or_else(|| default_node_id(config.listen));
        let link = showrunner_server::cluster::ClusterLink::new(&node_id);
        state = state.with_cluster(link.clone());
        eprintln!("cluster: node {node_id} of show {:?} on {}", config.cluster_name, showrunner_cluster::redacted_url(url));
        // Joins in the background: the show is on air from local state meanwhile.
        let _guard = runtime.enter();
        drop(showrunner_server::cluster::sync::connect_and_join(state.clone(), link, url.clone(), config.cluster_name.clone()));
    }
    let _config_watch = match &args.config {
        Some(path) => {
            let targets = super::config_watch::LiveTargets { show: show.handle(), limits: state.limits.clone(), runtime: runtime.handle().clone() };
            let watch = super::config_watch::start(args.sources(), config.clone(), targets)?;
            eprintln!("config: watching {} (log_level, output.bitrate_kbps and the size limits apply live)", path.display());
            Some(watch)
        }
        None => None,
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr().context("cannot read the listening address")?;
        match showrunner_server::api::outputs::resume_stream(&state).await {
            Ok(true) => eprintln!("stream: back on (it was on when the server stopped)"),
            Ok(false) => {}
            Err(e) => eprintln!("warning: the stream was on but could not start again: {e}"),
        }
        match showrunner_server::api::recording::resume_recording(&state).await {
            Ok(Some(file)) => eprintln!("recording: back on into recordings/{file} (a recording ran when the server stopped)"),
            Ok(None) => {}
            Err(e) => eprintln!("warning: a recording ran when the server stopped but could not start again: {e}"),
        }
        eprintln!("serving the showrunner API on http://{address}/api/v1 (OpenAPI: /api/v1/openapi.json); data in {}. Ctrl-C stops.", config.data_dir.display());
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                // Without a signal handler the server runs until killed; it never stops by itself.
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await
            .context("the API server stopped with an error")?;
        anyhow::Ok(())
    });
    eprintln!("stopping the show: closing outputs, saving guest state…");
    show.stop();
    eprintln!("stopped");
    served?;
    Ok(ExitCode::SUCCESS)
}

/// A node id from the host name and the listen port (`HOST-PORT`, cut to the allowed characters).
fn default_node_id(listen: SocketAddr) -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host: String = host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).take(48).collect();
    format!("{}-{}", if host.is_empty() { "node" } else { &host }, listen.port())
}
