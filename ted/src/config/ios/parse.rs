//! The line-by-line importer behind [`super::parse`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::error::{ParseError, ParseErrorKind};
use super::keywords::{Grammar, expand};
use super::lex::{Cursor, Line, parse_decimal};
use super::redact::{redact, redact_as};
use super::rule::parse_rule;
use super::{ParseOptions, Parsed, Report, SkipReason, SkippedLine, UnsupportedCrypto};
use crate::acl::{AccessList, AclItem, AclKind, AclName};
use crate::config::iface::{Interface, InterfaceAddress, InterfaceName, NextHop, StaticRoute};
use crate::config::ipsec::{EncapsulationMode, SaLifetime, Transform, TransformSet};
use crate::config::isakmp::{
    AesKeySize, DhGroup, IsakmpAuthentication, IsakmpEncryption, IsakmpHash, IsakmpIdentity,
    IsakmpPolicy, Keepalive, KeepaliveMode, KeyringLocalAddress, PresharedKey, PskEntry, PskPeer,
};
use crate::config::map::{CryptoMapEntry, MapParams, SEQ_RANGE};
use crate::config::pki::{
    CertificateChain, CertificateKind, ChainCertificate, Enrollment, RevocationCheck, RsaKeypair,
};
use crate::config::remote_access::{ClientGroup, Credential, LocalUser, RemoteAccess, SecretText};
use crate::config::{Config, Location};
use crate::remote_access::PoolRange;

type Res<T = ()> = Result<T, ParseErrorKind>;

/// The sub-mode the last unindented command opened.
#[derive(Clone, Debug)]
enum Mode {
    Global,
    Skipped(SkipReason),
    Policy(u16),
    TransformSet(String),
    DynamicEntry(String, u32),
    MapEntry(String, u32),
    MapDynamicRef(String, u32),
    Interface(InterfaceName),
    NamedAcl(AclName),
    ClientGroup(String),
    Trustpoint(String),
    CertificateChain(String),
    Keyring(String),
}

impl Mode {
    /// The keyword grammar of the sub-mode, for abbreviations.
    fn grammar(&self) -> Option<Grammar> {
        match self {
            Self::Global | Self::Skipped(_) => None,
            Self::Policy(_) => Some(Grammar::Policy),
            Self::TransformSet(_) => Some(Grammar::TransformSet),
            Self::DynamicEntry(..) | Self::MapEntry(..) | Self::MapDynamicRef(..) => {
                Some(Grammar::MapEntry)
            }
            Self::Interface(_) => Some(Grammar::Interface),
            Self::NamedAcl(_) => Some(Grammar::NamedAcl),
            Self::ClientGroup(_) => Some(Grammar::ClientGroup),
            Self::Trustpoint(_) => Some(Grammar::Trustpoint),
            Self::CertificateChain(_) => Some(Grammar::CertificateChain),
            Self::Keyring(_) => Some(Grammar::Keyring),
        }
    }

    /// Sub-mode commands accepted without indentation, as at the prompt
    /// (none of them is also a global command).
    fn takes_unindented(&self, line: &Line<'_>) -> bool {
        let mut i = 0;
        if line.first_keyword().as_deref() == Some("no") {
            i = 1;
        }
        let Some(kw) = line.keyword_at(i) else {
            return false;
        };
        match self {
            Self::Policy(_) => matches!(
                kw.as_str(),
                "encryption" | "hash" | "authentication" | "group" | "lifetime"
            ),
            Self::Trustpoint(_) => matches!(
                kw.as_str(),
                "enrollment"
                    | "subject-name"
                    | "revocation-check"
                    | "rsakeypair"
                    | "fqdn"
                    | "serial-number"
                    | "ip-address"
            ),
            Self::CertificateChain(_) => kw == "certificate",
            Self::TransformSet(_) => kw == "mode",
            Self::Keyring(_) => matches!(kw.as_str(), "pre-shared-key" | "local-address"),
            Self::DynamicEntry(..) | Self::MapEntry(..) => {
                matches!(kw.as_str(), "set" | "match" | "description")
            }
            Self::NamedAcl(_) => {
                matches!(kw.as_str(), "permit" | "deny" | "remark") || parse_decimal(&kw).is_some()
            }
            // Not `key`, `banner` nor `firewall`: global commands start
            // with them.
            Self::ClientGroup(_) => matches!(
                kw.as_str(),
                "dns"
                    | "wins"
                    | "domain"
                    | "pool"
                    | "acl"
                    | "save-password"
                    | "include-local-lan"
                    | "pfs"
                    | "backup-gateway"
                    | "max-users"
            ),
            _ => false,
        }
    }
}

/// A certificate of a chain whose `quit` has not come yet.
struct PendingCertificate {
    chain: String,
    kind: CertificateKind,
    serial: String,
    hex: String,
    /// The `certificate` line, for an error if `quit` never comes.
    line: usize,
    line_text: String,
}

/// A client group's `banner` whose closing delimiter has not come yet.
struct PendingBanner {
    group: String,
    delimiter: String,
    text: String,
    /// The `banner` line, for an error if the text never ends.
    line: usize,
    line_text: String,
}

pub(super) struct Parser<'o> {
    options: &'o ParseOptions,
    config: Config,
    skipped: Vec<SkippedLine>,
    mode: Mode,
    ended: bool,
    banner: Option<PendingBanner>,
    certificate: Option<PendingCertificate>,
    /// The current line with its keywords in full, once read that far
    /// (for the redaction of the line's text in an error).
    expanded: Option<String>,
    /// Where each object was first configured, for the diagnostics.
    lines: BTreeMap<Location, usize>,
    number: usize,
}

impl<'o> Parser<'o> {
    pub(super) fn new(options: &'o ParseOptions) -> Self {
        Self {
            options,
            config: Config::default(),
            skipped: Vec::new(),
            mode: Mode::Global,
            ended: false,
            banner: None,
            certificate: None,
            expanded: None,
            lines: BTreeMap::new(),
            number: 0,
        }
    }

