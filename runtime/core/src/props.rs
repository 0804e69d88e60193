//! Properties: values, specs, module info, and checking values against specs.

use serde::{Deserialize, Serialize};

use crate::drawlist::Color;

/// Longest text or asset-name value accepted for a property, in bytes.
pub const MAX_PROP_TEXT_BYTES: usize = 4096;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "value")]
pub enum PropValue {
    Flag(bool),
    Number(f64),
    Text(String),
    Color(Color),
    Asset(String),
}

impl PropValue {
    /// The value's type name as used in the WIT and in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            PropValue::Flag(_) => "flag",
            PropValue::Number(_) => "number",
            PropValue::Text(_) => "text",
            PropValue::Color(_) => "color",
            PropValue::Asset(_) => "asset",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prop {
    pub name: String,
    pub value: PropValue,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropSpec {
    pub name: String,
    pub label: String,
    pub default: PropValue,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// What a module says about itself (`describe()`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleInfo {
    pub name: String,
    pub version: String,
    pub props: Vec<PropSpec>,
}

/// A property value that does not fit the module's specs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PropError {
    #[error("unknown prop `{name}`; this module accepts: {known}")]
    Unknown { name: String, known: String },
    #[error("prop `{name}` is a {expected}, got a {got}")]
    WrongType { name: String, expected: &'static str, got: &'static str },
    #[error("prop `{name}` = {value} is outside {min}..={max}")]
    OutOfRange { name: String, value: f64, min: f64, max: f64 },
    #[error("prop `{name}`: {reason}")]
    Invalid { name: String, reason: String },
    #[error("`{0}` is not NAME=VALUE")]
    Syntax(String),
}

impl ModuleInfo {
    pub fn spec(&self, name: &str) -> Result<&PropSpec, PropError> {
        self.props.iter().find(|s| s.name == name).ok_or_else(|| PropError::Unknown {
            name: name.to_string(),
            known: self.props.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// Checks a value against the spec of the prop it names.
    pub fn check(&self, prop: &Prop) -> Result<(), PropError> {
        self.spec(&prop.name)?.check(&prop.value)
    }

    /// Parses `NAME=VALUE` (command line) into a prop typed by the spec.
    pub fn parse_assignment(&self, assignment: &str) -> Result<Prop, PropError> {
        let (name, raw) = assignment.split_once('=').ok_or_else(|| PropError::Syntax(assignment.to_string()))?;
        let spec = self.spec(name.trim())?;
        let value = spec.parse(raw)?;
        spec.check(&value)?;
        Ok(Prop { name: spec.name.clone(), value })
    }
}

impl PropSpec {
    /// Checks type, bounds and sizes of `value`.
    pub fn check(&self, value: &PropValue) -> Result<(), PropError> {
        let name = || self.name.clone();
        if std::mem::discriminant(value) != std::mem::discriminant(&self.default) {
            return Err(PropError::WrongType { name: name(), expected: self.default.type_name(), got: value.type_name() });
        }
        match value {
            PropValue::Number(n) => {
                if !n.is_finite() {
                    return Err(PropError::Invalid { name: name(), reason: "not a finite number".into() });
                }
                let (min, max) = (self.min.unwrap_or(f64::MIN), self.max.unwrap_or(f64::MAX));
                if *n < min || *n > max {
                    return Err(PropError::OutOfRange { name: name(), value: *n, min, max });
                }
            }
            PropValue::Text(s) | PropValue::Asset(s) if s.len() > MAX_PROP_TEXT_BYTES => {
                return Err(PropError::Invalid { name: name(), reason: format!("longer than {MAX_PROP_TEXT_BYTES} bytes") });
            }
            PropValue::Color(c) if ![c.r, c.g, c.b, c.a].iter().all(|v| (0.0..=1.0).contains(v)) => {
                return Err(PropError::Invalid { name: name(), reason: "colour channels must be in 0..=1".into() });
            }
            _ => {}
        }
        Ok(())
    }

    /// Parses a command-line value for this prop: `true`/`false`, a number, text,
    /// a colour as `#RRGGBB` or `#RRGGBBAA`, or an asset name.
    pub fn parse(&self, raw: &str) -> Result<PropValue, PropError> {
        let invalid = |reason: String| PropError::Invalid { name: self.name.clone(), reason };
        Ok(match self.default {
            PropValue::Flag(_) => match raw {
                "true" | "1" | "on" | "yes" => PropValue::Flag(true),
                "false" | "0" | "off" | "no" => PropValue::Flag(false),
                _ => return Err(invalid(format!("`{raw}` is not true or false"))),
            },
            PropValue::Number(_) => PropValue::Number(raw.trim().parse().map_err(|_| invalid(format!("`{raw}` is not a number")))?),
            PropValue::Text(_) => PropValue::Text(raw.to_string()),
            PropValue::Asset(_) => PropValue::Asset(raw.to_string()),
            PropValue::Color(_) => PropValue::Color(parse_hex_color(raw).ok_or_else(|| invalid(format!("`{raw}` is not #RRGGBB or #RRGGBBAA")))?),
        })
    }
}

/// Parses `#RRGGBB` or `#RRGGBBAA`.
pub fn parse_hex_color(raw: &str) -> Option<Color> {
    let hex = raw.trim().strip_prefix('#')?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.is_ascii() {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok().map(|v| v as f32 / 255.0);
    let a = if hex.len() == 8 { channel(6)? } else { 1.0 };
    Some(Color { r: channel(0)?, g: channel(2)?, b: channel(4)?, a })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ModuleInfo {
        ModuleInfo {
            name: "t".into(),
            version: "1".into(),
            props: vec![
                PropSpec { name: "name".into(), label: "Name".into(), default: PropValue::Text("x".into()), min: None, max: None },
                PropSpec { name: "size".into(), label: "Size".into(), default: PropValue::Number(1.0), min: Some(0.0), max: Some(10.0) },
                PropSpec { name: "accent".into(), label: "Accent".into(), default: PropValue::Color(Color { r: 0.0, g: 0.0, b: 0.0, a: 1.0 }), min: None, max: None },
            ],
        }
    }

    #[test]
    fn assignments_are_typed_by_the_spec() {
        let i = info();
        assert_eq!(i.parse_assignment("size=2.5").map(|p| p.value), Ok(PropValue::Number(2.5)));
        assert_eq!(i.parse_assignment("name=a=b").map(|p| p.value), Ok(PropValue::Text("a=b".into())));
        let c = i.parse_assignment("accent=#ff000080").map(|p| p.value);
        assert!(matches!(c, Ok(PropValue::Color(Color { r, a, .. })) if r == 1.0 && (a - 0.502).abs() < 0.01));
    }

    #[test]
    fn bad_assignments_name_the_prop_and_the_problem() {
        let i = info();
        assert!(matches!(i.parse_assignment("size=11"), Err(PropError::OutOfRange { .. })));
        assert!(i.parse_assignment("nope=1").unwrap_err().to_string().contains("accepts: name, size, accent"));
        assert!(i.parse_assignment("size=abc").unwrap_err().to_string().contains("`size`"));
        assert!(matches!(i.parse_assignment("size"), Err(PropError::Syntax(_))));
        assert!(i.parse_assignment("accent=red").is_err());
        let wrong = Prop { name: "size".into(), value: PropValue::Text("1".into()) };
        assert!(matches!(i.check(&wrong), Err(PropError::WrongType { expected: "number", got: "text", .. })));
    }
}
