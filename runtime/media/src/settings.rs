//! Encoder settings a user chooses (size, frame rate, bitrate, x264 preset, keyframe
//! interval, background colour) and their validation. Plain data: it must not touch
//! GStreamer, so it can be built and checked before any pipeline exists.

use std::time::Duration;

use crate::MediaError;

/// Smallest frame side: x264 and the muxers reject smaller frames.
pub const MIN_SIDE: u32 = 16;
/// Largest frame: 8K UHD.
pub const MAX_WIDTH: u32 = 7680;
pub const MAX_HEIGHT: u32 = 4320;
/// Frame rates accepted, in frames per second.
pub const MIN_FPS: u32 = 1;
pub const MAX_FPS: u32 = 240;
/// Bitrates accepted, in kbit/s.
pub const MIN_BITRATE_KBPS: u32 = 100;
pub const MAX_BITRATE_KBPS: u32 = 200_000;
/// Longest keyframe interval accepted.
pub const MAX_KEYFRAME_INTERVAL: Duration = Duration::from_secs(60);

/// x264's speed/quality presets, fastest first. Faster presets cost fewer CPU
/// milliseconds per frame and give a larger file (or lower quality) at the same bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum X264Preset {
    Ultrafast,
    Superfast,
    #[default]
    Veryfast,
    Faster,
    Fast,
    Medium,
}

impl X264Preset {
    /// The value of x264enc's `speed-preset` property.
    pub fn gst_nick(self) -> &'static str {
        match self {
            X264Preset::Ultrafast => "ultrafast",
            X264Preset::Superfast => "superfast",
            X264Preset::Veryfast => "veryfast",
            X264Preset::Faster => "faster",
            X264Preset::Fast => "fast",
            X264Preset::Medium => "medium",
        }
    }
}

/// What to encode: frame size and rate of the RGBA8 frames pushed, and how x264 encodes
/// them. Construct with [`EncoderSettings::new`] and override fields as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderSettings {
    /// Frame width in pixels: even, from 16 to 7680.
    pub width: u32,
    /// Frame height in pixels: even, from 16 to 4320.
    pub height: u32,
    /// Frame rate numerator: frame `n` has pts `n * fps_den / fps_num` seconds.
    pub fps_num: u32,
    /// Frame rate denominator (1001 for 29.97 fps with `fps_num` 30000).
    pub fps_den: u32,
    /// Target bitrate in kbit/s (default 6000).
    pub bitrate_kbps: u32,
    /// x264 speed preset (default veryfast).
    pub preset: X264Preset,
    /// Longest time between two keyframes (default 2 s); rounded to whole frames.
    pub keyframe_interval: Duration,
    /// sRGB colour the straight-alpha frames are composited over (default black):
    /// H.264 has no alpha channel.
    pub background: [u8; 3],
}

impl EncoderSettings {
    /// Settings with the defaults: 6000 kbit/s, veryfast, a keyframe every 2 s, black
    /// background.
    pub fn new(width: u32, height: u32, fps_num: u32, fps_den: u32) -> Self {
        EncoderSettings {
            width,
            height,
            fps_num,
            fps_den,
            bitrate_kbps: 6000,
            preset: X264Preset::default(),
            keyframe_interval: Duration::from_secs(2),
            background: [0, 0, 0],
        }
    }

    /// Checks every field; the error names the first bad field and the values allowed.
    pub fn validate(&self) -> Result<(), MediaError> {
        check_side("width", self.width, MAX_WIDTH)?;
        check_side("height", self.height, MAX_HEIGHT)?;
        let rate = format!("{}/{}", self.fps_num, self.fps_den);
        let fps_range = format!(
            "fps_num and fps_den must both be above 0 and fps_num/fps_den from {MIN_FPS} to {MAX_FPS} frames per second"
        );
        if self.fps_num == 0 || self.fps_den == 0 {
            return Err(invalid("fps_num/fps_den", rate, fps_range));
        }
        let (num, den) = (u64::from(self.fps_num), u64::from(self.fps_den));
        if num < u64::from(MIN_FPS) * den || num > u64::from(MAX_FPS) * den {
            return Err(invalid("fps_num/fps_den", rate, fps_range));
        }
        if !(MIN_BITRATE_KBPS..=MAX_BITRATE_KBPS).contains(&self.bitrate_kbps) {
            return Err(invalid(
                "bitrate_kbps",
                self.bitrate_kbps.to_string(),
                format!("must be from {MIN_BITRATE_KBPS} to {MAX_BITRATE_KBPS} kbit/s"),
            ));
        }
        if self.keyframe_interval > MAX_KEYFRAME_INTERVAL || self.keyframe_interval_frames() == 0 {
            return Err(invalid(
                "keyframe_interval",
                format!("{:?}", self.keyframe_interval),
                format!(
                    "must be at least one frame ({:?} at {rate} fps) and at most {MAX_KEYFRAME_INTERVAL:?}",
                    self.frame_duration()
                ),
            ));
        }
        Ok(())
    }

