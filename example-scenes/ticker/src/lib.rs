//! Ticker: a line of text crawling right to left along the bottom of the frame.
//!
//! The text repeats with a dot between copies, so the crawl loops seamlessly; its
//! width comes from the host's `measure-text`. Rises in on `play`, drops out on
//! `stop`. Props: `text`, `label` (the box on the left; empty hides it), `speed`
//! (pixels per second at 1080p), `background`, `text-color`, `label-color`. Hot-swap
//! keeps the crawl position and whether it is on screen.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p scene-ticker`, then
//! try it: `showrunner ticks target/wasm32-wasip2/guest/scene_ticker.wasm --frames 120
//! --event 0:play`.

use serde::{Deserialize, Serialize};
use showrunner_guest::prelude::*;
use showrunner_guest::state;

/// The host rejects text runs longer than this (bytes).
const MAX_TEXT_BYTES: usize = 4096;
/// Font size of the crawl at 1080p.
const TEXT_SIZE: f32 = 34.0;
/// Space between two copies of the text at 1080p; the separator dot sits in the middle.
const GAP: f32 = 120.0;

pub struct Ticker {
    text: String,
    label: String,
    speed: f32,
    background: Color,
    text_color: Color,
    label_color: Color,
    /// Width of one copy of the text at 1080p, measured by the host when the text changes.
    text_width: f32,
    /// How far the crawl has moved left, at 1080p, kept in `0..period`.
    offset: f32,
    last_time: Option<f64>,
    appear: Appear,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    offset: f32,
    last_time: Option<f64>,
    appear: Appear,
}

impl Ticker {
    /// How far the crawl has moved left, in pixels at 1080p (less than one period).
    pub fn offset(&self) -> f32 {
        self.offset
    }

    /// Distance between the starts of two copies of the text, at 1080p.
    pub fn period(&self) -> f32 {
        self.text_width + GAP
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Scene for Ticker {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "Ticker".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("text", "Text", "Welcome to the show — scores, news and more after the break"),
                PropSpec::text("label", "Label", "LIVE"),
                PropSpec::number("speed", "Speed (px/s at 1080p)", 160.0).range(10.0, 2000.0),
                PropSpec::color("background", "Bar colour", Color::rgba(0.05, 0.06, 0.09, 0.9)),
                PropSpec::color("text-color", "Text colour", Color::WHITE),
                PropSpec::color("label-color", "Label colour", Color::hex(0xE8_3A_3A)),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let mut scene = Ticker {
            text: String::new(),
            label: String::new(),
            speed: 0.0,
            background: Color::BLACK,
            text_color: Color::WHITE,
            label_color: Color::WHITE,
            text_width: 0.0,
            offset: 0.0,
            last_time: None,
            appear: Appear::new(0.5, 0.4),
        };
        scene.set_props(props);
        Ok(scene)
    }

    fn set_props(&mut self, props: &Props) {
        let text = truncate(props.text("text"), MAX_TEXT_BYTES);
        if text != self.text {
            self.text = text.to_string();
            self.text_width = TextStyle::new(TEXT_SIZE).measure(&self.text).0;
        }
        self.label = truncate(props.text("label"), MAX_TEXT_BYTES).to_string();
        self.speed = props.number("speed", 160.0).clamp(10.0, 2000.0) as f32;
        self.background = props.color("background", Color::BLACK);
        self.text_color = props.color("text-color", Color::WHITE);
        self.label_color = props.color("label-color", Color::WHITE);
    }

    fn on_event(&mut self, event: &Event) {
        match event.name.as_str() {
            "play" => self.appear.play(),
            "stop" => self.appear.stop(),
            _ => {}
        }
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        let shown = self.appear.update(frame.time);
        let dt = frame.time - self.last_time.unwrap_or(frame.time);
        self.last_time = Some(frame.time);
        if shown <= 0.0 || self.text.is_empty() {
            return;
        }
        // Advance and wrap: moving by whole periods leaves the picture unchanged.
        let period = self.period();
        self.offset = (self.offset + self.speed * dt.max(0.0) as f32).rem_euclid(period);

        let (w, h) = (frame.width as f32, frame.height as f32);
        let s = h / 1080.0;
        let bar = Rect::new(0.0, h - 104.0 * s, w, 64.0 * s);
        let baseline = bar.y + bar.height / 2.0 + TEXT_SIZE * s * 0.36;
        let text_style = TextStyle::new(TEXT_SIZE * s).weight(500).paint(self.text_color);
        let label_style = TextStyle::new(TEXT_SIZE * s).weight(800).paint(Color::WHITE).align(TextAlign::Center);
        let label_width = if self.label.is_empty() { 0.0 } else { label_style.measure(&self.label).0 + 48.0 * s };

        let rise = lerp(bar.height + 104.0 * s, 0.0, Easing::OutCubic.apply(shown));
        canvas.group(Group::transform(Affine::translate(0.0, rise)).opacity(shown), |c| {
            c.fill_rect(bar, self.background);
            // The crawl, clipped to the part of the bar right of the label.
            let crawl = Rect::new(label_width, bar.y, w - label_width, bar.height);
            c.group(Group::default().clip(Path::rect(crawl)), |c| {
                let mut x = crawl.x - self.offset * s;
                while x < w {
                    c.text(&self.text, x, baseline, &text_style);
                    let dot_x = x + (period - GAP / 2.0) * s;
                    c.fill(Path::circle(dot_x, bar.y + bar.height / 2.0, 5.0 * s), self.label_color);
                    x += period * s;
                }
            });
            if label_width > 0.0 {
                c.fill_rect(Rect::new(0.0, bar.y, label_width, bar.height), self.label_color);
                c.text(&self.label, label_width / 2.0, baseline, &label_style);
            }
        });
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&Saved { offset: self.offset, last_time: self.last_time, appear: self.appear })
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        let saved: Saved = state::load(saved)?;
        // The text may have changed; the next tick wraps the offset into the new period.
        self.offset = saved.offset.max(0.0);
        self.last_time = saved.last_time;
        self.appear = saved.appear;
        Ok(())
    }
}

