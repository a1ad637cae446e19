//! The keys of a gateway's SAs in Wireshark's key-table formats, so that a
//! capture of a lab run can be decrypted by a third party (tshark) rather
//! than only by this code: `ikev1_decryption_table` (initiator cookie ->
//! phase-1 encryption key Ka, RFC 2409 Appendix B) and `esp_sa` (one line
//! per ESP SA and direction). Both are Wireshark UAT files and can be put
//! into a Wireshark profile directory as they are.
//!
//! Off unless [`GatewayOptions::key_log`](super::GatewayOptions::key_log)
//! is set. The keys are secrets: wiped when the log is dropped, never shown
//! by `Debug`; only the two table renderers expose them.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ike_sm::crypto::SecretBytes;
use isakmp_wire::Cookie;

/// One logged key.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeyLogEntry {
    /// An ISAKMP SA: its initiator cookie and Ka.
    Ikev1 {
        /// The initiator cookie.
        initiator_cookie: Cookie,
        /// Ka, the cipher key of the ISAKMP SA's encrypted messages.
        encryption_key: SecretBytes,
    },
    /// One direction of an IPsec SA pair.
    Esp {
        /// Outer source.
        source: Ipv4Addr,
        /// Outer destination.
        destination: Ipv4Addr,
        /// The SPI.
        spi: u32,
        /// The cipher.
        encryption: esp::Encryption,
        /// Its key (for GCM: key and salt).
        encryption_key: SecretBytes,
        /// The integrity algorithm.
        integrity: esp::Integrity,
        /// Its key.
        integrity_key: SecretBytes,
    },
}

/// The keys of every SA a gateway set up, oldest first (bounded: the
/// oldest go when the cap is reached, counted in [`KeyLog::dropped`]).
#[derive(Clone, Debug)]
pub struct KeyLog {
    entries: VecDeque<KeyLogEntry>,
    max: usize,
    dropped: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Wireshark's name of an ESP cipher in its `esp_sa` table.
pub fn wireshark_encryption(e: esp::Encryption) -> &'static str {
    match e {
        esp::Encryption::Null => "NULL",
        esp::Encryption::DesCbc => "DES-CBC [RFC2405]",
        esp::Encryption::TripleDesCbc => "TripleDES-CBC [RFC2451]",
        esp::Encryption::AesCbc(_) => "AES-CBC [RFC3602]",
        esp::Encryption::AesGcm16(_) => "AES-GCM with 16 octet ICV [RFC4106]",
        _ => "NULL",
    }
}

/// Wireshark's name of an ESP integrity algorithm in its `esp_sa` table.
pub fn wireshark_integrity(i: esp::Integrity) -> &'static str {
    match i {
        esp::Integrity::None => "NULL",
        esp::Integrity::HmacMd5_96 => "HMAC-MD5-96 [RFC2403]",
        esp::Integrity::HmacSha1_96 => "HMAC-SHA-1-96 [RFC2404]",
        esp::Integrity::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        esp::Integrity::HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
        esp::Integrity::HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
        _ => "NULL",
    }
}

impl KeyLog {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            max,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, entry: KeyLogEntry) {
        if self.max == 0 {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        while self.entries.len() >= self.max {
            self.entries.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.entries.push_back(entry);
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &KeyLogEntry> + '_ {
        self.entries.iter()
    }

    /// Entries discarded to stay within the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Wireshark's `ikev1_decryption_table`: one line per ISAKMP SA,
    /// `ICOOKIE,KA` in unquoted lower-case hex.
    pub fn ikev1_decryption_table(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            if let KeyLogEntry::Ikev1 {
                initiator_cookie,
                encryption_key,
            } = e
            {
                let _ = writeln!(
                    out,
                    "{},{}",
                    hex(initiator_cookie),
                    hex(encryption_key.expose())
                );
            }
        }
        out
    }

    /// Wireshark's `esp_sa`: one line per SA and direction, eight quoted
    /// fields (protocol, source, destination, SPI, cipher, key, integrity,
    /// key).
    pub fn esp_sa_table(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            if let KeyLogEntry::Esp {
                source,
                destination,
                spi,
                encryption,
                encryption_key,
                integrity,
                integrity_key,
            } = e
            {
                let key = |k: &SecretBytes| {
                    if k.is_empty() {
                        String::new()
                    } else {
                        format!("0x{}", hex(k.expose()))
                    }
                };
                let _ = writeln!(
                    out,
                    "\"IPv4\",\"{source}\",\"{destination}\",\"0x{spi:08x}\",\"{}\",\"{}\",\"{}\",\"{}\"",
                    wireshark_encryption(*encryption),
                    key(encryption_key),
                    wireshark_integrity(*integrity),
                    key(integrity_key)
                );
            }
        }
        out
    }
}
