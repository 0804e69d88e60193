//! Scoreboard: two teams, their colours and scores, and the period, top left.
//!
//! Drops in on `play`, goes out on `stop`. Events: `home-score` and `away-score` with
//! payload `+1`, `-1` (any signed number changes the score), a bare number (sets it) or
//! nothing (+1); `reset` sets both scores to 0. Props: `home-name`, `away-name`,
//! `home-color`, `away-color`, `period`. Hot-swap keeps the scores, the period and
//! whether it is on screen.
//!
//! `Scoreboard` is public so another crate can reuse it with its own [`Style`]: depend
//! on this crate with `default-features = false` (the `export` feature is what exports
//! it as a component) and wrap it in your own [`Scene`].
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p scene-scoreboard`, then
//! try it: `showrunner ticks target/wasm32-wasip2/guest/scene_scoreboard.wasm --frames 60
//! --event 0:play --event 30:home-score:+1`.

use serde::{Deserialize, Serialize};
use showrunner_guest::prelude::*;
use showrunner_guest::{log, state};

/// Scores are kept in 0..=MAX_SCORE.
pub const MAX_SCORE: i64 = 9999;

/// How the scoreboard looks. Layout, animation and events are the same for every style.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Behind the team names.
    pub panel: Color,
    /// Behind the scores.
    pub score_panel: Color,
    /// Behind the period.
    pub period_panel: Color,
    pub text: Color,
    pub score_text: Color,
    pub period_text: Color,
    /// Corner radius in pixels at 1080p.
    pub radius: f32,
    pub family: &'static str,
}

impl Style {
    pub const CLASSIC: Style = Style {
        panel: Color::rgba(0.05, 0.06, 0.09, 0.92),
        score_panel: Color::rgba(0.12, 0.13, 0.17, 0.95),
        period_panel: Color::hex(0xF2_C1_2E),
        text: Color::WHITE,
        score_text: Color::WHITE,
        period_text: Color::BLACK,
        radius: 6.0,
        family: "Inter",
    };
}

struct Team {
    name: String,
    color: Color,
    score: i64,
}

pub struct Scoreboard {
    style: Style,
    home: Team,
    away: Team,
    period: String,
    appear: Appear,
}

/// What survives a hot-swap (postcard: a new field needs a fallback to this shape in `restore_state`).
#[derive(Serialize, Deserialize)]
struct Saved {
    home: i64,
    away: i64,
    period: String,
    appear: Appear,
}

impl Scoreboard {
    /// The scoreboard drawn in `style`.
    pub fn with_style(props: &Props, style: Style) -> Scoreboard {
        let team = || Team { name: String::new(), color: Color::WHITE, score: 0 };
        let mut scene = Scoreboard { style, home: team(), away: team(), period: String::new(), appear: Appear::new(0.5, 0.35) };
        scene.set_props(props);
        scene
    }

    /// (home, away).
    pub fn scores(&self) -> (i64, i64) {
        (self.home.score, self.away.score)
    }

    pub fn period(&self) -> &str {
        &self.period
    }

    /// On screen or animating in or out.
    pub fn is_visible(&self) -> bool {
        self.appear.is_visible()
    }
}

/// Applies a `home-score`/`away-score` event: "+N"/"-N" change the score, a bare
/// number sets it, an empty payload adds one.
fn score_event(team: &mut Team, event: &Event) {
    let payload = event.payload.trim().trim_matches('"');
    let score = if payload.is_empty() {
        Some(team.score.saturating_add(1))
    } else if payload.starts_with(['+', '-']) {
        payload.parse().ok().map(|delta| team.score.saturating_add(delta))
    } else {
        payload.parse().ok()
    };
    match score {
        Some(score) => team.score = i64::clamp(score, 0, MAX_SCORE),
        None => log::warn(&format!("{}: payload {:?} is not +N, -N or a number", event.name, event.payload)),
    }
}