    /// Imports `text`; the first refused line ends the import.
    pub(super) fn run(self, text: &str) -> Result<Parsed, ParseError> {
        let report = self.read(text, false);
        match report.refused.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(report.parsed),
        }
    }

    /// Imports `text`, going on after a refused line: the model holds what
    /// was understood, and every refusal is listed.
    pub(super) fn run_all(self, text: &str) -> Report {
        self.read(text, true)
    }

    fn read(mut self, text: &str, go_on: bool) -> Report {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut refused = Vec::new();
        let mut understood = 0usize;
        for (index, raw) in text.split('\n').enumerate() {
            self.number = index.saturating_add(1);
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let skipped_before = self.skipped.len();
            self.expanded = None;
            let global = !raw.starts_with(char::is_whitespace)
                && self.banner.is_none()
                && self.certificate.is_none();
            match self.line(raw) {
                Ok(()) => {
                    let blank = raw.trim().is_empty()
                        || (raw.trim_start().starts_with('!') && self.banner.is_none());
                    if self.skipped.len() == skipped_before && !blank {
                        understood = understood.saturating_add(1);
                    }
                }
                Err(kind) => {
                    let shown = match &self.expanded {
                        Some(expanded) => redact_as(raw.trim(), expanded),
                        None => redact(raw.trim()),
                    };
                    refused.push(ParseError {
                        line: self.number,
                        text: shown,
                        kind,
                    });
                    if !go_on {
                        break;
                    }
                    // The sub-lines of a refused command are not read as
                    // belonging to the block before it.
                    if global {
                        self.mode = Mode::Skipped(SkipReason::UnderRefused);
                    }
                }
            }
        }
        if refused.is_empty() || go_on {
            if let Some(b) = self.banner.take() {
                refused.push(ParseError {
                    line: b.line,
                    text: redact(&b.line_text),
                    kind: ParseErrorKind::UnterminatedBanner {
                        delimiter: b.delimiter,
                    },
                });
            }
            if let Some(c) = self.certificate.take() {
                refused.push(ParseError {
                    line: c.line,
                    text: redact(&c.line_text),
                    kind: ParseErrorKind::UnterminatedCertificate { serial: c.serial },
                });
            }
        }
        let mut diagnostics = self.config.check();
        for d in &mut diagnostics {
            d.line = self.lines.get(&d.location).copied();
        }
        Report {
            parsed: Parsed {
                config: self.config,
                skipped: self.skipped,
                diagnostics,
            },
            refused,
            understood,
            lines: self.lines,
        }
    }

    fn skip(&mut self, text: &str, reason: SkipReason) {
        self.skipped.push(SkippedLine {
            line: self.number,
            text: redact(text),
            reason,
        });
    }

    fn record(&mut self, location: Location) {
        self.lines.entry(location).or_insert(self.number);
    }

    fn line(&mut self, raw: &str) -> Res {
        if self.banner.is_some() {
            return self.banner_line(raw);
        }
        if self.certificate.is_some() {
            return self.certificate_line(raw);
        }
        let text = raw.trim();
        if self.ended {
            if !text.is_empty() {
                self.skip(text, SkipReason::AfterEnd);
            }
            return Ok(());
        }
        if text.is_empty() {
            return Ok(());
        }
        if text.len() > MAX_LINE_LEN {
            return Err(ParseErrorKind::OutOfRange {
                what: "line length",
                value: u64::try_from(text.len()).unwrap_or(u64::MAX),
                min: 1,
                max: MAX_LINE_LEN as u64,
            });
        }
        let indented = raw.starts_with(char::is_whitespace);
        if text.starts_with('!') {
            if !indented {
                self.mode = Mode::Global;
            }
            return Ok(());
        }
        let grammar = self.mode.grammar();
        if indented {
            let expanded = match grammar {
                Some(g) => expand(text, g)?,
                None => text.to_owned(),
            };
            self.expanded = Some(expanded.clone());
            return self.sub_line(&Line::new(&expanded));
        }
        if let Some(g) = grammar
            && let Ok(expanded) = expand(text, g)
        {
            let line = Line::new(&expanded);
            if self.mode.takes_unindented(&line) {
                self.expanded = Some(expanded.clone());
                return self.sub_line(&line);
            }
        }
        self.mode = Mode::Global;
        let expanded = expand(text, Grammar::Global)?;
        self.expanded = Some(expanded.clone());
        self.global(&Line::new(&expanded))
    }

    /// A crypto command outside the model: an error, or skipped on request.
    fn unsupported(&mut self, line: &Line<'_>, words: usize) -> Res {
        match self.options.unsupported_crypto {
            UnsupportedCrypto::Skip => {
                self.skip(line.text, SkipReason::UnsupportedCrypto);
                Ok(())
            }
            _ => {
                let command = line
                    .text
                    .split_whitespace()
                    .take(words)
                    .collect::<Vec<_>>()
                    .join(" ");
                Err(ParseErrorKind::UnsupportedCommand { command })
            }
        }
    }

    /// An unindented command outside the model opens a block whose
    /// sub-lines are skipped with it.
    fn skip_block(&mut self, line: &Line<'_>, reason: SkipReason) {
        self.skip(line.text, reason);
        self.mode = Mode::Skipped(reason);
    }

    // ------------------------------------------------------------------
    // Global commands
    // ------------------------------------------------------------------

    fn global(&mut self, line: &Line<'_>) -> Res {
        let mut c = line.cursor();
        let Some(first) = line.first_keyword() else {
            return Ok(());
        };
        match first.as_str() {
            "end" => {
                c.next();
                c.end()?;
                self.ended = true;
                Ok(())
            }
            "exit" => Ok(()),
            "hostname" => {
                c.next();
                let name = c.word("a host name")?;
                c.end()?;
                name.clone_into(&mut self.config.hostname);
                Ok(())
            }
            "crypto" => {
                c.next();
                self.crypto(line, &mut c)
            }
            "access-list" => {
                c.next();
                self.numbered_acl(&mut c)
            }
            "ip" => match line.keyword_at(1).as_deref() {
                Some("access-list") => {
                    c.next();
                    c.next();
                    self.named_acl(line, &mut c)
                }
                Some("route") => {
                    c.next();
                    c.next();
                    self.route(&mut c)
                }
                Some("local") if line.keyword_at(2).as_deref() == Some("pool") => {
                    c.next();
                    c.next();
                    c.next();
                    self.ip_local_pool(&mut c)
                }
                _ => {
                    self.skip_block(line, SkipReason::OutsideSubset);
                    Ok(())
                }
            },
            "interface" => {
                c.next();
                self.interface(&mut c)
            }
            "aaa" => {
                c.next();
                self.aaa(line, &mut c)
            }
            "username" => {
                c.next();
                self.username(line, &mut c)
            }
            "no" => {
                c.next();
                self.no_global(line, &mut c)
            }
            _ => {
                self.skip_block(line, SkipReason::OutsideSubset);
                Ok(())
            }
        }
    }

    fn crypto(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        match line.keyword_at(1).as_deref() {
            Some("isakmp") => {
                c.next();
                match line.keyword_at(2).as_deref() {
                    Some("policy") => {
                        c.next();
                        let p = policy_priority(c)?;
                        c.end()?;
                        if self.config.isakmp.policy(p).is_none() {
                            self.config
                                .isakmp
                                .add_policy(IsakmpPolicy::with_ios_defaults(p));
                        }
                        self.record(Location::IsakmpPolicy(p));
                        self.mode = Mode::Policy(p);
                        Ok(())
                    }
                    Some("key") => {
                        c.next();
                        let (peer, key, no_xauth) = psk(c, true)?;
                        if let PskPeer::Address { address, mask } = peer {
                            self.record(Location::IsakmpKey { address, mask });
                        }
                        let key = key.ok_or(ParseErrorKind::Missing {
                            expected: "a pre-shared key",
                        })?;
                        self.config.isakmp.add_key(PskEntry {
                            peer,
                            key,
                            no_xauth,
                        });
                        Ok(())
                    }
                    Some("identity") => {
                        c.next();
                        let identity = match c
                            .keyword(&["address", "hostname", "dn"], "address, hostname or dn")?
                        {
                            "address" => IsakmpIdentity::Address,
                            "hostname" => IsakmpIdentity::Hostname,
                            _ => IsakmpIdentity::Dn,
                        };
                        c.end()?;
                        self.config.isakmp.identity = identity;
                        Ok(())
                    }
                    Some("keepalive") => {
                        c.next();
                        let k = keepalive(c)?;
                        self.config.isakmp.keepalive = Some(k);
                        Ok(())
                    }
                    Some("aggressive-mode") => {
                        c.next();
                        c.keyword(&["disable"], "disable")?;
                        c.end()?;
                        self.config.isakmp.aggressive_mode_disabled = true;
                        Ok(())
                    }
                    Some("nat") => {
                        c.next();
                        c.keyword(&["keepalive"], "keepalive")?;
                        let range = crate::config::IsakmpConfig::NAT_KEEPALIVE_RANGE;
                        let s = c.number_u16(
                            "a NAT keepalive interval in seconds",
                            *range.start(),
                            *range.end(),
                        )?;
                        c.end()?;
                        self.config.isakmp.nat_keepalive = Some(s);
                        Ok(())
                    }
                    Some("enable") => {
                        c.next();
                        c.end()?;
                        self.config.isakmp.enabled = true;
                        Ok(())
                    }
                    Some("client")
                        if line.keyword_at(3).as_deref() == Some("configuration")
                            && line.keyword_at(4).as_deref() == Some("group") =>
                    {
                        c.next();
                        c.next();
                        c.next();
                        let name = c.word("a group name")?;
                        c.end()?;
                        self.config.remote_access.group_mut(name);
                        self.record(Location::ClientGroup(name.to_owned()));
                        self.mode = Mode::ClientGroup(name.to_owned());
                        Ok(())
                    }
                    Some("xauth") if line.keyword_at(3).as_deref() == Some("timeout") => {
                        c.next();
                        c.next();
                        let range = RemoteAccess::XAUTH_TIMEOUT_RANGE;
                        let s = c.number(
                            "an XAUTH timeout in seconds",
                            u64::from(*range.start()),
                            u64::from(*range.end()),
                        )?;
                        c.end()?;
                        self.config.remote_access.xauth_timeout =
                            u8::try_from(s).unwrap_or(RemoteAccess::DEFAULT_XAUTH_TIMEOUT);
                        Ok(())
                    }
                    _ => self.unsupported_block(line, 3),
                }
            }
            Some("ipsec") => {
                c.next();
                match line.keyword_at(2).as_deref() {
                    Some("transform-set") => {
                        c.next();
                        self.transform_set(c)
                    }
                    Some("nat-transparency") => {
                        c.next();
                        c.keyword(&["udp-encapsulation"], "udp-encapsulation")?;
                        c.end()?;
                        self.config.nat_transparency = true;
                        Ok(())
                    }
                    Some("security-association")
                        if line.keyword_at(3).as_deref() == Some("lifetime") =>
                    {
                        c.next();
                        c.next();
                        match sa_lifetime(c)? {
                            LifetimeValue::Seconds(s) => self.config.sa_lifetime.seconds = s,
                            LifetimeValue::Kilobytes(k) => self.config.sa_lifetime.kilobytes = k,
                        }
                        Ok(())
                    }
                    _ => self.unsupported_block(line, 4),
                }
            }
            Some("dynamic-map") => {
                c.next();
                let name = c.word("a dynamic map name")?;
                let seq = map_seq(c)?;
                c.end()?;
                let map = self.config.dynamic_map_mut(name);
                if map.entry(seq).is_none() {
                    map.insert(seq, MapParams::default())
                        .map_err(|_| seq_range_error(seq))?;
                }
                self.record(Location::DynamicMapEntry {
                    map: name.to_owned(),
                    seq,
                });
                self.mode = Mode::DynamicEntry(name.to_owned(), seq);
                Ok(())
            }
            Some("map") => {
                c.next();
                self.crypto_map(line, c)
            }
            Some("pki" | "ca") => self.pki(line, c),
            Some("keyring") => {
                c.next();
                let name = c.word("a keyring name")?;
                if !c.at_end() {
                    // `crypto keyring NAME vrf VRF`: VRFs are outside the
                    // model.
                    return self.unsupported_block(line, 2);
                }
                self.config.keyring_mut(name);
                self.record(Location::Keyring(name.to_owned()));
                self.mode = Mode::Keyring(name.to_owned());
                Ok(())
            }
            Some("key") => {
                self.skip_block(line, SkipReason::KeyMaterial);
                Ok(())
            }
            _ => self.unsupported_block(line, 2),
        }
    }

    fn unsupported_block(&mut self, line: &Line<'_>, words: usize) -> Res {
        self.unsupported(line, words)?;
        self.mode = Mode::Skipped(SkipReason::UnsupportedCrypto);
        Ok(())
    }

    fn transform_set(&mut self, c: &mut Cursor<'_, '_>) -> Res {
        let name = c.word("a transform set name")?;
        let mut transforms = Vec::new();
        while let Some(token) = c.next() {
            let t = Transform::from_keyword(token).ok_or_else(|| ParseErrorKind::Unexpected {
                expected: "a transform (esp-des, esp-3des, esp-aes, esp-md5-hmac, esp-sha-hmac, ah-sha-hmac, ...)",
                found: token.to_owned(),
            })?;
            let t = match c.peek().and_then(parse_decimal) {
                Some(bits) if t.takes_key_size() => {
                    c.next();
                    let size = u32::try_from(bits)
                        .ok()
                        .and_then(AesKeySize::from_bits)
                        .ok_or_else(|| ParseErrorKind::Unexpected {
                            expected: "a key size of 128, 192 or 256",
                            found: bits.to_string(),
                        })?;
                    t.with_key_size(size)
                }
                _ => t,
            };
            transforms.push(t);
        }
        match self.config.transform_set_mut(name) {
            Some(existing) => existing.set_transforms(&transforms)?,
            None => {
                self.config
                    .add_transform_set(TransformSet::new(name, &transforms)?);
            }
        }
        self.record(Location::TransformSet(name.to_owned()));
        self.mode = Mode::TransformSet(name.to_owned());
        Ok(())
    }

    fn crypto_map(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let name = c.word("a crypto map name")?;
        if c.peek_is("client") || c.peek_is("isakmp") {
            return self.map_client(name, c, false);
        }
        if c.eat("local-address") {
            let interface = interface_name(c)?;
            self.config.crypto_map_mut(name).local_address = Some(interface);
            self.record(Location::CryptoMapLocalAddress(name.to_owned()));
            return Ok(());
        }
        if c.at_end() {
            return Err(ParseErrorKind::Missing {
                expected: "a sequence number or local-address",
            });
        }
        if c.peek().and_then(parse_decimal).is_none() {
            return self.unsupported_block(line, 4);
        }
        let seq = map_seq(c)?;
        if c.peek_is("ipsec-manual") || c.peek_is("gdoi") {
            return self.unsupported_block(line, 5);
        }
        c.eat("ipsec-isakmp");
        let location = Location::CryptoMapEntry {
            map: name.to_owned(),
            seq,
        };
        if c.eat("dynamic") {
            let template = c.word("a dynamic map name")?;
            let discover = c.eat("discover");
            c.end()?;
            let map = self.config.crypto_map_mut(name);
            match map.entry(seq) {
                Some(CryptoMapEntry::IpsecIsakmp(_)) => {
                    return Err(ParseErrorKind::EntryKindConflict {
                        map: name.to_owned(),
                        seq,
                        existing: "a static ipsec-isakmp entry",
                    });
                }
                _ => {
                    map.insert(
                        seq,
                        CryptoMapEntry::Dynamic {
                            template: template.to_owned(),
                            discover,
                        },
                    )
                    .map_err(|_| seq_range_error(seq))?;
                }
            }
            self.record(location);
            self.mode = Mode::MapDynamicRef(name.to_owned(), seq);
            return Ok(());
        }
        if let Some(t) = c.peek()
            && !t.eq_ignore_ascii_case("ipsec-isakmp")
        {
            return self.unsupported_block(line, 5);
        }
        c.end()?;
        let map = self.config.crypto_map_mut(name);
        match map.entry(seq) {
            Some(CryptoMapEntry::IpsecIsakmp(_)) => {}
            Some(CryptoMapEntry::Dynamic { .. } | CryptoMapEntry::Derived(_)) => {
                return Err(ParseErrorKind::EntryKindConflict {
                    map: name.to_owned(),
                    seq,
                    existing: "a reference to a dynamic map",
                });
            }
            None => {
                map.insert(seq, CryptoMapEntry::IpsecIsakmp(MapParams::default()))
                    .map_err(|_| seq_range_error(seq))?;
            }
        }
        self.record(location);
        self.mode = Mode::MapEntry(name.to_owned(), seq);
        Ok(())
    }

    fn numbered_acl(&mut self, c: &mut Cursor<'_, '_>) -> Res {
        let token = c.word("an access list number")?;
        let number = match AclName::parse(token)? {
            AclName::Numbered(n) => n,
            AclName::Named(_) => {
                return Err(ParseErrorKind::Unexpected {
                    expected: "an access list number",
                    found: token.to_owned(),
                });
            }
        };
        let name = AclName::Numbered(number);
        let kind = AclName::kind_of_number(number).unwrap_or(AclKind::Extended);
        let item = if c.eat("remark") {
            AclItem::Remark(c.rest().unwrap_or("").to_owned())
        } else if c.peek_is("dynamic") {
            return Err(ParseErrorKind::UnsupportedKeyword {
                keyword: "dynamic".to_owned(),
                context: "access-list (lock-and-key entries)",
            });
        } else {
            AclItem::Rule(parse_rule(c, kind)?)
        };
        let acl = self.acl_or_create(name.clone(), kind)?;
        let seq = acl.push(item)?;
        self.record(Location::AccessListEntry { acl: name, seq });
        Ok(())
    }

    fn acl_or_create(&mut self, name: AclName, kind: AclKind) -> Res<&mut AccessList> {
        match self.config.access_list(&name) {
            Some(existing) if existing.kind() != kind => {
                return Err(ParseErrorKind::AccessListKindConflict {
                    name,
                    existing: existing.kind(),
                });
            }
            Some(_) => {}
            None => {
                self.config
                    .add_access_list(AccessList::new(name.clone(), kind)?);
            }
        }
        self.config
            .access_list_mut(&name)
            .ok_or(ParseErrorKind::Missing {
                expected: "an access list",
            })
    }

    fn named_acl(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let kind = match line.keyword_at(2).as_deref() {
            Some("extended") => AclKind::Extended,
            Some("standard") => AclKind::Standard,
            _ => {
                self.skip_block(line, SkipReason::OutsideSubset);
                return Ok(());
            }
        };
        c.next();
        let name = AclName::parse(c.word("an access list name")?)?;
        c.end()?;
        self.acl_or_create(name.clone(), kind)?;
        self.mode = Mode::NamedAcl(name);
        Ok(())
    }

    fn route(&mut self, c: &mut Cursor<'_, '_>) -> Res {
        let (prefix, mask) = prefix_and_mask(c)?;
        let next_hop = if let Some(hop) = c.peek_ipv4() {
            c.next();
            NextHop::Address(hop)
        } else if c.peek_is("vrf") {
            return Err(ParseErrorKind::UnsupportedKeyword {
                keyword: "vrf".to_owned(),
                context: "ip route",
            });
        } else {
            let interface = InterfaceName::new(c.word("a next-hop address or an interface")?);
            let address = c.peek_ipv4();
            if address.is_some() {
                c.next();
            }
            NextHop::Interface { interface, address }
        };
        let mut route = StaticRoute::new(prefix, mask, next_hop);
        let mut distance_seen = false;
        while let Some(token) = c.peek() {
            if let Some(d) = parse_decimal(token) {
                if distance_seen {
                    return Err(ParseErrorKind::Trailing {
                        found: token.to_owned(),
                    });
                }
                route.distance =
                    u8::try_from(d)
                        .ok()
                        .filter(|&d| d >= 1)
                        .ok_or(ParseErrorKind::OutOfRange {
                            what: "distance",
                            value: d,
                            min: 1,
                            max: 255,
                        })?;
                distance_seen = true;
                c.next();
            } else if c.eat("name") {
                route.name = Some(c.word("a route name")?.to_owned());
            } else if c.eat("permanent") {
                route.permanent = true;
            } else if c.eat("tag") {
                route.tag = Some(c.number_u32("a route tag", 1, u32::MAX)?);
            } else {
                return Err(ParseErrorKind::Unexpected {
                    expected: "a distance, name, permanent or tag",
                    found: token.to_owned(),
                });
            }
        }
        self.record(Location::Route { prefix, mask });
        self.config.routes.push(route);
        Ok(())
    }

    fn interface(&mut self, c: &mut Cursor<'_, '_>) -> Res {
        let name = interface_name(c)?;
        if self.config.interface(name.as_str()).is_none() {
            self.config.add_interface(Interface::new(name.clone()));
        }
        self.record(Location::Interface(name.clone()));
        self.mode = Mode::Interface(name);
        Ok(())
    }

    fn no_global(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let kw = |i| line.keyword_at(i);
        match kw(1).as_deref() {
            Some("hostname") => {
                c.next();
                Config::DEFAULT_HOSTNAME.clone_into(&mut self.config.hostname);
                Ok(())
            }
            Some("crypto") => {
                c.next();
                self.no_crypto(line, c)
            }
            Some("access-list") => {
                c.next();
                let name = AclName::parse(c.word("an access list number")?)?;
                c.end()?;
                self.config.remove_access_list(&name);
                Ok(())
            }
            Some("ip") if matches!(kw(2).as_deref(), Some("access-list")) => match kw(3).as_deref()
            {
                Some("extended" | "standard") => {
                    c.next();
                    c.next();
                    c.next();
                    let name = AclName::parse(c.word("an access list name")?)?;
                    c.end()?;
                    self.config.remove_access_list(&name);
                    Ok(())
                }
                _ => {
                    self.skip_block(line, SkipReason::OutsideSubset);
                    Ok(())
                }
            },
            Some("ip") if matches!(kw(2).as_deref(), Some("route")) => {
                c.next();
                c.next();
                let (prefix, mask) = prefix_and_mask(c)?;
                let hop = c.peek_ipv4();
                self.config.routes.retain(|r| {
                    let same_hop = match (hop, &r.next_hop) {
                        (None, _) => true,
                        (Some(h), NextHop::Address(a)) => h == *a,
                        (Some(h), NextHop::Interface { address, .. }) => Some(h) == *address,
                    };
                    !(r.prefix == prefix && r.mask == mask && same_hop)
                });
                Ok(())
            }
            Some("interface") => {
                c.next();
                let name = interface_name(c)?;
                self.config.remove_interface(name.as_str());
                Ok(())
            }
            Some("ip") if kw(2).as_deref() == Some("local") && kw(3).as_deref() == Some("pool") => {
                c.next();
                c.next();
                c.next();
                self.no_ip_local_pool(c)
            }
            Some("username") => {
                c.next();
                let name = c.word("a user name")?;
                self.config.remote_access.remove_user(name);
                Ok(())
            }
            Some("aaa") => {
                c.next();
                self.no_aaa(line, c)
            }
            _ => {
                self.skip_block(line, SkipReason::OutsideSubset);
                Ok(())
            }
        }
    }

    fn no_crypto(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let kw = |i| line.keyword_at(i);
        match (kw(2).as_deref(), kw(3).as_deref()) {
            (Some("isakmp"), Some("policy")) => {
                c.next();
                c.next();
                let p = policy_priority(c)?;
                c.end()?;
                self.config.isakmp.remove_policy(p);
                Ok(())
            }
            (Some("isakmp"), Some("key")) => {
                c.next();
                c.next();
                let (peer, _, _) = psk(c, false)?;
                self.config.isakmp.remove_key(&peer);
                Ok(())
            }
            (Some("keyring"), _) => {
                c.next();
                let name = c.word("a keyring name")?;
                c.end()?;
                self.config.remove_keyring(name);
                Ok(())
            }
            (Some("isakmp"), Some("identity")) => {
                self.config.isakmp.identity = IsakmpIdentity::Address;
                Ok(())
            }
            (Some("isakmp"), Some("keepalive")) => {
                self.config.isakmp.keepalive = None;
                Ok(())
            }
            (Some("isakmp"), Some("nat")) => {
                self.config.isakmp.nat_keepalive = None;
                Ok(())
            }
            (Some("isakmp"), Some("aggressive-mode")) => {
                self.config.isakmp.aggressive_mode_disabled = false;
                Ok(())
            }
            (Some("ipsec"), Some("nat-transparency")) => {
                c.next();
                c.next();
                c.keyword(&["udp-encapsulation"], "udp-encapsulation")?;
                c.end()?;
                self.config.nat_transparency = false;
                Ok(())
            }
            (Some("isakmp"), Some("enable")) => {
                self.config.isakmp.enabled = false;
                Ok(())
            }
            (Some("isakmp"), Some("client"))
                if kw(4).as_deref() == Some("configuration")
                    && kw(5).as_deref() == Some("group") =>
            {
                for _ in 0..4 {
                    c.next();
                }
                let name = c.word("a group name")?;
                c.end()?;
                self.config.remote_access.remove_group(name);
                Ok(())
            }
            (Some("isakmp"), Some("xauth")) if kw(4).as_deref() == Some("timeout") => {
                self.config.remote_access.xauth_timeout = RemoteAccess::DEFAULT_XAUTH_TIMEOUT;
                Ok(())
            }
            (Some("ipsec"), Some("transform-set")) => {
                c.next();
                c.next();
                let name = c.word("a transform set name")?;
                self.config.remove_transform_set(name);
                Ok(())
            }
            (Some("ipsec"), Some("security-association"))
                if kw(4).as_deref() == Some("lifetime") =>
            {
                match kw(5).as_deref() {
                    Some("seconds") => {
                        self.config.sa_lifetime.seconds = SaLifetime::DEFAULT.seconds
                    }
                    Some("kilobytes") => {
                        self.config.sa_lifetime.kilobytes = SaLifetime::DEFAULT.kilobytes
                    }
                    _ => {
                        return Err(match line.text.split_whitespace().nth(5) {
                            None => ParseErrorKind::Missing {
                                expected: "seconds or kilobytes",
                            },
                            Some(t) => ParseErrorKind::Unexpected {
                                expected: "seconds or kilobytes",
                                found: t.to_owned(),
                            },
                        });
                    }
                }
                Ok(())
            }
            (Some("dynamic-map"), _) => {
                c.next();
                let name = c.word("a dynamic map name")?;
                if c.at_end() {
                    self.config.remove_dynamic_map(name);
                } else {
                    let seq = map_seq(c)?;
                    let map = self.config.dynamic_map_mut(name);
                    map.remove(seq);
                    if map.is_empty() {
                        self.config.remove_dynamic_map(name);
                    }
                }
                Ok(())
            }
            (Some("map"), _) => {
                c.next();
                let name = c.word("a crypto map name")?;
                if c.at_end() {
                    self.config.remove_crypto_map(name);
                    self.config.remote_access.remove_map(name);
                } else if c.peek_is("client") || c.peek_is("isakmp") {
                    return self.map_client(name, c, true);
                } else if c.eat("local-address") {
                    if let Some(map) = self.config.crypto_map(name) {
                        if map.is_empty() {
                            self.config.remove_crypto_map(name);
                        } else {
                            self.config.crypto_map_mut(name).local_address = None;
                        }
                    }
                } else {
                    let seq = map_seq(c)?;
                    if self.config.crypto_map(name).is_some() {
                        let map = self.config.crypto_map_mut(name);
                        map.remove(seq);
                        if map.is_empty() && map.local_address.is_none() {
                            self.config.remove_crypto_map(name);
                        }
                    }
                }
                Ok(())
            }
            (Some("pki" | "ca"), Some("trustpoint")) => {
                c.next();
                c.next();
                let name = c.word("a trustpoint name")?;
                c.end()?;
                self.config.pki.remove_trustpoint(name);
                Ok(())
            }
            (Some("pki" | "ca"), Some("certificate")) if kw(4).as_deref() == Some("chain") => {
                c.next();
                c.next();
                c.next();
                let name = c.word("a trustpoint name")?;
                c.end()?;
                self.config.pki.remove_chain(name);
                Ok(())
            }
            (Some("pki" | "ca" | "key"), _) => {
                self.skip(line.text, SkipReason::KeyMaterial);
                Ok(())
            }
            _ => self.unsupported(line, 4),
        }
    }

    // ------------------------------------------------------------------
    // Sub-mode commands
    // ------------------------------------------------------------------

    fn sub_line(&mut self, line: &Line<'_>) -> Res {
        if line.first_keyword().as_deref() == Some("exit") {
            self.mode = Mode::Global;
            return Ok(());
        }
        match self.mode.clone() {
            Mode::Global => {
                self.skip(line.text, SkipReason::OrphanSubLine);
                Ok(())
            }
            Mode::Skipped(reason) => {
                self.skip(line.text, reason);
                Ok(())
            }
            Mode::Policy(p) => self.policy_sub(line, p),
            Mode::TransformSet(name) => self.transform_set_sub(line, &name),
            Mode::DynamicEntry(map, seq) => {
                let mut params = self
                    .config
                    .dynamic_map(&map)
                    .and_then(|m| m.entry(seq))
                    .cloned()
                    .unwrap_or_default();
                self.params_sub(line, &mut params)?;
                if let Some(slot) = self.config.dynamic_map_mut(&map).entry_mut(seq) {
                    *slot = params;
                }
                Ok(())
            }
            Mode::MapEntry(map, seq) => {
                let mut params = match self.config.crypto_map(&map).and_then(|m| m.entry(seq)) {
                    Some(CryptoMapEntry::IpsecIsakmp(p)) => p.clone(),
                    _ => MapParams::default(),
                };
                self.params_sub(line, &mut params)?;
                if let Some(slot) = self.config.crypto_map_mut(&map).entry_mut(seq) {
                    *slot = CryptoMapEntry::IpsecIsakmp(params);
                }
                Ok(())
            }
            Mode::MapDynamicRef(map, seq) => {
                Err(ParseErrorKind::DynamicReferenceSubcommand { map, seq })
            }
            Mode::Interface(name) => self.interface_sub(line, &name),
            Mode::NamedAcl(name) => self.named_acl_sub(line, name),
            Mode::ClientGroup(name) => self.group_sub(line, &name),
            Mode::Trustpoint(name) => self.trustpoint_sub(line, &name),
            Mode::CertificateChain(name) => self.chain_sub(line, &name),
            Mode::Keyring(name) => self.keyring_sub(line, &name),
        }
    }

    /// A line of `crypto keyring NAME`: `pre-shared-key address A [MASK]
    /// key KEY`, `pre-shared-key hostname H key KEY`, `local-address A |
    /// INTERFACE`, `description TEXT` (and their `no` forms); the others
    /// (`rsa-pubkey` ...) are skipped.
    fn keyring_sub(&mut self, line: &Line<'_>, name: &str) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        let keyword = c.next().map(str::to_ascii_lowercase);
        match keyword.as_deref() {
            Some("pre-shared-key") => {
                let (peer, key) = keyring_psk(&mut c, !negate)?;
                let ring = self.config.keyring_mut(name);
                match key {
                    Some(key) if !negate => {
                        ring.add_key(PskEntry {
                            peer,
                            key,
                            no_xauth: false,
                        });
                    }
                    _ => {
                        ring.remove_key(&peer);
                    }
                }
            }
            Some("local-address") => {
                let local = if negate {
                    None
                } else {
                    let local = match c.peek_ipv4() {
                        Some(a) => {
                            c.next();
                            KeyringLocalAddress::Address(a)
                        }
                        None => KeyringLocalAddress::Interface(
                            c.word("a local address or interface")?.to_owned(),
                        ),
                    };
                    c.end()?;
                    Some(local)
                };
                self.config.keyring_mut(name).local_address = local;
            }
            Some("description") => {
                let text = if negate {
                    None
                } else {
                    c.rest().map(str::to_owned)
                };
                self.config.keyring_mut(name).description = text;
            }
            _ => self.skip(line.text, SkipReason::NotModelled),
        }
        Ok(())
    }

    fn policy_sub(&mut self, line: &Line<'_>, priority: u16) -> Res {
        let mut policy = self
            .config
            .isakmp
            .policy(priority)
            .copied()
            .unwrap_or_else(|| IsakmpPolicy::with_ios_defaults(priority));
        let mut c = line.cursor();
        let negate = c.eat("no");
        let Some(kw) = c.next().map(str::to_ascii_lowercase) else {
            return Ok(());
        };
        let defaults = IsakmpPolicy::with_ios_defaults(priority);
        match kw.as_str() {
            "encryption" if negate => policy.encryption = defaults.encryption,
            "encryption" => {
                policy.encryption = match c.keyword(&["des", "3des", "aes"], "des, 3des or aes")? {
                    "des" => IsakmpEncryption::Des,
                    "3des" => IsakmpEncryption::TripleDes,
                    _ => IsakmpEncryption::Aes(aes_size(&mut c)?),
                }
            }
            "hash" if negate => policy.hash = defaults.hash,
            "hash" => {
                policy.hash = match c.keyword(
                    &["sha", "md5", "sha256", "sha384", "sha512"],
                    "sha, md5, sha256, sha384 or sha512",
                )? {
                    "sha" => IsakmpHash::Sha,
                    "md5" => IsakmpHash::Md5,
                    "sha256" => IsakmpHash::Sha256,
                    "sha384" => IsakmpHash::Sha384,
                    _ => IsakmpHash::Sha512,
                }
            }
            "authentication" if negate => policy.authentication = defaults.authentication,
            "authentication" => {
                policy.authentication = match c.keyword(
                    &["pre-share", "rsa-sig", "rsa-encr", "ecdsa-sig"],
                    "pre-share, rsa-sig, rsa-encr or ecdsa-sig",
                )? {
                    "pre-share" => IsakmpAuthentication::PreShare,
                    "rsa-sig" => IsakmpAuthentication::RsaSig,
                    "ecdsa-sig" => IsakmpAuthentication::EcdsaSig,
                    _ => IsakmpAuthentication::RsaEncr,
                }
            }
            "group" if negate => policy.group = defaults.group,
            "group" => {
                const GROUP: &str = "a Diffie-Hellman group (1, 2, 5, 14, 15 or 16)";
                let token = c.word(GROUP)?;
                policy.group = parse_decimal(token)
                    .and_then(|n| u32::try_from(n).ok())
                    .and_then(DhGroup::from_number)
                    .ok_or_else(|| ParseErrorKind::Unexpected {
                        expected: GROUP,
                        found: token.to_owned(),
                    })?;
            }
            "lifetime" if negate => policy.lifetime = defaults.lifetime,
            "lifetime" => {
                let range = IsakmpPolicy::LIFETIME_RANGE;
                policy.lifetime = c.number_u32(
                    "an ISAKMP lifetime in seconds",
                    *range.start(),
                    *range.end(),
                )?;
            }
            _ => return self.unsupported(line, 2),
        }
        if !negate {
            c.end()?;
        }
        self.config.isakmp.add_policy(policy);
        Ok(())
    }

    fn transform_set_sub(&mut self, line: &Line<'_>, name: &str) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        if !c.eat("mode") {
            return self.unsupported(line, 2);
        }
        let mode = if negate {
            EncapsulationMode::Tunnel
        } else {
            let mode = match c.keyword(&["tunnel", "transport"], "tunnel or transport")? {
                "tunnel" => EncapsulationMode::Tunnel,
                _ => EncapsulationMode::Transport,
            };
            if c.peek_is("require") {
                return self.unsupported(line, 4);
            }
            c.end()?;
            mode
        };
        if let Some(set) = self.config.transform_set_mut(name) {
            set.mode = mode;
        }
        Ok(())
    }

    fn params_sub(&mut self, line: &Line<'_>, params: &mut MapParams) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        let kw1 = c.peek().map(str::to_ascii_lowercase);
        let kw2 = c.peek2().map(str::to_ascii_lowercase);
        match (kw1.as_deref(), kw2.as_deref()) {
            (Some("set"), Some("peer")) => {
                c.next();
                c.next();
                if negate {
                    match c.peek() {
                        None => params.peers.clear(),
                        Some(_) => {
                            let peer = c.ipv4("a peer address")?;
                            params.peers.retain(|&p| p != peer);
                        }
                    }
                } else {
                    let peer = c.ipv4("a peer address (host name peers are not supported)")?;
                    if c.peek_is("default") {
                        return self.unsupported(line, 4);
                    }
                    c.end()?;
                    if !params.peers.contains(&peer) {
                        params.peers.push(peer);
                    }
                }
            }
            (Some("set"), Some("transform-set")) => {
                c.next();
                c.next();
                if negate {
                    params.transform_sets.clear();
                } else {
                    let mut sets = Vec::new();
                    while let Some(name) = c.next() {
                        sets.push(name.to_owned());
                    }
                    if sets.is_empty() {
                        return Err(ParseErrorKind::Missing {
                            expected: "a transform set name",
                        });
                    }
                    if sets.len() > MapParams::MAX_TRANSFORM_SETS {
                        return Err(ParseErrorKind::OutOfRange {
                            what: "number of transform sets",
                            value: u64::try_from(sets.len()).unwrap_or(u64::MAX),
                            min: 1,
                            max: 6,
                        });
                    }
                    params.transform_sets = sets;
                }
            }
            (Some("match"), Some("address")) => {
                c.next();
                c.next();
                if negate {
                    params.match_address = None;
                } else {
                    let name = AclName::parse(c.word("an access list number or name")?)?;
                    c.end()?;
                    params.match_address = Some(name);
                }
            }
            (Some("set"), Some("pfs")) => {
                c.next();
                c.next();
                if negate {
                    params.pfs = None;
                } else {
                    const PFS: &str = "group1, group2, group5, group14, group15 or group16";
                    let group = match c.next() {
                        None => DhGroup::Group1,
                        Some(token) => token
                            .to_ascii_lowercase()
                            .strip_prefix("group")
                            .and_then(parse_decimal)
                            .and_then(|n| u32::try_from(n).ok())
                            .and_then(DhGroup::from_number)
                            .ok_or_else(|| ParseErrorKind::Unexpected {
                                expected: PFS,
                                found: token.to_owned(),
                            })?,
                    };
                    c.end()?;
                    params.pfs = Some(group);
                }
            }
            (Some("set"), Some("security-association")) => {
                c.next();
                c.next();
                if !c.eat("lifetime") {
                    return self.unsupported(line, 4);
                }
                if negate {
                    match c.keyword(&["seconds", "kilobytes"], "seconds or kilobytes")? {
                        "seconds" => params.lifetime.seconds = None,
                        _ => params.lifetime.kilobytes = None,
                    }
                } else {
                    match sa_lifetime(&mut c)? {
                        LifetimeValue::Seconds(s) => params.lifetime.seconds = Some(s),
                        LifetimeValue::Kilobytes(k) => params.lifetime.kilobytes = Some(k),
                    }
                }
            }
            (Some("description"), _) => {
                c.next();
                params.description = if negate {
                    None
                } else {
                    c.rest().map(str::to_owned)
                };
            }
            _ => return self.unsupported(line, 3),
        }
        Ok(())
    }

    fn interface_sub(&mut self, line: &Line<'_>, name: &InterfaceName) -> Res {
        enum Change {
            NoAddress,
            Address(InterfaceAddress, bool),
            CryptoMap(Option<String>),
            Shutdown(bool),
            Description(Option<String>),
            Skip,
        }
        let mut c = line.cursor();
        let negate = c.eat("no");
        let kw1 = c.peek().map(str::to_ascii_lowercase);
        let kw2 = c.peek2().map(str::to_ascii_lowercase);
        let change = match (kw1.as_deref(), kw2.as_deref()) {
            (Some("ip"), Some("address")) => {
                c.next();
                c.next();
                if negate {
                    Change::NoAddress
                } else if let Some(address) = c.peek_ipv4() {
                    c.next();
                    let mask = c.ipv4("a subnet mask")?;
                    let secondary = c.eat("secondary");
                    c.end()?;
                    Change::Address(interface_address(address, mask)?, secondary)
                } else {
                    // `ip address dhcp`, `negotiated`, ...: no static address.
                    Change::Skip
                }
            }
            (Some("crypto"), Some("map")) => {
                c.next();
                c.next();
                if negate {
                    Change::CryptoMap(None)
                } else {
                    let map = c.word("a crypto map name")?;
                    c.end()?;
                    Change::CryptoMap(Some(map.to_owned()))
                }
            }
            (Some("shutdown"), _) => {
                c.next();
                c.end()?;
                Change::Shutdown(!negate)
            }
            (Some("description"), _) => {
                c.next();
                Change::Description(if negate {
                    None
                } else {
                    c.rest().map(str::to_owned)
                })
            }
            _ => Change::Skip,
        };
        if let Change::Skip = change {
            self.skip(line.text, SkipReason::OutsideSubset);
            return Ok(());
        }
        let Some(iface) = self.config.interface_mut(name.as_str()) else {
            return Ok(());
        };
        match change {
            Change::NoAddress => {
                iface.address = None;
                iface.secondary.clear();
            }
            Change::Address(a, true) => {
                if !iface.secondary.contains(&a) {
                    iface.secondary.push(a);
                }
            }
            Change::Address(a, false) => iface.address = Some(a),
            Change::CryptoMap(map) => iface.crypto_map = map,
            Change::Shutdown(down) => iface.shutdown = down,
            Change::Description(text) => iface.description = text,
            Change::Skip => {}
        }
        Ok(())
    }

    fn named_acl_sub(&mut self, line: &Line<'_>, name: AclName) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        let kind = self
            .config
            .access_list(&name)
            .map_or(AclKind::Extended, AccessList::kind);
        let seq = match c.peek().and_then(parse_decimal) {
            Some(s) => {
                c.next();
                Some(u32::try_from(s).unwrap_or(u32::MAX))
            }
            None => None,
        };
        if negate && seq.is_some() {
            c.end()?;
            if let (Some(acl), Some(seq)) = (self.config.access_list_mut(&name), seq) {
                acl.remove(seq);
            }
            return Ok(());
        }
        let item = if c.eat("remark") {
            AclItem::Remark(c.rest().unwrap_or("").to_owned())
        } else if c.peek_is("permit") || c.peek_is("deny") {
            AclItem::Rule(parse_rule(&mut c, kind)?)
        } else {
            return match c.peek() {
                Some(t @ ("dynamic" | "evaluate")) => Err(ParseErrorKind::UnsupportedKeyword {
                    keyword: t.to_owned(),
                    context: "an access list",
                }),
                Some(t) => Err(ParseErrorKind::Unexpected {
                    expected: "permit, deny, remark or a sequence number",
                    found: t.to_owned(),
                }),
                None => Err(ParseErrorKind::Missing {
                    expected: "permit, deny or remark",
                }),
            };
        };
        let Some(acl) = self.config.access_list_mut(&name) else {
            return Ok(());
        };
        if negate {
            acl.remove_item(&item);
            return Ok(());
        }
        let seq = match seq {
            Some(s) => {
                acl.insert(s, item)?;
                s
            }
            None => acl.push(item)?,
        };
        self.record(Location::AccessListEntry { acl: name, seq });
        Ok(())
    }
}

