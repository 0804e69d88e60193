//! The live inputs of `showrunner live`: media files and URLs (`--input NAME=URI[,loop]`)
//! and the embedded RTMP ingest server (`--ingest-key NAME=KEY`, `--ingest-listen`),
//! all published by name to the renderer's [`LiveInputs`] for `video` ops, and which
//! input's audio is the programme audio (`--audio-from NAME`, an [`AudioFeed`]). It
//! starts and stops them and words their events and status for the operator; decoding
//! itself is showrunner-media's and never runs on the render thread.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use showrunner_assets::LiveInputs;
use showrunner_media::{AudioFeed, IngestKey, IngestServer, IngestSettings, InputEvents, InputSource, InputStatus, MediaInput, MediaInputSettings};
use showrunner_server::show::inputs::input_event_line;

/// Where the ingest server listens when keys are given without `--ingest-listen`.
pub const DEFAULT_INGEST_LISTEN: &str = "127.0.0.1:1935";

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Play a media file or URL as the live input NAME, e.g. `cam=clip.mp4,loop` or
    /// `bg=https://host/loop.webm`; `,loop` starts it again at its end. Repeatable.
    #[arg(long = "input", value_name = "NAME=URI[,loop]", value_parser = parse_media_input)]
    pub media: Vec<MediaInputSettings>,
    /// Accept an RTMP publisher on stream key KEY as the live input NAME (publish to
    /// rtmp://LISTEN/live/KEY). Repeatable; starts the ingest server.
    #[arg(long = "ingest-key", value_name = "NAME=KEY", value_parser = parse_ingest_key)]
    pub ingest_keys: Vec<IngestKey>,
    /// Address the RTMP ingest server listens on (only with --ingest-key).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_INGEST_LISTEN)]
    pub ingest_listen: SocketAddr,
    /// Take the programme audio from the live input NAME (an --input's first audio
    /// stream, or an --ingest-key publisher's audio). Without it, or while that input
    /// has no audio, the audio is silence.
    #[arg(long, value_name = "NAME")]
    pub audio_from: Option<String>,
}

fn parse_media_input(s: &str) -> Result<MediaInputSettings, String> {
    let Some((name, rest)) = s.split_once('=') else {
        return Err(format!("`{s}` is not NAME=URI[,loop], e.g. cam=clip.mp4,loop"));
    };
    let (uri, looping) = match rest.strip_suffix(",loop") {
        Some(uri) => (uri, true),
        None => (rest, false),
    };
    if name.is_empty() || uri.is_empty() {
        return Err(format!("`{s}` needs both a name and a file or URL: NAME=URI[,loop]"));
    }
    Ok(MediaInputSettings { name: name.to_string(), uri: uri.to_string(), looping })
}

/// `--audio-from` must name an input whose audio can be taken (checked before anything
/// starts, so a typo records nothing).
pub fn check_audio_from(args: &InputArgs) -> anyhow::Result<()> {
    let Some(name) = &args.audio_from else { return Ok(()) };
    if args.media.iter().any(|m| &m.name == name) || args.ingest_keys.iter().any(|k| &k.input == name) {
        return Ok(());
    }
    let mut known: Vec<&str> = args.media.iter().map(|m| m.name.as_str()).collect();
    known.extend(args.ingest_keys.iter().map(|k| k.input.as_str()));
    let known = if known.is_empty() { "there are none".to_owned() } else { format!("they are: {}", known.join(", ")) };
    bail!("--audio-from `{name}` names no live input ({known}); give the NAME of an --input or --ingest-key")
}

fn parse_ingest_key(s: &str) -> Result<IngestKey, String> {
    match s.split_once('=') {
        Some((input, key)) if !input.is_empty() && !key.is_empty() => Ok(IngestKey { input: input.to_string(), key: key.to_string() }),
        _ => Err("an ingest key is NAME=KEY, e.g. cam=s3cret (publish to rtmp://HOST:PORT/live/s3cret)".to_string()),
    }
}

/// The inputs of one live show.
pub struct RunningInputs {
    pub frames: LiveInputs,
    events: InputEvents,
    media: Vec<MediaInput>,
    ingest: Option<IngestServer>,
    audio: Option<AudioFeed>,
}

