//! Quality adaptation on the real encoder: frames pushed faster than x264 can encode
//! them fill its queue, and the bitrate steps down (reported as an event) instead of
//! the show waiting; with adaptation off the bitrate stays put.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use showrunner_media::{EncoderSettings, LiveEncoder, LiveSettings, OutputEvent, QualityPolicy};

fn flood(adapt: Option<QualityPolicy>) -> (LiveEncoder, Vec<OutputEvent>, Duration) {
    let settings = EncoderSettings { bitrate_kbps: 4000, ..EncoderSettings::new(1280, 720, 30, 1) };
    let frames: Vec<Vec<u8>> = (0..4).map(|seed| support::noise_frame(&settings, seed)).collect();
    let policy = adapt.map(|p| QualityPolicy { cooldown: Duration::from_millis(100), ..p });
    let mut encoder = LiveEncoder::start(&settings, LiveSettings { adapt: policy, ..LiveSettings::default() }).unwrap();
    let outputs = encoder.outputs();
    let started = Instant::now();
    for n in 0..240u64 {
        encoder.push_frame(n, frames[n as usize % 4].clone()).unwrap();
        if n % 30 == 0 {
            std::thread::sleep(Duration::from_millis(60));
        }
    }
    let pushing = started.elapsed();
    (encoder, outputs.drain_events(), pushing)
}

#[test]
fn an_encoder_that_falls_behind_steps_its_bitrate_down_and_says_so() {
    let (encoder, events, pushing) = flood(Some(QualityPolicy::default()));
    let stats = encoder.stats();
    assert!(stats.frames_dropped > 0, "240 noise frames in {pushing:?} outran x264: {stats:?}");
    let changes: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match e {
            OutputEvent::QualityChanged(c) => Some((c.from_kbps, c.to_kbps)),
            _ => None,
        })
        .collect();
    assert_eq!(changes.first(), Some(&(4000, 3000)), "{events:?}");
    assert_eq!(changes.last().map(|c| c.1), Some(stats.bitrate_kbps));
    assert!(stats.bitrate_kbps >= 2000, "never below the floor (50%): {stats:?}");
    assert!(pushing < Duration::from_secs(3), "pushing never waited for the encoder: {pushing:?}");
}

#[test]
fn a_fixed_bitrate_stays_fixed() {
    let (encoder, events, _) = flood(None);
    assert!(encoder.stats().frames_dropped > 0);
    assert_eq!(encoder.stats().bitrate_kbps, 4000);
    assert!(!events.iter().any(|e| matches!(e, OutputEvent::QualityChanged(_))), "{events:?}");
}