// ----------------------------------------------------------------------
// Remote access (Easy VPN server)
// ----------------------------------------------------------------------

/// The client group sub-mode commands of the model.
const GROUP_COMMANDS: [&str; 14] = [
    "key",
    "dns",
    "wins",
    "domain",
    "pool",
    "acl",
    "save-password",
    "include-local-lan",
    "pfs",
    "banner",
    "backup-gateway",
    "max-users",
    "firewall",
    "exit",
];

/// The longest configuration line, in bytes (IOS's own limit is lower).
const MAX_LINE_LEN: usize = 4096;

/// The longest `username` password or secret, in bytes.
const MAX_PASSWORD_LEN: usize = 128;

/// The delimiter IOS shows banners with (`show running-config` prints the
/// ETX character as `^C`).
const BANNER_DELIMITER: &str = "^C";

impl Parser<'_> {
    /// `aaa new-model`, `aaa authentication login LIST local`, `aaa
    /// authorization network LIST local`; other `aaa` commands are outside
    /// the subset, other methods are not supported.
    fn aaa(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let list_kind = match (line.keyword_at(1).as_deref(), line.keyword_at(2).as_deref()) {
            (Some("new-model"), _) => {
                c.next();
                c.end()?;
                self.config.remote_access.aaa_new_model = true;
                return Ok(());
            }
            (Some("authentication"), Some("login")) => true,
            (Some("authorization"), Some("network")) => false,
            _ => {
                self.skip_block(line, SkipReason::OutsideSubset);
                return Ok(());
            }
        };
        c.next();
        c.next();
        let list = c.word("a method list name")?;
        c.word("a method (local)")?;
        // Only the router's own users and groups: a list that asks a
        // server (or falls back to one) would decide differently.
        if line.keyword_at(4).as_deref() != Some("local") || !c.at_end() {
            return self.unsupported(line, 5);
        }
        let ra = &mut self.config.remote_access;
        if list_kind {
            ra.add_authentication_list(list);
            self.record(Location::AaaLogin(list.to_owned()));
        } else {
            ra.add_authorization_list(list);
            self.record(Location::AaaNetwork(list.to_owned()));
        }
        Ok(())
    }

    fn no_aaa(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let ra = &mut self.config.remote_access;
        match (line.keyword_at(2).as_deref(), line.keyword_at(3).as_deref()) {
            (Some("new-model"), _) => {
                ra.aaa_new_model = false;
                Ok(())
            }
            (Some("authentication"), Some("login")) => {
                c.next();
                c.next();
                ra.remove_authentication_list(c.word("a method list name")?);
                Ok(())
            }
            (Some("authorization"), Some("network")) => {
                c.next();
                c.next();
                ra.remove_authorization_list(c.word("a method list name")?);
                Ok(())
            }
            _ => {
                self.skip_block(line, SkipReason::OutsideSubset);
                Ok(())
            }
        }
    }

    /// `username NAME [privilege N] password [0|7] TEXT` or `... secret
    /// [0|5] TEXT`; the text is the rest of the line (IOS allows blanks
    /// in a password). Other forms (`nopassword`, `autocommand`, later
    /// IOS's secret types) are outside the subset: such a user has no
    /// password XAUTH could check.
    fn username(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        let name = c.word("a user name")?;
        let mut privilege = None;
        if c.eat("privilege") {
            let range = LocalUser::PRIVILEGE_RANGE;
            let p = c.number(
                "a privilege level",
                u64::from(*range.start()),
                u64::from(*range.end()),
            )?;
            privilege = u8::try_from(p).ok();
        }
        let secret = if c.eat("secret") {
            true
        } else if c.eat("password") {
            false
        } else {
            self.skip(line.text, SkipReason::OutsideSubset);
            return Ok(());
        };
        let typed = c
            .peek()
            .is_some_and(|t| t.len() == 1 && t.bytes().all(|b| b.is_ascii_digit()))
            && c.peek2().is_some();
        let kind = if typed { c.next() } else { Some("0") };
        let text = c.rest().ok_or(ParseErrorKind::Missing {
            expected: "a password",
        })?;
        if text.len() > MAX_PASSWORD_LEN {
            return Err(ParseErrorKind::OutOfRange {
                what: "password length",
                value: u64::try_from(text.len()).unwrap_or(u64::MAX),
                min: 1,
                max: MAX_PASSWORD_LEN as u64,
            });
        }
        let text = SecretText::new(text.as_bytes());
        let credential = match (secret, kind) {
            (false, Some("0")) => Credential::Password(text),
            (false, Some("7")) => Credential::PasswordType7(text),
            (true, Some("0")) => Credential::SecretClear(text),
            (true, Some("5")) => Credential::SecretMd5(text),
            // secret 4, 8, 9 (later IOS), password 5, ...: not modelled.
            _ => {
                self.skip(line.text, SkipReason::OutsideSubset);
                return Ok(());
            }
        };
        let mut user = LocalUser::new(name, credential);
        user.privilege = privilege;
        self.config.remote_access.add_user(user);
        self.record(Location::LocalUser(name.to_owned()));
        Ok(())
    }

    /// `ip local pool NAME START [END]`.
    fn ip_local_pool(&mut self, c: &mut Cursor<'_, '_>) -> Res {
        let name = c.word("a pool name")?;
        let range = pool_range(c)?;
        self.config.remote_access.add_pool_range(name, range)?;
        self.record(Location::LocalPool(name.to_owned()));
        Ok(())
    }

    /// `no ip local pool NAME [START [END]]`: the pool, or one range.
    fn no_ip_local_pool(&mut self, c: &mut Cursor<'_, '_>) -> Res {
        let name = c.word("a pool name")?;
        if c.at_end() {
            self.config.remote_access.remove_pool(name);
            return Ok(());
        }
        let range = pool_range(c)?;
        self.config.remote_access.remove_pool_range(name, range);
        Ok(())
    }

    /// `crypto map NAME client authentication list LIST`, `crypto map NAME
    /// isakmp authorization list LIST`, `crypto map NAME client
    /// configuration address initiate|respond`, and their `no` forms.
    fn map_client(&mut self, map: &str, c: &mut Cursor<'_, '_>, negate: bool) -> Res {
        enum Which {
            Authentication,
            Authorization,
            Initiate,
            Respond,
        }
        let which = if c.eat("isakmp") {
            c.keyword(&["authorization"], "authorization")?;
            c.keyword(&["list"], "list")?;
            Which::Authorization
        } else {
            c.keyword(&["client"], "client")?;
            match c.keyword(
                &["authentication", "configuration"],
                "authentication or configuration",
            )? {
                "authentication" => {
                    c.keyword(&["list"], "list")?;
                    Which::Authentication
                }
                _ => {
                    c.keyword(&["address"], "address")?;
                    match c.keyword(&["initiate", "respond"], "initiate or respond")? {
                        "initiate" => Which::Initiate,
                        _ => Which::Respond,
                    }
                }
            }
        };
        let list = match which {
            Which::Authentication | Which::Authorization if !negate => {
                Some(c.word("a method list name")?.to_owned())
            }
            Which::Authentication | Which::Authorization => {
                c.next();
                None
            }
            Which::Initiate | Which::Respond => None,
        };
        c.end()?;
        let settings = self.config.remote_access.map_mut(map);
        match which {
            Which::Authentication => settings.authentication_list = list,
            Which::Authorization => settings.authorization_list = list,
            Which::Initiate => settings.address_initiate = !negate,
            Which::Respond => settings.address_respond = !negate,
        }
        self.config.remote_access.prune_map(map);
        if !negate {
            self.record(Location::CryptoMapClient(map.to_owned()));
        }
        Ok(())
    }

    fn group_sub(&mut self, line: &Line<'_>, name: &str) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        let Some(kw) = c.next().map(str::to_ascii_lowercase) else {
            return Ok(());
        };
        if !GROUP_COMMANDS.contains(&kw.as_str()) {
            return self.unsupported(line, 2);
        }
        if kw == "banner" && !negate {
            return self.banner_start(line, &mut c, name);
        }
        let group = self.config.remote_access.group_mut(name);
        match kw.as_str() {
            "key" if negate => group.key = None,
            "key" => group.key = Some(group_key(&mut c)?),
            "dns" if negate => group.dns.clear(),
            "dns" => group.dns = servers(&mut c, "a DNS server address")?,
            "wins" if negate => group.wins.clear(),
            "wins" => group.wins = servers(&mut c, "a WINS server address")?,
            "domain" if negate => group.domain = None,
            "domain" => {
                let domain = c.word("a domain name")?;
                c.end()?;
                group.domain = Some(domain.to_owned());
            }
            "pool" if negate => group.pool = None,
            "pool" => {
                let pool = c.word("a pool name")?;
                c.end()?;
                group.pool = Some(pool.to_owned());
            }
            "acl" if negate => group.acl = None,
            "acl" => {
                let acl = AclName::parse(c.word("an access list number or name")?)?;
                c.end()?;
                group.acl = Some(acl);
            }
            "save-password" => {
                c.end()?;
                group.save_password = !negate;
            }
            "include-local-lan" => {
                c.end()?;
                group.include_local_lan = !negate;
            }
            "pfs" => {
                c.end()?;
                group.pfs = !negate;
            }
            "banner" => group.banner = None,
            "backup-gateway" if negate => match c.peek() {
                None => group.backup_gateways.clear(),
                Some(_) => {
                    let gateway = c.ipv4("a backup gateway address")?;
                    c.end()?;
                    group.backup_gateways.retain(|&g| g != gateway);
                }
            },
            "backup-gateway" => {
                let gateway = c.ipv4("a backup gateway address (host names are not supported)")?;
                c.end()?;
                if !group.backup_gateways.contains(&gateway) {
                    if group.backup_gateways.len() >= ClientGroup::MAX_BACKUP_GATEWAYS {
                        return Err(ParseErrorKind::OutOfRange {
                            what: "number of backup gateways",
                            value: u64::try_from(group.backup_gateways.len().saturating_add(1))
                                .unwrap_or(u64::MAX),
                            min: 1,
                            max: ClientGroup::MAX_BACKUP_GATEWAYS as u64,
                        });
                    }
                    group.backup_gateways.push(gateway);
                }
            }
            "max-users" if negate => group.max_users = None,
            "max-users" => {
                let n = c.number_u16("a number of users", 1, u16::MAX)?;
                c.end()?;
                group.max_users = Some(n);
            }
            "firewall" => {
                c.keyword(&["are-u-there"], "are-u-there")?;
                c.end()?;
                group.firewall_are_u_there = !negate;
            }
            // `exit` is handled before the sub-mode is dispatched.
            _ => {}
        }
        Ok(())
    }

    /// `banner D TEXT D`, where D is the first character after `banner`
    /// (or `^C`, as `show running-config` prints it); the text may go on
    /// over the following lines until D.
    fn banner_start(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>, group: &str) -> Res {
        let rest = c.rest().ok_or(ParseErrorKind::Missing {
            expected: "a delimiter character and the banner text",
        })?;
        let delimiter: String = if rest.starts_with(BANNER_DELIMITER) {
            BANNER_DELIMITER.to_owned()
        } else {
            rest.chars().take(1).collect()
        };
        let body = rest.get(delimiter.len()..).unwrap_or("");
        match body.split_once(delimiter.as_str()) {
            Some((text, after)) => {
                banner_piece(text)?;
                if let Some(t) = after.split_whitespace().next() {
                    return Err(ParseErrorKind::Trailing {
                        found: t.to_owned(),
                    });
                }
                banner_length(text.len())?;
                self.config.remote_access.group_mut(group).banner = Some(text.to_owned());
            }
            None => {
                banner_piece(body)?;
                banner_length(body.len())?;
                self.banner = Some(PendingBanner {
                    group: group.to_owned(),
                    delimiter,
                    text: body.to_owned(),
                    line: self.number,
                    line_text: line.text.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// A line inside a banner: all of it is text, up to the delimiter.
    fn banner_line(&mut self, raw: &str) -> Res {
        let Some(mut banner) = self.banner.take() else {
            return Ok(());
        };
        let (piece, end) = match raw.split_once(banner.delimiter.as_str()) {
            Some((piece, after)) => {
                if let Some(t) = after.split_whitespace().next() {
                    return Err(ParseErrorKind::Trailing {
                        found: t.to_owned(),
                    });
                }
                (piece, true)
            }
            None => (raw, false),
        };
        banner_piece(piece)?;
        banner_length(
            banner
                .text
                .len()
                .saturating_add(1)
                .saturating_add(piece.len()),
        )?;
        banner.text.push('\n');
        banner.text.push_str(piece);
        if end {
            self.config.remote_access.group_mut(&banner.group).banner = Some(banner.text);
        } else {
            self.banner = Some(banner);
        }
        Ok(())
    }
}

/// A banner piece must render back as it came: no control characters
/// but tabs (a carriage return would be lost at the end of a line), and no
/// `^C`, the delimiter the renderer writes.
fn banner_piece(piece: &str) -> Res {
    if piece.contains(BANNER_DELIMITER) {
        return Err(ParseErrorKind::Unexpected {
            expected: "banner text without ^C",
            found: BANNER_DELIMITER.to_owned(),
        });
    }
    if let Some(ch) = piece.chars().find(|&ch| ch.is_control() && ch != '\t') {
        return Err(ParseErrorKind::Unexpected {
            expected: "banner text without control characters",
            found: ch.escape_default().to_string(),
        });
    }
    Ok(())
}

fn banner_length(len: usize) -> Res {
    if len > ClientGroup::MAX_BANNER_LEN {
        return Err(ParseErrorKind::OutOfRange {
            what: "banner length",
            value: u64::try_from(len).unwrap_or(u64::MAX),
            min: 0,
            max: ClientGroup::MAX_BANNER_LEN as u64,
        });
    }
    Ok(())
}

/// `[0|6] KEY` of a client group.
fn group_key(c: &mut Cursor<'_, '_>) -> Res<PresharedKey> {
    let first = c.word("a group key")?;
    let text = if (first == "0" || first == "6") && c.peek().is_some() {
        if first == "6" {
            return Err(ParseErrorKind::EncryptedKey);
        }
        c.word("a group key")?
    } else {
        first
    };
    if c.peek().is_some() {
        // The rest of a key typed with a blank: not quoted.
        return Err(ParseErrorKind::Unexpected {
            expected: "the end of the line after the key (a key cannot contain spaces)",
            found: "<redacted>".to_owned(),
        });
    }
    if text.len() > ClientGroup::MAX_KEY_LEN {
        return Err(ParseErrorKind::OutOfRange {
            what: "group key length",
            value: u64::try_from(text.len()).unwrap_or(u64::MAX),
            min: 1,
            max: ClientGroup::MAX_KEY_LEN as u64,
        });
    }
    Ok(PresharedKey::new(text.as_bytes()))
}

/// One or two server addresses (`dns A [B]`, `wins A [B]`).
fn servers(c: &mut Cursor<'_, '_>, what: &'static str) -> Res<Vec<Ipv4Addr>> {
    let mut out = vec![c.ipv4(what)?];
    if c.peek().is_some() {
        out.push(c.ipv4(what)?);
    }
    c.end()?;
    Ok(out)
}

/// `START [END]` of `ip local pool`.
fn pool_range(c: &mut Cursor<'_, '_>) -> Res<PoolRange> {
    let start = c.ipv4("a first address")?;
    let end = match c.peek() {
        None => start,
        Some(_) => c.ipv4("a last address")?,
    };
    c.end()?;
    Ok(PoolRange::new(start, end)?)
}

// ----------------------------------------------------------------------
// Certificates (crypto pki)
// ----------------------------------------------------------------------

impl Parser<'_> {
    /// `crypto pki|ca trustpoint NAME`, `crypto pki|ca certificate chain
    /// NAME`; the other `crypto pki` and `crypto ca` blocks (certificate
    /// maps, a CA server, tokens, CRLs) hold no policy of the model and
    /// are skipped.
    fn pki(&mut self, line: &Line<'_>, c: &mut Cursor<'_, '_>) -> Res {
        c.next();
        match (line.keyword_at(2).as_deref(), line.keyword_at(3).as_deref()) {
            (Some("trustpoint"), _) => {
                c.next();
                let name = c.word("a trustpoint name")?;
                c.end()?;
                self.config.pki.trustpoint_mut(name);
                self.record(Location::Trustpoint(name.to_owned()));
                self.mode = Mode::Trustpoint(name.to_owned());
                Ok(())
            }
            (Some("certificate"), Some("chain")) => {
                c.next();
                c.next();
                let name = c.word("a trustpoint name")?;
                c.end()?;
                self.config.pki.chain_mut(name);
                self.record(Location::CertificateChain(name.to_owned()));
                self.mode = Mode::CertificateChain(name.to_owned());
                Ok(())
            }
            _ => {
                self.skip_block(line, SkipReason::KeyMaterial);
                Ok(())
            }
        }
    }

    fn trustpoint_sub(&mut self, line: &Line<'_>, name: &str) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        let Some(kw) = c.next().map(str::to_ascii_lowercase) else {
            return Ok(());
        };
        let tp = self.config.pki.trustpoint_mut(name);
        match kw.as_str() {
            "enrollment" if negate => tp.enrollment = None,
            "enrollment" => {
                let enrollment = match c.peek().map(str::to_ascii_lowercase).as_deref() {
                    Some("selfsigned") => {
                        c.next();
                        Enrollment::SelfSigned
                    }
                    Some("terminal") => {
                        c.next();
                        let pem = c.eat("pem");
                        Enrollment::Terminal { pem }
                    }
                    Some("url") => {
                        c.next();
                        let url = c.word("an enrollment URL")?;
                        Enrollment::Url(url.to_owned())
                    }
                    // `enrollment mode ra`, `retry`, `http-proxy`, ...
                    _ => {
                        self.skip(line.text, SkipReason::NotModelled);
                        return Ok(());
                    }
                };
                c.end()?;
                tp.enrollment = Some(enrollment);
            }
            "subject-name" if negate => tp.subject_name = None,
            "subject-name" => {
                let text = c.rest().ok_or(ParseErrorKind::Missing {
                    expected: "an X.500 name",
                })?;
                tp.subject_name = Some(text.to_owned());
            }
            "revocation-check" if negate => tp.revocation_check.clear(),
            "revocation-check" => {
                let mut methods = Vec::new();
                while !c.at_end() {
                    let method = match c.keyword(&["crl", "ocsp", "none"], "crl, ocsp or none")? {
                        "crl" => RevocationCheck::Crl,
                        "ocsp" => RevocationCheck::Ocsp,
                        _ => RevocationCheck::None,
                    };
                    if methods.contains(&method) {
                        return Err(ParseErrorKind::Unexpected {
                            expected: "each revocation method once",
                            found: method.keyword().to_owned(),
                        });
                    }
                    methods.push(method);
                }
                if methods.is_empty() {
                    return Err(ParseErrorKind::Missing {
                        expected: "crl, ocsp or none",
                    });
                }
                tp.revocation_check = methods;
            }
            "rsakeypair" if negate => tp.rsakeypair = None,
            "rsakeypair" => {
                let label = c.word("a key pair label")?.to_owned();
                let mut sizes = [None, None];
                for size in &mut sizes {
                    if c.at_end() {
                        break;
                    }
                    *size = Some(c.number_u16("a key size in bits", 360, 4096)?);
                }
                c.end()?;
                let [sign_bits, encrypt_bits] = sizes;
                tp.rsakeypair = Some(RsaKeypair {
                    label,
                    sign_bits,
                    encrypt_bits,
                });
            }
            "fqdn" if negate => tp.fqdn = None,
            "fqdn" => {
                let fqdn = c.word("a domain name or none")?;
                c.end()?;
                tp.fqdn = Some(fqdn.to_owned());
            }
            "serial-number" if negate => tp.serial_number = None,
            "serial-number" => {
                let none = c.eat("none");
                c.end()?;
                tp.serial_number = Some(!none);
            }
            "ip-address" if negate => tp.ip_address = None,
            "ip-address" => {
                let address = c.word("an address, an interface or none")?;
                c.end()?;
                tp.ip_address = Some(address.to_owned());
            }
            _ => self.skip(line.text, SkipReason::NotModelled),
        }
        Ok(())
    }

    /// `certificate [ca|self-signed] SERIAL` (its hexadecimal lines follow,
    /// up to `quit`), `no certificate SERIAL`.
    fn chain_sub(&mut self, line: &Line<'_>, chain: &str) -> Res {
        let mut c = line.cursor();
        let negate = c.eat("no");
        if !c.eat("certificate") {
            self.skip(line.text, SkipReason::NotModelled);
            return Ok(());
        }
        let kind = if c.eat("ca") {
            CertificateKind::Ca
        } else if c.eat("self-signed") {
            CertificateKind::SelfSigned
        } else if ["rollover", "ra-general", "ra-encrypt", "ra-sign"]
            .iter()
            .any(|k| c.peek_is(k))
        {
            return Err(ParseErrorKind::UnsupportedKeyword {
                keyword: c.peek().unwrap_or("").to_owned(),
                context: "a certificate chain",
            });
        } else {
            CertificateKind::Router
        };
        let serial = c.word("a certificate serial number")?;
        c.end()?;
        if serial.is_empty()
            || serial.len() > CertificateChain::MAX_SERIAL_LEN
            || !serial.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(ParseErrorKind::Unexpected {
                expected: "a serial number of 1 to 40 hexadecimal digits",
                found: serial.to_owned(),
            });
        }
        if negate {
            self.config
                .pki
                .chain_mut(chain)
                .certificates
                .retain(|cert| !cert.serial.eq_ignore_ascii_case(serial));
            return Ok(());
        }
        self.certificate = Some(PendingCertificate {
            chain: chain.to_owned(),
            kind,
            serial: serial.to_owned(),
            hex: String::new(),
            line: self.number,
            line_text: line.text.to_owned(),
        });
        Ok(())
    }

    /// A line of a certificate's hexadecimal text, or its `quit`.
    fn certificate_line(&mut self, raw: &str) -> Res {
        let Some(mut pending) = self.certificate.take() else {
            return Ok(());
        };
        let text = raw.trim();
        if text.eq_ignore_ascii_case("quit") {
            let der = decode_hex(&pending.hex)?;
            let chain = self.config.pki.chain_mut(&pending.chain);
            if chain.certificates.len() >= CertificateChain::MAX_CERTIFICATES
                && !chain
                    .certificates
                    .iter()
                    .any(|c| c.serial == pending.serial && c.kind == pending.kind)
            {
                return Err(ParseErrorKind::OutOfRange {
                    what: "number of certificates in a chain",
                    value: u64::try_from(chain.certificates.len().saturating_add(1))
                        .unwrap_or(u64::MAX),
                    min: 0,
                    max: CertificateChain::MAX_CERTIFICATES as u64,
                });
            }
            chain.add(ChainCertificate {
                kind: pending.kind,
                serial: pending.serial,
                der,
            });
            return Ok(());
        }
        if !raw.starts_with(char::is_whitespace) && !text.is_empty() {
            // A command where the hexadecimal text should go on: the
            // certificate was cut short.
            return Err(ParseErrorKind::UnterminatedCertificate {
                serial: pending.serial,
            });
        }
        for token in text.split_whitespace() {
            if let Some(bad) = token.chars().find(|ch| !ch.is_ascii_hexdigit()) {
                return Err(ParseErrorKind::Unexpected {
                    expected: "hexadecimal certificate text or quit",
                    found: bad.escape_default().to_string(),
                });
            }
            pending.hex.push_str(token);
        }
        if pending.hex.len() / 2 > CertificateChain::MAX_CERTIFICATE_LEN {
            return Err(ParseErrorKind::OutOfRange {
                what: "certificate length in bytes",
                value: u64::try_from(pending.hex.len() / 2).unwrap_or(u64::MAX),
                min: 1,
                max: CertificateChain::MAX_CERTIFICATE_LEN as u64,
            });
        }
        self.certificate = Some(pending);
        Ok(())
    }
}

/// Hexadecimal digits (an even number of them) into bytes.
fn decode_hex(hex: &str) -> Res<Vec<u8>> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return Err(ParseErrorKind::Unexpected {
            expected: "an even number of hexadecimal digits before quit",
            found: format!("{} digits", hex.len()),
        });
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            core::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| ParseErrorKind::Unexpected {
                    expected: "hexadecimal certificate text",
                    found: String::from_utf8_lossy(pair).into_owned(),
                })
        })
        .collect()
}

