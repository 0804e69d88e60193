//! Alerts: messages shown one after another in a box at the top centre.
//!
//! Event `alert` with the message as its payload queues it; each message drops in,
//! stays for `duration` seconds (animations included) and goes, then the next one
//! comes. The queue holds at most 32 waiting messages: a 33rd drops the oldest and
//! logs a warning. Event `clear` empties the queue and removes the current message.
//! Props: `duration`, `background`, `text-color`, `accent`. Hot-swap keeps the queue
//! and the message on screen.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p scene-alert`, then
//! try it: `showrunner ticks target/wasm32-wasip2/guest/scene_alert.wasm --frames 300
//! --event "0:alert:New follower: Ada" --event "1:alert:Thanks for the raid!"`.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use showrunner_guest::prelude::*;
use showrunner_guest::{log, state};

/// At most this many messages wait; more drop the oldest.
pub const MAX_QUEUED: usize = 32;
/// The host rejects text runs longer than this (bytes).
const MAX_TEXT_BYTES: usize = 4096;
/// Seconds each message takes to come in and to go out.
const ANIMATION: f64 = 0.4;

#[derive(Clone, Serialize, Deserialize)]
struct Showing {
    text: String,
    start: f64,
}

pub struct Alerts {
    duration: f64,
    background: Color,
    text_color: Color,
    accent: Color,
    queue: VecDeque<String>,
    current: Option<Showing>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    queue: VecDeque<String>,
    current: Option<Showing>,
}

impl Alerts {
    /// The message on screen (or going out), if any.
    pub fn current(&self) -> Option<&str> {
        self.current.as_ref().map(|s| s.text.as_str())
    }

    /// The waiting messages, oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &str> {
        self.queue.iter().map(String::as_str)
    }

    fn enqueue(&mut self, payload: &str) {
        let mut end = payload.len().min(MAX_TEXT_BYTES);
        while !payload.is_char_boundary(end) {
            end -= 1;
        }
        let text = payload[..end].trim();
        if text.is_empty() {
            log::warn("alert without a message ignored");
            return;
        }
        if self.queue.len() == MAX_QUEUED
            && let Some(dropped) = self.queue.pop_front()
        {
            let preview: String = dropped.chars().take(40).collect();
            log::warn(&format!("alert queue full ({MAX_QUEUED}); dropped the oldest: {preview:?}"));
        }
        self.queue.push_back(text.to_string());
    }
}

impl Scene for Alerts {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "Alerts".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::number("duration", "Seconds per message", 5.0).range(1.0, 60.0),
                PropSpec::color("background", "Box colour", Color::rgba(0.05, 0.06, 0.09, 0.92)),
                PropSpec::color("text-color", "Text colour", Color::WHITE),
                PropSpec::color("accent", "Accent colour", Color::hex(0xF2_C1_2E)),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let mut scene = Alerts {
            duration: 5.0,
            background: Color::BLACK,
            text_color: Color::WHITE,
            accent: Color::WHITE,
            queue: VecDeque::new(),
            current: None,
        };
        scene.set_props(props);
        Ok(scene)
    }

    fn set_props(&mut self, props: &Props) {
        self.duration = props.number("duration", 5.0).clamp(1.0, 60.0);
        self.background = props.color("background", Color::BLACK);
        self.text_color = props.color("text-color", Color::WHITE);
        self.accent = props.color("accent", Color::WHITE);
    }

    fn on_event(&mut self, event: &Event) {
        match event.name.as_str() {
            "alert" => self.enqueue(&event.payload),
            "clear" => {
                self.queue.clear();
                self.current = None;
            }
            _ => {}
        }
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        // Retire the current message once its time is up; the next one starts now.
        if let Some(showing) = &self.current
            && frame.time - showing.start >= self.duration
        {
            self.current = None;
        }
        if self.current.is_none()
            && let Some(text) = self.queue.pop_front()
        {
            self.current = Some(Showing { text, start: frame.time });
        }
        let Some(showing) = &self.current else { return };

        // 0 → 1 over the first ANIMATION seconds, 1 → 0 over the last.
        let age = frame.time - showing.start;
        let shown = (age.min(self.duration - age) / ANIMATION).clamp(0.0, 1.0) as f32;
        if shown <= 0.0 {
            return;
        }

        let (w, h) = (frame.width as f32, frame.height as f32);
        let s = h / 1080.0;
        let style = TextStyle::new(40.0 * s).weight(600).paint(self.text_color);
        let (pad, accent_w, box_h) = (36.0 * s, 12.0 * s, 88.0 * s);
        let max_text = w * 0.7;
        let text_w = style.measure(&showing.text).0.min(max_text);
        let box_w = text_w + 2.0 * pad + accent_w;
        let (x, y) = ((w - box_w) / 2.0, 60.0 * s);

        let drop = lerp(-(y + box_h), 0.0, Easing::OutBack.apply(shown));
        canvas.group(Group::transform(Affine::translate(0.0, drop)).opacity(shown), |c| {
            let panel = Path::rounded_rect(Rect::new(x, y, box_w, box_h), 10.0 * s);
            c.group(Group::default().clip(panel), |c| {
                c.fill_rect(Rect::new(x, y, box_w, box_h), self.background);
                c.fill_rect(Rect::new(x, y, accent_w, box_h), self.accent);
            });
            let baseline = y + box_h / 2.0 + 40.0 * s * 0.36;
            c.text(&showing.text, x + accent_w + pad, baseline, &style.max_width(max_text));
        });
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&Saved { queue: self.queue.clone(), current: self.current.clone() })
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        let Saved { mut queue, current } = state::load(saved)?;
        // An older version may have allowed a longer queue.
        while queue.len() > MAX_QUEUED {
            queue.pop_front();
        }
        self.queue = queue;
        self.current = current;
        Ok(())
    }
}

