//! The bundled demo export: a small Next.js-style app that a first start on
//! an empty store takes over, so a new user lands in something real.

use std::path::Path;

use super::import::{ImportOptions, import};
use super::{ImportError, Report};
use crate::config::Config;
use crate::store::{self, Store};

include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));

const OFFERED_KEY: &str = "demo_offered";
pub(crate) const DEMO_NAME: &str = "demo";

/// Imports the demo once, the first time a store is opened with no
/// workspace. Returns the report when it did.
pub fn offer_once(store: &mut Store, config: &Config) -> Result<Option<Report>, ImportError> {
    if store::settings::get(&store.conn, OFFERED_KEY)?.is_some()
        || store::workspaces::count(&store.conn)? > 0
    {
        return Ok(None);
    }
    let dir = config.data_dir.join("demo-export");
    write_files(&dir).map_err(|source| ImportError::SourceUnreadable {
        path: dir.clone(),
        source,
    })?;
    let options = ImportOptions {
        name: Some(DEMO_NAME.into()),
        ..ImportOptions::default()
    };
    let report = import(store, config, &dir, &options, &mut ())?;
    store::settings::set(&store.conn, OFFERED_KEY, &report.taken_over_at)?;
    Ok(Some(report))
}

fn write_files(dir: &Path) -> std::io::Result<()> {
    for (path, content) in DEMO_FILES {
        let target = path.split('/').fold(dir.to_path_buf(), |p, c| p.join(c));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, content)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_match_the_examples_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo-export");
        let on_disk = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .count();
        assert_eq!(DEMO_FILES.len(), on_disk);
        for (path, content) in DEMO_FILES {
            assert_eq!(
                std::fs::read_to_string(root.join(path)).unwrap(),
                *content,
                "{path}"
            );
        }
        assert!(DEMO_FILES.iter().any(|(p, _)| *p == "package.json"));
    }
}
