//! Lower third: a name and a title on a coloured bar, bottom left.
//!
//! Slides in on `play`, out on `stop`. Props: `name`, `title`, `accent`, `background`,
//! `text-color`. Hot-swap keeps whether it is on screen.
//!
//! Build: `cargo xtask build-scenes` (or `cargo build --profile guest --target
//! wasm32-wasip2 -p scene-lower-third`), then try it:
//! `showrunner ticks target/wasm32-wasip2/guest/scene_lower_third.wasm --frames 60 --event 0:play`.

use showrunner_guest::prelude::*;
use showrunner_guest::state;

pub struct LowerThird {
    name: String,
    title: String,
    accent: Color,
    background: Color,
    text_color: Color,
    appear: Appear,
    /// Text width measured for a frame height; measuring crosses into the host, so
    /// it is done again only when the text or the output size changes.
    measured: Option<(u32, f32)>,
}

impl Scene for LowerThird {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "Lower third".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("name", "Name", "Jane Doe"),
                PropSpec::text("title", "Title", "Host"),
                PropSpec::color("accent", "Accent colour", Color::hex(0xE8_3A_3A)),
                PropSpec::color("background", "Bar colour", Color::rgba(0.05, 0.06, 0.09, 0.9)),
                PropSpec::color("text-color", "Text colour", Color::WHITE),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let mut scene = LowerThird {
            name: String::new(),
            title: String::new(),
            accent: Color::WHITE,
            background: Color::BLACK,
            text_color: Color::WHITE,
            appear: Appear::new(0.6, 0.4),
            measured: None,
        };
        scene.set_props(props);
        Ok(scene)
    }

    fn set_props(&mut self, props: &Props) {
        self.name = props.text("name").to_string();
        self.title = props.text("title").to_string();
        self.accent = props.color("accent", Color::hex(0xE8_3A_3A));
        self.background = props.color("background", Color::BLACK);
        self.text_color = props.color("text-color", Color::WHITE);
        self.measured = None;
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
        if shown <= 0.0 {
            return;
        }
        let (w, h) = (frame.width as f32, frame.height as f32);
        let scale = h / 1080.0;
        let name_style = TextStyle::new(54.0 * scale).weight(700).paint(self.text_color);
        let title_style = TextStyle::new(32.0 * scale).paint(self.text_color.fade(0.8));
        let text_width = match self.measured {
            Some((height, width)) if height == frame.height => width,
            _ => {
                let width = name_style.measure(&self.name).0.max(title_style.measure(&self.title).0);
                self.measured = Some((frame.height, width));
                width
            }
        };

        let margin = 96.0 * scale;
        let bar = Rect::new(margin, h - 260.0 * scale, text_width + 80.0 * scale, 150.0 * scale);
        let bar_width = (bar.width).min(w - 2.0 * margin);
        let eased = Easing::OutCubic.apply(shown);
        let slide = lerp(-(bar_width + margin), 0.0, eased);

        canvas.group(Group::transform(Affine::translate(slide, 0.0)).opacity(shown), |c| {
            let bar = Rect::new(bar.x, bar.y, bar_width, bar.height);
            c.fill(Path::rounded_rect(bar, 8.0 * scale), self.background);
            c.fill_rect(Rect::new(bar.x, bar.y, 10.0 * scale, bar.height), self.accent);
            let text_x = bar.x + 40.0 * scale;
            c.text(&self.name, text_x, bar.y + 70.0 * scale, &name_style.clone().max_width(bar_width - 60.0 * scale));
            c.text(&self.title, text_x, bar.y + 118.0 * scale, &title_style.clone().max_width(bar_width - 60.0 * scale));
        });
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&self.appear)
    }

    fn restore_state(&mut self, saved: &[u8]) -> Result<(), String> {
        self.appear = state::load(saved)?;
        Ok(())
    }
}

export_scene!(LowerThird);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use showrunner_guest::{DrawOp, Prop, PropValue};

    fn texts(scene: &mut LowerThird, index: u64) -> Vec<String> {
        let mut canvas = Canvas::new();
        scene.tick(&FrameInfo::at(index, 1920, 1080, 30, 1), &mut canvas);
        canvas.take_ops().into_iter().filter_map(|op| if let DrawOp::Text(t) = op { Some(t.text) } else { None }).collect()
    }

    #[test]
    fn plays_in_shows_new_props_and_stops_out() {
        let mut scene = LowerThird::new(&Props::defaults(&LowerThird::describe().props)).expect("new");
        assert!(texts(&mut scene, 0).is_empty(), "hidden until play");
        scene.on_event(&Event { name: "play".into(), payload: String::new() });
        texts(&mut scene, 1);
        assert_eq!(texts(&mut scene, 30), vec!["Jane Doe", "Host"]);
        let mut props = Props::defaults(&LowerThird::describe().props);
        props.merge([Prop { name: "name".into(), value: PropValue::Text("Ada Lovelace".into()) }]);
        scene.set_props(&props);
        assert_eq!(texts(&mut scene, 31)[0], "Ada Lovelace");
        scene.on_event(&Event { name: "stop".into(), payload: String::new() });
        texts(&mut scene, 32);
        assert!(texts(&mut scene, 60).is_empty(), "gone after the out animation");
    }
}
