//! A real show for API tests: the store in a temp dir, the Wasm host, lavapipe, and
//! the frame thread at a small size, behind an [`ApiState`].

use std::path::Path;
use std::sync::{Arc, OnceLock};

use showrunner_server::api::{ApiLimits, ApiState};
use showrunner_server::show::{Format, ShowRuntime, ShowSetup};
use showrunner_server::store::Store;
use showrunner_wasm::Host;

/// The size and rate tests run shows at.
pub const TEST_FORMAT: Format = Format { width: 320, height: 180, fps_num: 30, fps_den: 1 };

pub fn host() -> Arc<Host> {
    static HOST: OnceLock<Arc<Host>> = OnceLock::new();
    HOST.get_or_init(|| Host::with_defaults().expect("wasm host")).clone()
}

/// Opens the store in `dir`, starts its show and returns the API state over both.
/// Keep the runtime alive for as long as the state is used; dropping it stops the show.
pub fn api_state(dir: &Path, token: Option<&str>, limits: ApiLimits) -> (ApiState, ShowRuntime, Arc<Store>) {
    quiet_headless_vulkan();
    let store = Arc::new(Store::open(dir).expect("store opens"));
    let setup = ShowSetup {
        store: store.clone(),
        host: host(),
        assets: showrunner_assets::AssetStore::default(),
        inputs: showrunner_assets::LiveInputs::default(),
        format: TEST_FORMAT,
        bitrate_kbps: 1000,
    };
    let show = ShowRuntime::start(setup).expect("the show starts");
    let state = ApiState::new(store.clone(), host(), token.map(str::to_owned), limits, show.handle());
    (state, show, store)
}

/// Mesa's device-select layer complains about a missing display on headless machines;
/// the binary switches it off the same way.
fn quiet_headless_vulkan() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: set once, before the first renderer starts; tests read no environment concurrently here.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    });
}