// ----------------------------------------------------------------------
// Shared argument readers
// ----------------------------------------------------------------------

fn policy_priority(c: &mut Cursor<'_, '_>) -> Res<u16> {
    let range = IsakmpPolicy::PRIORITY_RANGE;
    c.number_u16("an ISAKMP policy priority", *range.start(), *range.end())
}

fn map_seq(c: &mut Cursor<'_, '_>) -> Res<u32> {
    c.number_u32("a sequence number", *SEQ_RANGE.start(), *SEQ_RANGE.end())
}

fn seq_range_error(seq: u32) -> ParseErrorKind {
    ParseErrorKind::OutOfRange {
        what: "a sequence number",
        value: u64::from(seq),
        min: u64::from(*SEQ_RANGE.start()),
        max: u64::from(*SEQ_RANGE.end()),
    }
}

fn aes_size(c: &mut Cursor<'_, '_>) -> Res<AesKeySize> {
    match c.peek() {
        None => Ok(AesKeySize::Aes128),
        Some(token) => {
            let size = parse_decimal(token)
                .and_then(|n| u32::try_from(n).ok())
                .and_then(AesKeySize::from_bits)
                .ok_or_else(|| ParseErrorKind::Unexpected {
                    expected: "a key size of 128, 192 or 256",
                    found: token.to_owned(),
                })?;
            c.next();
            Ok(size)
        }
    }
}

