//! Recognising what a byte string is before compiling it: not Wasm, a core module,
//! or a component.

/// What the bytes of a file are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    NotWasm,
    /// A core module (`\0asm` version 1), e.g. AssemblyScript output.
    CoreModule,
    /// A component (`\0asm` layer 1).
    Component,
}

/// Looks at the 8-byte header.
pub fn inspect_bytes(bytes: &[u8]) -> ModuleKind {
    match bytes.get(..8) {
        Some([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) => ModuleKind::CoreModule,
        Some([0x00, 0x61, 0x73, 0x6d, _, _, 0x01, 0x00]) => ModuleKind::Component,
        _ => ModuleKind::NotWasm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_told_apart() {
        assert_eq!(inspect_bytes(b"\0asm\x01\0\0\0rest"), ModuleKind::CoreModule);
        assert_eq!(inspect_bytes(b"\0asm\x0d\0\x01\0rest"), ModuleKind::Component);
        assert_eq!(inspect_bytes(b"hello world"), ModuleKind::NotWasm);
        assert_eq!(inspect_bytes(b"\0as"), ModuleKind::NotWasm);
    }
}