    /// The keyframe interval in frames, rounded to the nearest frame (x264enc's
    /// `key-int-max`). Zero when the interval is shorter than half a frame or the frame
    /// rate is invalid.
    pub fn keyframe_interval_frames(&self) -> u32 {
        if self.fps_den == 0 {
            return 0;
        }
        let nanos = self.keyframe_interval.as_nanos();
        let per_second = 1_000_000_000u128 * u128::from(self.fps_den);
        let frames = (nanos * u128::from(self.fps_num) + per_second / 2) / per_second;
        u32::try_from(frames).unwrap_or(u32::MAX)
    }

    /// Presentation time of frame `n`: exactly `n * fps_den / fps_num` seconds, rounded
    /// down to the nanosecond. `None` if the frame rate is zero or the time overflows.
    pub fn frame_pts_nanos(&self, n: u64) -> Option<u64> {
        if self.fps_num == 0 {
            return None;
        }
        let nanos = u128::from(n) * u128::from(self.fps_den) * 1_000_000_000 / u128::from(self.fps_num);
        u64::try_from(nanos).ok()
    }

    /// Length of one frame, rounded down to the nanosecond.
    pub fn frame_duration(&self) -> Duration {
        Duration::from_nanos(self.frame_pts_nanos(1).unwrap_or(0))
    }

    /// Bytes in one RGBA8 frame (`width * 4` bytes per row).
    pub fn frame_bytes(&self) -> usize {
        self.width as usize * self.height as usize * 4
    }
}

fn check_side(field: &'static str, value: u32, max: u32) -> Result<(), MediaError> {
    if !value.is_multiple_of(2) || !(MIN_SIDE..=max).contains(&value) {
        return Err(invalid(
            field,
            value.to_string(),
            format!("must be an even number of pixels from {MIN_SIDE} to {max} (H.264 4:2:0 needs even sides)"),
        ));
    }
    Ok(())
}

fn invalid(field: &'static str, value: String, allowed: String) -> MediaError {
    MediaError::InvalidSettings { field, value, allowed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: MediaError) -> &'static str {
        match err {
            MediaError::InvalidSettings { field, .. } => field,
            other => panic!("expected InvalidSettings, got {other}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        let s = EncoderSettings::new(1920, 1080, 30, 1);
        assert_eq!(s.bitrate_kbps, 6000);
        assert_eq!(s.preset, X264Preset::Veryfast);
        assert_eq!(s.keyframe_interval, Duration::from_secs(2));
        assert_eq!(s.background, [0, 0, 0]);
        assert!(s.validate().is_ok());
        assert_eq!(s.keyframe_interval_frames(), 60);
    }

    #[test]
    fn each_bad_field_is_named() {
        let base = EncoderSettings::new(320, 180, 30, 1);
        let cases: Vec<(EncoderSettings, &str)> = vec![
            (EncoderSettings { width: 321, ..base.clone() }, "width"),
            (EncoderSettings { width: 8, ..base.clone() }, "width"),
            (EncoderSettings { width: 7682, ..base.clone() }, "width"),
            (EncoderSettings { height: 4322, ..base.clone() }, "height"),
            (EncoderSettings { height: 0, ..base.clone() }, "height"),
            (EncoderSettings { fps_num: 0, ..base.clone() }, "fps_num/fps_den"),
            (EncoderSettings { fps_den: 0, ..base.clone() }, "fps_num/fps_den"),
            (EncoderSettings { fps_num: 241, ..base.clone() }, "fps_num/fps_den"),
            (EncoderSettings { bitrate_kbps: 0, ..base.clone() }, "bitrate_kbps"),
            (EncoderSettings { keyframe_interval: Duration::ZERO, ..base.clone() }, "keyframe_interval"),
            (EncoderSettings { keyframe_interval: Duration::from_secs(61), ..base.clone() }, "keyframe_interval"),
        ];
        for (settings, field) in cases {
            let err = settings.validate().expect_err(field);
            assert!(err.to_string().contains(field), "{err}");
            assert_eq!(field_of(err), field);
        }
        assert!(EncoderSettings { width: 7680, height: 4320, ..base }.validate().is_ok());
    }

    #[test]
    fn ntsc_pts_are_exact_and_do_not_drift() {
        let s = EncoderSettings::new(320, 180, 30000, 1001);
        assert_eq!(s.frame_pts_nanos(0), Some(0));
        assert_eq!(s.frame_pts_nanos(1), Some(33_366_666));
        // 30000 frames at 30000/1001 are exactly 1001 s.
        assert_eq!(s.frame_pts_nanos(30_000), Some(1_001_000_000_000));
        assert_eq!(s.keyframe_interval_frames(), 60);
    }
}
