//! Typed properties: [`PropSpecExt`] builds specs for `describe()`, [`Props`] reads
//! current values with the spec's defaults already filled in.

use crate::{Color, Prop, PropSpec, PropValue};

/// Constructors for [`PropSpec`]; the default value fixes the property's type.
pub trait PropSpecExt: Sized {
    fn text(name: &str, label: &str, default: &str) -> Self;
    fn number(name: &str, label: &str, default: f64) -> Self;
    fn color(name: &str, label: &str, default: Color) -> Self;
    fn flag(name: &str, label: &str, default: bool) -> Self;
    fn asset(name: &str, label: &str, default: &str) -> Self;
    /// Bounds a number property.
    fn range(self, min: f64, max: f64) -> Self;
}

fn spec(name: &str, label: &str, default: PropValue) -> PropSpec {
    PropSpec { name: name.to_string(), label: label.to_string(), default, min: None, max: None }
}

impl PropSpecExt for PropSpec {
    fn text(name: &str, label: &str, default: &str) -> Self {
        spec(name, label, PropValue::Text(default.to_string()))
    }
    fn number(name: &str, label: &str, default: f64) -> Self {
        spec(name, label, PropValue::Number(default))
    }
    fn color(name: &str, label: &str, default: Color) -> Self {
        spec(name, label, PropValue::Color(default))
    }
    fn flag(name: &str, label: &str, default: bool) -> Self {
        spec(name, label, PropValue::Flag(default))
    }
    fn asset(name: &str, label: &str, default: &str) -> Self {
        spec(name, label, PropValue::Asset(default.to_string()))
    }
    fn range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
}

/// Current property values of a layer.
#[derive(Clone, Debug, Default)]
pub struct Props {
    values: Vec<Prop>,
}

impl Props {
    pub const fn empty() -> Props {
        Props { values: Vec::new() }
    }

    /// Every spec's default.
    pub fn defaults(specs: &[PropSpec]) -> Props {
        Props { values: specs.iter().map(|s| Prop { name: s.name.clone(), value: s.default.clone() }).collect() }
    }

    /// Overrides values by name (adding unknown names).
    pub fn merge(&mut self, changed: impl IntoIterator<Item = Prop>) {
        for prop in changed {
            match self.values.iter_mut().find(|p| p.name == prop.name) {
                Some(slot) => slot.value = prop.value,
                None => self.values.push(prop),
            }
        }
    }

    /// Builds props from (name, value) pairs, e.g. for native tests.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (&'static str, PropValue)>) -> Props {
        Props { values: pairs.into_iter().map(|(n, v)| Prop { name: n.to_string(), value: v }).collect() }
    }

    pub fn get(&self, name: &str) -> Option<&PropValue> {
        self.values.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    /// Text (or asset name) of `name`; "" if missing or of another type.
    pub fn text(&self, name: &str) -> &str {
        match self.get(name) {
            Some(PropValue::Text(s) | PropValue::Asset(s)) => s,
            _ => "",
        }
    }

    /// Number of `name`; `fallback` if missing or of another type.
    pub fn number(&self, name: &str, fallback: f64) -> f64 {
        match self.get(name) {
            Some(PropValue::Number(n)) => *n,
            _ => fallback,
        }
    }

    /// Colour of `name`; `fallback` if missing or of another type.
    pub fn color(&self, name: &str, fallback: Color) -> Color {
        match self.get(name) {
            Some(PropValue::Color(c)) => *c,
            _ => fallback,
        }
    }

    /// Flag `name`; `fallback` if missing or of another type.
    pub fn flag(&self, name: &str, fallback: bool) -> bool {
        match self.get(name) {
            Some(PropValue::Flag(b)) => *b,
            _ => fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_overrides_defaults_by_name() {
        let specs = vec![PropSpec::text("name", "Name", "Jane"), PropSpec::number("size", "Size", 2.0).range(0.0, 10.0)];
        let mut props = Props::defaults(&specs);
        props.merge([Prop { name: "name".into(), value: PropValue::Text("Ada".into()) }]);
        assert_eq!(props.text("name"), "Ada");
        assert_eq!(props.number("size", 0.0), 2.0);
        assert_eq!(props.number("missing", 7.0), 7.0);
    }
}
