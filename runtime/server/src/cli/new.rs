//! `showrunner new NAME --lang rust|as`: scaffold a scene project that builds out of
//! the box, then print the commands that build, check and run it.
//!
//! Owns the project templates (`runtime/server/templates/`, compiled into the binary)
//! and their placeholders. It writes files and nothing else: it never builds,
//! installs or runs what it made, and never writes into a non-empty folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::EXIT_USAGE;

/// The SDKs in the source tree this binary was built from. Used when `--sdk` is not
/// given; canonicalized at run time, and refused if the tree has moved since.
const DEFAULT_RUST_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-sdk/rust");
const DEFAULT_AS_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-sdk/assemblyscript");

/// Longest project name accepted.
const MAX_NAME_LEN: usize = 64;

#[derive(Args, Debug)]
pub struct NewArgs {
    /// Project name, kebab-case: lowercase letters, digits and '-', starting with a
    /// letter, at most 64 characters (e.g. `title-card`). Also the scene's name.
    pub name: String,
    /// Language: `rust` (a Wasm component) or `as` (AssemblyScript, a core module).
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Folder to create the project in; the project goes into PARENT/NAME.
    #[arg(long, value_name = "PARENT", default_value = ".")]
    pub dir: PathBuf,
    /// The SDK folder to build against: guest-sdk/rust (--lang rust) or
    /// guest-sdk/assemblyscript (--lang as) of a showrunner checkout [default: this
    /// showrunner's source tree].
    #[arg(long, value_name = "PATH", long_help = concat!(
        "The SDK to build against: the `guest-sdk/rust` folder of a showrunner checkout for --lang rust, ",
        "its `guest-sdk/assemblyscript` folder for --lang as. The project refers to it by absolute path.\n\n",
        "Default: the SDK in the source tree this showrunner was built from, ",
        env!("CARGO_MANIFEST_DIR"), "/../../guest-sdk/{rust,assemblyscript}",
    ))]
    pub sdk: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Rust, with showrunner-guest; builds a Wasm component.
    Rust,
    /// AssemblyScript, with @showrunner/guest; builds a core module (core-module ABI v1).
    As,
}

/// One file of a template: where it goes in the project, and its text.
struct Template {
    path: &'static str,
    text: &'static str,
}

const RUST_TEMPLATES: &[Template] = &[
    Template { path: "Cargo.toml", text: include_str!("../../templates/rust/Cargo.toml.tmpl") },
    Template { path: "src/lib.rs", text: include_str!("../../templates/rust/src/lib.rs") },
    Template { path: ".gitignore", text: include_str!("../../templates/rust/gitignore") },
    Template { path: "README.md", text: include_str!("../../templates/rust/README.md") },
];

const AS_TEMPLATES: &[Template] = &[
    Template { path: "package.json", text: include_str!("../../templates/as/package.json") },
    Template { path: "asconfig.json", text: include_str!("../../templates/as/asconfig.json") },
    Template { path: "assembly/index.ts", text: include_str!("../../templates/as/assembly/index.ts") },
    Template { path: "assembly/tsconfig.json", text: include_str!("../../templates/as/assembly/tsconfig.json") },
    Template { path: ".gitignore", text: include_str!("../../templates/as/gitignore") },
    Template { path: "README.md", text: include_str!("../../templates/as/README.md") },
];

