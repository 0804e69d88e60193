//! The showrunner server as a library: what `showrunner serve` is made of, so the
//! binary and the tests share it. [`config`] reads and checks the settings (file,
//! environment, flags); [`store`] keeps the show durable in an embedded database;
//! [`show`] runs the live show on its frame thread; [`metrics`] exports its Prometheus metrics; [`api`] is the HTTP API (axum) over them. It must not own the command line: that is
//! the binary's `cli`.

pub mod api;
pub mod cluster;
pub mod config;
pub mod metrics;
pub mod show;
pub mod store;
