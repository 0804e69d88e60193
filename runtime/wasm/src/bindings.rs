//! Host-side bindings for the `scene` and `transition` worlds of wit/0.1.0.

pub mod scene {
    wasmtime::component::bindgen!({
        world: "scene",
        path: "../../wit/0.1.0",
    });
}

pub mod transition {
    wasmtime::component::bindgen!({
        world: "transition",
        path: "../../wit/0.1.0",
        with: {
            "showrunner:scene/types": super::scene::showrunner::scene::types,
            "showrunner:scene/host": super::scene::showrunner::scene::host,
        },
    });
}

pub use scene::showrunner::scene::types as wit;
