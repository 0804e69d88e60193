//! Test media made with ffmpeg: a flat colour clip a media input can play.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Whether ffmpeg runs; prints `SKIPPED:` with how to get it when it does not.
pub fn ffmpeg_present() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: ffmpeg is not installed (`cargo xtask setup` installs it)");
    }
    ok
}

/// A flat 1 s H.264 clip of `colour` at 320x180, 30 fps: `dir/clip.mp4`.
pub fn colour_clip(dir: &Path, colour: [u8; 3]) -> PathBuf {
    let path = dir.join("clip.mp4");
    let source = format!("color=c=0x{:02X}{:02X}{:02X}:s=320x180:r=30:d=1", colour[0], colour[1], colour[2]);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &source, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "ffmpeg made the clip: {}", String::from_utf8_lossy(&out.stderr));
    path
}
