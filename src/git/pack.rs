//! Writing many new blobs as one pack, not as loose objects.
//!
//! A takeover stores every file of an export once. As loose objects that
//! is one file (and one inode) per blob on top of the work tree's own:
//! twice what `git add` does, and slow on a file system that has just
//! deleted a big tree. A pack holds them all in one file. Objects are
//! stored whole (no deltas), deflated fast, and handed to libgit2's pack
//! writer, which indexes them.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::{Compress, Compression, FlushCompress, Status};
use git2::{ObjectType, Oid, Repository};
use sha1::{Digest, Sha1};

/// Pack object type of a blob.
const OBJ_BLOB: u8 = 3;

pub(crate) struct BlobPack {
    file: Option<BufWriter<File>>,
    path: PathBuf,
    count: u32,
    /// One compressor and buffer for every blob: a fresh deflate state
    /// per object costs a quarter of a megabyte of zeroed pages each.
    deflate: Compress,
    out: Vec<u8>,
}

impl BlobPack {
    /// Starts a pack in a temporary file under the repository's git folder.
    pub(crate) fn new(git_dir: &Path) -> std::io::Result<BlobPack> {
        let path = git_dir.join(format!("kollega-pack-{}.tmp", std::process::id()));
        let mut file = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        // "PACK", version 2, object count (written at the end).
        file.write_all(b"PACK\0\0\0\x02\0\0\0\0")?;
        Ok(BlobPack {
            file: Some(file),
            path,
            count: 0,
            deflate: Compress::new(Compression::fast(), true),
            out: Vec::new(),
        })
    }

    /// Adds a blob and returns its id (the id git gives the same bytes).
    pub(crate) fn add_blob(&mut self, data: &[u8]) -> Result<Oid, PackError> {
        let id = Oid::hash_object(ObjectType::Blob, data)?;
        let file = self.file.as_mut().ok_or(PackError::Finished)?;
        // Header: type in bits 4-6 of the first byte, the size in 4 bits
        // there and 7 bits a byte after, low bits first.
        let mut size = data.len();
        let mut byte = (OBJ_BLOB << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            file.write_all(&[byte | 0x80])?;
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        file.write_all(&[byte])?;
        self.deflate.reset();
        self.out.clear();
        // zlib's bound for incompressible input, plus room to spare.
        self.out.reserve(data.len() + data.len() / 1000 + 64);
        loop {
            let consumed = self.deflate.total_in() as usize;
            let status = self
                .deflate
                .compress_vec(
                    &data[consumed.min(data.len())..],
                    &mut self.out,
                    FlushCompress::Finish,
                )
                .map_err(|e| PackError::Io(std::io::Error::other(e)))?;
            match status {
                Status::StreamEnd => break,
                Status::Ok | Status::BufError => self.out.reserve(self.out.capacity().max(1024)),
            }
        }
        file.write_all(&self.out)?;
        self.count = self.count.checked_add(1).ok_or(PackError::TooMany)?;
        Ok(id)
    }

    /// Completes the pack (count, checksum) and stores it in `repo`.
    pub(crate) fn finish(mut self, repo: &Repository) -> Result<(), PackError> {
        let writer = self.file.take().ok_or(PackError::Finished)?;
        let mut file = writer
            .into_inner()
            .map_err(|e| PackError::Io(e.into_error()))?;
        file.seek(SeekFrom::Start(8))?;
        file.write_all(&self.count.to_be_bytes())?;
        file.flush()?;
        drop(file);

        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)?;
        let mut hasher = Sha1::new();
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            hasher.update(&chunk[..n]);
        }
        file.write_all(&hasher.finalize())?;
        file.seek(SeekFrom::Start(0))?;

        let odb = repo.odb()?;
        let mut packwriter = odb.packwriter()?;
        loop {
            let n = file.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            packwriter.write_all(&chunk[..n])?;
        }
        packwriter.commit()?;
        Ok(())
    }
}

impl Drop for BlobPack {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PackError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Git(#[from] git2::Error),
    #[error("more objects than a pack holds")]
    TooMany,
    #[error("the pack was already written")]
    Finished,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_written_as_a_pack_read_back_through_git() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut pack = BlobPack::new(repo.path()).unwrap();
        let big = "x".repeat(70_000);
        let texts = ["", "hello\n", big.as_str(), "é\r\nlast"];
        let ids: Vec<Oid> = texts
            .iter()
            .map(|t| pack.add_blob(t.as_bytes()).unwrap())
            .collect();
        pack.finish(&repo).unwrap();
        for (id, text) in ids.iter().zip(texts) {
            assert_eq!(repo.find_blob(*id).unwrap().content(), text.as_bytes());
            assert_eq!(
                *id,
                Oid::hash_object(ObjectType::Blob, text.as_bytes()).unwrap()
            );
        }
        // git itself agrees the pack is sound.
        let out = std::process::Command::new("git")
            .args(["fsck", "--full"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            std::fs::read_dir(repo.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
        );
    }
}
