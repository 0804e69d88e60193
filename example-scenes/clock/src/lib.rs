//! Clock: a game clock or countdown, top right.
//!
//! Counts up from `start` seconds or down to zero (then turns the accent colour). The
//! time comes only from `frame.time`, never from a wall clock, so a render of the same
//! frames always shows the same digits. Events: `start`, `pause` (freezes the digits
//! last shown), `reset` (back to `start`, paused). Props: `mode` ("up" or "down"),
//! `start` (seconds), `autostart` (run from the first frame), `label` (a box to the
//! left; empty hides it), `background`, `text-color`, `accent`. Always on screen: show
//! and hide the layer itself. Hot-swap keeps the time and whether it runs.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p scene-clock`, then
//! try it: `showrunner ticks target/wasm32-wasip2/guest/scene_clock.wasm --frames 90
//! --event 45:pause`.

use serde::{Deserialize, Serialize};
use showrunner_guest::prelude::*;
use showrunner_guest::{log, state};

/// Whether the clock runs. Events carry no time, so a start takes effect at the next
/// tick; a pause freezes the clock at the last tick, the digits the audience saw.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Run {
    Paused,
    StartRequested,
    Running { since: f64 },
}

pub struct Clock {
    countdown: bool,
    start: f64,
    label: String,
    background: Color,
    text_color: Color,
    accent: Color,
    /// Seconds run before the current `Running` stretch.
    banked: f64,
    run: Run,
    last_time: f64,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    banked: f64,
    run: Run,
    last_time: f64,
}

impl Clock {
    /// Seconds the clock has run, as of the last tick.
    fn elapsed(&self) -> f64 {
        match self.run {
            Run::Running { since } => self.banked + (self.last_time - since).max(0.0),
            _ => self.banked,
        }
    }

    /// The time on the clock in seconds, as of the last tick.
    pub fn seconds(&self) -> f64 {
        if self.countdown { (self.start - self.elapsed()).max(0.0) } else { self.start + self.elapsed() }
    }

    /// The digits on the clock, as of the last tick: "4:59", "1:02:03".
    pub fn text(&self) -> String {
        // A countdown shows 0:00 only once it is over; counting up shows whole seconds passed.
        let seconds = if self.countdown { self.seconds().ceil() } else { self.seconds().floor() };
        let total = seconds as u64;
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
    }

    pub fn is_running(&self) -> bool {
        self.run != Run::Paused
    }
}

impl Scene for Clock {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "Clock".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("mode", "Mode (up or down)", "down"),
                PropSpec::number("start", "Start (seconds)", 300.0).range(0.0, 359_999.0),
                PropSpec::flag("autostart", "Run from the first frame", true),
                PropSpec::text("label", "Label", ""),
                PropSpec::color("background", "Box colour", Color::rgba(0.05, 0.06, 0.09, 0.9)),
                PropSpec::color("text-color", "Digits colour", Color::WHITE),
                PropSpec::color("accent", "Accent colour", Color::hex(0xE8_3A_3A)),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let run = if props.flag("autostart", true) { Run::StartRequested } else { Run::Paused };
        let mut scene = Clock {
            countdown: true,
            start: 0.0,
            label: String::new(),
            background: Color::BLACK,
            text_color: Color::WHITE,
            accent: Color::WHITE,
            banked: 0.0,
            run,
            last_time: 0.0,
        };
        scene.set_props(props);
        Ok(scene)
    }

    fn set_props(&mut self, props: &Props) {
        self.countdown = match props.text("mode") {
            "down" => true,
            "up" => false,
            other => {
                log::warn(&format!("mode {other:?} is neither \"up\" nor \"down\"; counting up"));
                false
            }
        };
        self.start = props.number("start", 0.0).clamp(0.0, 359_999.0);
        self.label = props.text("label").to_string();
        self.background = props.color("background", Color::BLACK);
        self.text_color = props.color("text-color", Color::WHITE);
        self.accent = props.color("accent", Color::WHITE);
    }

    fn on_event(&mut self, event: &Event) {
        match (event.name.as_str(), self.run) {
            ("start", Run::Paused) => self.run = Run::StartRequested,
            ("pause", Run::Running { .. }) => {
                self.banked = self.elapsed();
                self.run = Run::Paused;
            }
            ("pause", Run::StartRequested) => self.run = Run::Paused,
            ("reset", _) => {
                self.banked = 0.0;
                self.run = Run::Paused;
            }
            _ => {}
        }
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        self.last_time = frame.time;
        if self.run == Run::StartRequested {
            self.run = Run::Running { since: frame.time };
        }

        let (w, h) = (frame.width as f32, frame.height as f32);
        let s = h / 1080.0;
        let (box_w, box_h) = (200.0 * s, 72.0 * s);
        let (x, y) = (w - 96.0 * s - box_w, 54.0 * s);
        let over = self.countdown && self.seconds() <= 0.0;
        let digits = TextStyle::new(48.0 * s).weight(700).align(TextAlign::Center).paint(if over { self.accent } else { self.text_color });
        let baseline = y + box_h / 2.0 + 48.0 * s * 0.36;

        canvas.fill(Path::rounded_rect(Rect::new(x, y, box_w, box_h), 6.0 * s), self.background);
        canvas.text(&self.text(), x + box_w / 2.0, baseline, &digits);
        if !self.label.is_empty() {
            let label = TextStyle::new(28.0 * s).weight(700).align(TextAlign::Center).max_width(w / 3.0);
            let label_w = label.measure(&self.label).0.min(w / 3.0) + 40.0 * s;
            let lx = x - 8.0 * s - label_w;
            canvas.fill(Path::rounded_rect(Rect::new(lx, y, label_w, box_h), 6.0 * s), self.accent);
            canvas.text(&self.label, lx + label_w / 2.0, y + box_h / 2.0 + 28.0 * s * 0.36, &label);
        }
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&Saved { banked: self.banked, run: self.run, last_time: self.last_time })
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        let saved: Saved = state::load(saved)?;
        self.banked = saved.banked.max(0.0);
        self.run = saved.run;
        self.last_time = saved.last_time;
        Ok(())
    }
}

