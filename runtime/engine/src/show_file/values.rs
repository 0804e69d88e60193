//! The show file's value forms: sizes (`"1280x720"`), frame rates (`"30"`,
//! `"30000/1001"`), durations (`"1.5s"`, `"500ms"`) and prop values. Each parses
//! inside deserialization, so a bad value is reported by the TOML parser with its
//! line and column, naming the value and the form expected.
//!
//! Must not: guess a prop's type beyond what TOML says (colours and assets given as
//! text are typed later by the module's specs).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use showrunner_core::{Color, PropValue};

/// Output size, `WIDTHxHEIGHT`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Size(pub u32, pub u32);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = text.split_once(['x', 'X']).and_then(|(w, h)| Some(Size(w.trim().parse().ok()?, h.trim().parse().ok()?)));
        parsed.ok_or_else(|| de::Error::custom(format!("size `{text}` is not WIDTHxHEIGHT; write it like \"1920x1080\"")))
    }
}

/// Frame rate as a fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Fps(pub u32, pub u32);

fn parse_fps(text: &str) -> Option<Fps> {
    match text.split_once('/') {
        Some((num, den)) => Some(Fps(num.trim().parse().ok()?, den.trim().parse().ok()?)),
        None => Some(Fps(text.trim().parse().ok()?, 1)),
    }
}

impl<'de> Deserialize<'de> for Fps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FpsVisitor;
        impl Visitor<'_> for FpsVisitor {
            type Value = Fps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a frame rate like \"30\" or \"30000/1001\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fps, E> {
                u32::try_from(v).map(|n| Fps(n, 1)).map_err(|_| E::custom(format!("fps {v} is not a frame rate; write it like \"30\" or \"30000/1001\"")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fps, E> {
                parse_fps(v).ok_or_else(|| E::custom(format!("fps `{v}` is not a frame rate; write it like \"30\" or \"30000/1001\"")))
            }
        }
        d.deserialize_any(FpsVisitor)
    }
}

/// A duration: text for humantime (`"1.5s"`, `"500ms"`, `"1m 30s"`) or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct TimeSpan(pub Duration);

impl<'de> Deserialize<'de> for TimeSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpanVisitor;
        const FORM: &str = "write it like \"1.5s\", \"500ms\" or \"1m 30s\"";
        impl Visitor<'_> for SpanVisitor {
            type Value = TimeSpan;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a duration; {FORM}")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TimeSpan, E> {
                u64::try_from(v).map(|s| TimeSpan(Duration::from_secs(s))).map_err(|_| E::custom(format!("duration {v} is negative; {FORM}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TimeSpan, E> {
                Duration::try_from_secs_f64(v).map(TimeSpan).map_err(|_| E::custom(format!("duration {v} is not a positive number of seconds; {FORM}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeSpan, E> {
                humantime::parse_duration(v.trim()).map(TimeSpan).map_err(|e| E::custom(format!("duration `{v}` is not a duration ({e}); {FORM}")))
            }
        }
        d.deserialize_any(SpanVisitor)
    }
}

/// A prop value as TOML gives it: a flag, a number, text (also colours as
/// `"#RRGGBB"` and asset names), or a colour table `{ r, g, b, a }` of 0..=1.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TomlProp(pub PropValue);

impl<'de> Deserialize<'de> for TomlProp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PropVisitor;
        impl<'de> Visitor<'de> for PropVisitor {
            type Value = TomlProp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a prop value: true/false, a number, a string, or a colour table { r, g, b, a }")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<TomlProp, E> {
                Ok(TomlProp(PropValue::Flag(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TomlProp, E> {
                Ok(TomlProp(PropValue::Number(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TomlProp, E> {
                Ok(TomlProp(PropValue::Number(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TomlProp, E> {
                Ok(TomlProp(PropValue::Text(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TomlProp, A::Error> {
                let mut channels = [None, None, None, Some(1.0f32)];
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "r" => 0,
                        "g" => 1,
                        "b" => 2,
                        "a" => 3,
                        other => return Err(de::Error::custom(format!("colour channel `{other}` is not one of r, g, b, a"))),
                    };
                    channels[slot] = Some(map.next_value::<f32>()?);
                }
                match channels {
                    [Some(r), Some(g), Some(b), Some(a)] => Ok(TomlProp(PropValue::Color(Color { r, g, b, a }))),
                    _ => Err(de::Error::custom("a colour table needs r, g and b (a is optional)")),
                }
            }
        }
        d.deserialize_any(PropVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        size: Option<Size>,
        fps: Option<Fps>,
        at: Option<TimeSpan>,
        value: Option<TomlProp>,
    }

    fn doc(text: &str) -> Result<Doc, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn good_values_parse() {
        let d = doc("size = \"1280x720\"\nfps = \"30000/1001\"\nat = \"1.5s\"\nvalue = { r = 1, g = 0.5, b = 0 }").unwrap();
        assert_eq!((d.size, d.fps, d.at), (Some(Size(1280, 720)), Some(Fps(30_000, 1001)), Some(TimeSpan(Duration::from_millis(1500)))));
        assert_eq!(d.value, Some(TomlProp(PropValue::Color(Color { r: 1.0, g: 0.5, b: 0.0, a: 1.0 }))));
        assert_eq!(doc("fps = 25\nat = 2").unwrap().fps, Some(Fps(25, 1)));
        assert_eq!(doc("at = 0.25").unwrap().at, Some(TimeSpan(Duration::from_millis(250))));
    }

    #[test]
    fn bad_values_name_the_value_the_form_and_the_line() {
        let e = doc("\n\nsize = \"1280by720\"").unwrap_err();
        assert!(e.contains("line 3") && e.contains("`1280by720`") && e.contains("\"1920x1080\""), "{e}");
        let e = doc("fps = \"fast\"").unwrap_err();
        assert!(e.contains("`fast`") && e.contains("\"30000/1001\""), "{e}");
        let e = doc("at = \"5 parsecs\"").unwrap_err();
        assert!(e.contains("`5 parsecs`") && e.contains("\"500ms\""), "{e}");
        let e = doc("value = [1, 2]").unwrap_err();
        assert!(e.contains("colour table"), "{e}");
        let e = doc("value = { r = 1, g = 1 }").unwrap_err();
        assert!(e.contains("needs r, g and b"), "{e}");
    }
}
