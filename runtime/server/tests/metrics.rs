//! `GET /metrics` through `Router::oneshot` over a real show: the text parses as
//! Prometheus text exposition (checked strictly: names, quoted label values, HELP
//! and TYPE for every family, counters ending in `_total`, histogram buckets), the token is required,
//! frames, faults, quarantines, swaps and API requests move their counters, and the
//! worker pool and the process are reported.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode, header};
use common::show::{SHOW_TOKEN, ShowApi, show_request};
use serde_json::json;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// One scrape: its samples.
struct Metrics(Vec<Sample>);

impl Metrics {
    /// The value of the sample `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0.iter().find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))).map(|s| s.value)
    }

    /// Observations of the histogram `name` with `labels` (its `_count`).
    fn observations(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(&format!("{name}_count"), labels).unwrap_or_else(|| panic!("no histogram {name} {labels:?}"))
    }
}

/// Parses one sample line of the text exposition format strictly (name, quoted and
/// escaped label values, a float value).
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).ok_or("no value")?;
    let (name, mut rest) = line.split_at(name_end);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            let Some((at, c)) = chars.next() else { return Err("unclosed labels".into()) };
            if c == '}' {
                rest = &inner[at + 1..];
                break;
            }
            let label_end = inner[at..].find('=').ok_or("label without =")? + at;
            let label = &inner[at..label_end];
            if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || label.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("bad label name {label:?}"));
            }
            while chars.next_if(|(i, _)| *i < label_end + 1).is_some() {}
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {label} value is not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c @ ('\\' | '"')) => value.push(c),
                        other => return Err(format!("bad escape {other:?}")),
                    },
                    Some('\n') | None => return Err(format!("label {label} value is not closed")),
                    Some(c) => value.push(c),
                }
            }
            if labels.insert(label.to_string(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            chars.next_if(|(_, c)| *c == ',');
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().map_err(|_| format!("bad value {other:?}"))?,
    };
    Ok(Sample { name: name.to_string(), labels, value })
}

/// Parses the text strictly: HELP and TYPE before every family's samples, names with
/// the `showrunner_` prefix, histogram buckets that never go down.
fn parse_exposition(text: &str) -> Metrics {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(text.contains(&format!("# HELP {name} ")), "{name} has no HELP");
            assert!(types.insert(name.to_string(), kind.to_string()).is_none(), "{name} typed twice");
        } else if !line.starts_with('#') {
            let sample = parse_sample(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(sample.name.starts_with("showrunner_"), "{line}");
            let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| sample.name.strip_suffix(s).filter(|f| types.get(*f).is_some_and(|k| k == "histogram"))).unwrap_or(&sample.name);
            assert!(types.contains_key(family), "{} has no TYPE before its samples", sample.name);
            if types[family] == "counter" {
                assert!(sample.name.ends_with("_total") && sample.value >= 0.0, "{line}");
            }
            samples.push(sample);
        }
    }
    for bucket in samples.iter().filter(|s| s.name.ends_with("_bucket")) {
        let mut rest = bucket.labels.clone();
        let le: f64 = rest.remove("le").map(|le| if le == "+Inf" { f64::INFINITY } else { le.parse().expect("le") }).expect("bucket with le");
        let below = samples.iter().filter(|s| s.name == bucket.name && s.labels.iter().all(|(k, v)| k == "le" || rest.get(k) == Some(v)));
        for other in below.filter(|s| s.labels.get("le").is_some_and(|l| l != "+Inf" && l.parse::<f64>().expect("le") < le)) {
            assert!(other.value <= bucket.value, "buckets of {} go down", bucket.name);
        }
    }
    Metrics(samples)
}

