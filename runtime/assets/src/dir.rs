//! `AssetStore::load_dir`: every image file in one folder (not recursive), named by file stem,
//! decoded on the caller's thread. Owns the walk and the per-file report; it must not recurse,
//! follow the file extension to pick a decoder, or read files over the encoded-size limit.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{AssetError, LimitKind};
use crate::info::{DirLoad, SkippedFile};
use crate::store::AssetStore;

impl AssetStore {
    /// Inserts every file in `dir` whose content is a supported image, named by file stem
    /// (`logo.png` → `"logo"`), in file-name order. Files that are not images, fail to decode,
    /// are too large or repeat a stem are listed in [`DirLoad::skipped`]; subfolders are
    /// ignored. Fails only when the folder itself cannot be read.
    pub fn load_dir(&self, dir: &Path) -> Result<DirLoad, AssetError> {
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AssetError::Io { path, source }
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_error(dir))? {
            let path = entry.map_err(io_error(dir))?.path();
            // `metadata` follows symlinks, so a link to a file counts as a file.
            if fs::metadata(&path).is_ok_and(|meta| meta.is_file()) {
                paths.push(path);
            }
        }
        paths.sort();

        let mut report = DirLoad::default();
        let mut first_with_stem: HashMap<String, PathBuf> = HashMap::new();
        for path in paths {
            match self.load_file(&path, &mut first_with_stem) {
                Ok(info) => report.loaded.push(info),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "asset file skipped");
                    report.skipped.push(SkippedFile { path, error });
                }
            }
        }
        Ok(report)
    }

    fn load_file(&self, path: &Path, first_with_stem: &mut HashMap<String, PathBuf>) -> Result<crate::AssetInfo, AssetError> {
        let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
            return Err(AssetError::BadName { name: path.display().to_string(), reason: "the file name is not valid UTF-8".to_owned() });
        };
        if let Some(first) = first_with_stem.get(name) {
            return Err(AssetError::BadName {
                name: name.to_owned(),
                reason: format!("{} already supplied this name; rename one of the files", first.display()),
            });
        }
        let limit = self.limits().max_encoded_bytes;
        let len = fs::metadata(path).map_err(|source| AssetError::Io { path: path.to_path_buf(), source })?.len();
        if len > limit {
            return Err(AssetError::TooLarge { name: name.to_owned(), what: LimitKind::EncodedBytes, actual: Some(len), limit });
        }
        let bytes = fs::read(path).map_err(|source| AssetError::Io { path: path.to_path_buf(), source })?;
        let info = self.insert(name, &bytes)?;
        first_with_stem.insert(name.to_owned(), path.to_path_buf());
        Ok(info)
    }
}
