//! Typing props by the module's specs: a show file (or a JSON request) gives a
//! colour or an asset as text and every number as a number; once the module is
//! loaded, each value takes the type its spec declares and is checked.
//!
//! Must not: invent values (missing props take the module's defaults in the layer
//! runner, not here) or accept a prop the module does not declare.

use showrunner_core::{ModuleInfo, Prop, PropError, PropValue};

/// Types and checks one prop against `info`: text becomes a colour (`#RRGGBB` or
/// `#RRGGBBAA`) or an asset name where the spec asks for one.
pub fn conform_prop(info: &ModuleInfo, prop: &Prop) -> Result<Prop, PropError> {
    let spec = info.spec(&prop.name)?;
    let value = match (&spec.default, &prop.value) {
        (PropValue::Color(_), PropValue::Text(text)) => spec.parse(text)?,
        (PropValue::Asset(_), PropValue::Text(text)) => PropValue::Asset(text.clone()),
        _ => prop.value.clone(),
    };
    spec.check(&value)?;
    Ok(Prop { name: spec.name.clone(), value })
}

/// [`conform_prop`] for each prop; the first bad one fails the lot.
pub fn conform_props(info: &ModuleInfo, props: &[Prop]) -> Result<Vec<Prop>, PropError> {
    props.iter().map(|p| conform_prop(info, p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use showrunner_core::{Color, PropSpec};

    fn info() -> ModuleInfo {
        let spec = |name: &str, default: PropValue| PropSpec { name: name.into(), label: name.into(), default, min: Some(0.0), max: Some(10.0) };
        ModuleInfo {
            name: "m".into(),
            version: "1".into(),
            props: vec![
                spec("accent", PropValue::Color(Color { r: 0.0, g: 0.0, b: 0.0, a: 1.0 })),
                spec("logo", PropValue::Asset(String::new())),
                spec("size", PropValue::Number(1.0)),
                spec("title", PropValue::Text(String::new())),
            ],
        }
    }

    fn prop(name: &str, value: PropValue) -> Prop {
        Prop { name: name.into(), value }
    }

    #[test]
    fn text_becomes_colour_or_asset_where_the_spec_says_so() {
        let typed = conform_props(&info(), &[prop("accent", PropValue::Text("#ff0000".into())), prop("logo", PropValue::Text("logo.png".into()))]).unwrap();
        assert_eq!(typed[0].value, PropValue::Color(Color { r: 1.0, g: 0.0, b: 0.0, a: 1.0 }));
        assert_eq!(typed[1].value, PropValue::Asset("logo.png".into()));
    }

    #[test]
    fn wrong_types_ranges_and_names_are_refused() {
        let i = info();
        assert!(matches!(conform_prop(&i, &prop("accent", PropValue::Text("red".into()))), Err(PropError::Invalid { .. })));
        assert!(matches!(conform_prop(&i, &prop("size", PropValue::Number(11.0))), Err(PropError::OutOfRange { .. })));
        assert!(matches!(conform_prop(&i, &prop("title", PropValue::Number(1.0))), Err(PropError::WrongType { expected: "text", .. })));
        assert!(conform_prop(&i, &prop("subtitle", PropValue::Text("x".into()))).unwrap_err().to_string().contains("accepts: accent, logo, size, title"));
    }
}
