//! The RFC 7217 secret key: 32 random bytes kept as 64 hex digits and a newline in a file only
//! root can read (default /var/lib/slaacd/soii.key). A missing file is created atomically; a
//! malformed, foreign-owned or group/other-accessible one is refused with the reason. It must
//! never replace an existing key (stable addresses would change on every host) and never log
//! the key.

use std::fmt;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rand::TryRng;

/// Where the parent keeps the key unless told otherwise.
pub const DEFAULT_KEY_PATH: &str = "/var/lib/slaacd/soii.key";

/// Length of the secret in bytes.
pub const KEY_LEN: usize = 32;

/// The file is the hex digits and one newline.
const FILE_LEN: usize = 2 * KEY_LEN + 1;

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {} is malformed: {problem}", path.display())]
    Malformed { path: PathBuf, problem: String },
    #[error(
        "key file {} has mode {mode:04o}: group and others must have no access (chmod 600 it)",
        path.display()
    )]
    TooPermissive { path: PathBuf, mode: u32 },
    #[error("key file {} is owned by uid {owner}, not by uid {expected}", path.display())]
    WrongOwner {
        path: PathBuf,
        owner: u32,
        expected: u32,
    },
    #[error("key file {} is not a regular file", path.display())]
    NotRegular { path: PathBuf },
    #[error("cannot create key directory {}: {source}", path.display())]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create key file {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot get random bytes for a new key file {}: {reason}", path.display())]
    Random { path: PathBuf, reason: String },
}

/// The secret; its `Debug` output hides the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Reads the key at `path`, creating the file (and its directory, mode 0700) if it does not
/// exist. When two processes create it at once, both end up with the one that got there first.
pub fn load_or_create(path: &Path) -> Result<SecretKey, KeyError> {
    match load(path) {
        Err(KeyError::Read { source, .. }) if source.kind() == ErrorKind::NotFound => create(path),
        other => other,
    }
}

/// Reads and checks an existing key file.
pub fn load(path: &Path) -> Result<SecretKey, KeyError> {
    let read_error = |source| KeyError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(read_error)?;
    check_file(path, &file)?;
    // One byte more than a valid file, to notice a longer one.
    let mut text = Vec::with_capacity(FILE_LEN + 1);
    (&mut file)
        .take(FILE_LEN as u64 + 1)
        .read_to_end(&mut text)
        .map_err(read_error)?;
    parse(&text).map_err(|problem| KeyError::Malformed {
        path: path.to_owned(),
        problem,
    })
}

fn check_file(path: &Path, file: &File) -> Result<(), KeyError> {
    let meta = file.metadata().map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(KeyError::NotRegular {
            path: path.to_owned(),
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooPermissive {
            path: path.to_owned(),
            mode,
        });
    }
    let expected = nix::unistd::geteuid().as_raw();
    if meta.uid() != expected {
        return Err(KeyError::WrongOwner {
            path: path.to_owned(),
            owner: meta.uid(),
            expected,
        });
    }
    Ok(())
}

/// 64 hex digits, then one newline (a missing final newline is tolerated).
fn parse(text: &[u8]) -> Result<SecretKey, String> {
    let digits = text.strip_suffix(b"\n").unwrap_or(text);
    if digits.len() != 2 * KEY_LEN {
        return Err(if text.len() > FILE_LEN {
            format!(
                "it is longer than {FILE_LEN} bytes; want {} hex digits and a newline",
                2 * KEY_LEN
            )
        } else {
            format!(
                "it has {} characters before the newline; want {} hex digits",
                digits.len(),
                2 * KEY_LEN
            )
        });
    }
    let mut key = [0u8; KEY_LEN];
    for (index, pair) in digits.chunks_exact(2).enumerate() {
        let high = hex_value(pair[0]).ok_or_else(|| not_hex(2 * index, pair[0]))?;
        let low = hex_value(pair[1]).ok_or_else(|| not_hex(2 * index + 1, pair[1]))?;
        key[index] = high << 4 | low;
    }
    Ok(SecretKey(key))
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

fn not_hex(offset: usize, byte: u8) -> String {
    format!("byte {offset} ({:?}) is not a hex digit", byte as char)
}

fn to_hex(key: &[u8; KEY_LEN]) -> String {
    let mut text: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
    text.push('\n');
    text
}

/// Writes a new key next to `path` under a temporary name, then links it into place, which
/// fails instead of replacing a file another process linked first.
fn create(path: &Path) -> Result<SecretKey, KeyError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| KeyError::Directory {
            path: dir.to_owned(),
            source,
        })?;

    let mut key = [0u8; KEY_LEN];
    rand::rngs::SysRng
        .try_fill_bytes(&mut key)
        .map_err(|error| KeyError::Random {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
    let create_error = |source| KeyError::Create {
        path: path.to_owned(),
        source,
    };

    let temp = TempFile::new(dir)?;
    let mut file = &temp.file;
    file.write_all(to_hex(&key).as_bytes())
        .map_err(create_error)?;
    file.sync_all().map_err(create_error)?;
    match std::fs::hard_link(&temp.path, path) {
        Ok(()) => {
            drop(temp);
            File::open(dir)
                .and_then(|dir| dir.sync_all())
                .map_err(create_error)?;
            Ok(SecretKey(key))
        }
        // Someone else created it meanwhile: theirs is the key.
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            drop(temp);
            load(path)
        }
        Err(source) => Err(create_error(source)),
    }
}

/// A 0600 file with a unique name, removed when dropped.
struct TempFile {
    path: PathBuf,
    file: File,
}

impl TempFile {
    fn new(dir: &Path) -> Result<Self, KeyError> {
        let mut suffix = [0u8; 8];
        let random_error = |error: rand::rngs::SysError| KeyError::Random {
            path: dir.to_owned(),
            reason: error.to_string(),
        };
        rand::rngs::SysRng
            .try_fill_bytes(&mut suffix)
            .map_err(random_error)?;
        let name = format!(
            ".soii.key.{}.{:016x}",
            std::process::id(),
            u64::from_ne_bytes(suffix)
        );
        let path = dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| KeyError::Create {
                path: path.clone(),
                source,
            })?;
        Ok(TempFile { path, file })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // The name was only ever a staging name; the linked key file keeps the inode.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let key: [u8; KEY_LEN] = std::array::from_fn(|index| (index * 37) as u8);
        let text = to_hex(&key);
        assert_eq!(text.len(), FILE_LEN);
        assert_eq!(parse(text.as_bytes()).unwrap().as_bytes(), &key);
    }

    #[test]
    fn accepts_upper_case_and_a_missing_newline() {
        let text = "AB".repeat(KEY_LEN);
        assert_eq!(parse(text.as_bytes()).unwrap().as_bytes(), &[0xab; KEY_LEN]);
    }

    #[test]
    fn names_the_problem() {
        assert_eq!(
            parse(b"abc\n").unwrap_err(),
            "it has 3 characters before the newline; want 64 hex digits"
        );
        let mut text = "0".repeat(2 * KEY_LEN);
        text.replace_range(5..6, "g");
        assert_eq!(
            parse(text.as_bytes()).unwrap_err(),
            "byte 5 ('g') is not a hex digit"
        );
        let long = format!("{}\n\n", "0".repeat(2 * KEY_LEN));
        assert!(
            parse(long.as_bytes())
                .unwrap_err()
                .starts_with("it is longer than 65 bytes")
        );
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", SecretKey([7; KEY_LEN])), "SecretKey(..)");
    }
}
