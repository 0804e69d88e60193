//! Frame timing: frame n of a layer is presented at n · den / num seconds.

use serde::{Deserialize, Serialize};

/// What a module is told about the frame it renders (mirrors `frame-info`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameInfo {
    pub index: u64,
    pub time: f64,
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
}

impl FrameInfo {
    /// Frame `index` at `fps_num / fps_den` frames per second. The time is computed
    /// from the index, never accumulated, so it does not drift over long shows.
    /// A zero numerator is treated as 30 fps.
    pub fn at(index: u64, width: u32, height: u32, fps_num: u32, fps_den: u32) -> FrameInfo {
        let (num, den) = if fps_num == 0 || fps_den == 0 { (30, 1) } else { (fps_num, fps_den) };
        let time = (index as f64 * den as f64) / num as f64;
        FrameInfo { index, time, width, height, fps_num: num, fps_den: den }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_comes_from_the_index_without_drift() {
        let f = FrameInfo::at(30_000 * 3600 * 10, 1920, 1080, 30_000, 1001);
        assert!((f.time - 1001.0 * 3600.0 * 10.0).abs() < 1e-6, "{}", f.time);
        assert_eq!(FrameInfo::at(1, 10, 10, 0, 0).fps_num, 30);
    }
}
