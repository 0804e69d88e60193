//! FLV tags: reading just enough of one to route it (whether it is video, audio or script
//! data, and whether a video tag starts a keyframe), and writing one around a body
//! received by the RTMP ingest server. `flvmux` emits one tag (header, body,
//! previous-tag-size) per buffer; a destination that joins or falls behind starts again
//! at a video keyframe so the receiver never sees a broken picture. Routing must not
//! rewrite tags: timestamps and payloads pass through as the muxer wrote them.

/// FLV tag type of audio data.
pub(crate) const TAG_AUDIO: u8 = 8;
/// FLV tag type of video data.
pub(crate) const TAG_VIDEO: u8 = 9;
/// FLV tag type of script data (`onMetaData`).
const TAG_SCRIPT: u8 = 18;
/// Length of an FLV tag header; the first byte of the body follows it.
const TAG_HEADER_LEN: usize = 11;
/// Frame type of a video tag (the body's high nibble) that is a keyframe.
const FRAME_TYPE_KEY: u8 = 1;

/// Whether a video tag body starting with `first` (frame type in the high nibble, codec
/// in the low one) starts a keyframe; AVC sequence headers say so too.
pub(crate) fn starts_keyframe(first: u8) -> bool {
    (first >> 4) & 0x07 == FRAME_TYPE_KEY
}

/// One FLV tag of `kind` ([`TAG_AUDIO`], [`TAG_VIDEO`]) around `body`: header (size,
/// timestamp in milliseconds with its extension byte, stream id 0), body, then the
/// previous-tag-size. `body` must be at most 2^24-1 bytes.
pub(crate) fn write_tag(kind: u8, timestamp_ms: u32, body: &[u8]) -> Vec<u8> {
    let size = body.len() as u32;
    let [ts_ext, ts_hi, ts_mid, ts_lo] = timestamp_ms.to_be_bytes();
    let [_, size_hi, size_mid, size_lo] = size.to_be_bytes();
    let mut tag = Vec::with_capacity(TAG_HEADER_LEN + body.len() + 4);
    tag.extend_from_slice(&[kind, size_hi, size_mid, size_lo, ts_hi, ts_mid, ts_lo, ts_ext, 0, 0, 0]);
    tag.extend_from_slice(body);
    tag.extend_from_slice(&(TAG_HEADER_LEN as u32 + size).to_be_bytes());
    tag
}

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
            (Some(TAG_VIDEO), Some(body)) => TagKind::Video { keyframe: starts_keyframe(body) },
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
    fn written_tags_carry_size_timestamp_body_and_trailing_size() {
        let tag = write_tag(TAG_VIDEO, 0x1234_5678, &[0x17, 0, 1, 2]);
        assert_eq!(&tag[..11], &[9, 0, 0, 4, 0x34, 0x56, 0x78, 0x12, 0, 0, 0]);
        assert_eq!(&tag[11..15], &[0x17, 0, 1, 2]);
        assert_eq!(&tag[15..], &15u32.to_be_bytes());
        assert_eq!(TagKind::of(&tag), TagKind::Video { keyframe: true });
        assert_eq!(TagKind::of(&write_tag(TAG_AUDIO, 0, &[0xAF])), TagKind::Audio);
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
