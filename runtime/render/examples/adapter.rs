//! Prints the adapter the renderer picks, or why there is none:
//! `cargo run --release -p showrunner-render --example adapter`
//! (`WGPU_BACKEND=vulkan` etc. narrows the backends, as in wgpu).

fn main() -> std::process::ExitCode {
    match showrunner_render::Renderer::new() {
        Ok(r) => {
            println!("{}", r.adapter());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
