//! The host's services (log, asset sizes, text measurement), with native fallbacks
//! so scene code also runs outside Wasm (benchmarks, unit tests).

use crate::LogLevel;

/// Width and height in pixels of `text` in `family` at `size` pixels, as the host
/// will shape it. Natively this is an estimate (0.55 em per character).
pub fn measure_text(text: &str, family: &str, size: f32) -> (f32, f32) {
    #[cfg(target_arch = "wasm32")]
    {
        crate::scene_bindings::showrunner::scene::host::measure_text(text, family, size)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = family;
        (text.chars().count() as f32 * size * 0.55, size * 1.2)
    }
}

/// Pixel size of an asset, or `None` if the host has no asset of that name.
pub fn asset_size(name: &str) -> Option<(u32, u32)> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::scene_bindings::showrunner::scene::host::asset_size(name)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = name;
        None
    }
}

fn write(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::scene_bindings::showrunner::scene::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Writes to the layer's log (rate-limited by the host).
pub mod log {
    use super::write;
    use crate::LogLevel;

    pub fn debug(message: &str) {
        write(LogLevel::Debug, message)
    }
    pub fn info(message: &str) {
        write(LogLevel::Info, message)
    }
    pub fn warn(message: &str) {
        write(LogLevel::Warn, message)
    }
    pub fn error(message: &str) {
        write(LogLevel::Error, message)
    }
}
