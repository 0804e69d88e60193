//! Damage between two composited frames: the pixel boxes that can differ, so a frame
//! whose layers mostly stood still starts from a copy of the previous frame and
//! composites only inside those boxes (as a browser repaints only damaged regions).
//!
//! Only frames whose scenes are all shown plainly (no transition view, no overlay) are
//! compared; anything else is drawn whole. It must not touch the GPU.

use showrunner_core::{Affine, Rect};

/// What decides a layer's pixels in the frame: id, version, transform, opacity bits, crop.
pub(super) type LayerKey = (String, u64, Affine, u32, Option<Rect>);

/// Damage past this share of the frame is drawn whole (the copy would not pay).
const MAX_DAMAGED_SHARE: f64 = 0.5;
/// Boxes kept apart at most; past it they are merged into one.
const MAX_BOXES: usize = 6;

/// Whole pixels `x0..x1`, `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PixelBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl PixelBox {
    /// The pixels a quad with these corners can touch, one pixel of margin for
    /// filtering, inside a `size` frame; `None` when off the frame.
    pub fn around(corners: &[[f32; 2]; 4], size: (u32, u32)) -> Option<PixelBox> {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
        for [x, y] in corners {
            (x0, y0, x1, y1) = (x0.min(*x), y0.min(*y), x1.max(*x), y1.max(*y));
        }
        if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
            return None;
        }
        let clamp = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
        let b = PixelBox {
            x0: clamp(x0.floor() - 1.0, size.0),
            y0: clamp(y0.floor() - 1.0, size.1),
            x1: clamp(x1.ceil() + 1.0, size.0),
            y1: clamp(y1.ceil() + 1.0, size.1),
        };
        (b.x0 < b.x1 && b.y0 < b.y1).then_some(b)
    }

    pub fn area(&self) -> u64 {
        u64::from(self.x1 - self.x0) * u64::from(self.y1 - self.y0)
    }

    pub fn intersects(&self, o: &PixelBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn union(self, o: PixelBox) -> PixelBox {
        PixelBox { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }
}

/// A frame that was composited plainly: where it is and what each layer showed.
pub(super) struct Drawn {
    pub slot: usize,
    pub size: (u32, u32),
    pub background: Option<[u8; 3]>,
    /// In composite order; the box is `None` for a layer that showed nothing.
    pub layers: Vec<(LayerKey, Option<PixelBox>)>,
}

/// The boxes in which `current` can differ from `previous`; `None` when it must be
/// drawn whole (other size, background or layer order, or too much changed).
/// `redrawn` names layers rasterized again this frame (their pixels may differ even
/// with the same key).
pub(super) fn between(previous: &Drawn, size: (u32, u32), background: Option<[u8; 3]>, current: &[(LayerKey, Option<PixelBox>)], redrawn: &[String]) -> Option<Vec<PixelBox>> {
    if previous.size != size || previous.background != background || previous.layers.len() != current.len() {
        return None;
    }
    let mut boxes: Vec<PixelBox> = Vec::new();
    for ((old_key, old_box), (new_key, new_box)) in previous.layers.iter().zip(current) {
        if old_key.0 != new_key.0 {
            return None;
        }
        if old_key == new_key && old_box == new_box && !redrawn.contains(&new_key.0) {
            continue;
        }
        boxes.extend(old_box.iter().chain(new_box).copied());
    }
    let boxes = merge(boxes);
    let damaged: u64 = boxes.iter().map(PixelBox::area).sum();
    let frame = u64::from(size.0) * u64::from(size.1);
    ((damaged as f64) <= frame as f64 * MAX_DAMAGED_SHARE).then_some(boxes)
}

/// The rows `boxes` cover, as sorted bands `y0..y1` that neither overlap nor touch.
pub(super) fn row_bands(boxes: &[PixelBox]) -> Vec<(u32, u32)> {
    let mut bands: Vec<(u32, u32)> = boxes.iter().map(|b| (b.y0, b.y1)).collect();
    bands.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(bands.len());
    for (y0, y1) in bands {
        match merged.last_mut() {
            Some(last) if y0 <= last.1 => last.1 = last.1.max(y1),
            _ => merged.push((y0, y1)),
        }
    }
    merged
}

/// Overlapping boxes merged until none overlap; more than [`MAX_BOXES`] become one.
fn merge(mut boxes: Vec<PixelBox>) -> Vec<PixelBox> {
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                if boxes[i].intersects(&boxes[j]) {
                    let b = boxes.swap_remove(j);
                    boxes[i] = boxes[i].union(b);
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
    if boxes.len() > MAX_BOXES {
        let all = boxes.iter().copied().reduce(PixelBox::union);
        return all.into_iter().collect();
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, version: u64) -> LayerKey {
        (id.to_string(), version, Affine::IDENTITY, 1f32.to_bits(), None)
    }

    fn b(x0: u32, y0: u32, x1: u32, y1: u32) -> Option<PixelBox> {
        Some(PixelBox { x0, y0, x1, y1 })
    }

    fn drawn(layers: Vec<(LayerKey, Option<PixelBox>)>) -> Drawn {
        Drawn { slot: 0, size: (1000, 1000), background: None, layers }
    }

    #[test]
    fn only_changed_or_redrawn_layers_are_damaged_at_their_old_and_new_places() {
        let previous = drawn(vec![(key("a", 1), b(0, 0, 10, 10)), (key("b", 1), b(100, 100, 200, 200)), (key("c", 1), b(500, 500, 600, 600))]);
        let current = vec![(key("a", 1), b(0, 0, 10, 10)), (key("b", 2), b(300, 100, 400, 200)), (key("c", 1), b(500, 500, 600, 600))];
        let boxes = between(&previous, (1000, 1000), None, &current, &[]).unwrap();
        assert_eq!(boxes.len(), 2);
        assert!(boxes.contains(&PixelBox { x0: 100, y0: 100, x1: 200, y1: 200 }) && boxes.contains(&PixelBox { x0: 300, y0: 100, x1: 400, y1: 200 }));
        let unchanged = vec![(key("a", 1), b(0, 0, 10, 10)), (key("b", 1), b(100, 100, 200, 200)), (key("c", 1), b(500, 500, 600, 600))];
        assert_eq!(between(&previous, (1000, 1000), None, &unchanged, &[]), Some(vec![]));
        assert_eq!(between(&previous, (1000, 1000), None, &unchanged, &["c".to_string()]), Some(vec![PixelBox { x0: 500, y0: 500, x1: 600, y1: 600 }]));
    }

    #[test]
    fn other_order_size_background_or_large_damage_draws_the_frame_whole() {
        let previous = drawn(vec![(key("a", 1), b(0, 0, 10, 10)), (key("b", 1), b(0, 0, 10, 10))]);
        let swapped = vec![(key("b", 1), b(0, 0, 10, 10)), (key("a", 1), b(0, 0, 10, 10))];
        assert_eq!(between(&previous, (1000, 1000), None, &swapped, &[]), None);
        let same = vec![(key("a", 1), b(0, 0, 10, 10)), (key("b", 1), b(0, 0, 10, 10))];
        assert_eq!(between(&previous, (999, 1000), None, &same, &[]), None);
        assert_eq!(between(&previous, (1000, 1000), Some([0, 0, 0]), &same, &[]), None);
        let huge = vec![(key("a", 2), b(0, 0, 1000, 800)), (key("b", 1), b(0, 0, 10, 10))];
        assert_eq!(between(&previous, (1000, 1000), None, &huge, &[]), None);
    }

    #[test]
    fn overlapping_boxes_merge_and_many_become_one() {
        let m = merge(vec![PixelBox { x0: 0, y0: 0, x1: 10, y1: 10 }, PixelBox { x0: 5, y0: 5, x1: 20, y1: 20 }, PixelBox { x0: 50, y0: 50, x1: 60, y1: 60 }]);
        assert_eq!(m.len(), 2);
        assert!(m.contains(&PixelBox { x0: 0, y0: 0, x1: 20, y1: 20 }));
        let many: Vec<PixelBox> = (0..10).map(|i| PixelBox { x0: i * 20, y0: 0, x1: i * 20 + 10, y1: 10 }).collect();
        assert_eq!(merge(many), vec![PixelBox { x0: 0, y0: 0, x1: 190, y1: 10 }]);
    }

    #[test]
    fn row_bands_merge_overlapping_and_touching_rows() {
        let boxes = [PixelBox { x0: 0, y0: 50, x1: 10, y1: 60 }, PixelBox { x0: 20, y0: 0, x1: 30, y1: 10 }, PixelBox { x0: 40, y0: 55, x1: 50, y1: 70 }, PixelBox { x0: 0, y0: 10, x1: 5, y1: 12 }];
        assert_eq!(row_bands(&boxes), vec![(0, 12), (50, 70)]);
        assert_eq!(row_bands(&[]), vec![]);
    }

    #[test]
    fn a_quad_box_has_a_pixel_of_margin_and_stays_on_the_frame() {
        let corners = [[10.5, 20.0], [30.2, 20.0], [30.2, 40.0], [10.5, 40.0]];
        assert_eq!(PixelBox::around(&corners, (100, 100)), b(9, 19, 32, 41));
        let off = [[-50.0, -50.0], [-10.0, -50.0], [-10.0, -10.0], [-50.0, -10.0]];
        assert_eq!(PixelBox::around(&off, (100, 100)), None);
    }
}
