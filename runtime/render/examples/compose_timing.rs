//! Where a composed 1080p frame's time goes: an empty plan (clear + readback only),
//! one small changing layer, and an unchanged plan (the frame is reused).
//! `cargo run --release -p showrunner-render --example compose_timing`

use std::sync::Arc;
use std::time::Instant;

use showrunner_core::*;
use showrunner_render::{Compositor, Renderer};

fn square(x: f32) -> Vec<DrawOp> {
    let path = Path { verbs: vec![0, 1, 1, 1, 4], points: vec![x, 900.0, x + 400.0, 900.0, x + 400.0, 1000.0, x, 1000.0] };
    vec![DrawOp::Fill(Fill { path, paint: Paint::Solid(Color { r: 0.2, g: 0.3, b: 0.8, a: 0.9 }), rule: FillRule::NonZero })]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut c = Compositor::new(Renderer::new()?)?;
    let (w, h) = (1920, 1080);
    let plan = |ops: Vec<DrawOp>, version: u64| FramePlan {
        frame: FrameInfo::at(version, w, h, 30, 1),
        scenes: vec![ScenePlan { name: "s".into(), view: SceneView::IDENTITY, layers: vec![LayerPlan::full("l", Arc::new(ops), version)] }],
        overlay: Arc::new(Vec::new()),
    };
    for (label, make) in [
        ("empty layer, new version each frame", Box::new(|n: u64| plan(Vec::new(), n)) as Box<dyn Fn(u64) -> FramePlan>),
        ("one 400x100 layer moving each frame", Box::new(|n: u64| plan(square(n as f32), n))),
    ] {
        let mut times = Vec::new();
        for n in 0..60 {
            let p = make(n);
            let t = Instant::now();
            c.compose(&p, w, h)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!("{label}: median {:.2} ms, p90 {:.2} ms", times[30], times[54]);
    }
    let p = plan(square(0.0), 1);
    c.compose(&p, w, h)?;
    let t = Instant::now();
    for _ in 0..60 {
        c.compose(&p, w, h)?;
    }
    println!("unchanged plan (frame reused): {:.3} ms", t.elapsed().as_secs_f64() * 1e3 / 60.0);
    Ok(())
}
