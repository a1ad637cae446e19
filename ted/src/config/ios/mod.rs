//! IOS configuration text in and out.
//!
//! [`parse`] reads the crypto subset of an IOS running-config (as `show
//! running-config` prints it, or as typed at the prompt) into a
//! [`Config`]; [`render`] writes a `Config` back as configuration lines, so
//! a user can check what was understood. For every `c` that `parse`
//! produced, `parse(render(c))` gives `c` back and `render` is a fixed point
//! (the `ted_ios_roundtrip` fuzz target checks both). Run-time (derived)
//! crypto map entries are left out of the text, as IOS leaves them out of
//! its running-config, and so is a dynamic map without entries, which no
//! configuration line can express.
//!
//! # What is read
//!
//! Lines are read one by one; `!` lines are comments, blank lines are
//! ignored, and `end` ends the configuration (anything after it is listed
//! as skipped). A line that starts with a blank belongs to the sub-mode the
//! last unindented command opened (`crypto isakmp policy`, `crypto ipsec
//! transform-set`, `crypto dynamic-map`, `crypto map ... ipsec-isakmp`,
//! `interface`, `ip access-list`, `crypto isakmp client configuration
//! group`); as at the IOS prompt, a sub-mode command
//! of a crypto or access list sub-mode is accepted without indentation too.
//! Keywords are matched without regard to case, and, as the IOS parser
//! takes them, any unambiguous prefix of a keyword stands for it (`cry isa
//! pol 10`, `encr 3des`, `authen pre`); a prefix of several keywords is
//! refused with [`ParseErrorKind::Ambiguous`], which names them. Interface
//! names may be abbreviated too (`Fa0/0`).
//!
//! The subset: `hostname`; `crypto isakmp policy` (`encryption`, `hash`,
//! `authentication`, `group`, `lifetime`), `crypto isakmp key`, `crypto
//! isakmp identity`, `crypto keyring NAME` (`pre-shared-key address A
//! [MASK] key K`, `pre-shared-key hostname H key K`, `local-address`,
//! `description`; its other sub-commands are skipped as
//! [`SkipReason::NotModelled`]), `crypto isakmp keepalive`, `crypto isakmp nat
//! keepalive`, `crypto isakmp aggressive-mode disable`, `crypto isakmp
//! enable`; `crypto ipsec transform-set`
//! (`mode`), `crypto ipsec security-association lifetime`, `crypto ipsec
//! nat-transparency udp-encapsulation`; `crypto dynamic-map` and `crypto map`
//! entries (`set peer`, `match address`, `set transform-set`, `set pfs`,
//! `set security-association lifetime`, `description`), `crypto map ...
//! ipsec-isakmp dynamic NAME [discover]`, `crypto map NAME local-address`;
//! `access-list` (standard and extended, with `remark`) and `ip access-list
//! standard|extended`; `interface` (`ip address [secondary]`, `crypto
//! map`, `shutdown`, `description`); `ip route`. For a remote-access
//! (Easy VPN) server ([`crate::config::remote_access`]): `aaa new-model`,
//! `aaa authentication login LIST local`, `aaa authorization network LIST
//! local` (other methods are unsupported crypto), `username NAME
//! [privilege N] password [0|7] TEXT` and `secret [0|5] TEXT` (other
//! `username` forms are skipped), `ip local pool`, `crypto isakmp client
//! configuration group` (`key`, `dns`, `wins`, `domain`, `pool`, `acl`,
//! `save-password`, `include-local-lan`, `pfs`, `banner` on one line or
//! several, `backup-gateway`, `max-users`, `firewall are-u-there`), `crypto
//! map NAME client authentication list`, `crypto map NAME isakmp
//! authorization list`, `crypto map NAME client configuration address
//! initiate|respond`, `crypto isakmp xauth timeout`. Certificates
//! ([`crate::config::pki`]): `crypto pki trustpoint` (`enrollment
//! selfsigned|terminal [pem]|url URL`, `subject-name`, `revocation-check`,
//! `rsakeypair`, `fqdn`, `serial-number`, `ip-address`; its other
//! sub-commands are skipped as [`SkipReason::NotModelled`]) and `crypto pki
//! certificate chain` (`certificate [ca|self-signed] SERIAL`, the
//! hexadecimal DER lines, `quit`), also under their older `crypto ca`
//! names. The `no` forms of these remove the object or restore the
//! default.
//!
//! [`parse_all`] reads on after a refused line and lists every refusal,
//! for a check of a whole file (`ikev1-peer --check-config`). A byte-order
//! mark at the start, CRLF line ends and tabs are taken as IOS takes them;
//! a line longer than 4096 bytes, a certificate or banner cut short are
//! refused.
//!
//! # What is not
//!
//! Other commands (`version`, `service`, `boot`, `enable password`, `line`,
//! `duplex`, ...) are skipped and listed in [`Parsed::skipped`] with their
//! line numbers, secrets redacted. Crypto commands outside the subset
//! (`crypto isakmp profile`, `set security-association level per-host`,
//! `reverse-route`, `ipsec-manual` entries, ...) are errors by default,
//! because a model without them would protect less than the router does;
//! [`UnsupportedCrypto::Skip`] lists them as skipped instead. RSA key
//! blocks (`crypto key`) and the `crypto pki` blocks other than
//! trustpoints and certificate chains hold no traffic policy and are always
//! skipped. An error names its line, quotes
//! it (secrets redacted) and says what was wrong ([`ParseError`]).
//!
//! After loading, [`Config::check`] runs and its findings come back in
//! [`Parsed::diagnostics`] with the line numbers of the commands they are
//! about.

