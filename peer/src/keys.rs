//! The Wireshark key tables in `--out`: `ikev1_decryption_table` and
//! `esp_sa`, in Wireshark's own UAT file format (rendered by
//! [`ted::gateway::KeyLog`]), so that they can be copied into a Wireshark
//! profile as they are and a third party (tshark) can decrypt a capture.
//!
//! The files hold secrets: they are created with mode 0600 and rewritten
//! whole each time the gateway logs a new key (the tables only grow: a
//! rekeyed SA's keys stay, since the capture still holds its packets).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use ted::gateway::KeyLog;

/// The file name of the ISAKMP table.
pub const IKEV1_TABLE: &str = "ikev1_decryption_table";
/// The file name of the ESP table.
pub const ESP_TABLE: &str = "esp_sa";

/// The two key table files of a directory.
#[derive(Debug)]
pub struct KeyTables {
    ikev1: PathBuf,
    esp: PathBuf,
    /// Entries of the key log already written (dropped ones included).
    seen: u64,
}

fn write_secret(path: &Path, text: &str) -> io::Result<()> {
    let mut f: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.flush()
}

impl KeyTables {
    /// The tables in `dir`, created empty (mode 0600) now, so that a
    /// reader finds both files from the start.
    ///
    /// # Errors
    /// Creating the files.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let t = Self {
            ikev1: dir.join(IKEV1_TABLE),
            esp: dir.join(ESP_TABLE),
            seen: 0,
        };
        write_secret(&t.ikev1, "")?;
        write_secret(&t.esp, "")?;
        Ok(t)
    }

    /// Rewrites both files if `log` has entries not written yet; returns
    /// whether it wrote.
    ///
    /// # Errors
    /// Writing the files.
    pub fn update(&mut self, log: &KeyLog) -> io::Result<bool> {
        let len = u64::try_from(log.entries().count()).unwrap_or(u64::MAX);
        let total = log.dropped().saturating_add(len);
        if total == self.seen {
            return Ok(false);
        }
        write_secret(&self.ikev1, &log.ikev1_decryption_table())?;
        write_secret(&self.esp, &log.esp_sa_table())?;
        self.seen = total;
        Ok(true)
    }

    /// The path of the ISAKMP table.
    pub fn ikev1_path(&self) -> &Path {
        &self.ikev1
    }

    /// The path of the ESP table.
    pub fn esp_path(&self) -> &Path {
        &self.esp
    }
}
