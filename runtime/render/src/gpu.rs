//! GPU bring-up: picks an adapter (a real GPU when there is one, else the CPU
//! fallback, Mesa lavapipe) and opens a device; owns the crate's error type.
//!
//! It must not draw anything and must not panic when no adapter exists: that is a typed
//! [`RenderError::NoAdapter`] telling the user what to install.

use std::sync::Arc;

/// Why the renderer could not start or could not produce a frame.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no GPU adapter found (not even a CPU fallback): install a Vulkan driver, e.g. \
         `apt-get install mesa-vulkan-drivers libvulkan1` for Mesa lavapipe ({detail})"
    )]
    NoAdapter { detail: String },
    #[error("could not open the GPU device on {adapter}: {detail}")]
    Device { adapter: String, detail: String },
    #[error("frame size {width}x{height} is outside 1..={max} per side")]
    BadSize { width: u32, height: u32, max: u32 },
    #[error("GPU error while rendering: {0}")]
    Gpu(String),
    #[error("reading the frame back from the GPU failed: {0}")]
    Readback(String),
}

/// What adapter the renderer runs on, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
}

impl AdapterSummary {
    fn new(info: &wgpu::AdapterInfo) -> AdapterSummary {
        AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
        }
    }

    /// True when this is a software rasterizer (lavapipe, llvmpipe, WARP).
    pub fn is_cpu(&self) -> bool {
        self.device_type == format!("{:?}", wgpu::DeviceType::Cpu)
    }
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}, {})", self.name, self.backend, self.device_type, self.driver)
    }
}

/// An open device and its queue, shared by everything that draws on this renderer's
/// GPU (the layer compositor records into the same device).
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: AdapterSummary,
    /// Largest texture side the device accepts, in pixels.
    pub max_texture_side: u32,
    /// Dual-source blending is on (exact multiply blending over translucent pixels).
    pub dual_source_blending: bool,
}

impl Gpu {
    /// Requests a hardware adapter first and the fallback (CPU) adapter second.
    /// Backends can be narrowed with `WGPU_BACKEND` (wgpu's own variable).
    pub(crate) fn open() -> Result<Gpu, RenderError> {
        if wgpu::Instance::enabled_backend_features().is_empty() {
            return Err(RenderError::NoAdapter { detail: "this build has no wgpu backend for this platform".into() });
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let hardware = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }));
        let adapter = match hardware {
            Ok(a) => a,
            Err(first) => pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::None,
                force_fallback_adapter: true,
                compatible_surface: None,
                apply_limit_buckets: false,
            }))
            .map_err(|second| RenderError::NoAdapter { detail: format!("{first}; fallback: {second}") })?,
        };
        let summary = AdapterSummary::new(&adapter.get_info());
        tracing::info!(adapter = %summary, "render adapter picked");
        let limits = adapter.limits();
        let dual_source_blending = adapter.features().contains(wgpu::Features::DUAL_SOURCE_BLENDING);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("showrunner-render"),
            required_features: if dual_source_blending { wgpu::Features::DUAL_SOURCE_BLENDING } else { wgpu::Features::empty() },
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(limits.clone()),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| RenderError::Device { adapter: summary.to_string(), detail: e.to_string() })?;
        // Errors are caught with error scopes around each frame; anything that escapes
        // one is logged, never a panic (wgpu's default handler panics).
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| tracing::error!(error = %e, "uncaught wgpu error")));
        Ok(Gpu { device, queue, adapter: summary, max_texture_side: limits.max_texture_dimension_2d, dual_source_blending })
    }
}
