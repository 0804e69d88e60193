//! Text for showrunner: bundled OFL fonts, shaping (cosmic-text), glyph atlas and measure-text. Knows no GPU and no Wasm.
