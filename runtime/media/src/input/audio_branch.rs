//! The audio branch of an input's decode pipeline: a decoded audio pad converted to the
//! programme's format (S16LE stereo 44.1 kHz) and pushed into an [`AudioFeed`]. It runs
//! on GStreamer's streaming threads and never waits on the encoder.

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::input::AudioFeed;

/// Links a decoded audio stream to `audioconvert ! audioresample ! capsfilter(S16LE
/// stereo 44.1 kHz) ! appsink`, whose samples go to `feed` without waiting. `sync` paces
/// the samples to the pipeline clock (files); a live feed pushes them as decoded.
pub(crate) fn link_audio_feed(pipeline: &gst::Pipeline, pad: &gst::Pad, feed: AudioFeed, sync: bool) -> Result<(), String> {
    let make = |factory: &str| {
        gst::ElementFactory::make(factory)
            .build()
            .map_err(|e| format!("cannot make {factory} for the audio (gstreamer1.0-plugins-base): {e}"))
    };
    let caps = gst::Caps::builder("audio/x-raw")
        .field("format", "S16LE")
        .field("layout", "interleaved")
        .field("rate", crate::AUDIO_RATE as i32)
        .field("channels", 2i32)
        .build();
    let filter = gst::ElementFactory::make("capsfilter")
        .property("caps", &caps)
        .build()
        .map_err(|e| format!("cannot make a capsfilter for the audio: {e}"))?;
    let sink = gstreamer_app::AppSink::builder().name("audio-feed").sync(sync).enable_last_sample(false).build();
    sink.set_callbacks(
        gstreamer_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                    feed.push(map.as_slice());
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    let elements = [make("audioconvert")?, make("audioresample")?, filter, sink.upcast()];
    pipeline.add_many(&elements).map_err(|e| format!("cannot add the audio branch: {e}"))?;
    gst::Element::link_many(&elements).map_err(|e| format!("cannot link the audio branch: {e}"))?;
    for element in &elements {
        element.sync_state_with_parent().map_err(|e| format!("cannot start the audio branch: {e}"))?;
    }
    let sink_pad = elements[0].static_pad("sink").ok_or_else(|| "audioconvert has no sink pad".to_owned())?;
    pad.link(&sink_pad).map_err(|e| format!("cannot link stream {} to the audio branch: {e:?}", pad.name()))?;
    Ok(())
}