mod error;
mod keywords;
mod lex;
mod parse;
mod redact;
mod render;
mod rule;

pub use error::{ParseError, ParseErrorKind};
pub use keywords::abbreviate;
pub use render::{RenderOptions, render, render_with};

use std::collections::BTreeMap;

use crate::config::{Config, Diagnostic, Location};

/// What to do with crypto commands the model does not cover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnsupportedCrypto {
    /// Refuse the configuration (the default).
    #[default]
    Error,
    /// Skip them, listed in [`Parsed::skipped`] as
    /// [`SkipReason::UnsupportedCrypto`].
    Skip,
}

/// Import options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// What to do with crypto commands the model does not cover.
    pub unsupported_crypto: UnsupportedCrypto,
}

/// Why a line was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// A command outside the crypto subset (or a sub-command of one).
    OutsideSubset,
    /// A crypto command the model does not cover, skipped on request.
    UnsupportedCrypto,
    /// Certificates and RSA keys (`crypto pki`, `crypto ca`, `crypto key`).
    KeyMaterial,
    /// An indented line with no command above it to belong to.
    OrphanSubLine,
    /// A line after `end`.
    AfterEnd,
    /// A sub-command of a command that was refused ([`parse_all`]).
    UnderRefused,
    /// A sub-command the model does not keep and that changes no traffic
    /// policy (trustpoint options such as `auto-enroll`, `enrollment
    /// retry`, ...).
    NotModelled,
}

impl SkipReason {
    /// Why, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::OutsideSubset => "outside the crypto subset",
            Self::UnsupportedCrypto => "crypto command not supported, skipped on request",
            Self::KeyMaterial => "key material",
            Self::OrphanSubLine => "indented line with no command above it",
            Self::AfterEnd => "after end",
            Self::UnderRefused => "sub-command of a refused command",
            Self::NotModelled => "not kept by the model",
        }
    }
}

/// A line the importer did not take into the model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// The line, trimmed, with secrets redacted.
    pub text: String,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// The result of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The model.
    pub config: Config,
    /// Lines not taken into the model, in order.
    pub skipped: Vec<SkippedLine>,
    /// [`Config::check`]'s findings, with line numbers.
    pub diagnostics: Vec<Diagnostic>,
}

/// The result of [`parse_all`]: what was understood, what was skipped,
/// what was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The model of the lines understood, the skipped lines, and
    /// [`Config::check`]'s findings on that model.
    pub parsed: Parsed,
    /// Every refused line, in order.
    pub refused: Vec<ParseError>,
    /// How many lines were taken into the model (not counting blank lines
    /// and `!` comments).
    pub understood: usize,
    /// The line where each object of the model was first configured.
    pub lines: BTreeMap<Location, usize>,
}

/// Imports a configuration with the default options.
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    parse_with(text, &ParseOptions::default())
}

/// Imports a configuration.
pub fn parse_with(text: &str, options: &ParseOptions) -> Result<Parsed, ParseError> {
    parse::Parser::new(options).run(text)
}

/// Imports a configuration as far as it goes, as a check before a reload
/// does: a refused line is listed in [`Report::refused`] and the import
/// goes on with the next line (the refused command's sub-lines are
/// skipped as [`SkipReason::UnderRefused`]). With no refusal, the model is
/// the one [`parse_with`] gives.
pub fn parse_all(text: &str, options: &ParseOptions) -> Report {
    parse::Parser::new(options).run_all(text)
}