pub fn run(args: &NewArgs) -> anyhow::Result<ExitCode> {
    if let Err(why) = check_name(&args.name, args.lang) {
        eprintln!("error: invalid project name {:?}: {why}", args.name);
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let project = if args.dir == Path::new(".") { PathBuf::from(&args.name) } else { args.dir.join(&args.name) };
    check_target_dir(&project)?;

    let crate_name = args.name.replace('-', "_");
    let mut vars = vec![("name", args.name.clone()), ("crate_name", crate_name.clone())];
    let templates = match args.lang {
        Lang::Rust => {
            let sdk = find_sdk(args.sdk.as_deref(), DEFAULT_RUST_SDK, "guest-sdk/rust")?;
            check_rust_sdk(&sdk)?;
            vars.push(("sdk_path", sdk.display().to_string()));
            vars.push(("sdk_path_literal", string_literal(&sdk.display().to_string())));
            vars.push(("rust_version", env!("CARGO_PKG_RUST_VERSION").to_string()));
            RUST_TEMPLATES
        }
        Lang::As => {
            let sdk = find_sdk(args.sdk.as_deref(), DEFAULT_AS_SDK, "guest-sdk/assemblyscript")?;
            let asc_version = assemblyscript_version(&sdk)?;
            vars.push(("sdk_path", sdk.display().to_string()));
            vars.push(("sdk_spec_literal", string_literal(&format!("file:{}", sdk.display()))));
            vars.push(("assemblyscript_version", asc_version));
            AS_TEMPLATES
        }
    };

    for t in templates {
        let path = project.join(t.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, fill(t.text, &vars)).with_context(|| format!("cannot write {}", path.display()))?;
    }

    print_next_steps(args, &project, &crate_name, templates);
    Ok(ExitCode::SUCCESS)
}

/// Why `name` is not a usable project name, if it is not.
fn check_name(name: &str, lang: Lang) -> Result<(), String> {
    const RULE: &str = "use kebab-case: lowercase letters, digits and '-', starting with a letter";
    if name.is_empty() {
        return Err(format!("it is empty; {RULE}"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("it is {} characters long, at most {MAX_NAME_LEN} are allowed", name.len()));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("it must start with a lowercase letter; {RULE}"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("{c:?} is not allowed; {RULE}"));
    }
    if name.ends_with('-') || name.contains("--") {
        return Err(format!("'-' must separate words (no trailing '-', no '--'); {RULE}"));
    }
    // Names Cargo refuses for a package, or that clash with the crates the project uses.
    const RUST_RESERVED: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else", "enum", "extern",
        "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv",
        "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
        "virtual", "where", "while", "yield", "alloc", "core", "std", "test", "proc-macro", "serde", "showrunner-guest",
    ];
    if lang == Lang::Rust && RUST_RESERVED.contains(&name) {
        return Err("Cargo reserves it, or a crate the project depends on has it; pick another".into());
    }
    Ok(())
}

/// Refuses a project folder that exists and is not empty (or is not a folder).
fn check_target_dir(project: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(project) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{} already exists and is not empty; pick another name or --dir", project.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if project.exists() => bail!("{} already exists and is not a folder; pick another name or --dir", project.display()),
        Err(e) => bail!("cannot read {}: {e}", project.display()),
    }
}

/// The SDK folder, canonical: `--sdk` if given, else the one in this source tree.
fn find_sdk(given: Option<&Path>, default: &str, folder: &str) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => path.canonicalize().with_context(|| format!("--sdk {}", path.display())),
        None => Path::new(default).canonicalize().map_err(|_| {
            anyhow::anyhow!(
                "the SDK this showrunner was built with is no longer at {} (its source tree moved); pass --sdk PATH, the {folder} folder of a showrunner checkout",
                lexically_tidy(default)
            )
        }),
    }
}

/// `a/b/../../c` → `c`, for messages about a path that no longer exists.
fn lexically_tidy(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            ".." if out.last().is_some_and(|p| !p.is_empty() && *p != "..") => {
                out.pop();
            }
            "." => {}
            p => out.push(p),
        }
    }
    out.join("/")
}

fn check_rust_sdk(sdk: &Path) -> anyhow::Result<()> {
    let manifest = std::fs::read_to_string(sdk.join("Cargo.toml")).unwrap_or_default();
    if !manifest.lines().any(|l| l.trim() == r#"name = "showrunner-guest""#) {
        let hint = if sdk.join("guest-sdk/rust").is_dir() { format!(" (did you mean {}?)", sdk.join("guest-sdk/rust").display()) } else { String::new() };
        bail!("{} is not the Rust SDK: no Cargo.toml of showrunner-guest there{hint}", sdk.display());
    }
    Ok(())
}

/// The exact AssemblyScript version the SDK is built and tested with.
fn assemblyscript_version(sdk: &Path) -> anyhow::Result<String> {
    let hint = if sdk.join("guest-sdk/assemblyscript").is_dir() {
        format!(" (did you mean {}?)", sdk.join("guest-sdk/assemblyscript").display())
    } else {
        String::new()
    };
    let manifest = sdk.join("package.json");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        bail!("{} is not the AssemblyScript SDK: it has no package.json{hint}", sdk.display());
    };
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", manifest.display()))?;
    if json["name"] != "@showrunner/guest" {
        bail!("{} is not the AssemblyScript SDK: its package is not @showrunner/guest{hint}", sdk.display());
    }
    let version = json["devDependencies"]["assemblyscript"].as_str().unwrap_or_default();
    let exact = !version.is_empty() && version.starts_with(|c: char| c.is_ascii_digit()) && version.chars().all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c));
    if !exact {
        bail!("{} does not pin an exact assemblyscript version in devDependencies (found {version:?})", manifest.display());
    }
    Ok(version.to_string())
}

