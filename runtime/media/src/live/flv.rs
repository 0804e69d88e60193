//! Reading just enough of an FLV tag to route it: whether it is video, audio or script
//! data, and whether a video tag starts a keyframe. `flvmux` emits one tag (header,
//! body, previous-tag-size) per buffer; a destination that joins or falls behind starts
//! again at a video keyframe so the receiver never sees a broken picture. It must not
//! rewrite tags: timestamps and payloads pass through as the muxer wrote them.

/// FLV tag type of audio data.
const TAG_AUDIO: u8 = 8;
/// FLV tag type of video data.
const TAG_VIDEO: u8 = 9;
/// FLV tag type of script data (`onMetaData`).
const TAG_SCRIPT: u8 = 18;
/// Length of an FLV tag header; the first byte of the body follows it.
const TAG_HEADER_LEN: usize = 11;
/// Frame type of a video tag (the body's high nibble) that is a keyframe.
const FRAME_TYPE_KEY: u8 = 1;

/// What an FLV tag carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagKind {
    Video { keyframe: bool },
    Audio,
    Script,
    /// Not a tag this module knows (too short, or another type): passed on as is.
    Other,
}

impl TagKind {
    /// Classifies the tag at the start of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> TagKind {
        match (bytes.first().copied(), bytes.get(TAG_HEADER_LEN).copied()) {
            (Some(TAG_VIDEO), Some(body)) => TagKind::Video { keyframe: body >> 4 == FRAME_TYPE_KEY },
            (Some(TAG_AUDIO), Some(_)) => TagKind::Audio,
            (Some(TAG_SCRIPT), Some(_)) => TagKind::Script,
            _ => TagKind::Other,
        }
    }

    /// A point where a receiver can start decoding.
    pub(crate) fn is_keyframe(self) -> bool {
        matches!(self, TagKind::Video { keyframe: true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(kind: u8, first_body_byte: u8) -> Vec<u8> {
        let mut bytes = vec![kind, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, first_body_byte, 1, 2, 3, 4];
        bytes.extend_from_slice(&[0, 0, 0, 16]);
        bytes
    }

    #[test]
    fn video_tags_say_whether_they_are_keyframes() {
        // 0x17: keyframe (1), codec AVC (7); 0x27: inter frame (2), AVC.
        assert_eq!(TagKind::of(&tag(9, 0x17)), TagKind::Video { keyframe: true });
        assert_eq!(TagKind::of(&tag(9, 0x27)), TagKind::Video { keyframe: false });
        assert!(TagKind::of(&tag(9, 0x17)).is_keyframe());
        assert!(!TagKind::of(&tag(8, 0xAF)).is_keyframe());
    }

    #[test]
    fn other_tags_and_short_buffers_are_classified_without_panicking() {
        assert_eq!(TagKind::of(&tag(8, 0xAF)), TagKind::Audio);
        assert_eq!(TagKind::of(&tag(18, 2)), TagKind::Script);
        assert_eq!(TagKind::of(&tag(7, 0)), TagKind::Other);
        assert_eq!(TagKind::of(&[9, 0, 0]), TagKind::Other);
        assert_eq!(TagKind::of(&[]), TagKind::Other);
        // The 13-byte FLV file header starts with 'F'.
        assert_eq!(TagKind::of(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"), TagKind::Other);
    }
}
