//! Live output: the programme encoded once (H.264 + AAC in FLV) and fanned out to any
//! number of RTMP/RTMPS destinations and a recorder, each on its own thread behind its
//! own bounded queue, so a slow or dead destination never stalls the render or the
//! others. Destinations reconnect by themselves; the bitrate steps down while the
//! encoder falls behind and back up when it keeps up; every change is an event.
//!
//! ```no_run
//! use showrunner_media::{EncoderSettings, LiveEncoder, LiveSettings};
//! # fn main() -> Result<(), showrunner_media::MediaError> {
//! let settings = EncoderSettings::new(1280, 720, 30, 1);
//! let mut encoder = LiveEncoder::start(&settings, LiveSettings::default())?;
//! encoder.outputs().add_rtmp("main", "rtmp://127.0.0.1:1935/live/show")?;
//! for n in 0..300 {
//!     // wait for frame n's deadline, render it, then:
//!     encoder.push_frame(n, vec![0u8; settings.frame_bytes()])?;
//! }
//! encoder.finish(std::time::Duration::from_secs(5))?;
//! # Ok(())
//! # }
//! ```

mod encoder;
mod fanout;
pub(crate) mod flv;
mod output_thread;
mod outputs;
mod quality;
mod recorder;
mod rtmp;
mod status;
mod tag_pipeline;

pub use encoder::{AUDIO_RATE, EncoderStats, LiveEncoder, LiveSettings, Pushed};
pub use outputs::LiveOutputs;
pub use quality::{QualityChange, QualityPolicy};
pub use status::{OutputEvent, OutputState, OutputStatus, mask_stream_key};
