//! showrunner media: GStreamer encoding of composited frames (MP4 files; RTMP later). Knows no Wasm.
