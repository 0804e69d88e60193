//! GStreamer set-up: initialising it once, the elements showrunner needs with the Debian
//! package that provides each, creating them, and setting their properties without
//! panicking when an installed plugin differs. It must not build pipelines.

use std::sync::OnceLock;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

use crate::MediaError;
use crate::error::MissingElement;

/// Every element the file encoders use, with the Debian package that provides it.
pub(crate) const FILE_ELEMENTS: &[MissingElement] = &[
    MissingElement { element: "appsrc", package: "gstreamer1.0-plugins-base" },
    MissingElement { element: "videoconvert", package: "gstreamer1.0-plugins-base" },
    MissingElement { element: "capsfilter", package: "libgstreamer1.0-0" },
    MissingElement { element: "x264enc", package: "gstreamer1.0-plugins-ugly" },
    MissingElement { element: "h264parse", package: "gstreamer1.0-plugins-bad" },
    MissingElement { element: "mp4mux", package: "gstreamer1.0-plugins-good" },
    MissingElement { element: "matroskamux", package: "gstreamer1.0-plugins-good" },
    MissingElement { element: "filesink", package: "libgstreamer1.0-0" },
];

/// The elements live output adds: silent AAC audio, FLV muxing, RTMP, the recorder.
pub(crate) const LIVE_ELEMENTS: &[MissingElement] = &[
    MissingElement { element: "appsink", package: "gstreamer1.0-plugins-base" },
    MissingElement { element: "voaacenc", package: "gstreamer1.0-plugins-bad" },
    MissingElement { element: "aacparse", package: "gstreamer1.0-plugins-good" },
    MissingElement { element: "flvmux", package: "gstreamer1.0-plugins-good" },
    MissingElement { element: "flvdemux", package: "gstreamer1.0-plugins-good" },
    MissingElement { element: "queue", package: "libgstreamer1.0-0" },
    MissingElement { element: "rtmp2sink", package: "gstreamer1.0-plugins-bad" },
];

/// The elements live inputs use: decoding files, URLs and RTMP ingest feeds to RGBA.
pub(crate) const INPUT_ELEMENTS: &[MissingElement] = &[
    MissingElement { element: "uridecodebin", package: "gstreamer1.0-plugins-base" },
    MissingElement { element: "decodebin", package: "gstreamer1.0-plugins-base" },
    MissingElement { element: "videoscale", package: "gstreamer1.0-plugins-base" },
    MissingElement { element: "flvdemux", package: "gstreamer1.0-plugins-good" },
    MissingElement { element: "avdec_h264", package: "gstreamer1.0-libav" },
];

/// Initialises GStreamer once per process; later calls return the first outcome.
pub(crate) fn init() -> Result<(), MediaError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string())).clone().map_err(|reason| MediaError::GstInit { reason })
}

/// Checks that every element the file encoders need is installed; the error lists all
/// the missing ones and the packages to install. Call it before rendering a long show.
pub fn probe_elements() -> Result<(), MediaError> {
    probe(FILE_ELEMENTS.iter())
}

/// Like [`probe_elements`], for live output (RTMP, the recorder) as well.
pub fn probe_live_elements() -> Result<(), MediaError> {
    probe(FILE_ELEMENTS.iter().chain(LIVE_ELEMENTS))
}

/// Checks the elements live inputs (media files, URLs, RTMP ingest) decode with.
pub fn probe_input_elements() -> Result<(), MediaError> {
    probe(INPUT_ELEMENTS.iter())
}

fn probe<'a>(elements: impl Iterator<Item = &'a MissingElement>) -> Result<(), MediaError> {
    init()?;
    let missing: Vec<MissingElement> = elements.filter(|e| gst::ElementFactory::find(e.element).is_none()).cloned().collect();
    if missing.is_empty() { Ok(()) } else { Err(MediaError::MissingElements { missing }) }
}

