//! The JSON shapes of the show over the API (scenes, layers, props, events, swaps,
//! takes) and the conversion of prop values: JSON `true`/`false`, numbers and strings
//! in, typed by the module's prop specs (a colour is `"#RRGGBB"` or `"#RRGGBBAA"`);
//! the same plain JSON out.
//!
//! Must not: check values against specs (the engine does, with the module's own specs).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use showrunner_core::{Affine, Color, LayerSpec, Prop, PropValue, Rect};
use utoipa::ToSchema;

use super::error::ApiError;

/// A layer: a scene module with its props and placement.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct LayerBody {
    pub id: String,
    pub scene: String,
    /// Content hash of the module the layer runs.
    pub module: String,
    /// Props set on the layer (others have the module's defaults), by name.
    #[schema(value_type = Object)]
    pub props: BTreeMap<String, Value>,
    /// (x, y) ↦ (a·x + c·y + e, b·x + d·y + f), in output pixels.
    #[schema(value_type = Object)]
    pub transform: Affine,
    pub opacity: f32,
    #[schema(value_type = Option<Object>)]
    pub crop: Option<Rect>,
    pub visible: bool,
    /// Higher draws on top; ties keep creation order.
    pub z: i32,
    /// Bumped by every saved change of the layer (in a cluster: the cluster's version).
    /// Send it back as `If-Match` to refuse a change based on an older one (409).
    pub version: u64,
}

impl LayerBody {
    pub fn new(scene: &str, layer: &LayerSpec) -> LayerBody {
        LayerBody {
            id: layer.id.clone(),
            scene: scene.to_string(),
            module: layer.module.clone(),
            props: layer.props.iter().map(|p| (p.name.clone(), prop_json(&p.value))).collect(),
            transform: layer.transform,
            opacity: layer.opacity,
            crop: layer.crop,
            visible: layer.visible,
            z: layer.z,
            version: 0,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SceneBody {
    pub name: String,
    pub layers: Vec<LayerBody>,
}

/// The whole show.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShowBody {
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
    /// The scene on air.
    pub program: String,
    /// The scene the next take puts on air, if chosen.
    pub preview: Option<String>,
    /// The scene a running transition is taking to program.
    pub incoming: Option<String>,
    /// Index of the last frame made.
    pub frame: u64,
    /// Whether the encoder runs (an output or a recording is on).
    pub encoding: bool,
    pub scenes: Vec<SceneBody>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScene {
    pub name: String,
}

/// A new layer; everything but `id`, `scene` and `module` is optional.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLayer {
    pub id: String,
    pub scene: String,
    /// Content hash of an uploaded scene module.
    pub module: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub props: BTreeMap<String, Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub transform: Option<Affine>,
    pub opacity: Option<f32>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub crop: Option<Rect>,
    pub visible: Option<bool>,
    pub z: Option<i32>,
}

/// Placement changes; fields left out keep their value. `"crop": null` removes the crop.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerPatchBody {
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub transform: Option<Affine>,
    pub opacity: Option<f32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub crop: Option<Option<Rect>>,
    pub visible: Option<bool>,
    pub z: Option<i32>,
}

/// Distinguishes `"crop": null` (Some(None)) from no `crop` (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Rect>>, D::Error> {
    Option::<Rect>::deserialize(d).map(Some)
}

/// An event for a layer: `play`, `stop`, `next`, `update` or a module's own name.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    pub name: String,
    #[serde(default)]
    pub payload: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapBody {
    /// Content hash of the uploaded module to run instead.
    pub module: String,
}

/// A swap that reached the screen.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SwapResult {
    pub layer: String,
    /// The old and new module (name@version).
    pub from: String,
    pub to: String,
    /// Content hash of the new module.
    pub module: String,
    /// From the request reaching the show to the first composited frame with the new
    /// module, in milliseconds.
    pub swap_ms: f64,
    /// Instantiate + init + state handover alone, in milliseconds.
    pub instantiate_ms: f64,
    pub state_carried: bool,
    pub state_bytes: u64,
    /// The first frame made with the new module.
    pub frame: u64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// The scene to put on preview; `null` clears it.
    pub scene: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeBody {
    /// The scene to put on air; the preview scene when left out.
    pub scene: Option<String>,
    pub transition: Option<TransitionBody>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// Content hash of an uploaded transition module.
    pub module: String,
    /// How long it runs, in milliseconds (0: a cut). At most 60000.
    pub duration_ms: u64,
}

/// A prop value as plain JSON.
pub fn prop_json(value: &PropValue) -> Value {
    match value {
        PropValue::Flag(b) => Value::Bool(*b),
        PropValue::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        PropValue::Text(t) | PropValue::Asset(t) => Value::String(t.clone()),
        PropValue::Color(c) => Value::String(hex_color(*c)),
    }
}

fn hex_color(c: Color) -> String {
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let rgb = format!("#{:02X}{:02X}{:02X}", byte(c.r), byte(c.g), byte(c.b));
    if byte(c.a) == 255 { rgb } else { format!("{rgb}{:02X}", byte(c.a)) }
}

/// Props from JSON, untyped beyond JSON's own types (the engine types them by spec).
pub fn props_from_json(values: &BTreeMap<String, Value>) -> Result<Vec<Prop>, ApiError> {
    values
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Bool(b) => PropValue::Flag(*b),
                Value::Number(n) => PropValue::Number(n.as_f64().ok_or_else(|| bad_prop(name, "is not a finite number"))?),
                Value::String(s) => PropValue::Text(s.clone()),
                _ => return Err(bad_prop(name, "must be true/false, a number or a string (a colour as \"#RRGGBB\")")),
            };
            Ok(Prop { name: name.clone(), value })
        })
        .collect()
}

fn bad_prop(name: &str, reason: &str) -> ApiError {
    ApiError::Unprocessable { code: "invalid_prop", message: format!("prop `{name}` {reason}"), details: serde_json::json!({ "prop": name }) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn colours_go_out_as_hex_and_plain_values_round_trip() {
        assert_eq!(prop_json(&PropValue::Color(Color { r: 1.0, g: 0.0, b: 0.5, a: 1.0 })), Value::String("#FF0080".into()));
        assert_eq!(prop_json(&PropValue::Color(Color { r: 0.0, g: 0.0, b: 0.0, a: 0.5 })), Value::String("#00000080".into()));
        let json: BTreeMap<String, Value> = serde_json::from_str(r#"{"on": true, "n": 3, "t": "hi"}"#).unwrap();
        let props = props_from_json(&json).unwrap();
        assert_eq!(props.iter().map(|p| prop_json(&p.value)).collect::<Vec<_>>(), vec![serde_json::json!(3.0), Value::Bool(true), Value::String("hi".into())], "by name: n, on, t");
        let nested: BTreeMap<String, Value> = serde_json::from_str(r#"{"x": [1]}"#).unwrap();
        assert_eq!(props_from_json(&nested).unwrap_err().code(), "invalid_prop");
    }

    #[test]
    fn a_patch_tells_a_null_crop_from_a_missing_one() {
        let cleared: LayerPatchBody = serde_json::from_str(r#"{"crop": null}"#).unwrap();
        assert_eq!(cleared.crop, Some(None));
        let kept: LayerPatchBody = serde_json::from_str(r#"{"z": 2}"#).unwrap();
        assert_eq!(kept.crop, None);
        assert!(serde_json::from_str::<LayerPatchBody>(r#"{"zz": 2}"#).is_err(), "unknown fields are refused");
    }
}