/// `s` as a double-quoted string literal, valid in both TOML and JSON.
fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Replaces every `{{key}}` with its value.
fn fill(template: &str, vars: &[(&str, String)]) -> String {
    vars.iter().fold(template.to_string(), |text, (key, value)| text.replace(&format!("{{{{{key}}}}}"), value))
}

/// `s` as one shell word.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./+:@%=,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// How to call this binary again: `showrunner` when it was found on PATH, else its path.
fn self_command() -> String {
    let invoked = std::env::args_os().next().unwrap_or_default();
    if !Path::new(&invoked).as_os_str().is_empty() && Path::new(&invoked).components().count() == 1 {
        return "showrunner".into();
    }
    match std::env::current_exe() {
        Ok(exe) => shell_word(&exe.display().to_string()),
        Err(_) => "showrunner".into(),
    }
}

fn print_next_steps(args: &NewArgs, project: &Path, crate_name: &str, templates: &[Template]) {
    let files: Vec<&str> = templates.iter().map(|t| t.path).collect();
    let lang = match args.lang {
        Lang::Rust => "Rust",
        Lang::As => "AssemblyScript",
    };
    out!("Created {} ({lang} scene): {}", project.display(), files.join(", "));
    out!();
    out!("Next:");
    let sr = self_command();
    let mut steps = vec![format!("cd {}", shell_word(&project.display().to_string()))];
    let module = match args.lang {
        Lang::Rust => {
            steps.push("rustup target add wasm32-wasip2   # once".into());
            steps.push("cargo build --release --target wasm32-wasip2".into());
            format!("target/wasm32-wasip2/release/{crate_name}.wasm")
        }
        Lang::As => {
            steps.push("npm install".into());
            steps.push("npm run build".into());
            format!("build/{crate_name}.wasm")
        }
    };
    steps.push(format!("{sr} check {module}"));
    steps.push(format!("{sr} ticks {module} --frames 60 --event 0:play --every 10"));
    if args.lang == Lang::Rust {
        steps.push("cargo test   # the scene's native tests".into());
    }
    for s in steps {
        out!("  {s}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_kebab_case() {
        for good in ["title-card", "a", "scene2", "a-1-b", &"x".repeat(64)] {
            assert_eq!(check_name(good, Lang::Rust), Ok(()), "{good}");
        }
        for bad in ["", "Title", "title_card", "1card", "-card", "card-", "a--b", "café", "a b", &"x".repeat(65)] {
            assert!(check_name(bad, Lang::Rust).is_err(), "{bad:?} accepted");
        }
        assert!(check_name("fn", Lang::Rust).is_err());
        assert_eq!(check_name("fn", Lang::As), Ok(()));
    }

    #[test]
    fn every_placeholder_in_every_template_is_filled() {
        let vars: Vec<(&str, String)> = [
            "name",
            "crate_name",
            "sdk_path",
            "sdk_path_literal",
            "sdk_spec_literal",
            "rust_version",
            "assemblyscript_version",
        ]
        .iter()
        .map(|k| (*k, "X".to_string()))
        .collect();
        for t in RUST_TEMPLATES.iter().chain(AS_TEMPLATES) {
            let out = fill(t.text, &vars);
            let left = out.match_indices("{{").find(|(i, _)| {
                let rest = &out[i + 2..];
                rest.find("}}").is_some_and(|end| !rest[..end].is_empty() && rest[..end].chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            });
            assert!(left.is_none(), "{} has an unknown placeholder near {:?}", t.path, left.map(|(i, _)| &out[i..(i + 30).min(out.len())]));
        }
    }

    #[test]
    fn string_literals_escape_quotes_backslashes_and_controls() {
        assert_eq!(string_literal(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
        assert_eq!(string_literal("a\nb"), r#""a\u000ab""#);
        let v: serde_json::Value = serde_json::from_str(&string_literal("/x/\"y\"\\z\t")).expect("json");
        assert_eq!(v, "/x/\"y\"\\z\t");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("/tmp/my-card"), "/tmp/my-card");
        assert_eq!(shell_word("/tmp/my card"), "'/tmp/my card'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn default_sdk_paths_are_tidied_for_messages() {
        assert_eq!(lexically_tidy("/src/runtime/server/../../guest-sdk/rust"), "/src/guest-sdk/rust");
        assert_eq!(lexically_tidy("a/./b"), "a/b");
    }
}
