//! `showrunner live MODULE.wasm|SHOW.toml --rtmp URL [--rtmp URL…] [--record FILE.mkv]`:
//! plays a module or show file in real time, paced by the frame clock (frame n at
//! n·den/num s, never faster, never drifting), encodes it once and streams it to every
//! destination and the recorder until Ctrl-C or `--duration`. Destinations reconnect by
//! themselves; a slow one never holds up the show. Ctrl-C closes the recording and
//! tells each server the stream ended.

// Module-file errors carry the loader's full reason; they travel only on the failure path.
#![allow(clippy::result_large_err)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::ProgressBar;
use showrunner_engine::{EngineEvent, EngineOptions, FrameClock, LatePolicy};
use showrunner_media::{EncoderSettings, LiveEncoder, LiveSettings, OutputEvent, X264Preset};
use showrunner_render::{Compositor, Frame, Renderer};
use showrunner_server::show::delivery::Delivery;
use showrunner_server::show::output_events::output_event_id as event_id;
use showrunner_wasm::Host;

use super::live_inputs::{InputArgs, RunningInputs, check_audio_from};
use super::live_preview::PreviewFile;
use super::live_report::{CpuClock, FrameTimes, LiveSummary, cpu_time, event_line, status_line};
use super::source::{self, SourceArgs, fps_label, load_assets, parse_preset, report};
use super::{EXIT_FAULTED, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct LiveArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Stream to this RTMP/RTMPS URL, rtmp://HOST[:PORT]/APP/KEY (the key is never printed). Repeatable.
    #[arg(long = "rtmp", value_name = "URL")]
    pub rtmp: Vec<String>,
    /// Record the programme to this Matroska file (.mkv; it must not exist yet).
    #[arg(long, value_name = "FILE.mkv")]
    pub record: Option<PathBuf>,
    /// Keep this JPEG the latest programme image (640x360 at most, 5 a second).
    #[arg(long, value_name = "FILE.jpg")]
    pub preview: Option<PathBuf>,
    /// Video bitrate in kbit/s.
    #[arg(long, default_value_t = 4500)]
    pub bitrate: u32,
    /// Keep the bitrate fixed instead of stepping it down (to half at most) while the
    /// encoder falls behind and back up when it keeps up.
    #[arg(long)]
    pub fixed_bitrate: bool,
    /// x264 speed preset: ultrafast, superfast, veryfast, faster, fast, medium.
    #[arg(long, default_value = "veryfast", value_parser = parse_preset)]
    pub preset: X264Preset,
    /// When rendering falls behind: `repeat` the last frame in the missed slots (constant
    /// frame rate, what players expect) or `skip` them.
    #[arg(long, default_value = "repeat", value_parser = parse_late)]
    pub late: LatePolicy,
    /// Play a show file's cues again every `length` of the show, forever.
    #[arg(long = "loop")]
    pub loop_cues: bool,
    /// How often to print a status line.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub status_every: Duration,
    /// Also write the closing summary (frames, late/dropped, drift, CPU, outputs) as JSON here.
    #[arg(long, value_name = "FILE.json")]
    pub summary_json: Option<PathBuf>,
    /// Trace recording.
    #[command(flatten)]
    pub trace: super::trace::TraceArgs,
}

fn parse_late(s: &str) -> Result<LatePolicy, String> {
    match s {
        "repeat" => Ok(LatePolicy::Repeat),
        "skip" => Ok(LatePolicy::Skip),
        _ => Err(format!("`{s}` is not a late-frame policy: use repeat or skip")),
    }
}

