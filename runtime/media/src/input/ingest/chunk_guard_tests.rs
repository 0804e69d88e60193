//! Tests of the chunk guard against `rml_rtmp`'s own serializer and deserializer: the
//! guard must count the same messages the deserializer returns, however the bytes are
//! split, and refuse what it is there to refuse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use rml_rtmp::chunk_io::{ChunkDeserializer, ChunkSerializer};
use rml_rtmp::messages::MessagePayload;
use rml_rtmp::time::RtmpTimestamp;

use super::*;

fn message(type_id: u8, timestamp: u32, len: usize) -> MessagePayload {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
    MessagePayload { timestamp: RtmpTimestamp::new(timestamp), type_id, message_stream_id: 1, data: Bytes::from(data) }
}

/// A publisher-like byte stream: commands, a chunk-size change, audio and video with
/// compressed headers, extended timestamps, and one message on a high chunk stream id.
fn serialize_all(serializer: &mut ChunkSerializer, payloads: &[MessagePayload], bytes: &mut Vec<u8>) {
    for payload in payloads {
        bytes.extend(serializer.serialize(payload, false, false).unwrap().bytes);
    }
}

fn stream() -> (Vec<u8>, usize) {
    let mut serializer = ChunkSerializer::new();
    let mut bytes = Vec::new();
    serialize_all(&mut serializer, &[message(20, 0, 300)], &mut bytes);
    bytes.extend(serializer.set_max_chunk_size(4096, RtmpTimestamp::new(0)).unwrap().bytes);
    let mut messages = Vec::new();
    for n in 0..40u32 {
        messages.push(message(9, n * 33, if n % 10 == 0 { 20_000 } else { 900 }));
        messages.push(message(8, n * 23, 200));
    }
    messages.push(message(9, 0x0100_0000, 5000));
    messages.push(message(9, 0x0100_0021, 5000));
    let mut high = message(18, 5, 100);
    high.message_stream_id = 7;
    messages.push(high);
    serialize_all(&mut serializer, &messages, &mut bytes);
    (bytes, messages.len() + 2)
}

fn rml_message_count(bytes: &[u8]) -> usize {
    let mut deserializer = ChunkDeserializer::new();
    let mut count = 0;
    let mut input = bytes;
    while let Some(payload) = deserializer.get_next_message(input).unwrap() {
        if payload.type_id == 1 {
            let size = u32::from_be_bytes(payload.data[..4].try_into().unwrap());
            deserializer.set_max_chunk_size(size as usize).unwrap();
        }
        count += 1;
        input = &[];
    }
    count
}

#[test]
fn counts_the_messages_rml_rtmp_reads_however_the_bytes_are_split() {
    let (bytes, count) = stream();
    assert_eq!(rml_message_count(&bytes), count);
    for split in [1, 2, 3, 7, 128, 1000, 65536, bytes.len()] {
        let mut guard = ChunkGuard::default();
        for piece in bytes.chunks(split) {
            guard.check(piece).unwrap();
        }
        assert_eq!(guard.completed(), count as u64, "split into pieces of {split}");
        assert!(guard.open.is_none() && guard.payload_left.is_none() && guard.pending.is_empty());
    }
}

#[test]
fn media_and_control_messages_over_their_caps_are_refused_at_their_first_chunk() {
    let mut serializer = ChunkSerializer::new();
    let ok = serializer.serialize(&message(20, 0, MAX_CONTROL_MESSAGE as usize), false, false).unwrap();
    let mut guard = ChunkGuard::default();
    guard.check(&ok.bytes).unwrap();

    let big_command = serializer.serialize(&message(20, 0, MAX_CONTROL_MESSAGE as usize + 1), false, false).unwrap();
    let first_chunk = &big_command.bytes[..12];
    assert_eq!(
        guard.check(first_chunk),
        Err(ChunkViolation::TooLong { type_id: 20, length: MAX_CONTROL_MESSAGE + 1, limit: MAX_CONTROL_MESSAGE })
    );

    let mut guard = ChunkGuard::default();
    let big_video = serializer.serialize(&message(9, 0, MAX_MEDIA_MESSAGE as usize + 1), true, false).unwrap();
    assert!(matches!(guard.check(&big_video.bytes[..12]), Err(ChunkViolation::TooLong { type_id: 9, .. })));
}

#[test]
fn a_new_message_inside_an_unfinished_one_is_refused() {
    let mut serializer = ChunkSerializer::new();
    let long = serializer.serialize(&message(9, 0, 1000), true, false).unwrap();
    let other = ChunkSerializer::new().serialize(&message(8, 0, 10), true, false).unwrap();
    let mut guard = ChunkGuard::default();
    // The first 128-byte chunk of the video message (12-byte header), then an audio chunk.
    guard.check(&long.bytes[..12 + 128]).unwrap();
    let mut interleaved = other.bytes.clone();
    interleaved[0] = (interleaved[0] & 0xC0) | 5;
    assert!(matches!(guard.check(&interleaved), Err(ChunkViolation::Interleaved { csid: 5, .. })));
}

#[test]
fn headers_without_history_zero_chunk_sizes_and_too_many_streams_are_refused() {
    // Format 3 (0xC0) on chunk stream 4, never announced.
    assert_eq!(ChunkGuard::default().check(&[0xC4, 1, 2]), Err(ChunkViolation::NoPreviousHeader { csid: 4 }));

    let zero = [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(ChunkGuard::default().check(&zero), Err(ChunkViolation::ZeroChunkSize));

    let mut guard = ChunkGuard::default();
    let mut bytes = Vec::new();
    for id in 0..=MAX_CHUNK_STREAMS as u8 {
        // Two-byte basic header: chunk stream id 64 + id, an empty message of type 4.
        bytes.extend_from_slice(&[0x00, id, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    }
    assert_eq!(guard.check(&bytes), Err(ChunkViolation::TooManyChunkStreams));
    assert_eq!(guard.completed(), MAX_CHUNK_STREAMS as u64);
}

#[test]
fn a_flood_of_control_messages_is_refused() {
    let mut guard = ChunkGuard::default();
    // An empty user-control message (type 4) on chunk stream 2, repeated.
    let one = [0x02, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    for _ in 0..CONTROL_BURST {
        guard.check(&one).unwrap();
    }
    assert_eq!(guard.check(&one), Err(ChunkViolation::TooManyControlMessages));
    // Media messages are not rate limited.
    let mut guard = ChunkGuard::default();
    let video = [0x06, 0, 0, 0, 0, 0, 0, 9, 1, 0, 0, 0];
    for _ in 0..CONTROL_BURST * 4 {
        guard.check(&video).unwrap();
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x1234_5678_9abc_def0u64;
    for _ in 0..200 {
        let mut guard = ChunkGuard::default();
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let _ = guard.check(&bytes);
    }
}