export_scene!(Clock);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use showrunner_guest::{Prop, PropValue};

    fn clock(pairs: &[(&str, PropValue)]) -> Clock {
        let mut props = Props::defaults(&Clock::describe().props);
        props.merge(pairs.iter().map(|(n, v)| Prop { name: n.to_string(), value: v.clone() }));
        Clock::new(&props).unwrap()
    }

    fn event(name: &str) -> Event {
        Event { name: name.into(), payload: String::new() }
    }

    /// Ticks `clock` through frames `from..=to` at 30 fps.
    fn run(clock: &mut Clock, from: u64, to: u64) {
        for index in from..=to {
            let frame = FrameInfo { index, time: index as f64 / 30.0, width: 1920, height: 1080, fps_num: 30, fps_den: 1 };
            clock.tick(&frame, &mut Canvas::new());
        }
    }

    #[test]
    fn counts_down_pauses_and_resumes() {
        let mut c = clock(&[("start", PropValue::Number(10.0))]);
        run(&mut c, 0, 90);
        assert_eq!(c.seconds(), 7.0);
        assert_eq!(c.text(), "0:07");
        c.on_event(&event("pause"));
        run(&mut c, 91, 300);
        assert_eq!(c.text(), "0:07");
        assert!(!c.is_running());
        c.on_event(&event("start"));
        run(&mut c, 301, 316); // runs from frame 301: half a second
        assert!((c.seconds() - 6.5).abs() < 1e-9, "{}", c.seconds());
        assert_eq!(c.text(), "0:07");
        run(&mut c, 317, 1000);
        assert_eq!((c.seconds(), c.text().as_str()), (0.0, "0:00"));
    }

    #[test]
    fn counts_up_from_start_and_reset_goes_back_paused() {
        let mut c = clock(&[("mode", PropValue::Text("up".into())), ("start", PropValue::Number(3595.0))]);
        run(&mut c, 0, 30 * 7 + 15);
        assert_eq!(c.text(), "1:00:02");
        c.on_event(&event("reset"));
        run(&mut c, 226, 400);
        assert_eq!(c.text(), "59:55");
        assert!(!c.is_running());
    }

    #[test]
    fn waits_for_start_without_autostart_and_survives_a_swap() {
        let mut old = clock(&[("autostart", PropValue::Flag(false)), ("start", PropValue::Number(60.0))]);
        run(&mut old, 0, 60);
        assert_eq!(old.text(), "1:00");
        old.on_event(&event("start"));
        run(&mut old, 61, 91);
        let mut new = clock(&[("start", PropValue::Number(60.0))]);
        new.restore_state(&old.save_state()).unwrap();
        run(&mut old, 92, 150);
        run(&mut new, 92, 150);
        assert_eq!(new.seconds(), old.seconds());
        assert_eq!(new.text(), "0:58");
    }
}
