//! Saving and restoring scene state across hot-swaps, with serde.
//!
//! State is encoded with postcard behind a one-byte format tag. Postcard is compact
//! but not self-describing: a struct with an added field cannot read bytes saved
//! without it (`#[serde(default)]` does not help). To change the shape of your state,
//! keep the old struct and fall back to it in `restore_state` (see the guide).

use serde::{Serialize, de::DeserializeOwned};

const FORMAT: u8 = 1;

/// Encodes `state` for [`crate::Scene::save_state`].
pub fn save<T: Serialize>(state: &T) -> Vec<u8> {
    let mut out = vec![FORMAT];
    match postcard::to_allocvec(state) {
        Ok(bytes) => out.extend_from_slice(&bytes),
        Err(e) => {
            crate::log::error(&format!("save-state: {e}"));
            out.clear();
        }
    }
    out
}

/// Decodes what [`save`] produced, for [`crate::Scene::restore_state`]. Empty
/// input (nothing was saved) is an error the host reports and ignores.
pub fn load<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match bytes.split_first() {
        None => Err("no saved state".to_string()),
        Some((&FORMAT, rest)) => postcard::from_bytes(rest).map_err(|e| format!("saved state does not decode: {e}")),
        Some((tag, _)) => Err(format!("saved state has unknown format {tag}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Score {
        home: u32,
        away: u32,
    }

    #[test]
    fn round_trip_and_rejects_garbage() {
        let bytes = save(&Score { home: 3, away: 1 });
        assert_eq!(load::<Score>(&bytes), Ok(Score { home: 3, away: 1 }));
        assert!(load::<Score>(&[]).is_err());
        assert!(load::<Score>(&[9, 1, 2]).unwrap_err().contains("unknown format"));
    }
}
