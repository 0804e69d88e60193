//! What the host offers guests, backed by the real asset store and the bundled
//! fonts: `asset-size` answers from the images loaded, `measure-text` shapes with the
//! same fonts the renderer draws with, so a guest's layout matches the pixels.

use std::sync::Arc;

use showrunner_assets::AssetStore;
use showrunner_text::SharedMeasurer;
use showrunner_wasm::HostServices;

/// Assets and text metrics for guests; cheap to clone (shared inside).
#[derive(Clone)]
pub struct RenderServices {
    pub assets: AssetStore,
    pub measurer: Arc<SharedMeasurer>,
}

impl RenderServices {
    pub fn new() -> RenderServices {
        RenderServices { assets: AssetStore::default(), measurer: Arc::new(SharedMeasurer::new()) }
    }
}

impl HostServices for RenderServices {
    fn asset_size(&self, name: &str) -> Option<(u32, u32)> {
        self.assets.size(name)
    }

    fn measure_text(&self, text: &str, family: &str, size: f32) -> (f32, f32) {
        self.measurer.measure(text, family, size)
    }
}
