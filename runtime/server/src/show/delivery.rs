//! Frames from the compositor to the encoder at a constant frame rate: each
//! composited picture goes to the encoder at its own slot and again at the slots
//! the clock said were missed while it was being made (the late policy's repeats).
//! The compositor works up to two frames ahead, so which slots a picture fills is
//! only known once the next frame is submitted; [`Delivery`] keeps that ledger.
//!
//! Must not: render, or block on a slow output (the encoder's queue drops instead).

use std::collections::VecDeque;
use std::ops::Range;

use bytes::Bytes;
use showrunner_engine::Tick;
use showrunner_media::{LiveEncoder, MediaError};

/// A frame submitted to the compositor and the slots its picture must also fill.
struct Pending {
    index: u64,
    repeats: Range<u64>,
}

/// The ledger of submitted frames and the last picture delivered.
#[derive(Default)]
pub struct Delivery {
    pending: VecDeque<Pending>,
    last_picture: Option<Bytes>,
}

impl Delivery {
    /// Records `tick` as submitted. The slots it says were missed are filled by the
    /// previous picture: the one still in flight, or (none in flight) the last one,
    /// pushed now.
    pub fn submitted(&mut self, tick: &Tick, encoder: Option<&mut LiveEncoder>) -> Result<(), MediaError> {
        match self.pending.back_mut() {
            Some(previous) => previous.repeats = tick.repeat_indices(),
            None => {
                if let (Some(picture), Some(encoder)) = (&self.last_picture, encoder) {
                    push(encoder, tick.repeat_indices(), picture)?;
                }
            }
        }
        self.pending.push_back(Pending { index: tick.index, repeats: 0..0 });
        Ok(())
    }

    /// Takes the oldest submitted frame's picture: hands it to `encoder` at its slot
    /// and its repeats, and returns the frame's index (`None`: nothing was submitted).
    pub fn delivered(&mut self, pixels: &Bytes, encoder: Option<&mut LiveEncoder>) -> Result<Option<u64>, MediaError> {
        let Some(slot) = self.pending.pop_front() else { return Ok(None) };
        if let Some(encoder) = encoder {
            push(encoder, slot.index..slot.index + 1, pixels)?;
            push(encoder, slot.repeats, pixels)?;
        }
        self.last_picture = Some(pixels.clone());
        Ok(Some(slot.index))
    }
}

fn push(encoder: &mut LiveEncoder, indices: Range<u64>, picture: &Bytes) -> Result<(), MediaError> {
    for index in indices {
        encoder.push_frame(index, picture.clone())?;
    }
    Ok(())
}
