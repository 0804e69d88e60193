//! The frame thread of a served show: paced by the frame clock, it applies API
//! requests between frames (as they arrive, until the next frame is due), makes the
//! frame, composites it, offers it to the preview and, while outputs are on, to the
//! encoder, and publishes what happened on the bus. A hot-swap is answered once the
//! first frame with the new module has been composited.
//!
//! Must not: wait on the network, the store or a client; compile modules; or stop
//! making frames because a request or a module failed.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use showrunner_engine::{Engine, EngineEvent, FrameClock};
use showrunner_media::{EncoderSettings, LiveEncoder, LiveSettings};
use showrunner_render::Compositor;
use showrunner_render::compose::MAX_IN_FLIGHT;

use super::bus::{EventBus, ShowEvent, ShowStats};
use super::command::{Request, ShowError, ShowSnapshot, SwapDone};
use super::delivery::Delivery;
use super::guest_state::StateSaver;

/// How long the encoder gets to send what it has when outputs stop.
const ENCODER_FINISH: Duration = Duration::from_secs(5);

/// A swap applied, waiting for its first frame on screen.
pub(super) struct PendingSwap {
    layer: String,
    frame: u64,
    started: Instant,
    report: showrunner_wasm::SwapReport,
    reply: super::command::Reply<SwapDone>,
}

pub(super) struct FrameLoop {
    pub engine: Engine,
    pub compositor: Compositor,
    pub clock: FrameClock,
    pub requests: Receiver<Request>,
    pub bus: EventBus,
    pub monitors: super::monitor::Monitors,
    pub preview_monitor: super::preview_monitor::PreviewMonitor,
    pub load: Arc<crate::metrics::process::ProcessLoad>,
    pub encoder_settings: EncoderSettings,
    pub saver: StateSaver,
    pub encoder: Option<LiveEncoder>,
    pub delivery: Delivery,
    pub swaps: Vec<PendingSwap>,
    pub stats: ShowStats,
    pub window: (u32, Duration, Duration),
    pub next_stats: Instant,
    pub next_index: u64,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub watch: super::alerts::PerformanceWatch,
}

