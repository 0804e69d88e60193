//! Draw-list types: what a scene returns for one frame. Mirrors `types` in the WIT.

use serde::{Deserialize, Serialize};

/// sRGB colour, straight alpha, channels 0..=1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Color {
    pub r: f32,
    pub g: f32,
    pub b: f32,
    pub a: f32,
}

/// Affine transform: (x, y) ↦ (a·x + c·y + e, b·x + d·y + f).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub e: f32,
    pub f: f32,
}

impl Affine {
    pub const IDENTITY: Affine = Affine { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: 0.0, f: 0.0 };
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

/// Path verb bytes (see `path` in the WIT).
pub mod verb {
    pub const MOVE: u8 = 0;
    pub const LINE: u8 = 1;
    pub const QUAD: u8 = 2;
    pub const CUBIC: u8 = 3;
    pub const CLOSE: u8 = 4;

    /// How many (x, y) points a verb consumes, or `None` for an unknown verb.
    pub fn points(verb: u8) -> Option<usize> {
        match verb {
            MOVE | LINE => Some(1),
            QUAD => Some(2),
            CUBIC => Some(3),
            CLOSE => Some(0),
            _ => None,
        }
    }
}

/// A flat path: verbs and the x, y pairs they consume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Path {
    pub verbs: Vec<u8>,
    pub points: Vec<f32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientStop {
    pub offset: f32,
    pub color: Color,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearGradient {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub stops: Vec<GradientStop>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RadialGradient {
    pub cx: f32,
    pub cy: f32,
    pub radius: f32,
    pub stops: Vec<GradientStop>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageFill {
    pub asset: String,
    pub transform: Affine,
    pub opacity: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Paint {
    Solid(Color),
    Linear(LinearGradient),
    Radial(RadialGradient),
    Image(ImageFill),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FillRule {
    NonZero,
    EvenOdd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineJoin {
    Miter,
    Round,
    Bevel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineCap {
    Butt,
    Round,
    Square,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlendMode {
    Normal,
    Add,
    Multiply,
    Screen,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub transform: Affine,
    pub opacity: f32,
    pub clip: Option<Path>,
    pub blend: BlendMode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    pub path: Path,
    pub paint: Paint,
    pub rule: FillRule,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    pub path: Path,
    pub paint: Paint,
    pub width: f32,
    pub join: LineJoin,
    pub cap: LineCap,
    pub miter_limit: f32,
    pub dash: Vec<f32>,
    pub dash_offset: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextAlign {
    Start,
    Center,
    End,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextRun {
    pub text: String,
    pub family: String,
    pub weight: u16,
    pub size: f32,
    pub x: f32,
    pub y: f32,
    pub align: TextAlign,
    pub paint: Paint,
    pub max_width: Option<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageDraw {
    pub asset: String,
    pub dest: Rect,
    pub opacity: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoDraw {
    pub input: String,
    pub dest: Rect,
    pub opacity: f32,
}

/// One drawing instruction; a draw list is painted in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DrawOp {
    Push(Group),
    Pop,
    Fill(Fill),
    Stroke(Stroke),
    Text(TextRun),
    Image(ImageDraw),
    Video(VideoDraw),
}

impl DrawOp {
    /// Short lowercase name of the op, as in the WIT.
    pub fn kind(&self) -> &'static str {
        match self {
            DrawOp::Push(_) => "push",
            DrawOp::Pop => "pop",
            DrawOp::Fill(_) => "fill",
            DrawOp::Stroke(_) => "stroke",
            DrawOp::Text(_) => "text",
            DrawOp::Image(_) => "image",
            DrawOp::Video(_) => "video",
        }
    }
}

/// An event sent to a layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub name: String,
    pub payload: String,
}

impl Event {
    pub fn named(name: &str) -> Event {
        Event { name: name.to_string(), payload: String::new() }
    }
}

/// How one scene is shown during a transition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneView {
    pub transform: Affine,
    pub opacity: f32,
    pub clip: Option<Path>,
}

/// A transition's plan for one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixPlan {
    pub outgoing: SceneView,
    pub incoming: SceneView,
    pub incoming_on_top: bool,
    pub overlay: Vec<DrawOp>,
}
