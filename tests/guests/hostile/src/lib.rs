//! Test guest: a scene that misbehaves on purpose, for the host's sandbox tests.
//! Not shipped.
//!
//! Prop `mode` picks the misbehaviour; every mode that returns from `tick` draws the
//! same single rect as "ok", so a test can tell a good frame from a kept one.
//!
//! | mode             | what it does                                                       |
//! |------------------|--------------------------------------------------------------------|
//! | `ok`             | draws one 64×64 white rect at (0, 0)                               |
//! | `tick-loop`      | loops forever in `tick`                                            |
//! | `init-loop`      | loops forever in `init`                                            |
//! | `init-error`     | `init` fails with "init refused"                                   |
//! | `memory-bomb`    | in `tick`, allocates and fills 16 MiB blocks, keeping them, until the allocator fails |
//! | `panic`          | panics in `tick` ("hostile panic")                                 |
//! | `recursion`      | recurses without bound in `tick`                                   |
//! | `million-ops`    | returns prop `count` (default 1 000 000) ops: empty push/pop pairs |
//! | `nan`            | fills a rect path whose left edge is at x = NaN and right edge at +inf |
//! | `log-spam`       | logs 100 000 info lines in one `tick`, then draws normally         |
//! | `stdout-spam`    | prints 100 000 lines to stdout in one `tick`, then draws normally  |
//! | `panic-at-frame` | panics when `frame.index` equals prop `at` (default 10), else draws normally |
//! | `bad-restore`    | `restore-state` always fails with "incompatible state"             |
//!
//! `mode` has no default: `init` without one fails ("no mode set"), as does an
//! unknown mode, so a swap from another scene (whose props it does not share) is
//! refused. `mode` can change with `set-props` (from "ok" to "tick-loop" after a few
//! good frames, say); the init modes only act in `init`.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p guest-hostile`
//! (`target/wasm32-wasip2/guest/guest_hostile.wasm`).

use std::hint::black_box;

use showrunner_guest::prelude::*;
use showrunner_guest::{log, state};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Ok,
    TickLoop,
    InitLoop,
    InitError,
    MemoryBomb,
    Panic,
    Recursion,
    MillionOps,
    Nan,
    LogSpam,
    StdoutSpam,
    PanicAtFrame,
    BadRestore,
}

impl Mode {
    pub const ALL: [(&str, Mode); 13] = [
        ("ok", Mode::Ok),
        ("tick-loop", Mode::TickLoop),
        ("init-loop", Mode::InitLoop),
        ("init-error", Mode::InitError),
        ("memory-bomb", Mode::MemoryBomb),
        ("panic", Mode::Panic),
        ("recursion", Mode::Recursion),
        ("million-ops", Mode::MillionOps),
        ("nan", Mode::Nan),
        ("log-spam", Mode::LogSpam),
        ("stdout-spam", Mode::StdoutSpam),
        ("panic-at-frame", Mode::PanicAtFrame),
        ("bad-restore", Mode::BadRestore),
    ];

    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }
}

pub struct Hostile {
    mode: Mode,
    at: u64,
    count: usize,
    /// What `memory-bomb` keeps alive.
    hoard: Vec<Vec<u8>>,
}

impl Hostile {
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

/// Never returns; `black_box` keeps the optimiser from proving the loop does nothing.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Recurses until the stack runs out, using 256 bytes of stack per call; the test on
/// `black_box(depth)` is never true but hides that from the compiler.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 32]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(black_box(depth + 1)).wrapping_add(frame[31])
}