/// `[0|6] KEY address A [MASK] [no-xauth]` or `[0|6] KEY hostname H
/// [no-xauth]`; for the `no` form the key may be left out.
fn psk(c: &mut Cursor<'_, '_>, need_key: bool) -> Res<(PskPeer, Option<PresharedKey>, bool)> {
    let mut key = None;
    if !(c.peek_is("address") || c.peek_is("hostname")) || need_key {
        let first = c.word("a pre-shared key")?;
        let typed =
            (first == "0" || first == "6") && !(c.peek_is("address") || c.peek_is("hostname"));
        key = Some(key_text(c, first, typed)?);
        // Words between the key and a later peer keyword are the rest of a
        // key typed with a space in it: the error must not quote them (the
        // line's text is redacted the same way). A wrong word with no peer
        // keyword after it is taken for a misspelt keyword and quoted.
        let peer_later = c
            .remaining()
            .skip(1)
            .any(|t| t.eq_ignore_ascii_case("address") || t.eq_ignore_ascii_case("hostname"));
        if peer_later && !(c.peek_is("address") || c.peek_is("hostname")) {
            return Err(ParseErrorKind::Unexpected {
                expected: "address or hostname after the key (a key cannot contain spaces)",
                found: "<redacted>".to_owned(),
            });
        }
    }
    let peer = psk_peer(c)?;
    let no_xauth = c.eat("no-xauth");
    if c.peek_is("no-config-mode") {
        return Err(ParseErrorKind::UnsupportedKeyword {
            keyword: "no-config-mode".to_owned(),
            context: "crypto isakmp key",
        });
    }
    c.end()?;
    Ok((peer, key, no_xauth))
}

