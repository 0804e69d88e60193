// Draw-list triangles. Positions arrive in device pixels and are mapped to clip space
// by the pass's view (a layer pass covers only its own rectangle). Colours are
// premultiplied sRGB.
//
// Paint bits (see scene.rs `kind`): bits 0-1 pick the source (0 vertex colour,
// 1 linear ramp at local.x, 2 radial ramp at length(local), 3 image paint at local,
// transparent outside 0..1); bit 2 multiplies by the mask texture at uv (image op,
// glyph atlas, layer); the ramp index starts at bit 3.

struct View {
    origin: vec2<f32>,
    scale: vec2<f32>,
};

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> ramps: array<vec4<f32>>;
@group(0) @binding(2) var linear_sampler: sampler;
@group(1) @binding(0) var paint_texture: texture_2d<f32>;
@group(1) @binding(1) var mask_texture: texture_2d<f32>;

const RAMP_TEXELS: u32 = 256u;

fn to_clip(pos: vec2<f32>, z: f32) -> vec4<f32> {
    let p = (pos - view.origin) * view.scale + vec2<f32>(-1.0, 1.0);
    return vec4<f32>(p, z, 1.0);
}

struct SolidOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vs_solid(@location(0) pos: vec2<f32>, @location(1) z: f32, @location(2) color: vec4<f32>) -> SolidOut {
    var out: SolidOut;
    out.pos = to_clip(pos, z);
    out.color = color;
    return out;
}

@fragment
fn fs_solid(in: SolidOut) -> @location(0) vec4<f32> {
    return in.color;
}

struct MaskOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) uv: vec2<f32>,
};

// Vertex colour times the mask texture: glyphs in a solid colour, image ops, layers.
@vertex
fn vs_mask(@location(0) pos: vec2<f32>, @location(1) z: f32, @location(2) color: vec4<f32>, @location(4) uv: vec2<f32>) -> MaskOut {
    var out: MaskOut;
    out.pos = to_clip(pos, z);
    out.color = color;
    out.uv = uv;
    return out;
}

@fragment
fn fs_mask(in: MaskOut) -> @location(0) vec4<f32> {
    return in.color * textureSampleLevel(mask_texture, linear_sampler, in.uv, 0.0);
}

struct PaintOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) local: vec2<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) @interpolate(flat) paint: u32,
};

@vertex
fn vs_paint(
    @location(0) pos: vec2<f32>,
    @location(1) z: f32,
    @location(2) color: vec4<f32>,
    @location(3) local: vec2<f32>,
    @location(4) uv: vec2<f32>,
    @location(5) paint: u32,
) -> PaintOut {
    var out: PaintOut;
    out.pos = to_clip(pos, z);
    out.color = color;
    out.local = local;
    out.uv = uv;
    out.paint = paint;
    return out;
}

// Premultiplied ramp colour at t, clamped to 0..1 (pad), linearly interpolated.
fn ramp(index: u32, t: f32) -> vec4<f32> {
    let x = clamp(t, 0.0, 1.0) * f32(RAMP_TEXELS - 1u);
    let i = min(u32(x), RAMP_TEXELS - 2u);
    let base = index * RAMP_TEXELS + i;
    return mix(ramps[base], ramps[base + 1u], x - f32(i));
}

fn paint_color(in: PaintOut) -> vec4<f32> {
    // Derivatives first: they must be taken in uniform control flow.
    let texel = max(fwidth(in.local), vec2<f32>(1e-7));
    var c = in.color;
    let source = in.paint & 3u;
    if source == 1u {
        c = c * ramp(in.paint >> 3u, in.local.x);
    } else if source == 2u {
        c = c * ramp(in.paint >> 3u, length(in.local));
    } else if source == 3u {
        // The image covers 0..1 and repeats neither way; its edge is anti-aliased
        // over one screen pixel.
        let inside = clamp(min(in.local, 1.0 - in.local) / texel + 0.5, vec2<f32>(0.0), vec2<f32>(1.0));
        c = c * textureSampleLevel(paint_texture, linear_sampler, in.local, 0.0) * (inside.x * inside.y);
    }
    if (in.paint & 4u) != 0u {
        c = c * textureSampleLevel(mask_texture, linear_sampler, in.uv, 0.0);
    }
    return c;
}

@fragment
fn fs_paint(in: PaintOut) -> @location(0) vec4<f32> {
    return paint_color(in);
}
