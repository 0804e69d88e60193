//! {{name}}: a title card that rises and fades in on `play` and goes on `stop`.
//!
//! Props: `text` (what the card says) and `color` (the card's colour). Hot-swap and
//! fault recovery keep whether it is on screen.
//!
//! Build: `cargo build --release --target wasm32-wasip2`, then try it:
//! `showrunner ticks target/wasm32-wasip2/release/{{crate_name}}.wasm --frames 60 --event 0:play --every 10`.

use serde::{Deserialize, Serialize};
use showrunner_guest::prelude::*;
use showrunner_guest::state;

/// Text size at 1080p; everything is laid out at 1080p and scaled to the output.
const TEXT_SIZE: f32 = 64.0;

pub struct TitleCard {
    text: String,
    color: Color,
    /// Width of `text` at 1080p. Measuring crosses into the host, so it is done when
    /// the text changes, not every frame.
    text_width: f32,
    appear: Appear,
}

/// What a new version of this module (hot-swap) or a restarted instance (after a
/// fault) takes over. Add fields at the end only (see the SDK guide).
#[derive(Serialize, Deserialize)]
struct Saved {
    appear: Appear,
}

fn text_style(scale: f32) -> TextStyle {
    TextStyle::new(TEXT_SIZE * scale).weight(700).align(TextAlign::Center)
}

impl Scene for TitleCard {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("text", "Text", "Hello, showrunner"),
                PropSpec::color("color", "Card colour", Color::hex(0x2D_6C_DF)),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let mut scene = TitleCard { text: String::new(), color: Color::WHITE, text_width: 0.0, appear: Appear::new(0.5, 0.3) };
        scene.set_props(props);
        Ok(scene)
    }

    /// Gets every current value, not just the changed ones.
    fn set_props(&mut self, props: &Props) {
        let text = props.text("text");
        if text != self.text {
            self.text = text.to_string();
            self.text_width = text_style(1.0).measure(&self.text).0;
        }
        self.color = props.color("color", Color::hex(0x2D_6C_DF));
    }

    /// Events carry no time: `Appear` notes the request and starts it at the next tick.
    fn on_event(&mut self, event: &Event) {
        match event.name.as_str() {
            "play" => self.appear.play(),
            "stop" => self.appear.stop(),
            _ => {}
        }
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        let shown = self.appear.update(frame.time); // 0 = hidden ..= 1 = fully in
        if shown <= 0.0 {
            return;
        }
        let (w, h) = (frame.width as f32, frame.height as f32);
        let s = h / 1080.0;
        let card_width = (self.text_width * s + 128.0 * s).min(w - 160.0 * s);
        let card = Rect::new((w - card_width) / 2.0, h - 300.0 * s, card_width, 128.0 * s);
        let rise = lerp(48.0 * s, 0.0, Easing::OutCubic.apply(shown));
        canvas.group(Group::transform(Affine::translate(0.0, rise)).opacity(shown), |c| {
            c.fill(Path::rounded_rect(card, 16.0 * s), self.color);
            c.text(&self.text, w / 2.0, card.y + 86.0 * s, &text_style(s).max_width(card_width - 64.0 * s));
        });
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&Saved { appear: self.appear })
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        let saved: Saved = state::load(saved)?;
        self.appear = saved.appear;
        Ok(())
    }
}

export_scene!(TitleCard);

#[cfg(test)]
mod tests {
    use super::*;
    use showrunner_guest::DrawOp;

    fn start() -> TitleCard {
        TitleCard::new(&Props::defaults(&TitleCard::describe().props)).expect("starts with the default props")
    }

    fn event(name: &str) -> Event {
        Event { name: name.into(), payload: String::new() }
    }

    /// The texts frame `index` draws.
    fn texts(scene: &mut TitleCard, index: u64) -> Vec<String> {
        let mut canvas = Canvas::new();
        scene.tick(&FrameInfo::at(index, 1920, 1080, 30, 1), &mut canvas);
        canvas.take_ops().into_iter().filter_map(|op| if let DrawOp::Text(t) = op { Some(t.text) } else { None }).collect()
    }

    #[test]
    fn hidden_until_play_shown_after_and_gone_after_stop() {
        let mut scene = start();
        assert!(texts(&mut scene, 0).is_empty(), "hidden until play");
        scene.on_event(&event("play"));
        texts(&mut scene, 1);
        assert_eq!(texts(&mut scene, 30), ["Hello, showrunner"]);
        scene.on_event(&event("stop"));
        texts(&mut scene, 31);
        assert!(texts(&mut scene, 60).is_empty(), "gone after the out animation");
    }

    #[test]
    fn a_new_instance_restored_from_saved_state_stays_on_screen() {
        let mut old = start();
        old.on_event(&event("play"));
        texts(&mut old, 1);
        texts(&mut old, 30);
        let mut new = start();
        new.restore_state(&old.save_state()).expect("restores");
        assert_eq!(texts(&mut new, 31), ["Hello, showrunner"]);
    }
}
