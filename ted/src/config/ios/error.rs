//! Import errors: which line, what text, what was wrong.

use std::net::Ipv4Addr;

use crate::acl::{AclError, AclKind, AclName};
use crate::config::ipsec::TransformSetError;
use crate::remote_access::PoolError;

/// A configuration line the importer refuses.
///
/// `text` is the line as written, except that secrets on it (pre-shared
/// keys, passwords) are replaced by `<redacted>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}: `{text}`")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// The line's text, trimmed and with secrets redacted.
    pub text: String,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The line ended where an argument was needed.
    #[error("expected {expected}, found the end of the line")]
    Missing {
        /// What was expected.
        expected: &'static str,
    },
    /// A token that does not fit.
    #[error("expected {expected}, found `{found}`")]
    Unexpected {
        /// What was expected.
        expected: &'static str,
        /// The token.
        found: String,
    },
    /// Tokens after a complete command.
    #[error("unexpected `{found}` after the end of the command")]
    Trailing {
        /// The first extra token.
        found: String,
    },
    /// A number outside its range.
    #[error("{what} {value} is outside {min}-{max}")]
    OutOfRange {
        /// What the number is.
        what: &'static str,
        /// The value.
        value: u64,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// A netmask with a hole.
    #[error("mask {mask} is not contiguous")]
    NonContiguousMask {
        /// The mask.
        mask: Ipv4Addr,
    },
    /// A prefix with bits outside its mask (IOS: "Inconsistent address and
    /// mask").
    #[error("address {address} has bits outside mask {mask}")]
    AddressOutsideMask {
        /// The address.
        address: Ipv4Addr,
        /// The mask.
        mask: Ipv4Addr,
    },
    /// An interface address that is its subnet's network or broadcast
    /// address (IOS: "Bad mask ... for address ...").
    #[error("{address} is the network or broadcast address of its subnet with mask {mask}")]
    NetworkOrBroadcast {
        /// The address.
        address: Ipv4Addr,
        /// The mask.
        mask: Ipv4Addr,
    },
    /// A transform combination IOS refuses.
    #[error("invalid transform set: {0}")]
    TransformSet(#[from] TransformSetError),
    /// An access list entry IOS refuses.
    #[error("invalid access list entry: {0}")]
    Acl(#[from] AclError),
    /// A named access list redeclared with the other kind.
    #[error("access list {name} already exists as a {existing} list")]
    AccessListKindConflict {
        /// The list.
        name: AclName,
        /// Its kind.
        existing: AclKind,
    },
    /// A crypto map entry redeclared as the other kind of entry.
    #[error("crypto map {map} {seq} already exists as {existing}")]
    EntryKindConflict {
        /// The map.
        map: String,
        /// The entry.
        seq: u32,
        /// What it is.
        existing: &'static str,
    },
    /// A sub-command under an entry that refers to a dynamic map.
    #[error(
        "crypto map {map} {seq} refers to a dynamic map and takes no sub-commands; set them in the dynamic map"
    )]
    DynamicReferenceSubcommand {
        /// The map.
        map: String,
        /// The entry.
        seq: u32,
    },
    /// A type-6 (AES-encrypted) key: the master key is not in the
    /// configuration.
    #[error(
        "an encrypted (type 6) pre-shared key cannot be imported without the router's master key"
    )]
    EncryptedKey,
    /// A crypto command outside the model. Importing it anyway would make
    /// the model enforce less than the router would, so it is an error
    /// unless [`UnsupportedCrypto::Skip`](super::UnsupportedCrypto::Skip)
    /// is chosen.
    #[error("`{command}` is not supported by this importer")]
    UnsupportedCommand {
        /// The command's leading keywords.
        command: String,
    },
    /// An `ip local pool` range IOS (or the pool's bounds) refuses.
    #[error("invalid address pool range: {0}")]
    Pool(#[from] PoolError),
    /// A client group `banner` whose closing delimiter never came.
    #[error("the banner is not closed by its delimiter `{delimiter}`")]
    UnterminatedBanner {
        /// The delimiter.
        delimiter: String,
    },
    /// A certificate of a `crypto pki certificate chain` whose `quit` never
    /// came (the file ends, or a command follows, in its hexadecimal text).
    #[error("certificate {serial} is not closed by quit")]
    UnterminatedCertificate {
        /// The certificate's serial number.
        serial: String,
    },
    /// A token at a keyword position that abbreviates several keywords
    /// (IOS: `% Ambiguous command`).
    #[error("ambiguous command: `{token}` may be {}", candidates.join(", "))]
    Ambiguous {
        /// The token as written.
        token: String,
        /// The keywords it abbreviates, in alphabetical order.
        candidates: Vec<String>,
    },
    /// A keyword of a supported command that the model does not cover.
    #[error("`{keyword}` is not supported in {context}")]
    UnsupportedKeyword {
        /// The keyword.
        keyword: String,
        /// Which command.
        context: &'static str,
    },
}