export_scene!(Alerts);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use showrunner_guest::DrawOp;

    fn alerts() -> Alerts {
        Alerts::new(&Props::defaults(&Alerts::describe().props)).unwrap()
    }

    fn alert(scene: &mut Alerts, text: &str) {
        scene.on_event(&Event { name: "alert".into(), payload: text.into() });
    }

    fn tick(scene: &mut Alerts, index: u64) -> Canvas {
        let frame = FrameInfo { index, time: index as f64 / 30.0, width: 1920, height: 1080, fps_num: 30, fps_den: 1 };
        let mut canvas = Canvas::new();
        scene.tick(&frame, &mut canvas);
        canvas
    }

    #[test]
    fn queue_is_capped_at_32_dropping_the_oldest() {
        let mut a = alerts();
        for i in 0..40 {
            alert(&mut a, &format!("alert {i}"));
        }
        let queued: Vec<&str> = a.queued().collect();
        assert_eq!(queued.len(), MAX_QUEUED);
        assert_eq!((queued[0], queued[31]), ("alert 8", "alert 39"));
        alert(&mut a, "   ");
        assert_eq!(a.queued().count(), MAX_QUEUED);
    }

    #[test]
    fn messages_show_in_order_for_their_duration() {
        let mut a = alerts(); // 5 s per message, 150 frames at 30 fps
        for text in ["first", "second", "third"] {
            alert(&mut a, text);
        }
        let mut shown: Vec<(String, u64)> = Vec::new();
        for i in 0..600 {
            let canvas = tick(&mut a, i);
            if let Some(text) = a.current() {
                match shown.last_mut() {
                    Some((last, frames)) if last == text => *frames += 1,
                    _ => shown.push((text.to_string(), 1)),
                }
            }
            // Mid-message the box is fully in and shows the text.
            if i % 150 == 75 && i < 450 {
                let texts: Vec<&str> = canvas.ops().iter().filter_map(|op| match op {
                    DrawOp::Text(t) => Some(t.text.as_str()),
                    _ => None,
                }).collect();
                assert_eq!(texts, [a.current().unwrap()]);
            }
        }
        let expected: Vec<(String, u64)> = ["first", "second", "third"].iter().map(|t| (t.to_string(), 150)).collect();
        assert_eq!(shown, expected);
        assert!(a.current().is_none());
        assert!(tick(&mut a, 600).is_empty());
    }

    #[test]
    fn queue_and_current_message_survive_a_swap_and_clear_empties_both() {
        let mut old = alerts();
        for text in ["one", "two", "three"] {
            alert(&mut old, text);
        }
        tick(&mut old, 0);
        let mut new = alerts();
        new.restore_state(&old.save_state()).unwrap();
        assert_eq!(new.current(), Some("one"));
        assert_eq!(new.queued().collect::<Vec<_>>(), ["two", "three"]);
        new.on_event(&Event { name: "clear".into(), payload: String::new() });
        assert!(new.current().is_none() && new.queued().next().is_none());
    }
}
