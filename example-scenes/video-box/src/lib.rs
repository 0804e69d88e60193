//! Video box: a live input (an RTMP ingest feed, a media file or URL) full frame or as
//! a picture-in-picture box.
//!
//! Props: `input` (the input's name, as given to `showrunner live --input` or
//! `--ingest-key`), `x`, `y`, `width`, `height` (the box as fractions of the frame;
//! the defaults fill it), `border` (pixels at 1080p; 0 for none), `border-color`,
//! `slate` (the colour shown while the input has no picture) and `label` (a tag in the
//! box's top-left corner; empty hides it). No events, no state.
//!
//! Build: `cargo xtask build-scenes` (or `cargo build --profile guest --target
//! wasm32-wasip2 -p scene-video-box`), then put a file on air in it:
//! `showrunner live target/wasm32-wasip2/guest/scene_video_box.wasm --input cam=clip.mp4,loop
//! --preview preview.jpg`.

use showrunner_guest::prelude::*;

pub struct VideoBox {
    input: String,
    box_fraction: [f32; 4],
    border: f32,
    border_color: Color,
    slate: Color,
    label: String,
}

impl VideoBox {
    /// The box in pixels for a frame of `width` x `height`.
    pub fn dest(&self, width: f32, height: f32) -> Rect {
        let [x, y, w, h] = self.box_fraction;
        Rect::new(x * width, y * height, w * width, h * height)
    }
}

/// A fraction prop kept within the frame.
fn fraction(props: &Props, name: &str, fallback: f64) -> f32 {
    props.number(name, fallback).clamp(0.0, 1.0) as f32
}

impl Scene for VideoBox {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "Video box".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("input", "Input name", "cam"),
                PropSpec::number("x", "Left (fraction of width)", 0.0).range(0.0, 1.0),
                PropSpec::number("y", "Top (fraction of height)", 0.0).range(0.0, 1.0),
                PropSpec::number("width", "Width (fraction)", 1.0).range(0.0, 1.0),
                PropSpec::number("height", "Height (fraction)", 1.0).range(0.0, 1.0),
                PropSpec::number("border", "Border (px at 1080p)", 0.0).range(0.0, 64.0),
                PropSpec::color("border-color", "Border colour", Color::WHITE),
                PropSpec::color("slate", "No-signal colour", Color::rgba(0.05, 0.06, 0.09, 1.0)),
                PropSpec::text("label", "Label", ""),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let mut scene = VideoBox {
            input: String::new(),
            box_fraction: [0.0, 0.0, 1.0, 1.0],
            border: 0.0,
            border_color: Color::WHITE,
            slate: Color::BLACK,
            label: String::new(),
        };
        scene.set_props(props);
        Ok(scene)
    }

    fn set_props(&mut self, props: &Props) {
        self.input = props.text("input").to_string();
        let (x, y) = (fraction(props, "x", 0.0), fraction(props, "y", 0.0));
        let width = fraction(props, "width", 1.0).min(1.0 - x);
        let height = fraction(props, "height", 1.0).min(1.0 - y);
        self.box_fraction = [x, y, width, height];
        self.border = props.number("border", 0.0).clamp(0.0, 64.0) as f32;
        self.border_color = props.color("border-color", Color::WHITE);
        self.slate = props.color("slate", Color::BLACK);
        self.label = props.text("label").to_string();
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        let scale = frame.height as f32 / 1080.0;
        let dest = self.dest(frame.width as f32, frame.height as f32);
        if dest.width <= 0.0 || dest.height <= 0.0 {
            return;
        }
        canvas.fill_rect(dest, self.slate);
        if !self.input.is_empty() {
            canvas.video(&self.input, dest, 1.0);
        }
        if self.border > 0.0 {
            let inset = self.border * scale / 2.0;
            let edge = Rect::new(dest.x + inset, dest.y + inset, dest.width - 2.0 * inset, dest.height - 2.0 * inset);
            canvas.stroke(Path::rect(edge), self.border_color, &StrokeStyle::width(self.border * scale));
        }
        if !self.label.is_empty() {
            let style = TextStyle::new(28.0 * scale).weight(700).paint(Color::WHITE);
            let tag = Rect::new(dest.x + 16.0 * scale, dest.y + 16.0 * scale, style.measure(&self.label).0 + 24.0 * scale, 40.0 * scale);
            canvas.fill_rect(tag, Color::rgba(0.0, 0.0, 0.0, 0.6));
            canvas.text(&self.label, tag.x + 12.0 * scale, tag.y + 29.0 * scale, &style);
        }
    }
}

export_scene!(VideoBox);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use showrunner_guest::{DrawOp, Prop, PropValue};

    fn ops(scene: &mut VideoBox) -> Vec<DrawOp> {
        let mut canvas = Canvas::new();
        scene.tick(&FrameInfo::at(0, 1920, 1080, 30, 1), &mut canvas);
        canvas.take_ops()
    }

    fn with(props: &[(&str, PropValue)]) -> VideoBox {
        let mut all = Props::defaults(&VideoBox::describe().props);
        all.merge(props.iter().map(|(name, value)| Prop { name: (*name).into(), value: value.clone() }));
        VideoBox::new(&all).expect("new")
    }

    #[test]
    fn fills_the_frame_with_the_input_by_default() {
        let ops = ops(&mut with(&[]));
        let video = ops.iter().find_map(|op| if let DrawOp::Video(v) = op { Some(v.clone()) } else { None }).expect("a video op");
        assert_eq!(video.input, "cam");
        assert_eq!((video.dest.x, video.dest.y, video.dest.width, video.dest.height), (0.0, 0.0, 1920.0, 1080.0));
        assert!(matches!(ops[0], DrawOp::Fill(_)), "the slate is drawn under the video");
    }

    #[test]
    fn a_box_stays_inside_the_frame() {
        let mut scene = with(&[
            ("input", PropValue::Text("guest".into())),
            ("x", PropValue::Number(0.75)),
            ("y", PropValue::Number(0.5)),
            ("width", PropValue::Number(0.5)),
            ("height", PropValue::Number(0.25)),
            ("label", PropValue::Text("Guest".into())),
        ]);
        let r = scene.dest(1920.0, 1080.0);
        assert_eq!((r.x, r.y, r.width, r.height), (1440.0, 540.0, 480.0, 270.0));
        let ops = ops(&mut scene);
        assert!(ops.iter().any(|op| matches!(op, DrawOp::Video(v) if v.input == "guest")));
        assert!(ops.iter().any(|op| matches!(op, DrawOp::Text(t) if t.text == "Guest")));
    }

    #[test]
    fn an_empty_input_name_draws_only_the_slate() {
        let ops = ops(&mut with(&[("input", PropValue::Text(String::new()))]));
        assert!(!ops.iter().any(|op| matches!(op, DrawOp::Video(_))));
        assert_eq!(ops.len(), 1);
    }
}