/// `address A [MASK]` or `hostname H`.
fn psk_peer(c: &mut Cursor<'_, '_>) -> Res<PskPeer> {
    Ok(
        match c.keyword(&["address", "hostname"], "address or hostname")? {
            "address" => {
                let address = c.ipv4("a peer address")?;
                let mask = match c.peek_ipv4() {
                    Some(m) => {
                        c.next();
                        if !is_contiguous(m) {
                            return Err(ParseErrorKind::NonContiguousMask { mask: m });
                        }
                        m
                    }
                    None => Ipv4Addr::BROADCAST,
                };
                PskPeer::subnet(address, mask)
            }
            _ => PskPeer::Hostname(c.word("a peer host name")?.to_owned()),
        },
    )
}

/// A keyring's `pre-shared-key address A [MASK] key [0|6] KEY` or
/// `pre-shared-key hostname H key [0|6] KEY` (after `pre-shared-key`); for
/// the `no` form the key may be left out. Nothing of the key is quoted in
/// an error.
fn keyring_psk(c: &mut Cursor<'_, '_>, need_key: bool) -> Res<(PskPeer, Option<PresharedKey>)> {
    let peer = psk_peer(c)?;
    if !need_key && c.at_end() {
        return Ok((peer, None));
    }
    if !c.eat("key") {
        return Err(match c.peek() {
            None => ParseErrorKind::Missing { expected: "key" },
            // The word may be the key, typed without `key`.
            Some(_) => ParseErrorKind::Unexpected {
                expected: "key",
                found: "<redacted>".to_owned(),
            },
        });
    }
    let first = c.word("a pre-shared key")?;
    let typed = (first == "0" || first == "6") && c.peek().is_some();
    let key = key_text(c, first, typed)?;
    if c.peek().is_some() {
        return Err(ParseErrorKind::Unexpected {
            expected: "the end of the line after the key (a key cannot contain spaces)",
            found: "<redacted>".to_owned(),
        });
    }
    Ok((peer, Some(key)))
}

