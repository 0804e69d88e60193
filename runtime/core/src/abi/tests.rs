//! Round trips of every form, and hostile bytes: truncations, wrong tags, huge
//! counts, trailing bytes, and a seeded mutation corpus that must never panic.

use super::*;

const WHITE: Color = Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 };

fn path() -> Path {
    Path { verbs: vec![0, 1, 2, 3, 4], points: (0..14).map(|i| i as f32).collect() }
}

fn stops() -> Vec<GradientStop> {
    vec![GradientStop { offset: 0.0, color: WHITE }, GradientStop { offset: 1.0, color: Color { a: 0.5, ..WHITE } }]
}

/// One of every op and paint.
pub(super) fn every_op() -> Vec<DrawOp> {
    vec![
        DrawOp::Push(Group { transform: Affine { e: 10.0, ..Affine::IDENTITY }, opacity: 0.5, clip: Some(path()), blend: BlendMode::Screen }),
        DrawOp::Fill(Fill { path: path(), paint: Paint::Solid(WHITE), rule: FillRule::EvenOdd }),
        DrawOp::Fill(Fill { path: path(), paint: Paint::Linear(LinearGradient { x0: 0.0, y0: 1.0, x1: 2.0, y1: 3.0, stops: stops() }), rule: FillRule::NonZero }),
        DrawOp::Stroke(Stroke {
            path: path(),
            paint: Paint::Radial(RadialGradient { cx: 5.0, cy: 6.0, radius: 7.0, stops: stops() }),
            width: 2.5,
            join: LineJoin::Round,
            cap: LineCap::Square,
            miter_limit: 4.0,
            dash: vec![4.0, 2.0],
            dash_offset: 1.0,
        }),
        DrawOp::Pop,
        DrawOp::Text(TextRun {
            text: "Ünïcödé → ok".into(),
            family: "Inter".into(),
            weight: 700,
            size: 32.0,
            x: 1.0,
            y: 2.0,
            align: TextAlign::End,
            paint: Paint::Image(ImageFill { asset: "logo".into(), transform: Affine::IDENTITY, opacity: 0.7 }),
            max_width: Some(300.0),
        }),
        DrawOp::Image(ImageDraw { asset: "logo.png".into(), dest: Rect { x: 1.0, y: 2.0, width: 3.0, height: 4.0 }, opacity: 1.0 }),
        DrawOp::Video(VideoDraw { input: "cam1".into(), dest: Rect { x: 0.0, y: 0.0, width: 1920.0, height: 1080.0 }, opacity: 0.25 }),
    ]
}

#[test]
fn every_op_round_trips() {
    let ops = every_op();
    assert_eq!(decode_draw_list(&encode_draw_list(&ops), 100), Ok(ops));
    assert_eq!(decode_draw_list(&encode_draw_list(&[]), 100), Ok(vec![]));
}

#[test]
fn module_info_props_frame_and_result_round_trip() {
    let info = ModuleInfo {
        name: "Lower third".into(),
        version: "1.2.3".into(),
        props: vec![
            PropSpec { name: "size".into(), label: "Size".into(), default: PropValue::Number(2.0), min: Some(0.0), max: Some(9.0) },
            PropSpec { name: "on".into(), label: "On".into(), default: PropValue::Flag(true), min: None, max: None },
            PropSpec { name: "c".into(), label: "C".into(), default: PropValue::Color(WHITE), min: None, max: None },
            PropSpec { name: "a".into(), label: "A".into(), default: PropValue::Asset("x".into()), min: None, max: None },
        ],
    };
    assert_eq!(decode_module_info(&encode_module_info(&info)), Ok(info));
    let props = vec![Prop { name: "name".into(), value: PropValue::Text("Ada".into()) }];
    assert_eq!(decode_props(&encode_props(&props)), Ok(props));
    let frame = FrameInfo::at(42, 1280, 720, 30000, 1001);
    assert_eq!(encode_frame(&frame).len(), 32);
    assert_eq!(decode_frame(&encode_frame(&frame)), Ok(frame));
    assert_eq!(decode_result(&encode_result(&Ok(()))), Ok(Ok(())));
    assert_eq!(decode_result(&encode_result(&Err("no".into()))), Ok(Err("no".into())));
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = encode_draw_list(&every_op());
    for len in 0..bytes.len() {
        assert!(decode_draw_list(&bytes[..len], 100).is_err(), "truncated to {len} decoded");
    }
}

#[test]
fn malformed_lists_name_the_problem_and_the_offset() {
    let good = encode_draw_list(&[DrawOp::Pop]);
    let mut magic = good.clone();
    magic[0] = b'X';
    assert!(decode_draw_list(&magic, 10).unwrap_err().what.contains("magic"));
    let mut version = good.clone();
    version[4] = 2;
    assert!(decode_draw_list(&version, 10).unwrap_err().what.contains("version 2"));
    let mut tag = good.clone();
    tag[9] = 7;
    assert_eq!(decode_draw_list(&tag, 10).unwrap_err(), AbiError { offset: 9, what: "unknown draw op 7".into() });
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(decode_draw_list(&trailing, 10).unwrap_err().what.contains("1 trailing bytes"));
    let mut short_count = good.clone();
    short_count[5] = 0;
    assert!(decode_draw_list(&short_count, 10).unwrap_err().what.contains("trailing"));
    let mut huge = good[..9].to_vec();
    huge[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(decode_draw_list(&huge, usize::MAX).unwrap_err().what.contains("does not fit"));
    let over_cap = encode_draw_list(&vec![DrawOp::Pop; 11]);
    assert!(decode_draw_list(&over_cap, 10).unwrap_err().what.contains("exceed the cap of 10"));
    let mut utf8 = encode_draw_list(&[DrawOp::Image(ImageDraw { asset: "ab".into(), dest: Rect { x: 0.0, y: 0.0, width: 1.0, height: 1.0 }, opacity: 1.0 })]);
    utf8[14] = 0xff;
    assert!(decode_draw_list(&utf8, 10).unwrap_err().what.contains("UTF-8"));
}

/// xorshift64*: a tiny deterministic generator, so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates valid encodings (flip, overwrite, insert, delete, splice a big count) and
/// decodes each: must return, never panic; a result that decodes must re-encode.
#[test]
fn seeded_mutation_corpus_never_panics() {
    let seeds: Vec<Vec<u8>> = vec![encode_draw_list(&every_op()), encode_draw_list(&[]), encode_draw_list(&every_op()[5..])];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut decoded = 0;
    for i in 0..20_000 {
        let mut bytes = seeds[i % seeds.len()].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(5) {
                0 if !bytes.is_empty() => bytes[at] ^= 1 << rng.below(8),
                1 if !bytes.is_empty() => bytes[at] = rng.next() as u8,
                2 => bytes.insert(at, rng.next() as u8),
                3 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ if bytes.len() >= at + 4 => bytes[at..at + 4].copy_from_slice(&(rng.next() as u32).to_le_bytes()),
                _ => {}
            }
        }
        if let Ok(ops) = decode_draw_list(&bytes, 20_000) {
            decoded += 1;
            assert_eq!(decode_draw_list(&encode_draw_list(&ops), 20_000).map(|o| o.len()), Ok(ops.len()));
        }
        let _ = decode_module_info(&bytes);
        let _ = decode_props(&bytes);
        let _ = decode_result(&bytes);
    }
    // Some mutations (e.g. of float bytes) stay valid: the corpus exercises both paths.
    assert!(decoded > 100, "only {decoded} mutants decoded");
}
