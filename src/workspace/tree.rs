//! The file tree of a workspace, built from its stored paths, for the tree
//! pane and `show`.

use std::collections::BTreeMap;

/// A folder or a file in the tree. Folders sort before files, each by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileNode {
    Dir {
        name: String,
        path: String,
        children: Vec<FileNode>,
    },
    File {
        name: String,
        path: String,
    },
}

impl FileNode {
    pub fn name(&self) -> &str {
        match self {
            FileNode::Dir { name, .. } | FileNode::File { name, .. } => name,
        }
    }

    pub fn path(&self) -> &str {
        match self {
            FileNode::Dir { path, .. } | FileNode::File { path, .. } => path,
        }
    }
}

#[derive(Default)]
struct Builder {
    dirs: BTreeMap<String, Builder>,
    files: Vec<String>,
}

/// Builds the tree from `/`-separated file paths.
pub fn build<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<FileNode> {
    let mut root = Builder::default();
    for path in paths {
        let mut node = &mut root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_some() {
                node = node.dirs.entry(part.to_string()).or_default();
            } else {
                node.files.push(part.to_string());
            }
        }
    }
    finish(root, "")
}

fn finish(builder: Builder, prefix: &str) -> Vec<FileNode> {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    let mut nodes: Vec<FileNode> = builder
        .dirs
        .into_iter()
        .map(|(name, child)| {
            let path = join(&name);
            let children = finish(child, &path);
            FileNode::Dir {
                name,
                path,
                children,
            }
        })
        .collect();
    let mut files = builder.files;
    files.sort();
    nodes.extend(files.into_iter().map(|name| FileNode::File {
        path: join(&name),
        name,
    }));
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_come_first_and_nest() {
        let tree = build(["b.txt", "app/page.tsx", "app/api/route.ts", "a.txt"]);
        let names: Vec<_> = tree.iter().map(FileNode::name).collect();
        assert_eq!(names, ["app", "a.txt", "b.txt"]);
        let FileNode::Dir { children, .. } = &tree[0] else {
            panic!("app is a folder")
        };
        assert_eq!(children[0].path(), "app/api");
        assert_eq!(children[1].path(), "app/page.tsx");
    }
}