impl FrameLoop {
    pub fn run(mut self) {
        let mut stop_reply = None;
        'show: loop {
            // Requests between frames, until the next one is due.
            loop {
                let now = Instant::now();
                let Some(due) = self.clock.next_due().filter(|due| *due > now) else { break };
                match self.requests.recv_timeout(due - now) {
                    Ok(Request::Stop(reply)) => {
                        stop_reply = Some(reply);
                        break 'show;
                    }
                    Ok(request) => self.apply(request),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break 'show,
                }
            }
            self.frame();
        }
        self.finish();
        if let Some(reply) = stop_reply {
            let _ = reply.send(Ok(()));
        }
    }

    fn frame(&mut self) {
        let tick = self.clock.wait_next();
        let began = Instant::now();
        self.next_index = tick.index + 1;
        let mut times = crate::metrics::FrameTimes::default();
        let plan = match self.engine.frame(tick.index) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!(frame = tick.index, error = %e, "cannot make the frame; the last picture stays on");
                return;
            }
        };
        times.tick = began.elapsed();
        self.publish_engine_events();
        if let Err(e) = self.delivery.submitted(&tick, self.encoder.as_mut()) {
            self.encoder_failed(&e.to_string());
        }
        let spec = self.engine.spec();
        let composing = Instant::now();
        if let Err(e) = self.compositor.submit(&plan, spec.width, spec.height) {
            tracing::error!(frame = tick.index, error = %e, "cannot composite the frame");
        }
        // A swap waiting for the screen is answered as soon as its frame is made,
        // not two frames later when the pipeline would hand it over.
        let limit = if self.swaps.is_empty() { MAX_IN_FLIGHT } else { 1 };
        while self.compositor.in_flight() >= limit {
            self.receive_one();
        }
        times.compose_submit = composing.elapsed();
        self.preview_monitor.frame(&mut self.engine, &self.clock, tick.index);
        times.frame = began.elapsed();
        self.metrics.frame_made(&times, tick.missed);
        self.count(began.elapsed(), tick.missed);
        self.publish_output_events();
        self.saver.offer(&self.engine);
    }

    fn receive_one(&mut self) {
        let frame = match self.compositor.receive() {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "the compositor failed a frame");
                return;
            }
        };
        let delivering = Instant::now();
        let delivered = self.delivery.delivered(&frame.pixels, self.encoder.as_mut());
        let index = match delivered {
            Ok(index) => index.unwrap_or_default(),
            Err(e) => {
                self.encoder_failed(&e.to_string());
                return;
            }
        };
        self.stats.frames_rendered += 1;
        self.metrics.frame_rendered(delivering.elapsed());
        let pts = self.clock.pts(index);
        self.monitors.program.set_scene(Some(self.engine.program()));
        self.monitors.program.offer(&frame.pixels, frame.width, frame.height, index, pts);
        if self.preview_monitor.mirrors_program {
            self.monitors.preview.offer(&frame.pixels, frame.width, frame.height, index, pts);
        }
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.swaps).into_iter().partition(|s| index >= s.frame);
        self.swaps = waiting;
        for swap in done {
            let to_screen = swap.started.elapsed();
            self.bus.publish(ShowEvent::ModuleSwapped {
                layer: swap.layer.clone(),
                from: swap.report.from.clone(),
                to: swap.report.to.clone(),
                swap_ms: to_screen.as_secs_f64() * 1000.0,
                state_carried: swap.report.state_carried,
                frame: swap.frame,
            });
            let done = self.layer(&swap.layer).map(|layer| SwapDone { report: swap.report, layer, frame: swap.frame, to_screen });
            let _ = swap.reply.send(done);
        }
    }

    fn count(&mut self, took: Duration, missed: u64) {
        let (frames, sum, max) = &mut self.window;
        *frames += 1;
        *sum += took;
        *max = (*max).max(took);
        self.stats.frames_late += missed;
        if Instant::now() < self.next_stats {
            return;
        }
        self.next_stats += Duration::from_secs(1);
        let spec = self.engine.spec();
        self.stats.frame = self.next_index.saturating_sub(1);
        self.stats.frame_ms_mean = sum.as_secs_f64() * 1000.0 / f64::from((*frames).max(1));
        self.stats.frame_ms_max = max.as_secs_f64() * 1000.0;
        self.stats.budget_ms = 1000.0 / spec.fps();
        self.stats.layers = spec.layers().count();
        self.stats.encoding = self.encoder.is_some();
        self.stats.frames_dropped = self.encoder.as_ref().map_or(0, |e| e.stats().frames_dropped);
        self.stats.cpu_percent = self.load.cpu_percent();
        self.stats.rss_bytes = self.load.resident_bytes();
        self.metrics.encoder_queue(self.encoder.as_ref().map_or(0, |e| e.stats().queue_depth));
        self.window = (0, Duration::ZERO, Duration::ZERO);
        self.bus.publish(ShowEvent::Stats(self.stats.clone()));
        if let Some(warning) = self.watch.check(&self.stats) {
            self.bus.publish(warning);
        }
    }

    fn publish_engine_events(&mut self) {
        for event in self.engine.drain_events() {
            let shown = match event {
                EngineEvent::LayerFault { layer, fault } => ShowEvent::ModuleFault { layer, module: fault.module.clone(), call: fault.call.to_string(), reason: fault.kind.to_string() },
                EngineEvent::Quarantined { layer, fault } => ShowEvent::Quarantined { layer, module: fault.module.clone(), reason: fault.kind.to_string() },
                EngineEvent::Cut { .. } | EngineEvent::TransitionStarted { .. } | EngineEvent::TransitionFinished { .. } => self.program_changed(),
                other => ShowEvent::Engine { message: super::describe_engine_event(&other) },
            };
            self.bus.publish(shown);
        }
    }

    fn publish_output_events(&self) {
        let Some(encoder) = &self.encoder else { return };
        let outputs = encoder.outputs();
        for event in outputs.drain_events() {
            let id = super::output_events::output_event_id(&event).unwrap_or("encoder").to_string();
            let target = outputs.status(&id).map(|s| s.target);
            self.bus.publish(ShowEvent::Output { message: super::output_events::output_event_line(&event, target.as_deref()), id });
        }
    }

    fn program_changed(&self) -> ShowEvent {
        ShowEvent::ProgramChanged { program: self.engine.program().to_string(), preview: self.engine.preview().map(str::to_string), incoming: self.engine.incoming().map(str::to_string) }
    }

    fn snapshot(&self) -> ShowSnapshot {
        ShowSnapshot {
            spec: self.engine.spec().clone(),
            program: self.engine.program().to_string(),
            preview: self.engine.preview().map(str::to_string),
            incoming: self.engine.incoming().map(str::to_string),
            frame: self.next_index.saturating_sub(1),
            encoding: self.encoder.is_some(),
        }
    }

    fn apply(&mut self, request: Request) {
        let engine = &mut self.engine;
        match request {
            Request::Snapshot(reply) => {
                let _ = reply.send(Ok(self.snapshot()));
            }
            Request::LayerStatus { layer, reply } => {
                let _ = reply.send(engine.layer_status(&layer).map_err(ShowError::from));
            }
            Request::AddScene { name, reply } => {
                let done = engine.add_scene(&name).map_err(ShowError::from);
                if done.is_ok() {
                    self.bus.publish(ShowEvent::SceneChanged { scene: name, change: super::bus::Change::Added });
                }
                let _ = reply.send(done);
            }
            Request::RemoveScene { name, reply } => {
                let done = engine.remove_scene(&name).map_err(ShowError::from);
                if done.is_ok() {
                    self.bus.publish(ShowEvent::SceneChanged { scene: name, change: super::bus::Change::Removed });
                }
                let _ = reply.send(done);
            }
            Request::AddLayer { scene, layer, module, state, reply } => {
                let id = layer.id.clone();
                let done = engine.add_layer_with_state(&scene, layer, module, state).map_err(ShowError::from).and_then(|()| self.layer(&id));
                if done.is_ok() {
                    self.bus.publish(ShowEvent::LayerChanged { layer: id, scene, change: super::bus::Change::Added });
                }
                let _ = reply.send(done);
            }
            Request::UpdateLayer { layer, patch, reply } => {
                let done = engine.update_layer(&layer, &patch).map_err(ShowError::from);
                self.layer_changed(&layer, super::bus::Change::Updated, done.is_ok());
                let _ = reply.send(done);
            }
            Request::SetProps { layer, props, reply } => {
                let done = engine.set_props(&layer, &props).map_err(ShowError::from).and_then(|()| self.layer(&layer));
                self.layer_changed(&layer, super::bus::Change::Props, done.is_ok());
                let _ = reply.send(done);
            }
            Request::RemoveLayer { layer, reply } => {
                let scene = self.scene_of(&layer);
                let done = self.engine.remove_layer(&layer).map_err(ShowError::from);
                if done.is_ok() {
                    self.saver.forget(&layer);
                    self.bus.publish(ShowEvent::LayerChanged { layer, scene, change: super::bus::Change::Removed });
                }
                let _ = reply.send(done);
            }
            Request::Event { layer, event, reply } => {
                let name = event.name.clone();
                let done = engine.event(&layer, event).map_err(ShowError::from);
                if done.is_ok() {
                    self.bus.publish(ShowEvent::LayerEvent { layer, name });
                }
                let _ = reply.send(done);
            }
            Request::Swap { layer, module, reply } => {
                let started = Instant::now();
                let label = module.label();
                match engine.swap(&layer, module) {
                    Ok(report) => self.swaps.push(PendingSwap { layer, frame: self.next_index, started, report, reply }),
                    Err(e) => {
                        self.bus.publish(ShowEvent::SwapFailed { layer, module: label, reason: e.to_string() });
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Request::Release { layer, reply } => {
                let done = engine.release(&layer).map_err(ShowError::from);
                if done.is_ok() {
                    self.bus.publish(ShowEvent::Released { layer });
                }
                let _ = reply.send(done);
            }
            Request::SetPreview { scene, reply } => {
                let done = engine.set_preview(scene.as_deref()).map_err(ShowError::from);
                if done.is_ok() {
                    self.bus.publish(self.program_changed());
                }
                let _ = reply.send(done);
            }
            Request::Take { scene, transition, reply } => {
                let _ = reply.send(engine.take(&scene, transition).map_err(ShowError::from));
                self.publish_engine_events();
            }
            Request::StartEncoder(reply) => {
                let _ = reply.send(self.start_encoder());
            }
            Request::StopEncoder(reply) => {
                self.stop_encoder();
                let _ = reply.send(Ok(()));
            }
            Request::SetBitrate { kbps, reply } => {
                let _ = reply.send(self.set_bitrate(kbps));
            }
            Request::Stop(reply) => {
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn layer(&self, id: &str) -> Result<showrunner_core::LayerSpec, ShowError> {
        self.engine.spec().layer(id).map(|(_, l)| l.clone()).ok_or_else(|| showrunner_engine::EngineError::UnknownLayer(id.to_string()).into())
    }

    fn scene_of(&self, layer: &str) -> String {
        self.engine.spec().layer(layer).map(|(s, _)| s.name.clone()).unwrap_or_default()
    }

    fn layer_changed(&self, layer: &str, change: super::bus::Change, applied: bool) {
        if applied {
            self.bus.publish(ShowEvent::LayerChanged { layer: layer.to_string(), scene: self.scene_of(layer), change });
        }
    }

    fn start_encoder(&mut self) -> Result<showrunner_media::LiveOutputs, ShowError> {
        if let Some(encoder) = &self.encoder {
            return Ok(encoder.outputs());
        }
        let encoder = LiveEncoder::start(&self.encoder_settings, LiveSettings::default()).map_err(|e| ShowError::Encoder(e.to_string()))?;
        let outputs = encoder.outputs();
        self.encoder = Some(encoder);
        Ok(outputs)
    }

    fn set_bitrate(&mut self, kbps: u32) -> Result<(), ShowError> {
        let mut settings = self.encoder_settings.clone();
        settings.bitrate_kbps = kbps;
        settings.validate().map_err(|e| ShowError::Encoder(e.to_string()))?;
        if let Some(encoder) = &mut self.encoder {
            encoder.set_bitrate(kbps).map_err(|e| ShowError::Encoder(e.to_string()))?;
        }
        self.encoder_settings = settings;
        Ok(())
    }

    fn stop_encoder(&mut self) {
        let Some(encoder) = self.encoder.take() else { return };
        let outputs = encoder.outputs();
        match encoder.finish(ENCODER_FINISH) {
            Ok(stats) => {
                self.bus.publish(ShowEvent::EncoderStopped { frames_queued: stats.frames_queued, frames_encoded: stats.frames_encoded, frames_dropped: stats.frames_dropped });
            }
            Err(e) => tracing::warn!(error = %e, "the encoder did not finish cleanly"),
        }
        outputs.wait_stopped(ENCODER_FINISH);
        outputs.remove_all();
    }

    fn encoder_failed(&mut self, reason: &str) {
        tracing::error!(%reason, "the encoder stopped; outputs are off until restarted");
        self.bus.publish(ShowEvent::Output { id: "encoder".into(), message: format!("the encoder stopped: {reason}") });
        if let Some(encoder) = self.encoder.take() {
            encoder.outputs().remove_all();
        }
    }

    fn finish(&mut self) {
        while self.compositor.in_flight() > 0 {
            self.receive_one();
        }
        for swap in self.swaps.drain(..) {
            let _ = swap.reply.send(Err(ShowError::Stopped));
        }
        self.stop_encoder();
        self.saver.flush(&self.engine);
    }
}