impl RunningInputs {
    /// Starts every input; the first one that cannot start stops the others.
    pub fn start(args: &InputArgs) -> anyhow::Result<RunningInputs> {
        if !args.media.is_empty() || !args.ingest_keys.is_empty() {
            showrunner_media::probe_input_elements().context("GStreamer cannot decode live inputs")?;
        }
        let frames = LiveInputs::new();
        let events = InputEvents::default();
        let mut names: Vec<&str> = args.media.iter().map(|m| m.name.as_str()).collect();
        names.extend(args.ingest_keys.iter().map(|k| k.input.as_str()));
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            bail!("two live inputs are named `{}`: each --input and --ingest-key needs its own name", pair[0]);
        }
        check_audio_from(args)?;
        let audio = args.audio_from.as_ref().map(|_| AudioFeed::new());
        let mut media = Vec::new();
        for settings in &args.media {
            let feed = audio.clone().filter(|_| args.audio_from.as_deref() == Some(settings.name.as_str()));
            let input = MediaInput::start_with_audio(settings.clone(), frames.clone(), events.clone(), feed)
                .with_context(|| format!("cannot start the input `{}`", settings.name))?;
            media.push(input);
        }
        let ingest = if args.ingest_keys.is_empty() {
            None
        } else {
            let settings = IngestSettings { listen: args.ingest_listen, keys: args.ingest_keys.clone(), ..IngestSettings::default() };
            Some(
                IngestServer::start(settings, frames.clone(), events.clone())
                    .with_context(|| format!("cannot start the RTMP ingest server on {}", args.ingest_listen))?,
            )
        };
        if let (Some(server), Some(name), Some(feed)) = (&ingest, &args.audio_from, &audio)
            && args.ingest_keys.iter().any(|k| &k.input == name)
        {
            server.set_audio_feed(name, Some(feed.clone()));
        }
        Ok(RunningInputs { frames, events, media, ingest, audio })
    }

    /// The programme audio (`--audio-from`): the chosen input's decoded audio.
    pub fn audio_feed(&self) -> Option<AudioFeed> {
        self.audio.clone()
    }

    /// One line per input for the start banner, e.g. `cam ← rtmp://127.0.0.1:1935/live/****`.
    pub fn banner(&self) -> Vec<String> {
        self.statuses()
            .iter()
            .map(|status| match &status.source {
                InputSource::Media { uri, looping } => format!("{} ← {uri}{}", status.name, if *looping { " (loop)" } else { "" }),
                InputSource::Ingest { key } => format!("{} ← {key}", status.name),
            })
            .collect()
    }

    pub fn statuses(&self) -> Vec<InputStatus> {
        let mut all: Vec<InputStatus> = self.media.iter().map(MediaInput::status).collect();
        if let Some(server) = &self.ingest {
            all.extend(server.statuses());
        }
        all
    }

    /// Operator lines for the events since the last call.
    pub fn event_lines(&self) -> Vec<String> {
        self.events.drain().iter().map(input_event_line).collect()
    }

    /// Stops every input (decoders first, then the ingest server) and returns their last status.
    pub fn stop(self) -> Vec<InputStatus> {
        let last = self.statuses();
        for input in self.media {
            input.stop();
        }
        if let Some(server) = self.ingest {
            server.stop();
        }
        last
    }
}

/// An input in the closing summary.
#[derive(Serialize)]
pub struct InputSummary {
    pub name: String,
    pub state: &'static str,
    pub frames: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub loops: u32,
    pub sessions: u32,
}

impl From<&InputStatus> for InputSummary {
    fn from(s: &InputStatus) -> InputSummary {
        InputSummary {
            name: s.name.clone(),
            state: s.state.name(),
            frames: s.frames,
            width: s.size.map(|(w, _)| w),
            height: s.size.map(|(_, h)| h),
            loops: s.loops,
            sessions: s.sessions,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn media_inputs_parse_with_and_without_loop() {
        let a = parse_media_input("cam=clip.mp4,loop").unwrap();
        assert_eq!((a.name.as_str(), a.uri.as_str(), a.looping), ("cam", "clip.mp4", true));
        let b = parse_media_input("bg=https://host/a=b.webm").unwrap();
        assert_eq!((b.name.as_str(), b.uri.as_str(), b.looping), ("bg", "https://host/a=b.webm", false));
        assert!(parse_media_input("clip.mp4").unwrap_err().contains("NAME=URI"));
        assert!(parse_media_input("=clip.mp4").is_err());
        assert!(parse_media_input("cam=").is_err());
    }

    #[test]
    fn ingest_keys_need_a_name_and_a_key() {
        let k = parse_ingest_key("cam=s3cret").unwrap();
        assert_eq!((k.input.as_str(), k.key.as_str()), ("cam", "s3cret"));
        assert!(parse_ingest_key("cam").is_err());
        assert!(parse_ingest_key("cam=").is_err());
        assert!(parse_ingest_key("=key").is_err());
    }
}