export_scene!(Ticker);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use showrunner_guest::{DrawOp, Prop, PropValue};

    fn ticker(speed: f64) -> Ticker {
        let mut props = Props::defaults(&Ticker::describe().props);
        props.merge([Prop { name: "speed".into(), value: PropValue::Number(speed) }]);
        let mut t = Ticker::new(&props).unwrap();
        t.on_event(&Event { name: "play".into(), payload: String::new() });
        t
    }

    fn frame(index: u64) -> FrameInfo {
        FrameInfo { index, time: index as f64 / 50.0, width: 1920, height: 1080, fps_num: 50, fps_den: 1 }
    }

    /// x of every copy of the text drawn in one tick.
    fn copies(canvas: &Canvas) -> Vec<f32> {
        canvas.ops().iter().filter_map(|op| match op {
            DrawOp::Text(t) if t.text != "LIVE" => Some(t.x),
            _ => None,
        }).collect()
    }

    #[test]
    fn offset_advances_at_speed_and_wraps_within_one_period() {
        let mut t = ticker(500.0);
        let period = t.period();
        let mut wrapped = false;
        let mut last = 0.0;
        for i in 0..2000 {
            t.tick(&frame(i), &mut Canvas::new());
            assert!((0.0..period).contains(&t.offset()), "offset {} outside 0..{period}", t.offset());
            wrapped |= t.offset() < last;
            last = t.offset();
        }
        assert!(wrapped, "40 s at 500 px/s must wrap a {period} px period");
        // 2000 frames at 50 fps = 39.98 s of crawl after the first tick.
        let expected = (500.0 * 1999.0 / 50.0f64).rem_euclid(period as f64) as f32;
        assert!((t.offset() - expected).abs() < 0.5, "{} vs {expected}", t.offset());
    }

    #[test]
    fn copies_cover_the_whole_crawl_at_any_offset() {
        let mut t = ticker(777.0);
        let period = t.period();
        let label_width = TextStyle::new(TEXT_SIZE).measure("LIVE").0 + 48.0;
        t.tick(&frame(0), &mut Canvas::new()); // starts the in-animation, draws nothing
        for i in 1..300 {
            let mut canvas = Canvas::new();
            t.tick(&frame(i), &mut canvas);
            let xs = copies(&canvas);
            assert!(xs[0] <= label_width + 0.01, "gap at the left: {xs:?}");
            assert!(xs[xs.len() - 1] + period >= 1920.0, "gap at the right: {xs:?}");
            assert!(xs.windows(2).all(|p| (p[1] - p[0] - period).abs() < 0.01));
        }
    }

    #[test]
    fn hidden_until_play_and_keeps_its_position_over_a_swap() {
        let mut t = Ticker::new(&Props::defaults(&Ticker::describe().props)).unwrap();
        let mut canvas = Canvas::new();
        t.tick(&frame(0), &mut canvas);
        assert!(canvas.is_empty());

        let mut old = ticker(200.0);
        for i in 0..100 {
            old.tick(&frame(i), &mut Canvas::new());
        }
        let mut new = ticker(200.0);
        new.restore_state(&old.save_state()).unwrap();
        old.tick(&frame(100), &mut Canvas::new());
        new.tick(&frame(100), &mut Canvas::new());
        assert_eq!(old.offset(), new.offset());
    }
}
