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
//! Keywords are matched without regard to case, in full (IOS's
//! abbreviations are not expanded, except in interface names).
//!
//! The subset: `hostname`; `crypto isakmp policy` (`encryption`, `hash`,
//! `authentication`, `group`, `lifetime`), `crypto isakmp key`, `crypto
//! isakmp identity`, `crypto isakmp keepalive`, `crypto isakmp nat
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
//! initiate|respond`, `crypto isakmp xauth timeout`. The `no` forms of
//! these remove the object or restore the default.
//!
//! # What is not
//!
//! Other commands (`version`, `service`, `boot`, `enable password`, `line`,
//! `duplex`, ...) are skipped and listed in [`Parsed::skipped`] with their
//! line numbers, secrets redacted. Crypto commands outside the subset
//! (`crypto isakmp profile`, `set security-association level per-host`,
//! `reverse-route`, `ipsec-manual` entries, ...) are errors by default,
//! because a model without them would protect less than the router does;
//! [`UnsupportedCrypto::Skip`] lists them as skipped instead. Certificate
//! and RSA key blocks (`crypto pki`, `crypto ca`, `crypto key`) hold no
//! traffic policy and are always skipped. An error names its line, quotes
//! it (secrets redacted) and says what was wrong ([`ParseError`]).
//!
//! After loading, [`Config::check`] runs and its findings come back in
//! [`Parsed::diagnostics`] with the line numbers of the commands they are
//! about.

mod error;
mod lex;
mod parse;
mod redact;
mod render;
mod rule;

pub use error::{ParseError, ParseErrorKind};
pub use render::{RenderOptions, render, render_with};

use crate::config::{Config, Diagnostic};

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

/// Imports a configuration with the default options.
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    parse_with(text, &ParseOptions::default())
}

/// Imports a configuration.
pub fn parse_with(text: &str, options: &ParseOptions) -> Result<Parsed, ParseError> {
    parse::Parser::new(options).run(text)
}
