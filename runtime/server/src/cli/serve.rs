//! `showrunner serve` and `showrunner config`: the HTTP API over the embedded show
//! database, with settings from defaults, a TOML file (`--config`), `SHOWRUNNER_*`
//! environment variables and flags. `serve` makes sure there is a bearer token (a
//! generated one is kept in the data dir and printed once), opens the store and serves
//! `showrunner_server::api` until Ctrl-C. It must not implement API behaviour itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use showrunner_server::api::{ApiLimits, ApiState, router};
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
}

impl ConfigArgs {
    fn load(&self) -> anyhow::Result<ServeConfig> {
        let overrides = Overrides { listen: self.listen, data_dir: self.data_dir.clone() };
        Ok(ServeConfig::load(&ConfigSources::from_process_env(self.config.clone(), overrides))?)
    }
}

/// `showrunner config`: prints the effective settings (the token masked).
pub fn print_config(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = args.load()?;
    out!("{}", config.to_display_toml());
    Ok(ExitCode::SUCCESS)
}

/// `showrunner serve`.
pub fn serve(args: &ConfigArgs, host: Arc<Host>) -> anyhow::Result<ExitCode> {
    let config = args.load()?;
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
    let state = ApiState {
        store: Arc::new(store),
        host,
        token,
        limits: ApiLimits { max_module_bytes: config.max_module_bytes, max_body_bytes: config.max_body_bytes },
        started: Instant::now(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr().context("cannot read the listening address")?;
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
        eprintln!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
