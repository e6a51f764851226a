//! The layering of the crate, checked: `http/` may use `app/`, `app/` may use `sagas/`,
//! `faults` and `context`, and nothing below may reach back up. A reference that goes the wrong way would
//! make the application layer depend on HTTP (or a saga on a request handler), which is the
//! cycle this test keeps out.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` (or `dir` itself when it is a file).
fn sources(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.extend(sources(&e.path()));
    }
    out.retain(|p| p.extension().is_some_and(|x| x == "rs"));
    out
}

/// The lines of the files under `part` that name one of `forbidden` modules of this crate.
fn offences(part: &str, forbidden: &[&str], except: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = vec![];
    for file in sources(&src.join(part)) {
        let name = file.strip_prefix(&src).unwrap().display().to_string();
        if except.contains(&name.as_str()) {
            continue;
        }
        // A file's tests (its `#[cfg(test)]` module, last) may drive it from any layer.
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().take_while(|l| l.trim() != "#[cfg(test)]").enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if forbidden.iter().any(|m| code.contains(&format!("crate::{m}"))) {
                found.push(format!("{name}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn no_layer_reaches_up() {
    let mut bad = offences("app", &["http"], &[]);
    bad.extend(offences("sagas", &["http", "app"], &["sagas/testing.rs"]));
    // Faults know the sagas' operations and steps, and are the executor's hook.
    bad.extend(offences("faults.rs", &["http", "app"], &[]));
    // The shared state holds the faults in force; nothing else above it.
    bad.extend(offences("context.rs", &["http", "app", "sagas"], &[]));
    for below in ["caller.rs", "rate_limit.rs"] {
        bad.extend(offences(below, &["http", "app", "sagas", "faults", "context"], &[]));
    }
    assert!(bad.is_empty(), "references that go up a layer:\n{}", bad.join("\n"));
}
