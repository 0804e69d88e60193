//! Box-filter downscaling of RGBx / straight-alpha RGBA8 frames into the RGB8 pixels the
//! JPEG encoder takes: each destination pixel is the average of the source pixels it
//! covers, in integer arithmetic. It owns only this pixel arithmetic and the scratch
//! buffers it reuses between frames; it must not encode, log or touch threads.

use crate::composite_over_background;

/// Fixed-point shift of the per-box reciprocals: `sum * recip >> 32` is `sum / area`.
const RECIP_SHIFT: u32 = 32;

/// The size that fits inside `max_width` x `max_height` with the source's aspect ratio,
/// rounded to whole pixels (at least 1), never larger than the source.
pub(crate) fn fit_inside(width: u32, height: u32, max_width: u32, max_height: u32) -> (u32, u32) {
    if width <= max_width && height <= max_height {
        return (width, height);
    }
    let (w, h, max_w, max_h) = (u64::from(width), u64::from(height), u64::from(max_width), u64::from(max_height));
    if max_w * h <= max_h * w {
        let fitted = (h * max_w + w / 2) / w;
        (max_width, clamp_side(fitted, height))
    } else {
        let fitted = (w * max_h + h / 2) / h;
        (clamp_side(fitted, width), max_height)
    }
}

fn clamp_side(fitted: u64, source: u32) -> u32 {
    u32::try_from(fitted).unwrap_or(source).clamp(1, source.max(1))
}

/// A per-byte running sum of one band's rows: `u16` while a band has at most 257 rows
/// (257 * 255 fits), `u32` beyond, so the common case moves half the bytes.
trait BandSum: Copy + Default + std::ops::AddAssign + From<u8> + Into<u32> {}
impl BandSum for u16 {}
impl BandSum for u32 {}

/// Most rows a band may have for `u16` sums.
const MAX_NARROW_BAND: u32 = u16::MAX as u32 / 255;

/// Reusable state for downscaling: box bounds and reciprocals for the last size pair,
/// and the scratch rows.
#[derive(Default)]
pub(crate) struct BoxScaler {
    /// (source width, source height, destination width, destination height).
    geometry: (u32, u32, u32, u32),
    /// Source column range of each destination column, in bytes (pixel * 4).
    column_bytes: Vec<(usize, usize)>,
    /// Source pixels per destination column when they are all the same.
    uniform_width: Option<usize>,
    /// Per destination column, for band heights `band_low` and `band_low + 1`:
    /// (half the box area for rounding, fixed-point reciprocal of the area).
    reciprocals: [Vec<(u64, u64)>; 2],
    band_low: u32,
    /// Per source byte (pixel * 4 + lane): the sum of the current band's rows.
    narrow_sums: Vec<u16>,
    wide_sums: Vec<u32>,
    composited_row: Vec<u8>,
}

impl BoxScaler {
    /// Downscales `source` (`source_width` x `source_height`, 4 bytes per pixel, top row
    /// first) to `out` (`width` x `height` RGB8). `opaque` sources are RGBx (fourth byte
    /// ignored); the others are straight-alpha RGBA, composited over black.
    ///
    /// Each band of source rows is first summed column by column, then each box of
    /// columns is summed and divided by its area (rounded, by a fixed-point reciprocal).
    /// The caller guarantees `source.len() == source_width * source_height * 4`,
    /// `1 <= width <= source_width` and `1 <= height <= source_height`; rows or columns
    /// missing from a shorter `source` are treated as black.
    pub(crate) fn downscale(
        &mut self,
        source: &[u8],
        (source_width, source_height): (u32, u32),
        opaque: bool,
        (width, height): (u32, u32),
        out: &mut Vec<u8>,
    ) {
        self.prepare((source_width, source_height, width, height));
        out.clear();
        out.resize(width as usize * height as usize * 3, 0);
        if !opaque {
            self.composited_row.resize(source_width as usize * 4, 0);
        }
        if self.band_low < MAX_NARROW_BAND {
            let mut sums = std::mem::take(&mut self.narrow_sums);
            self.downscale_with(&mut sums, source, opaque, out);
            self.narrow_sums = sums;
        } else {
            let mut sums = std::mem::take(&mut self.wide_sums);
            self.downscale_with(&mut sums, source, opaque, out);
            self.wide_sums = sums;
        }
    }

    fn downscale_with<T: BandSum>(&mut self, sums: &mut Vec<T>, source: &[u8], opaque: bool, out: &mut [u8]) {
        let (source_width, source_height, width, height) = self.geometry;
        let row_bytes = source_width as usize * 4;
        let (src_h, dst_h) = (u64::from(source_height), u64::from(height));
        for (band, out_row) in out.chunks_exact_mut(width as usize * 3).enumerate() {
            let band = band as u64;
            let first = (band * src_h / dst_h) as usize;
            let end = ((band + 1) * src_h / dst_h) as usize;
            sums.clear();
            sums.resize(row_bytes, T::default());
            for y in first..end {
                let row = source.get(y * row_bytes..(y + 1) * row_bytes).unwrap_or(&[]);
                if opaque {
                    add_row(sums, row);
                } else {
                    composite_over_background(row, &mut self.composited_row, [0, 0, 0]);
                    add_row(sums, &self.composited_row);
                }
            }
            let band_height = (end - first) as u32;
            let reciprocals = &self.reciprocals[usize::from(band_height > self.band_low)];
            match self.uniform_width {
                Some(1) => reduce_uniform::<T, 1>(sums, reciprocals, out_row),
                Some(2) => reduce_uniform::<T, 2>(sums, reciprocals, out_row),
                Some(3) => reduce_uniform::<T, 3>(sums, reciprocals, out_row),
                Some(4) => reduce_uniform::<T, 4>(sums, reciprocals, out_row),
                Some(6) => reduce_uniform::<T, 6>(sums, reciprocals, out_row),
                Some(8) => reduce_uniform::<T, 8>(sums, reciprocals, out_row),
                Some(12) => reduce_uniform::<T, 12>(sums, reciprocals, out_row),
                _ => reduce_general(sums, &self.column_bytes, reciprocals, out_row),
            }
        }
    }