/// A pre-shared key after its first word `first`, which is the key itself
/// or, when `typed`, its type: 0 (clear text, the key follows) or 6
/// (encrypted with the router's master key: refused). At most 128
/// characters, as IOS takes. Shared by `crypto isakmp key` and keyrings.
fn key_text<'a>(c: &mut Cursor<'_, 'a>, first: &'a str, typed: bool) -> Res<PresharedKey> {
    let text = if typed {
        if first == "6" {
            return Err(ParseErrorKind::EncryptedKey);
        }
        c.word("a pre-shared key")?
    } else {
        first
    };
    if text.len() > 128 {
        return Err(ParseErrorKind::OutOfRange {
            what: "pre-shared key length",
            value: u64::try_from(text.len()).unwrap_or(u64::MAX),
            min: 1,
            max: 128,
        });
    }
    Ok(PresharedKey::new(text.as_bytes()))
}

fn keepalive(c: &mut Cursor<'_, '_>) -> Res<Keepalive> {
    let (imin, imax) = (
        *Keepalive::INTERVAL_RANGE.start(),
        *Keepalive::INTERVAL_RANGE.end(),
    );
    let interval = c.number_u16("a keepalive interval in seconds", imin, imax)?;
    let retry = match c.peek().and_then(parse_decimal) {
        Some(_) => {
            let (rmin, rmax) = (
                *Keepalive::RETRY_RANGE.start(),
                *Keepalive::RETRY_RANGE.end(),
            );
            c.number_u16("a keepalive retry interval in seconds", rmin, rmax)?
        }
        None => Keepalive::DEFAULT_RETRY,
    };
    let mode = if c.eat("periodic") {
        KeepaliveMode::Periodic
    } else {
        c.eat("on-demand");
        KeepaliveMode::OnDemand
    };
    c.end()?;
    Ok(Keepalive {
        interval,
        retry,
        mode,
    })
}

