// Multiply blending with dual-source output (appended to draw.wgsl behind
// `enable dual_source_blending;`). With colour factors (OneMinusDstAlpha, Src1):
//   result = src·(1 − αd) + dst·(src + 1 − αs) = src·dst + src·(1 − αd) + dst·(1 − αs).

struct DualOut {
    @location(0) @blend_src(0) color: vec4<f32>,
    @location(0) @blend_src(1) factor: vec4<f32>,
};

fn dual(c: vec4<f32>) -> DualOut {
    var out: DualOut;
    out.color = c;
    out.factor = vec4<f32>(c.rgb + vec3<f32>(1.0 - c.a), 1.0 - c.a);
    return out;
}

@fragment
fn fs_solid_multiply(in: SolidOut) -> DualOut {
    return dual(in.color);
}

@fragment
fn fs_mask_multiply(in: MaskOut) -> DualOut {
    return dual(in.color * textureSampleLevel(mask_texture, linear_sampler, in.uv, 0.0));
}

@fragment
fn fs_paint_multiply(in: PaintOut) -> DualOut {
    return dual(paint_color(in));
}
