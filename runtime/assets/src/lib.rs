//! showrunner's asset store: images by name and content hash, decoded off the render thread. Knows no GPU and no Wasm.
