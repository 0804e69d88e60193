//! How fast 1080p frames composite and encode on this machine.
//! Run: `cargo run --release -p showrunner-media --example encode_speed [frames]`
//!
//! Prints, per 1080p frame: CPU compositing over a background colour, the same done by
//! GStreamer's `compositor` element (the alternative), and the full FileEncoder path
//! (composite + videoconvert + x264 + mux) for the veryfast and ultrafast presets, as
//! wall time and as CPU time of all threads (Linux; steadier on a busy machine).

use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use showrunner_media::{EncoderSettings, FileEncoder, X264Preset, composite_over_background};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const DISTINCT_FRAMES: usize = 30;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(150);
    gst::init()?;
    let frames: Vec<Vec<u8>> = (0..DISTINCT_FRAMES).map(graphics_frame).collect();
    let ms = |d: Duration, n: u64| d.as_secs_f64() * 1000.0 / n as f64;

    let mut out = vec![0u8; frames[0].len()];
    let start = Instant::now();
    for n in 0..count {
        composite_over_background(&frames[n as usize % DISTINCT_FRAMES], &mut out, [0, 90, 200]);
    }
    println!("CPU composite (Rust) alone:              {:6.2} ms/frame", ms(start.elapsed(), count));

    let cpu = convert_only(&frames, count, false)?;
    println!("CPU composite + videoconvert to I420:    {:6.2} ms/frame", ms(cpu, count));
    let element = convert_only(&frames, count, true)?;
    println!("GStreamer compositor (solid bg layer):   {:6.2} ms/frame", ms(element, count));

    let dir = std::env::temp_dir().join(format!("showrunner-encode-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for preset in [X264Preset::Veryfast, X264Preset::Ultrafast] {
        let settings = EncoderSettings { preset, ..EncoderSettings::new(WIDTH, HEIGHT, 30, 1) };
        let path = dir.join(format!("{}.mkv", preset.gst_nick()));
        let start = Instant::now();
        let cpu_start = process_cpu_time();
        let mut encoder = FileEncoder::create(&path, &settings)?;
        for n in 0..count {
            encoder.push_frame(&frames[n as usize % DISTINCT_FRAMES])?;
        }
        let summary = encoder.finish()?;
        let wall = start.elapsed();
        let cpu = match (cpu_start, process_cpu_time()) {
            (Some(a), Some(b)) => format!("{:6.2}", ms(b.saturating_sub(a), count)),
            _ => "   n/a".to_owned(),
        };
        println!(
            "FileEncoder 1080p30 {:<9}             {:6.2} ms/frame wall, {cpu} ms/frame CPU ({} frames, {} KiB)",
            preset.gst_nick(),
            ms(wall, count),
            summary.frames_written,
            summary.file_size_bytes / 1024
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// User + system CPU time of this process (all threads) from /proc/self/stat, in
/// clock ticks of 10 ms; `None` where that file does not exist.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Opaque-ish broadcast graphics: a transparent frame with a moving lower third (opaque
/// bar with soft edges) and a half-transparent bug in the corner.
fn graphics_frame(index: usize) -> Vec<u8> {
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut frame = vec![0u8; w * h * 4];
    let bar_left = 100 + index * 20;
    for y in 0..h {
        for x in 0..w {
            let p = &mut frame[(y * w + x) * 4..][..4];
            if (800..920).contains(&y) && (bar_left..bar_left + 1200).contains(&x) {
                let edge = (x - bar_left).min(bar_left + 1199 - x).min(y - 800).min(919 - y);
                p.copy_from_slice(&[230, (x / 8 % 256) as u8, 40, (edge * 32).min(255) as u8]);
            } else if (40..140).contains(&y) && (1700..1880).contains(&x) {
                p.copy_from_slice(&[255, 255, 255, 128]);
            }
        }
    }
    frame
}

/// Time to turn `count` RGBA frames into composited I420 frames at a fakesink, either
/// compositing on the CPU (appsrc RGBx → videoconvert) or with `compositor` (appsrc RGBA
/// over a videotestsrc solid-colour layer).
fn convert_only(frames: &[Vec<u8>], count: u64, with_element: bool) -> Result<Duration, Box<dyn std::error::Error>> {
    let format = if with_element { "RGBA" } else { "RGBx" };
    let description = if with_element {
        // The compositor's own `background` offers only black, white and checker, so
        // another colour needs a solid layer under the frames.
        format!(
            "compositor name=mix background=black ! videoconvert ! video/x-raw,format=I420 ! fakesink sync=false \
             videotestsrc num-buffers={count} pattern=solid-color foreground-color=0xff005ac8 ! \
             video/x-raw,format=RGBA,width={WIDTH},height={HEIGHT},framerate=30/1 ! mix.sink_0 \
             appsrc name=src format=time block=true max-bytes=33177600 ! mix.sink_1"
        )
    } else {
        "appsrc name=src format=time block=true max-bytes=33177600 ! videoconvert ! video/x-raw,format=I420 ! fakesink sync=false".to_owned()
    };
    let pipeline = gst::parse::launch(&description)?.downcast::<gst::Pipeline>().map_err(|_| "not a pipeline")?;
    let src = pipeline.by_name("src").ok_or("no src")?.downcast::<gst_app::AppSrc>().map_err(|_| "not appsrc")?;
    let caps = gst::Caps::builder("video/x-raw")
        .field("format", format)
        .field("width", WIDTH as i32)
        .field("height", HEIGHT as i32)
        .field("framerate", gst::Fraction::new(30, 1))
        .build();
    src.set_caps(Some(&caps));
    pipeline.set_state(gst::State::Playing)?;
    let start = Instant::now();
    for n in 0..count {
        let frame = &frames[n as usize % frames.len()];
        let mut buffer = gst::Buffer::with_size(frame.len())?;
        {
            let buffer = buffer.get_mut().ok_or("shared buffer")?;
            buffer.set_pts(gst::ClockTime::from_nseconds(n * 1_000_000_000 / 30));
            buffer.set_duration(gst::ClockTime::from_nseconds(33_333_333));
            let mut map = buffer.map_writable()?;
            if with_element {
                map.copy_from_slice(frame);
            } else {
                composite_over_background(frame, &mut map, [0, 90, 200]);
            }
        }
        src.push_buffer(buffer)?;
    }
    src.end_of_stream()?;
    let bus = pipeline.bus().ok_or("no bus")?;
    let done =
        bus.timed_pop_filtered(gst::ClockTime::from_seconds(60), &[gst::MessageType::Eos, gst::MessageType::Error]);
    let elapsed = start.elapsed();
    pipeline.set_state(gst::State::Null)?;
    match done.map(|m| m.type_()) {
        Some(gst::MessageType::Eos) => Ok(elapsed),
        other => Err(format!("pipeline ended with {other:?}").into()),
    }
}