pub fn run(args: &LiveArgs, host: Arc<Host>, services: &super::services::RenderServices) -> anyhow::Result<ExitCode> {
    if args.rtmp.is_empty() && args.record.is_none() {
        eprintln!("error: nothing to send the show to: add --rtmp rtmp://HOST/APP/KEY and/or --record FILE.mkv");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    check_audio_from(&args.inputs)?;
    showrunner_media::probe_live_elements().context("GStreamer is not ready for live output")?;
    load_assets(&args.source, services)?;
    let mut job = source::open(&args.source, &host, EngineOptions::default())?;
    let spec = job.engine.spec().clone();
    let (width, height) = (spec.width, spec.height);
    let settings = EncoderSettings {
        bitrate_kbps: args.bitrate,
        preset: args.preset,
        ..EncoderSettings::new(width, height, spec.fps_num, spec.fps_den)
    };
    let live = LiveSettings { adapt: if args.fixed_bitrate { None } else { LiveSettings::default().adapt }, ..LiveSettings::default() };
    let mut encoder = LiveEncoder::start(&settings, live).context("cannot start the live encoder")?;
    let outputs = encoder.outputs();
    for (n, url) in args.rtmp.iter().enumerate() {
        let id = if n == 0 { "rtmp".to_owned() } else { format!("rtmp{}", n + 1) };
        outputs.add_rtmp(&id, url)?;
    }
    if let Some(path) = &args.record {
        outputs.start_recording("record", path)?;
    }
    let preview = args.preview.as_deref().map(PreviewFile::start).transpose()?;
    let inputs = RunningInputs::start(&args.inputs)?;
    encoder.set_audio_source(inputs.audio_feed());
    let mut renderer = Renderer::new()?;
    renderer.set_assets(services.assets.clone());
    renderer.set_live_inputs(inputs.frames.clone());
    let mut compositor = Compositor::new(renderer)?;
    compositor.set_background(Some(settings.background));

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot catch Ctrl-C")?;
    let end = args.source.duration.map(|d| showrunner_engine::cue::frame_at(d, spec.fps_num, spec.fps_den));
    eprintln!(
        "live: {} ({width}x{height} @ {}) on {}, {} at {} kbit/s; {}. Ctrl-C stops.",
        args.source.input.display(),
        fps_label(spec.fps_num, spec.fps_den),
        compositor.renderer().adapter(),
        args.preset.gst_nick(),
        args.bitrate,
        outputs.statuses().iter().map(|o| format!("{} → {}", o.id, o.target)).collect::<Vec<_>>().join(", ")
    );
    for line in inputs.banner() {
        eprintln!("input: {line}");
    }
    if let Some(name) = &args.inputs.audio_from {
        eprintln!("audio: from input {name}");
    }

    let quiet = ProgressBar::hidden();
    let mut clock = FrameClock::new(spec.fps_num, spec.fps_den, args.late)?;
    let cycle = job.show_frames.max(1);
    let (cpu_thread_start, cpu_process_start) = (cpu_time(CpuClock::Thread), cpu_time(CpuClock::Process));
    let mut delivery = Delivery::default();
    let mut times = FrameTimes::default();
    let mut faults = 0usize;
    let mut rendered = 0u64;
    let mut last_index = 0u64;
    let mut pass = 0u64;
    let mut cues_fired = 0u64;
    let mut bitrate_changes = 0u64;
    let mut next_status = Instant::now() + args.status_every;
    while !stop.load(Ordering::Relaxed) {
        let tick = clock.wait_next();
        if end.is_some_and(|e| tick.index >= e) {
            break;
        }
        let began = Instant::now();
        last_index = tick.index;
        let show_frame = if args.loop_cues { tick.index % cycle } else { tick.index };
        // A new pass of the loop (by pass number: a late tick may skip its first frame).
        if args.loop_cues && tick.index / cycle != pass {
            pass = tick.index / cycle;
            job.timeline.rewind();
        }
        job.timeline.apply_due(&mut job.engine, show_frame);
        let plan = job.engine.frame(tick.index)?;
        for event in job.engine.drain_events() {
            faults += report(&quiet, &event);
            cues_fired += u64::from(matches!(event, EngineEvent::CueFired { .. }));
        }
        delivery.submitted(&tick, Some(&mut encoder)).context("the live encoder stopped")?;
        compositor.submit(&plan, width, height)?;
        if compositor.in_flight() >= showrunner_render::compose::MAX_IN_FLIGHT
            && let Some(frame) = compositor.receive()?
        {
            deliver(&mut encoder, &mut delivery, &frame, preview.as_ref(), &clock)?;
            rendered += 1;
        }
        times.add(began.elapsed());
        for event in outputs.drain_events() {
            bitrate_changes += u64::from(matches!(event, OutputEvent::QualityChanged(_)));
            let target = event_id(&event).and_then(|id| outputs.status(id)).map(|s| s.target);
            eprintln!("{}", event_line(&event, target.as_deref()));
        }
        for line in inputs.event_lines() {
            eprintln!("{line}");
        }
        if Instant::now() >= next_status {
            next_status += args.status_every;
            let elapsed = clock.start().elapsed();
            eprintln!("{}", status_line(elapsed, tick.index, &mut times, &clock.stats(), &encoder.stats(), &outputs.statuses()));
            if let Some(line) = inputs_line(&inputs.statuses()) {
                eprintln!("{line}");
            }
        }
    }
    while let Some(frame) = compositor.receive()? {
        deliver(&mut encoder, &mut delivery, &frame, preview.as_ref(), &clock)?;
        rendered += 1;
    }
    let wall = clock.start().elapsed();
    let frame_slots = last_index + 1;
    let drift = wall.as_secs_f64() - clock.pts(frame_slots).as_secs_f64();
    let thread_cpu = cpu_time(CpuClock::Thread).saturating_sub(cpu_thread_start);
    let process_cpu = cpu_time(CpuClock::Process).saturating_sub(cpu_process_start);
    eprintln!("stopping: sending the last frames, closing inputs and outputs…");
    let input_finals = inputs.stop();
    if let Some(preview) = preview {
        let stats = preview.stop();
        eprintln!("preview: {} images written, last took {:?} to encode", stats.encoded, stats.last_encode_time.unwrap_or_default());
    }
    // Encode what is queued and hand it to the outputs, let them send it (a recording
    // gets every frame), then stop whatever is still trying (a dead server).
    let finished = encoder.finish(Duration::from_secs(5));
    outputs.wait_stopped(Duration::from_secs(5));
    let finals = outputs.remove_all();
    let encoded = match finished {
        Ok(stats) => stats,
        Err(e) => bail!("the live encoder did not finish cleanly: {e}"),
    };
    let clock_stats = clock.stats();
    let per_frame = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / rendered.max(1) as f64;
    let summary = LiveSummary {
        seconds: wall.as_secs_f64(),
        width,
        height,
        fps: f64::from(spec.fps_num) / f64::from(spec.fps_den),
        frames_rendered: rendered,
        frames_late: clock_stats.late,
        frames_repeated: clock_stats.repeated,
        frames_skipped: clock_stats.skipped,
        encoder_frames_dropped: encoded.frames_dropped,
        encoder_frames_encoded: encoded.frames_encoded,
        pts_drift_ms: drift * 1000.0,
        render_thread_cpu_ms_per_frame: per_frame(thread_cpu),
        process_cpu_ms_per_frame: per_frame(process_cpu),
        module_faults: faults,
        cues_fired,
        bitrate_kbps: encoded.bitrate_kbps,
        bitrate_changes,
        outputs: finals.iter().map(Into::into).collect(),
        inputs: input_finals.iter().map(Into::into).collect(),
    };
    summary.print();
    if let Some(path) = &args.summary_json {
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if faults > 0 {
        eprintln!("{faults} module faults during the show (see above); their layers showed their last good frame");
        return Ok(ExitCode::from(EXIT_FAULTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// "inputs: cam live 1280x720 (812 frames), clip looped 3×", or nothing without inputs.
fn inputs_line(statuses: &[showrunner_media::InputStatus]) -> Option<String> {
    if statuses.is_empty() {
        return None;
    }
    let parts: Vec<String> = statuses
        .iter()
        .map(|s| {
            let size = s.size.map(|(w, h)| format!(" {w}x{h}")).unwrap_or_default();
            let loops = if s.loops > 0 { format!(", looped {}×", s.loops) } else { String::new() };
            format!("{} {}{size} ({} frames{loops})", s.name, s.state.name(), s.frames)
        })
        .collect();
    Some(format!("inputs: {}", parts.join(", ")))
}

/// Hands a composited frame to the encoder at its index and the slots it must also
/// fill, and offers it to the preview.
fn deliver(encoder: &mut LiveEncoder, delivery: &mut Delivery, frame: &Frame, preview: Option<&PreviewFile>, clock: &FrameClock) -> anyhow::Result<()> {
    let Some(index) = delivery.delivered(&frame.pixels, Some(encoder)).context("the live encoder stopped")? else {
        bail!("the compositor returned a frame that was never submitted")
    };
    if let Some(preview) = preview {
        preview.offer(frame, index, clock.pts(index));
    }
    Ok(())
}
