//! The operator's web dashboard: serves the page (`/`, `/dashboard/`) and its scripts and
//! style sheet (`/dashboard/*.js`, `/dashboard/app.css`), embedded in the binary so
//! `serve` needs no files at run time. The assets hold no show data and are served
//! without the token; every data call the page makes carries it.
//!
//! Must not: serve anything but the embedded assets, or read the show.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../../dashboard/index.html");
const APP_CSS: &str = include_str!("../../dashboard/app.css");
/// The page's scripts, loaded in this order (app.js last: it starts the page).
const SCRIPTS: [(&str, &str); 5] = [
    ("/dashboard/monitors.js", include_str!("../../dashboard/monitors.js")),
    ("/dashboard/charts.js", include_str!("../../dashboard/charts.js")),
    ("/dashboard/show.js", include_str!("../../dashboard/show.js")),
    ("/dashboard/library.js", include_str!("../../dashboard/library.js")),
    ("/dashboard/app.js", include_str!("../../dashboard/app.js")),
];

/// The page refuses to be framed and runs only its own script and style sheet.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `/` (a redirect to `/dashboard/`) and the `/dashboard/...` assets.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new();
    for (path, script) in SCRIPTS {
        router = router.route(path, get(move || async move { asset(script, "text/javascript; charset=utf-8") }));
    }
    router
        .route("/", get(|| async { Redirect::to("/dashboard/") }))
        .route("/dashboard", get(|| async { Redirect::to("/dashboard/") }))
        .route("/dashboard/", get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/dashboard/index.html", get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/dashboard/app.css", get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
