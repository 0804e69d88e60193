//! The TOML file layer: reads the `--config` file, reports syntax errors as
//! `file:line:col`, refuses unknown keys by name and applies each known key through the
//! settings table. It must not read the environment or look at flags.

use std::path::Path;

use super::ServeConfig;
use super::error::{ConfigError, SettingOrigin};
use super::keys::{Key, RawValue, known_paths};

/// Applies the settings in the TOML file at `path` on top of `config`.
pub fn apply_file(config: &mut ServeConfig, path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    apply_toml_text(config, &text, path)
}

/// Applies the settings in `text` (the contents of the file at `path`) on top of `config`.
pub fn apply_toml_text(
    config: &mut ServeConfig,
    text: &str,
    path: &Path,
) -> Result<(), ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|error| {
        let (line, column) = error
            .span()
            .map_or((1, 1), |span| line_and_column(text, span.start));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: error.message().trim().to_owned(),
        }
    })?;
    let origin = SettingOrigin::File(path.to_path_buf());
    for (name, value) in &table {
        if name == "output" {
            let output = value.as_table().ok_or_else(|| ConfigError::InvalidValue {
                setting: format!("`output` in {}", path.display()),
                value: value.to_string(),
                allowed: "a table [output] with width, height, fps and bitrate_kbps",
            })?;
            for (field, field_value) in output {
                apply_key(
                    config,
                    &format!("output.{field}"),
                    field_value,
                    &origin,
                    path,
                )?;
            }
        } else {
            apply_key(config, name, value, &origin, path)?;
        }
    }
    Ok(())
}

fn apply_key(
    config: &mut ServeConfig,
    dotted: &str,
    value: &toml::Value,
    origin: &SettingOrigin,
    path: &Path,
) -> Result<(), ConfigError> {
    let key = Key::from_path(dotted).ok_or_else(|| ConfigError::UnknownFileKey {
        path: path.to_path_buf(),
        key: dotted.to_owned(),
        known: known_paths(),
    })?;
    key.apply(config, &RawValue::Toml(value), origin)
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before
        .get(line_start..)
        .map_or(0, |rest| rest.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::line_and_column;

    #[test]
    fn line_and_column_counts_from_one_in_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        // "bé " is 4 bytes but 3 characters.
        assert_eq!(line_and_column(text, 10), (2, 4));
    }
}
