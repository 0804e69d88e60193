//! `measure`: monotonic in length, linear in size, kerning, and the shared measurer agreeing
//! with the engine from many threads.

mod common;

use std::sync::Arc;

use showrunner_text::{LINE_HEIGHT_EM, SharedMeasurer, TextEngine};

const SENTENCE: &str = "The quick brown fox jumps over the lazy dog";

#[test]
fn width_grows_with_every_character() {
    let mut engine = TextEngine::new();
    let mut previous = 0.0;
    for (end, _) in SENTENCE
        .char_indices()
        .skip(1)
        .chain([(SENTENCE.len(), ' ')])
    {
        let (width, _) = engine.measure(&SENTENCE[..end], "Inter", 32.0);
        assert!(
            width > previous,
            "{:?}: {width} not wider than {previous}",
            &SENTENCE[..end]
        );
        previous = width;
    }
}

#[test]
fn width_and_height_are_linear_in_size() {
    let mut engine = TextEngine::new();
    let (base_width, base_height) = engine.measure(SENTENCE, "Inter", 10.0);
    assert!(base_width > 100.0, "10 px sentence is {base_width} px wide");
    for size in [7.5_f32, 20.0, 33.3, 64.0, 200.0] {
        let (width, height) = engine.measure(SENTENCE, "Inter", size);
        let expected = base_width * size / 10.0;
        assert!(
            (width - expected).abs() <= expected * 0.01,
            "{size} px: {width} vs {expected}"
        );
        assert!((height - base_height * size / 10.0).abs() <= 0.01 * height);
        assert!((height - size * LINE_HEIGHT_EM).abs() < 1e-3);
    }
}

#[test]
fn kerning_pulls_av_together() {
    let mut engine = TextEngine::new();
    let (av, _) = engine.measure("AV", "Inter", 100.0);
    let (a, _) = engine.measure("A", "Inter", 100.0);
    let (v, _) = engine.measure("V", "Inter", 100.0);
    assert!(av < a + v - 2.0, "AV {av} vs A+V {}", a + v);
}

#[test]
fn generic_families_measure_as_inter_and_unknown_ones_fall_back_to_it() {
    let mut engine = TextEngine::new();
    let inter = engine.measure(SENTENCE, "Inter", 24.0);
    for family in [
        "",
        "sans-serif",
        "sans",
        "system-ui",
        "monospace",
        "inter",
        "No Such Font",
        "Foo, sans-serif",
    ] {
        assert_eq!(
            engine.measure(SENTENCE, family, 24.0),
            inter,
            "family {family:?}"
        );
    }
}

#[test]
fn unusable_sizes_measure_zero_and_odd_text_measures_finite() {
    let mut engine = TextEngine::new();
    for size in [0.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0] {
        assert_eq!(
            engine.measure("Hello", "Inter", size),
            (0.0, 0.0),
            "size {size}"
        );
    }
    assert_eq!(
        engine.measure("", "Inter", 20.0),
        (0.0, 20.0 * LINE_HEIGHT_EM)
    );
    let long = "W".repeat(4096);
    let (width, _) = engine.measure(&long, "Inter", 20.0);
    assert!(width.is_finite() && width > 4096.0 * 10.0);
    let longer = "W".repeat(10_000);
    assert_eq!(
        engine.measure(&longer, "Inter", 20.0).0,
        width,
        "text past 4096 bytes is ignored"
    );
    let (huge, _) = engine.measure("Hello", "Inter", 1e6);
    assert!(huge.is_finite() && huge > 0.0);
}

#[test]
fn shared_measurer_matches_the_engine_from_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<SharedMeasurer>();
    assert_send::<TextEngine>();

    let cases: Vec<(String, &str, f32)> = vec![
        (SENTENCE.to_owned(), "Inter", 24.0),
        ("AV fi ffi".to_owned(), "sans-serif", 13.5),
        ("مرحبا بالعالم".to_owned(), "Inter", 30.0),
        ("שלום עולם".to_owned(), "", 18.0),
        ("Mixed שלום and مرحبا 123".to_owned(), "Unknown", 22.0),
        ("emoji 😀🎉".to_owned(), "Inter", 40.0),
        (String::new(), "Inter", 10.0),
        ("x".to_owned(), "Inter", f32::NAN),
    ];
    let mut engine = TextEngine::new();
    let expected: Vec<(f32, f32)> = cases
        .iter()
        .map(|(text, family, size)| engine.measure(text, family, *size))
        .collect();

    let shared = Arc::new(SharedMeasurer::new());
    let cases = Arc::new(cases);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let shared = Arc::clone(&shared);
            let cases = Arc::clone(&cases);
            std::thread::spawn(move || {
                (0..25)
                    .flat_map(|_| {
                        cases
                            .iter()
                            .map(|(text, family, size)| shared.measure(text, family, *size))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        let results = handle.join().expect("measuring thread panicked");
        for (index, result) in results.iter().enumerate() {
            let want = expected[index % expected.len()];
            assert_eq!(
                result.0.to_bits(),
                want.0.to_bits(),
                "case {}",
                index % expected.len()
            );
            assert_eq!(result.1.to_bits(), want.1.to_bits());
        }
    }
}