enum LifetimeValue {
    Seconds(u32),
    Kilobytes(u64),
}

/// `seconds N | kilobytes N`, in IOS's ranges.
fn sa_lifetime(c: &mut Cursor<'_, '_>) -> Res<LifetimeValue> {
    let value = match c.keyword(&["seconds", "kilobytes"], "seconds or kilobytes")? {
        "seconds" => {
            let r = SaLifetime::SECONDS_RANGE;
            LifetimeValue::Seconds(c.number_u32(
                "an SA lifetime in seconds",
                *r.start(),
                *r.end(),
            )?)
        }
        _ => {
            let r = SaLifetime::KILOBYTES_RANGE;
            LifetimeValue::Kilobytes(c.number(
                "an SA lifetime in kilobytes",
                *r.start(),
                *r.end(),
            )?)
        }
    };
    c.end()?;
    Ok(value)
}

/// An interface name, possibly written with a space before the unit, and an
/// optional `point-to-point` / `multipoint` after it.
fn interface_name(c: &mut Cursor<'_, '_>) -> Res<InterfaceName> {
    let mut name = c.word("an interface name")?.to_owned();
    while let Some(t) = c.peek() {
        if t.eq_ignore_ascii_case("point-to-point") || t.eq_ignore_ascii_case("multipoint") {
            c.next();
            break;
        }
        name.push_str(t);
        c.next();
    }
    c.end()?;
    Ok(InterfaceName::new(&name))
}

fn is_contiguous(mask: Ipv4Addr) -> bool {
    let m = u32::from(mask);
    m.leading_ones() + m.trailing_zeros() == 32
}

fn prefix_and_mask(c: &mut Cursor<'_, '_>) -> Res<(Ipv4Addr, Ipv4Addr)> {
    let prefix = c.ipv4("a destination prefix")?;
    let mask = c.ipv4("a destination mask")?;
    if !is_contiguous(mask) {
        return Err(ParseErrorKind::NonContiguousMask { mask });
    }
    if u32::from(prefix) & !u32::from(mask) != 0 {
        return Err(ParseErrorKind::AddressOutsideMask {
            address: prefix,
            mask,
        });
    }
    Ok((prefix, mask))
}

fn interface_address(address: Ipv4Addr, mask: Ipv4Addr) -> Res<InterfaceAddress> {
    if !is_contiguous(mask) || mask == Ipv4Addr::UNSPECIFIED {
        return Err(ParseErrorKind::NonContiguousMask { mask });
    }
    let a = InterfaceAddress { address, mask };
    // /31 and /32 have no network or broadcast address (RFC 3021).
    if a.prefix_len() < 31 {
        let host = u32::from(address) & !u32::from(mask);
        if host == 0 || host == !u32::from(mask) {
            return Err(ParseErrorKind::NetworkOrBroadcast { address, mask });
        }
    }
    Ok(a)
}