/// Creates element `factory` named `name`; a missing factory is reported with its package.
pub(crate) fn make(factory: &'static str, name: &str) -> Result<gst::Element, MediaError> {
    let missing = || MediaError::MissingElements {
        missing: vec![MissingElement { element: factory, package: package_of(factory) }],
    };
    if gst::ElementFactory::find(factory).is_none() {
        return Err(missing());
    }
    gst::ElementFactory::make(factory).name(name).build().map_err(|_| missing())
}

fn package_of(factory: &str) -> &'static str {
    FILE_ELEMENTS
        .iter()
        .chain(LIVE_ELEMENTS)
        .chain(INPUT_ELEMENTS)
        .find(|e| e.element == factory)
        .map_or("a GStreamer plugins package (gstreamer1.0-plugins-*)", |e| e.package)
}

/// Sets `property` to `value` after checking it exists, is writable, has that type and,
/// for unsigned integers, accepts that value; glib would panic on any of these.
pub(crate) fn set_property(element: &gst::Element, property: &str, value: impl ToValue) -> Result<(), MediaError> {
    let value = value.to_value();
    let error = |value: &glib::Value| MediaError::ElementProperty {
        element: element_label(element),
        property: property.to_owned(),
        value: format!("{value:?}"),
    };
    let Some(pspec) = element.find_property(property) else { return Err(error(&value)) };
    let writable =
        pspec.flags().contains(glib::ParamFlags::WRITABLE) && !pspec.flags().contains(glib::ParamFlags::CONSTRUCT_ONLY);
    if !writable || !value.type_().is_a(pspec.value_type()) {
        return Err(error(&value));
    }
    if let (Some(range), Ok(v)) = (pspec.downcast_ref::<glib::ParamSpecUInt>(), value.get::<u32>())
        && !(range.minimum()..=range.maximum()).contains(&v)
    {
        return Err(error(&value));
    }
    element.set_property_from_value(property, &value);
    Ok(())
}

/// Sets an enum or flags `property` from its nick, e.g. x264enc `speed-preset` = `veryfast`.
pub(crate) fn set_property_from_nick(element: &gst::Element, property: &str, nick: &str) -> Result<(), MediaError> {
    let error = || MediaError::ElementProperty {
        element: element_label(element),
        property: property.to_owned(),
        value: format!("{nick:?}"),
    };
    let pspec = element.find_property(property).ok_or_else(error)?;
    let value = glib::Value::deserialize(nick, pspec.value_type()).map_err(|_| error())?;
    set_property(element, property, value)
}

/// `name (factory)` of an element or other GStreamer object, for error messages.
pub(crate) fn element_label(object: &impl IsA<gst::Object>) -> String {
    let name = object.name();
    match object.dynamic_cast_ref::<gst::Element>().and_then(|e| e.factory()) {
        Some(factory) => format!("{name} ({})", factory.name()),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_factory_is_reported_with_a_package_hint() {
        init().unwrap();
        let err = make("showrunner-no-such-element", "x").unwrap_err();
        assert!(
            matches!(&err, MediaError::MissingElements { missing } if missing[0].element == "showrunner-no-such-element")
        );
        assert!(err.to_string().contains("gstreamer1.0-plugins-"), "{err}");
    }

    /// glib panics on these; the checked setters return errors instead.
    #[test]
    fn bad_properties_are_errors_not_panics() {
        init().unwrap();
        let encoder = make("x264enc", "encoder").unwrap();
        let is_property_error = |r: Result<(), MediaError>| matches!(r, Err(MediaError::ElementProperty { .. }));
        assert!(is_property_error(set_property(&encoder, "no-such-property", 1u32)));
        assert!(is_property_error(set_property(&encoder, "bitrate", "fast")));
        assert!(is_property_error(set_property(&encoder, "bitrate", 0u32)));
        assert!(is_property_error(set_property_from_nick(&encoder, "speed-preset", "warp-speed")));
        set_property(&encoder, "bitrate", 6000u32).unwrap();
        set_property_from_nick(&encoder, "speed-preset", "ultrafast").unwrap();
        assert_eq!(encoder.property::<u32>("bitrate"), 6000);
    }
}