    /// Computes box bounds and reciprocals when the geometry changed since the last frame.
    fn prepare(&mut self, geometry: (u32, u32, u32, u32)) {
        if self.geometry == geometry && !self.column_bytes.is_empty() {
            return;
        }
        let (source_width, source_height, width, height) = geometry;
        self.geometry = geometry;
        let (src_w, dst_w) = (u64::from(source_width), u64::from(width.max(1)));
        self.column_bytes =
            (0..dst_w).map(|x| ((x * src_w / dst_w) as usize * 4, ((x + 1) * src_w / dst_w) as usize * 4)).collect();
        self.uniform_width = src_w.is_multiple_of(dst_w).then_some((src_w / dst_w) as usize);
        self.band_low = source_height / height.max(1);
        for (slot, band_height) in [self.band_low, self.band_low + 1].into_iter().enumerate() {
            self.reciprocals[slot] = self
                .column_bytes
                .iter()
                .map(|&(start, end)| {
                    let area = ((end - start) as u64 / 4 * u64::from(band_height)).max(1);
                    (area / 2, (1u64 << RECIP_SHIFT).div_ceil(area))
                })
                .collect();
        }
    }
}

/// Adds one source row, byte lane by byte lane, to the band's column sums.
#[inline]
fn add_row<T: BandSum>(sums: &mut [T], row: &[u8]) {
    for (sum, &byte) in sums.iter_mut().zip(row) {
        *sum += T::from(byte);
    }
}

/// Box sums when every box is `K` source columns wide (unrolled by the compiler).
#[inline(always)]
fn reduce_uniform<T: BandSum, const K: usize>(sums: &[T], reciprocals: &[(u64, u64)], out_row: &mut [u8]) {
    let pixels = out_row.as_chunks_mut::<3>().0.iter_mut();
    for ((pixel, columns), &(half, recip)) in pixels.zip(sums.chunks_exact(4 * K)).zip(reciprocals) {
        let mut sum = [0u32; 4];
        for column in 0..K {
            for lane in 0..4 {
                sum[lane] += columns[column * 4 + lane].into();
            }
        }
        write_average(pixel, sum, half, recip);
    }
}

/// Box sums for boxes of any widths.
fn reduce_general<T: BandSum>(
    sums: &[T],
    column_bytes: &[(usize, usize)],
    reciprocals: &[(u64, u64)],
    out_row: &mut [u8],
) {
    let pixels = out_row.as_chunks_mut::<3>().0.iter_mut();
    for ((pixel, &(start, end)), &(half, recip)) in pixels.zip(column_bytes).zip(reciprocals) {
        let mut sum = [0u32; 4];
        for column in sums.get(start..end).unwrap_or(&[]).as_chunks::<4>().0 {
            for lane in 0..4 {
                sum[lane] += column[lane].into();
            }
        }
        write_average(pixel, sum, half, recip);
    }
}

#[inline(always)]
fn write_average(pixel: &mut [u8; 3], sum: [u32; 4], half: u64, recip: u64) {
    for channel in 0..3 {
        let average = ((u64::from(sum[channel]) + half) * recip) >> RECIP_SHIFT;
        pixel[channel] = average.min(255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit_inside(1920, 1080, 640, 360), (640, 360));
        assert_eq!(fit_inside(3840, 2160, 640, 360), (640, 360));
        assert_eq!(fit_inside(1000, 100, 640, 360), (640, 64));
        assert_eq!(fit_inside(100, 1000, 640, 360), (36, 360));
        assert_eq!(fit_inside(320, 180, 640, 360), (320, 180));
        assert_eq!(fit_inside(16384, 1, 640, 360), (640, 1));
        assert_eq!(fit_inside(1, 16384, 640, 360), (1, 360));
    }

    /// Uneven boxes (5 source pixels onto 2 and 3 onto 2) average exactly what they cover.
    #[test]
    fn uneven_boxes_average_the_pixels_they_cover() {
        let (sw, sh) = (5u32, 3u32);
        let mut source = Vec::new();
        for y in 0..sh {
            for x in 0..sw {
                source.extend_from_slice(&[(x * 50) as u8, (y * 100) as u8, 7, 0]);
            }
        }
        let mut out = Vec::new();
        BoxScaler::default().downscale(&source, (sw, sh), true, (2, 2), &mut out);
        // Columns 0..2 and 2..5; rows 0..1 and 1..3.
        let expected = [[25, 0, 7], [150, 0, 7], [25, 150, 7], [150, 150, 7]];
        for (pixel, want) in out.chunks_exact(3).zip(expected) {
            assert_eq!(pixel, want);
        }
    }

    #[test]
    fn straight_alpha_is_composited_over_black_before_averaging() {
        // Two pixels: opaque white and fully transparent white, averaged into one.
        let source = [255, 255, 255, 255, 255, 255, 255, 0];
        let mut out = Vec::new();
        BoxScaler::default().downscale(&source, (2, 1), false, (1, 1), &mut out);
        assert_eq!(out, [128, 128, 128]);
        BoxScaler::default().downscale(&source, (2, 1), true, (1, 1), &mut out);
        assert_eq!(out, [255, 255, 255]);
    }
}