impl Scene for Scoreboard {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "Scoreboard".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("home-name", "Home team", "HOME"),
                PropSpec::text("away-name", "Away team", "AWAY"),
                PropSpec::color("home-color", "Home colour", Color::hex(0xE8_3A_3A)),
                PropSpec::color("away-color", "Away colour", Color::hex(0x2F_7B_E8)),
                PropSpec::text("period", "Period", "1ST"),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        Ok(Scoreboard::with_style(props, Style::CLASSIC))
    }

    fn set_props(&mut self, props: &Props) {
        self.home.name = props.text("home-name").to_string();
        self.away.name = props.text("away-name").to_string();
        self.home.color = props.color("home-color", Color::WHITE);
        self.away.color = props.color("away-color", Color::WHITE);
        self.period = props.text("period").to_string();
    }

    fn on_event(&mut self, event: &Event) {
        match event.name.as_str() {
            "play" => self.appear.play(),
            "stop" => self.appear.stop(),
            "reset" => (self.home.score, self.away.score) = (0, 0),
            "home-score" => score_event(&mut self.home, event),
            "away-score" => score_event(&mut self.away, event),
            _ => {}
        }
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        let shown = self.appear.update(frame.time);
        if shown <= 0.0 {
            return;
        }
        // Laid out at 1080p and scaled to the output height.
        let s = frame.height as f32 / 1080.0;
        let (x, y, row) = (96.0 * s, 54.0 * s, 64.0 * s);
        let (chip, name_w, score_w, period_w) = (10.0 * s, 220.0 * s, 84.0 * s, 120.0 * s);
        let bar_w = 2.0 * (chip + name_w + score_w);
        let st = self.style;

        let name_style = TextStyle::new(30.0 * s).family(st.family).weight(700).paint(st.text).max_width(name_w - 36.0 * s);
        let score_style = TextStyle::new(42.0 * s).family(st.family).weight(800).paint(st.score_text).align(TextAlign::Center);
        let period_style = TextStyle::new(28.0 * s).family(st.family).weight(700).paint(st.period_text).align(TextAlign::Center);
        // Baseline that centres a line of `size` pixels in the row.
        let baseline = |size: f32| y + row / 2.0 + size * 0.36;

        let slide = lerp(-(y + row), 0.0, Easing::OutCubic.apply(shown));
        canvas.group(Group::transform(Affine::translate(0.0, slide)).opacity(shown), |c| {
            // The bar: square pieces inside one rounded clip.
            let bar = Path::rounded_rect(Rect::new(x, y, bar_w, row), st.radius * s);
            c.group(Group::default().clip(bar), |c| {
                c.fill_rect(Rect::new(x, y, bar_w, row), st.panel);
                c.fill_rect(Rect::new(x, y, chip, row), self.home.color);
                c.fill_rect(Rect::new(x + bar_w - chip, y, chip, row), self.away.color);
                c.fill_rect(Rect::new(x + chip + name_w, y, 2.0 * score_w, row), st.score_panel);
                c.fill_rect(Rect::new(x + bar_w / 2.0 - s, y + 12.0 * s, 2.0 * s, row - 24.0 * s), st.score_text.fade(0.25));
            });
            c.text(&self.home.name, x + chip + 18.0 * s, baseline(30.0 * s), &name_style);
            let away_name = name_style.clone().align(TextAlign::End);
            c.text(&self.away.name, x + bar_w - chip - 18.0 * s, baseline(30.0 * s), &away_name);
            let home_score_x = x + chip + name_w + score_w / 2.0;
            c.text(&self.home.score.to_string(), home_score_x, baseline(42.0 * s), &score_style);
            c.text(&self.away.score.to_string(), home_score_x + score_w, baseline(42.0 * s), &score_style);

            if !self.period.is_empty() {
                let px = x + bar_w + 8.0 * s;
                c.fill(Path::rounded_rect(Rect::new(px, y, period_w, row), st.radius * s), st.period_panel);
                c.text(&self.period, px + period_w / 2.0, baseline(28.0 * s), &period_style.max_width(period_w - 16.0 * s));
            }
        });
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&Saved { home: self.home.score, away: self.away.score, period: self.period.clone(), appear: self.appear })
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        let saved: Saved = state::load(saved)?;
        self.home.score = saved.home.clamp(0, MAX_SCORE);
        self.away.score = saved.away.clamp(0, MAX_SCORE);
        self.period = saved.period;
        self.appear = saved.appear;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_scene!(Scoreboard);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use showrunner_guest::{DrawOp, Prop, PropValue};

    fn scoreboard() -> Scoreboard {
        Scoreboard::new(&Props::defaults(&Scoreboard::describe().props)).unwrap()
    }

    fn event(name: &str, payload: &str) -> Event {
        Event { name: name.into(), payload: payload.into() }
    }

    fn frame(index: u64) -> FrameInfo {
        FrameInfo { index, time: index as f64 / 30.0, width: 1920, height: 1080, fps_num: 30, fps_den: 1 }
    }

    #[test]
    fn score_events_add_subtract_and_set() {
        let mut s = scoreboard();
        for (name, payload) in [("home-score", "+1"), ("home-score", "+1"), ("away-score", ""), ("home-score", "-1"), ("away-score", "7")] {
            s.on_event(&event(name, payload));
        }
        assert_eq!(s.scores(), (1, 7));
        s.on_event(&event("away-score", "+3"));
        assert_eq!(s.scores(), (1, 10));
        s.on_event(&event("reset", ""));
        assert_eq!(s.scores(), (0, 0));
    }

    #[test]
    fn scores_never_go_negative_and_bad_payloads_are_ignored() {
        let mut s = scoreboard();
        s.on_event(&event("home-score", "-1"));
        s.on_event(&event("away-score", "3"));
        s.on_event(&event("away-score", "three"));
        s.on_event(&event("away-score", "+"));
        s.on_event(&event("home-score", "99999999999999999999"));
        assert_eq!(s.scores(), (0, 3));
        s.on_event(&event("home-score", "123456"));
        assert_eq!(s.scores(), (MAX_SCORE, 3));
    }

    #[test]
    fn state_survives_save_and_restore() {
        let mut old = scoreboard();
        old.on_event(&event("play", ""));
        old.tick(&frame(0), &mut Canvas::new());
        old.on_event(&event("home-score", "2"));
        old.on_event(&event("away-score", "+1"));
        let mut props = Props::defaults(&Scoreboard::describe().props);
        props.merge([Prop { name: "period".into(), value: PropValue::Text("OT".into()) }]);
        old.set_props(&props);

        let mut new = scoreboard();
        assert_eq!(new.restore_state(&old.save_state()), Ok(()));
        assert_eq!(new.scores(), (2, 1));
        assert_eq!(new.period(), "OT");
        assert!(new.is_visible());
        assert!(new.restore_state(b"not a state").is_err());
    }

    #[test]
    fn hidden_until_play_and_gone_after_stop() {
        let mut s = scoreboard();
        let mut canvas = Canvas::new();
        s.tick(&frame(0), &mut canvas);
        assert!(canvas.is_empty());
        s.on_event(&event("play", ""));
        for i in 1..30 {
            canvas = Canvas::new();
            s.tick(&frame(i), &mut canvas);
        }
        let texts: Vec<String> = canvas
            .ops()
            .iter()
            .filter_map(|op| match op {
                DrawOp::Text(t) => Some(t.text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["HOME", "AWAY", "0", "0", "1ST"]);
        s.on_event(&event("stop", ""));
        for i in 30..60 {
            canvas = Canvas::new();
            s.tick(&frame(i), &mut canvas);
        }
        assert!(canvas.is_empty());
        assert!(!s.is_visible());
    }
}
