//! Test guest: "version 0.2.0" of the example scoreboard, for hot-swap tests.
//!
//! Same props, events and saved state as `scene-scoreboard`, drawn in a visibly
//! different style (light panels, dark text, square corners) and describing itself as
//! version 0.2.0. A host test swaps a live scoreboard to this module and checks the
//! score is kept. Not shipped.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p guest-scoreboard-v2`
//! (on its own: built in the same cargo invocation as `scene-scoreboard`, feature
//! unification turns that crate's `export` back on and the two exports collide).

use scene_scoreboard::{Scoreboard, Style};
use showrunner_guest::prelude::*;

/// The v2 look.
pub const STYLE: Style = Style {
    panel: Color::rgba(0.95, 0.95, 0.93, 0.95),
    score_panel: Color::hex(0x1B_1F_2A),
    period_panel: Color::hex(0x19_C3_7D),
    text: Color::hex(0x11_11_11),
    score_text: Color::WHITE,
    period_text: Color::hex(0x11_11_11),
    radius: 0.0,
    family: "Inter",
};

pub struct ScoreboardV2(pub Scoreboard);

impl Scene for ScoreboardV2 {
    fn describe() -> ModuleInfo {
        ModuleInfo { version: env!("CARGO_PKG_VERSION").into(), ..Scoreboard::describe() }
    }

    fn new(props: &Props) -> Result<Self, String> {
        Ok(ScoreboardV2(Scoreboard::with_style(props, STYLE)))
    }

    fn set_props(&mut self, props: &Props) {
        self.0.set_props(props);
    }

    fn on_event(&mut self, event: &Event) {
        self.0.on_event(event);
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        self.0.tick(frame, canvas);
    }

    fn save_state(&self) -> Vec<u8> {
        self.0.save_state()
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        self.0.restore_state(saved)
    }
}

export_scene!(ScoreboardV2);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use showrunner_guest::{DrawOp, Paint};

    fn props() -> Props {
        Props::defaults(&ScoreboardV2::describe().props)
    }

    /// The paint of the first shape drawn once the scoreboard is fully in.
    fn first_paint(scene: &mut impl Scene) -> Option<Paint> {
        let frame = |time| FrameInfo { index: 0, time, width: 1920, height: 1080, fps_num: 30, fps_den: 1 };
        scene.tick(&frame(10.0), &mut Canvas::new());
        let mut canvas = Canvas::new();
        scene.tick(&frame(11.0), &mut canvas);
        canvas.ops().iter().find_map(|op| match op {
            DrawOp::Fill(f) => Some(f.paint.clone()),
            _ => None,
        })
    }

    #[test]
    fn describes_itself_as_0_2_0_with_the_same_props() {
        let (v1, v2) = (Scoreboard::describe(), ScoreboardV2::describe());
        assert_eq!(v2.version, "0.2.0");
        assert_ne!(v1.version, v2.version);
        let names = |info: &ModuleInfo| info.props.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&v1), names(&v2));
    }

    #[test]
    fn takes_over_the_v1_score_and_looks_different() {
        let mut v1 = Scoreboard::new(&props()).unwrap();
        v1.on_event(&Event { name: "home-score".into(), payload: "3".into() });
        v1.on_event(&Event { name: "play".into(), payload: String::new() });
        let mut v2 = ScoreboardV2::new(&props()).unwrap();
        v2.restore_state(&v1.save_state()).unwrap();
        assert_eq!(v2.0.scores(), (3, 0));

        let (old, new) = (first_paint(&mut v1), first_paint(&mut v2));
        assert!(matches!(old, Some(Paint::Solid(c)) if c.r < 0.5));
        assert!(matches!(new, Some(Paint::Solid(c)) if c.r > 0.5));
    }
}