impl Scene for Hostile {
    fn describe() -> ModuleInfo {
        let modes: Vec<&str> = Mode::ALL.iter().map(|(n, _)| *n).collect();
        ModuleInfo {
            name: "Hostile (test guest)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            props: vec![
                PropSpec::text("mode", &format!("Misbehaviour: {}", modes.join(", ")), ""),
                PropSpec::number("at", "Frame that panic-at-frame panics on", 10.0).range(0.0, 1e15),
                PropSpec::number("count", "Ops million-ops returns", 1_000_000.0).range(0.0, 1e8),
            ],
        }
    }

    fn new(props: &Props) -> Result<Self, String> {
        let name = props.text("mode");
        let mode = match Mode::parse(name) {
            Some(mode) => mode,
            None if name.is_empty() => return Err("no mode set".into()),
            None => return Err(format!("unknown mode {name:?}")),
        };
        match mode {
            Mode::InitLoop => spin(),
            Mode::InitError => return Err("init refused".into()),
            _ => {}
        }
        let mut scene = Hostile { mode, at: 0, count: 0, hoard: Vec::new() };
        scene.set_props(props);
        Ok(scene)
    }

    fn set_props(&mut self, props: &Props) {
        match Mode::parse(props.text("mode")) {
            Some(mode) => self.mode = mode,
            None => log::warn(&format!("unknown mode {:?}; keeping {:?}", props.text("mode"), self.mode)),
        }
        self.at = props.number("at", 10.0).max(0.0) as u64;
        self.count = props.number("count", 1_000_000.0).clamp(0.0, 1e8) as usize;
    }

    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas) {
        match self.mode {
            Mode::TickLoop => spin(),
            Mode::MemoryBomb => loop {
                self.hoard.push(black_box(vec![0xA5u8; 16 << 20]));
            },
            Mode::Panic => panic!("hostile panic"),
            Mode::Recursion => {
                black_box(recurse(0));
            }
            Mode::MillionOps => {
                for _ in 0..self.count / 2 {
                    canvas.push(Group::default()).pop();
                }
                if self.count % 2 == 1 {
                    canvas.fill_rect(Rect::new(0.0, 0.0, 1.0, 1.0), Color::WHITE);
                }
                return;
            }
            Mode::Nan => {
                // A rect at x = NaN, infinitely wide (built by hand: NaN + inf would be NaN).
                let (x0, x1) = (f32::NAN, f32::INFINITY);
                let path = PathBuilder::new().move_to(x0, 0.0).line_to(x1, 0.0).line_to(x1, 10.0).line_to(x0, 10.0).close();
                canvas.fill(path.build(), Color::WHITE);
                return;
            }
            Mode::LogSpam => {
                for i in 0..100_000 {
                    log::info(&format!("log spam {i}"));
                }
            }
            Mode::StdoutSpam => {
                for i in 0..100_000 {
                    println!("stdout spam {i}");
                }
            }
            Mode::PanicAtFrame if frame.index == self.at => panic!("hostile panic at frame {}", frame.index),
            _ => {}
        }
        canvas.fill_rect(Rect::new(0.0, 0.0, 64.0, 64.0), Color::WHITE);
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(&"hostile")
    }

    fn restore_state(&mut self, _saved: &[u8]) -> Result<(), String> {
        match self.mode {
            Mode::BadRestore => Err("incompatible state".into()),
            _ => Ok(()),
        }
    }
}

export_scene!(Hostile);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use showrunner_guest::{DrawOp, Prop, PropValue};

    fn props(mode: &str) -> Props {
        let mut props = Props::defaults(&Hostile::describe().props);
        props.merge([Prop { name: "mode".into(), value: PropValue::Text(mode.into()) }]);
        props
    }

    fn tick(scene: &mut Hostile, index: u64) -> Vec<DrawOp> {
        let frame = FrameInfo { index, time: index as f64 / 30.0, width: 1920, height: 1080, fps_num: 30, fps_den: 1 };
        let mut canvas = Canvas::new();
        scene.tick(&frame, &mut canvas);
        canvas.take_ops()
    }

    #[test]
    fn every_mode_parses_and_unknown_ones_fail_init() {
        for (name, mode) in Mode::ALL {
            assert_eq!(Mode::parse(name), Some(mode));
        }
        assert_eq!(Hostile::new(&props("sneaky")).err().unwrap(), "unknown mode \"sneaky\"");
        assert_eq!(Hostile::new(&props("init-error")).err().unwrap(), "init refused");
        let defaults = Props::defaults(&Hostile::describe().props);
        assert_eq!(Hostile::new(&defaults).err().unwrap(), "no mode set");
    }

    #[test]
    fn ok_draws_one_rect() {
        let mut h = Hostile::new(&props("ok")).unwrap();
        let ops = tick(&mut h, 0);
        assert_eq!(ops.len(), 1);
        assert!(matches!(ops[0], DrawOp::Fill(_)));
    }

    #[test]
    fn million_ops_returns_count_ops() {
        let mut h = Hostile::new(&props("million-ops")).unwrap();
        assert_eq!(tick(&mut h, 0).len(), 1_000_000);
        let mut odd = props("million-ops");
        odd.merge([Prop { name: "count".into(), value: PropValue::Number(7.0) }]);
        h.set_props(&odd);
        assert_eq!(tick(&mut h, 1).len(), 7);
    }

    #[test]
    fn nan_draws_a_non_finite_rect() {
        let mut h = Hostile::new(&props("nan")).unwrap();
        let ops = tick(&mut h, 0);
        let DrawOp::Fill(fill) = &ops[0] else { panic!("expected a fill") };
        assert!(fill.path.points[0].is_nan());
        assert!(fill.path.points.iter().any(|v| v.is_infinite()));
    }

    #[test]
    fn panic_at_frame_panics_on_that_frame_only() {
        let mut h = Hostile::new(&props("panic-at-frame")).unwrap();
        for i in 0..10 {
            assert_eq!(tick(&mut h, i).len(), 1);
        }
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tick(&mut h, 10)));
        assert!(panicked.is_err());
        assert_eq!(tick(&mut h, 11).len(), 1);
    }

    #[test]
    fn bad_restore_refuses_any_state_and_mode_switches_live() {
        let mut h = Hostile::new(&props("bad-restore")).unwrap();
        let saved = h.save_state();
        assert_eq!(h.restore_state(&saved), Err("incompatible state".into()));
        h.set_props(&props("ok"));
        assert_eq!(h.restore_state(&saved), Ok(()));
        h.set_props(&props("nonsense"));
        assert_eq!(h.mode(), Mode::Ok);
    }
}