async fn scrape(api: &ShowApi) -> Metrics {
    let reply = api.send(show_request(Method::GET, "/metrics", Some(SHOW_TOKEN), None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "text/plain; version=0.0.4; charset=utf-8");
    parse_exposition(std::str::from_utf8(&reply.body).expect("utf-8"))
}

/// Scrapes until `done` holds (20 s at most).
async fn scrape_until(api: &ShowApi, what: &str, done: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = scrape(api).await;
        if done(&metrics) {
            return metrics;
        }
        assert!(Instant::now() < deadline, "{what} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_need_the_token_and_parse_with_every_family() {
    let api = ShowApi::start();
    assert_eq!(api.send(show_request(Method::GET, "/metrics", None, None)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.send(show_request(Method::GET, "/metrics", Some("wrong"), None)).await.status, StatusCode::UNAUTHORIZED);

    api.expect(Method::POST, "/api/v1/outputs", Some(json!({"id": "main", "url": "rtmp://127.0.0.1:1/live/secret-key"})), StatusCode::CREATED).await;
    let metrics = scrape_until(&api, "a rendered frame", |m| m.value("showrunner_frames_rendered_total", &[]).unwrap_or(0.0) > 0.0).await;
    assert_eq!(metrics.value("showrunner_output_state", &[("output", "main"), ("state", "off")]), Some(1.0));
    assert_eq!(metrics.value("showrunner_output_state", &[("output", "main"), ("state", "live")]), Some(0.0));
    assert_eq!(metrics.value("showrunner_output_reconnects_total", &[("output", "main")]), Some(0.0));
    for stage in ["tick", "compose_submit", "deliver", "frame"] {
        assert!(metrics.observations("showrunner_frame_seconds", &[("stage", stage)]) > 0.0, "stage {stage} timed");
    }
    assert_eq!(metrics.value("showrunner_http_requests_total", &[("route", "/metrics"), ("method", "GET"), ("status", "401")]), Some(2.0));
    assert!(metrics.value("showrunner_pool_workers", &[]).unwrap() >= 1.0);
    assert_eq!(metrics.value("showrunner_pool_layers", &[]), Some(0.0));
    assert_eq!(metrics.value("showrunner_streaming", &[]), Some(0.0));
    assert_eq!(metrics.value("showrunner_encoder_queue_depth", &[]), Some(0.0));
    assert_eq!(metrics.value("showrunner_swaps_total", &[]), Some(0.0));
    if cfg!(target_os = "linux") {
        assert!(metrics.value("showrunner_process_resident_memory_bytes", &[]).unwrap() > 10e6, "the show holds more than 10 MB");
        assert!(metrics.value("showrunner_process_cpu_seconds_total", &[]).unwrap() > 0.0);
    }
}

#[tokio::test]
async fn frames_rendered_go_up_over_a_second() {
    let api = ShowApi::start();
    let before = scrape_until(&api, "a rendered frame", |m| m.value("showrunner_frames_rendered_total", &[]).unwrap_or(0.0) > 0.0).await;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = scrape(&api).await;
    let seconds = started.elapsed().as_secs_f64();
    let rendered = after.value("showrunner_frames_rendered_total", &[]).unwrap() - before.value("showrunner_frames_rendered_total", &[]).unwrap();
    let timed = after.observations("showrunner_frame_seconds", &[("stage", "frame")]) - before.observations("showrunner_frame_seconds", &[("stage", "frame")]);
    // 30 fps; lavapipe on a loaded machine may run late, never stop.
    assert!(rendered >= 10.0 && rendered <= 30.0 * seconds + 3.0, "{rendered} frames in {seconds:.2} s");
    assert!((timed - rendered).abs() <= 3.0, "every frame is timed: {timed} timed, {rendered} rendered");
}

#[tokio::test]
async fn a_faulting_layer_counts_faults_then_its_quarantine_and_a_swap_is_timed() {
    let api = ShowApi::start();
    let (v1, v2, hostile) = (api.upload("scene-scoreboard").await, api.upload("guest-scoreboard-v2").await, api.upload("guest-hostile").await);
    api.expect(Method::POST, "/api/v1/layers", Some(json!({"id": "score", "scene": "main", "module": v1})), StatusCode::CREATED).await;
    api.expect(Method::POST, "/api/v1/layers/score/swap", Some(json!({"module": v2})), StatusCode::OK).await;
    api.expect(Method::POST, "/api/v1/layers", Some(json!({"id": "trap", "scene": "main", "module": hostile, "props": {"mode": "ok"}})), StatusCode::CREATED).await;
    let calm = scrape(&api).await;
    assert_eq!(calm.value("showrunner_layer_faults_total", &[("layer", "trap")]), None, "no fault before the module misbehaves");

    api.expect(Method::PATCH, "/api/v1/layers/trap/props", Some(json!({"mode": "panic"})), StatusCode::OK).await;
    let quarantined = |m: &Metrics| m.value("showrunner_layer_quarantines_total", &[("layer", "trap")]).is_some_and(|q| q >= 1.0);
    let metrics = scrape_until(&api, "the hostile layer quarantined", quarantined).await;
    let faults = metrics.value("showrunner_layer_faults_total", &[("layer", "trap")]).unwrap();
    assert!(faults >= 4.0, "repeated faults before the quarantine: {faults}");
    assert_eq!(metrics.value("showrunner_layer_quarantines_total", &[("layer", "trap")]), Some(1.0));
    assert_eq!(metrics.value("showrunner_layer_faults_total", &[("layer", "score")]), None, "the good layer never faulted");
    assert_eq!(metrics.value("showrunner_swaps_total", &[]), Some(1.0));
    assert_eq!(metrics.observations("showrunner_swap_seconds", &[]), 1.0);
    assert_eq!(metrics.value("showrunner_pool_layers", &[]), Some(2.0));
}

#[tokio::test]
async fn api_requests_are_counted_by_matched_route_and_status() {
    let api = ShowApi::start();
    for _ in 0..3 {
        api.expect(Method::GET, "/api/v1/layers/nope", None, StatusCode::NOT_FOUND).await;
    }
    api.expect(Method::GET, "/api/v1/layers", None, StatusCode::OK).await;
    api.expect(Method::GET, "/api/v1/no/such/path", None, StatusCode::NOT_FOUND).await;
    assert_eq!(api.send(show_request(Method::GET, "/api/v1/layers", None, None)).await.status, StatusCode::UNAUTHORIZED);

    let metrics = scrape(&api).await;
    let count = |route: &str, status: &str| metrics.value("showrunner_http_requests_total", &[("route", route), ("method", "GET"), ("status", status)]);
    assert_eq!(count("/api/v1/layers/{id}", "404"), Some(3.0));
    assert_eq!(count("/api/v1/layers", "200"), Some(1.0));
    assert_eq!(count("/api/v1/layers", "401"), Some(1.0));
    assert_eq!(count("unmatched", "404"), Some(1.0));
    assert_eq!(metrics.value("showrunner_http_requests_total", &[("route", "/api/v1/no/such/path")]), None, "raw paths are never labels");

    let later = scrape(&api).await;
    assert_eq!(later.value("showrunner_http_requests_total", &[("route", "/metrics"), ("status", "200")]), Some(1.0), "the scrape itself is counted once answered");
}

#[test]
fn the_exposition_checker_refuses_malformed_lines() {
    let good = parse_sample(r#"showrunner_x_total{route="/api/v1/layers/{id}",msg="a \"q\" \\ b"} 3"#).unwrap();
    assert_eq!((good.labels["route"].as_str(), good.labels["msg"].as_str(), good.value), ("/api/v1/layers/{id}", r#"a "q" \ b"#, 3.0));
    for bad in [r#"x{a=1} 1"#, r#"x{a="1} 1"#, r#"x{a="1",a="2"} 1"#, "x 1.2.3", "1x 1", r#"x{a="1"}1"#, r#"x{="1"} 1"#] {
        assert!(parse_sample(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn every_exported_metric_is_documented_and_the_dashboard_uses_only_documented_ones() {
    let api = ShowApi::start();
    let metrics = scrape_until(&api, "a rendered frame", |m| m.value("showrunner_frames_rendered_total", &[]).unwrap_or(0.0) > 0.0).await;
    let docs_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let doc = std::fs::read_to_string(docs_dir.join("metrics.md")).expect("docs/metrics.md");
    let documented = |name: &str| doc.contains(&format!("`{name}`"));
    for sample in &metrics.0 {
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| sample.name.strip_suffix(s)).filter(|f| documented(f)).unwrap_or(&sample.name);
        assert!(documented(family), "{family} is not in docs/metrics.md");
    }
    let dashboard = std::fs::read_to_string(docs_dir.join("grafana/showrunner.json")).expect("the dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let exprs: Vec<&str> = dashboard["panels"].as_array().unwrap().iter().flat_map(|p| p["targets"].as_array().into_iter().flatten()).filter_map(|t| t["expr"].as_str()).collect();
    assert!(exprs.len() >= 20, "{} queries", exprs.len());
    for expr in exprs {
        for at in expr.match_indices("showrunner_").map(|(at, _)| at) {
            let name: String = expr[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let family = name.strip_suffix("_bucket").unwrap_or(&name);
            assert!(documented(family), "the dashboard queries {name}, which docs/metrics.md does not list");
        }
    }
}
