//! Keyword abbreviations, as the IOS parser takes them.
//!
//! IOS accepts any unambiguous prefix of a keyword (`cry isa pol 10`,
//! `encr 3des`, `authen pre`) and refuses an ambiguous one (`% Ambiguous
//! command`). Before a line is read, [`expand`] rewrites each keyword it
//! finds at a keyword position into its full form, using the grammar of
//! the sub-mode the line is in, so that the rest of the importer only sees
//! full keywords. Arguments (names, numbers, addresses, keys) are never
//! rewritten, and the text between tokens is kept as it was, so free text
//! (descriptions, remarks, banners) comes through unchanged.
//!
//! The grammar is a list of command patterns per sub-mode. A pattern is a
//! sequence of elements: a keyword, `{a|b|c}` (one of these keywords), `$`
//! (one argument) or `...` (the rest of the line is not rewritten). A
//! pattern that starts with `-` is a command outside the crypto model:
//! it is there so that a prefix is matched against IOS's real choices (and
//! so that `e` is as ambiguous as it is on a router), but an ambiguity
//! that involves only such commands is not an error (the line is skipped
//! as any line outside the subset is).
//!
//! At each token, the patterns still alive offer keywords: a token equal
//! to one of them is that keyword (an exact match wins, as `ip` does over
//! `ipv6`); otherwise a token that is the prefix of exactly one is
//! rewritten into it; a prefix of several is ambiguous; a token that is
//! no keyword's prefix is an argument where a pattern takes one, and ends
//! the rewriting otherwise (the importer then says what it expected).

use std::sync::OnceLock;

use super::error::ParseErrorKind;

/// The sub-mode grammars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Grammar {
    /// Global configuration.
    Global,
    /// `crypto isakmp policy N`.
    Policy,
    /// `crypto ipsec transform-set`.
    TransformSet,
    /// `crypto map ... ipsec-isakmp` and `crypto dynamic-map` entries.
    MapEntry,
    /// `interface`.
    Interface,
    /// `ip access-list standard|extended`.
    NamedAcl,
    /// `crypto isakmp client configuration group`.
    ClientGroup,
    /// `crypto pki trustpoint`.
    Trustpoint,
    /// `crypto pki certificate chain`.
    CertificateChain,
    /// `crypto keyring`.
    Keyring,
}

const GLOBAL: &str = "
hostname $
end
exit
crypto isakmp policy $
crypto isakmp key ...
crypto isakmp identity {address|hostname|dn}
crypto isakmp keepalive $ {periodic|on-demand}
crypto isakmp keepalive $ $ {periodic|on-demand}
crypto isakmp nat keepalive $
crypto isakmp aggressive-mode disable
crypto isakmp enable ...
crypto isakmp client configuration group $
crypto isakmp client configuration address-pool ...
crypto isakmp xauth timeout $
crypto isakmp profile ...
crypto isakmp fragmentation ...
crypto isakmp invalid-spi-recovery ...
crypto isakmp peer ...
crypto isakmp default ...
crypto ipsec transform-set ...
crypto ipsec security-association lifetime {seconds|kilobytes} $
crypto ipsec security-association {idle-time|replay|dummy} ...
crypto ipsec nat-transparency {udp-encapsulation|spi-matching}
crypto ipsec df-bit ...
crypto ipsec fragmentation ...
crypto ipsec client ezvpn ...
crypto ipsec profile ...
crypto ipsec optional ...
crypto dynamic-map $ $
crypto map $ $ {ipsec-isakmp|ipsec-manual|gdoi} dynamic $ discover
crypto map $ $ {ipsec-isakmp|ipsec-manual|gdoi} dynamic $
crypto map $ $ {ipsec-isakmp|ipsec-manual|gdoi}
crypto map $ $
crypto map $ local-address ...
crypto map $ client authentication list $
crypto map $ client configuration address {initiate|respond}
crypto map $ isakmp authorization list $
crypto map $ isakmp-profile ...
crypto map $ redundancy ...
crypto pki trustpoint $
crypto pki certificate chain $
crypto pki certificate map ...
crypto pki server ...
crypto pki token ...
crypto pki crl ...
crypto pki profile ...
crypto ca trustpoint $
crypto ca certificate chain $
crypto ca certificate map ...
crypto ca identity ...
crypto ca profile ...
crypto key ...
crypto keyring ...
crypto logging ...
crypto engine ...
crypto call ...
crypto gdoi ...
crypto ikev2 ...
access-list ...
ip access-list {standard|extended} $
ip route ...
ip local pool ...
-ip {access-list|address-pool|accounting-list|accounting-threshold|admission|alias|arp|audit|auth-proxy|bootp|cef|classless|default-gateway|default-network|dhcp|dhcp-client|dhcp-server|domain|domain-list|domain-lookup|domain-name|dns|dvmrp|explicit-path|finger|flow-cache|flow-export|forward-protocol|ftp|gratuitous-arps|host|http|icmp|igmp|inspect|ips|local|mask-reply|mroute|multicast|multicast-routing|name-server|nat|nbar|ospf|pim|prefix-list|reflexive-list|rcmd|routing|rsvp|scp|sla|source-route|ssh|subnet-zero|tacacs|tcp|telnet|tftp|urlfilter|vrf|wccp} ...
interface ...
aaa {new-model|authentication|authorization|accounting|session-id|group|server|attribute|cache|common-criteria|configuration|dnis|local|max-sessions|memory|nas|password|pod|preauth|processes|route|server|service-profile|traceback|user} ...
username $ privilege $ {password|secret} ...
username $ {password|secret|privilege|nopassword|autocommand|view|access-class|callback-dialstring|callback-line|callback-rotary|dnis|noescape|nohangup|one-time|user-maxlinks} ...
-alias ...
-archive ...
-async-bootp ...
-banner ...
-boot ...
-boot-end-marker ...
-boot-start-marker ...
-bridge ...
-buffers ...
-call ...
-call-home ...
-card ...
-cdp ...
-chat-script ...
-class-map ...
-clock ...
-config-register ...
-control-plane ...
-controller ...
-default ...
-dial-peer ...
-dialer ...
-dialer-list ...
-dot11 ...
-enable ...
-errdisable ...
-event ...
-exception ...
-file ...
-frame-relay ...
-gatekeeper ...
-hw-module ...
-ipv6 ...
-isdn ...
-key ...
-license ...
-line ...
-logging ...
-login ...
-mac-address-table ...
-map-class ...
-map-list ...
-memory-size ...
-mls ...
-mpls ...
-multilink ...
-ntp ...
-object-group ...
-parameter-map ...
-policy-map ...
-privilege ...
-radius-server ...
-redundancy ...
-route-map ...
-router ...
-scheduler ...
-security ...
-service ...
-snmp-server ...
-spanning-tree ...
-subscriber ...
-tacacs-server ...
-template ...
-vlan ...
-voice ...
-vpdn ...
-vpdn-group ...
-version ...
-vtp ...
-webvpn ...
-x25 ...
-zone ...
-zone-pair ...
";

const POLICY: &str = "
encryption {des|3des|aes} ...
hash {sha|md5|sha256|sha384|sha512}
authentication {pre-share|rsa-sig|rsa-encr|ecdsa-sig}
group $
lifetime $
exit
default ...
";

const TRANSFORM_SET: &str = "
mode {tunnel|transport} ...
exit
default ...
";

const MAP_ENTRY: &str = "
set peer ...
set transform-set ...
set pfs ...
set security-association lifetime {seconds|kilobytes} ...
set security-association {level|idle-time|replay} ...
set {isakmp-profile|nat|reverse-route|ip|inject|session-key|identity|ikev2-profile} ...
match address ...
description ...
reverse-route ...
qos ...
exit
default ...
";

const INTERFACE: &str = "
ip address ...
crypto map ...
crypto ipsec ...
shutdown
description ...
-ip {access-group|accounting|admission|auth-proxy|authentication|bandwidth-percent|broadcast-address|cef|cgmp|dhcp|directed-broadcast|dvmrp|flow|hello-interval|helper-address|hold-time|igmp|inspect|ips|irdp|load-sharing|local-proxy-arp|mask-reply|mroute-cache|mtu|multicast|nat|nbar|nhrp|ospf|pim|policy|proxy-arp|redirects|rip|route-cache|rsvp|sap|security|split-horizon|summary-address|tcp|unnumbered|unreachables|verify|virtual-reassembly|vrf|wccp} ...
-arp ...
-bandwidth ...
-carrier-delay ...
-cdp ...
-channel-group ...
-clock ...
-delay ...
-dialer ...
-duplex ...
-encapsulation ...
-exit ...
-frame-relay ...
-half-duplex ...
-hold-queue ...
-ipv6 ...
-keepalive ...
-load-interval ...
-logging ...
-mac-address ...
-media-type ...
-mtu ...
-negotiation ...
-ppp ...
-pvc ...
-qos ...
-rate-limit ...
-service-policy ...
-snmp ...
-speed ...
-spanning-tree ...
-standby ...
-switchport ...
-tunnel ...
-vrrp ...
";

const NAMED_ACL: &str = "
{permit|deny|remark} ...
$ {permit|deny|remark} ...
exit
";

const CLIENT_GROUP: &str = "
key ...
dns ...
wins ...
domain ...
pool ...
acl ...
save-password
include-local-lan
pfs
banner ...
backup-gateway ...
max-users ...
firewall are-u-there
exit
{access-restrict|auto-update|browser-proxy|configuration|crypto|dhcp|firewall|group-lock|max-logins|netmask|split-dns|user-save|ipv6} ...
";

const TRUSTPOINT: &str = "
enrollment ...
subject-name ...
revocation-check {none|crl|ocsp} {none|crl|ocsp} {none|crl|ocsp}
revocation-check {none|crl|ocsp} {none|crl|ocsp}
revocation-check {none|crl|ocsp}
rsakeypair ...
fqdn ...
serial-number ...
ip-address ...
exit
{auto-enroll|auto-trigger|chain-validation|crl|default|eckeypair|email|hash|match|ocsp|password|primary|query|regenerate|root|source|storage|subject-alt-name|usage|vrf} ...
";

const CERTIFICATE_CHAIN: &str = "
certificate {ca|self-signed|rollover|ra-general|ra-encrypt|ra-sign} $
certificate $
exit
";

const KEYRING: &str = "
pre-shared-key {address|hostname} $ key ...
pre-shared-key address $ $ key ...
local-address ...
description ...
rsa-pubkey ...
exit
";

/// One element of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Element {
    /// One of these keywords.
    Keywords(Vec<&'static str>),
    /// One argument.
    Arg,
    /// The rest of the line, not rewritten.
    Rest,
}

/// One command pattern.
#[derive(Clone, Debug)]
struct Pattern {
    elements: Vec<Element>,
    /// A command outside the crypto model.
    outside: bool,
}

fn compile(text: &'static str) -> Vec<Pattern> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (outside, l) = match l.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, l),
            };
            let elements = l
                .split_whitespace()
                .map(|w| match w {
                    "$" => Element::Arg,
                    "..." => Element::Rest,
                    _ => Element::Keywords(
                        w.trim_start_matches('{')
                            .trim_end_matches('}')
                            .split('|')
                            .collect(),
                    ),
                })
                .collect();
            Pattern { elements, outside }
        })
        .collect()
}

fn patterns(grammar: Grammar) -> &'static [Pattern] {
    static COMPILED: OnceLock<Vec<Vec<Pattern>>> = OnceLock::new();
    let all = COMPILED.get_or_init(|| {
        [
            GLOBAL,
            POLICY,
            TRANSFORM_SET,
            MAP_ENTRY,
            INTERFACE,
            NAMED_ACL,
            CLIENT_GROUP,
            TRUSTPOINT,
            CERTIFICATE_CHAIN,
            KEYRING,
        ]
        .into_iter()
        .map(compile)
        .collect()
    });
    let index = match grammar {
        Grammar::Global => 0,
        Grammar::Policy => 1,
        Grammar::TransformSet => 2,
        Grammar::MapEntry => 3,
        Grammar::Interface => 4,
        Grammar::NamedAcl => 5,
        Grammar::ClientGroup => 6,
        Grammar::Trustpoint => 7,
        Grammar::CertificateChain => 8,
        Grammar::Keyring => 9,
    };
    all.get(index).map_or(&[], Vec::as_slice)
}

/// Tokens with their byte offsets, split at blanks as [`super::lex::Line`]
/// splits them.
fn tokens(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        match (ch.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, text.get(s..i).unwrap_or("")));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.get(s..).unwrap_or("")));
    }
    out
}

/// A keyword found on a line.
struct Found {
    /// Byte offset of the token.
    offset: usize,
    /// The token's length.
    len: usize,
    /// The keyword it stands for.
    keyword: &'static str,
    /// The shortest prefix of the keyword that stands for it here.
    shortest: usize,
}

/// The keywords of a line, as the grammar reads them.
fn walk(tokens: &[(usize, &str)], grammar: Grammar) -> Result<Vec<Found>, ParseErrorKind> {
    let mut alive: Vec<&Pattern> = patterns(grammar).iter().collect();
    let mut found = Vec::new();
    let first = usize::from(
        tokens
            .first()
            .is_some_and(|(_, t)| t.eq_ignore_ascii_case("no")),
    );
    for (position, &(offset, token)) in tokens.iter().enumerate().skip(first) {
        let index = position - first;
        // Patterns that end or stop rewriting here.
        alive.retain(|p| p.elements.get(index).is_some_and(|e| *e != Element::Rest));
        if alive.is_empty() {
            break;
        }
        let mut offered: Vec<(&'static str, bool)> = Vec::new();
        for p in &alive {
            if let Some(Element::Keywords(k)) = p.elements.get(index) {
                for &word in k {
                    match offered.iter_mut().find(|(w, _)| *w == word) {
                        Some(entry) => entry.1 &= p.outside,
                        None => offered.push((word, p.outside)),
                    }
                }
            }
        }
        let lower = token.to_ascii_lowercase();
        let chosen = match offered.iter().find(|(k, _)| *k == lower.as_str()) {
            Some(&(k, _)) => Some(k),
            None => {
                let candidates: Vec<(&'static str, bool)> = offered
                    .iter()
                    .copied()
                    .filter(|(k, _)| k.starts_with(lower.as_str()))
                    .collect();
                match candidates.as_slice() {
                    [] => None,
                    [(k, _)] => Some(*k),
                    many => {
                        if many.iter().all(|&(_, outside)| outside) {
                            break;
                        }
                        let mut names: Vec<String> =
                            many.iter().map(|&(k, _)| k.to_owned()).collect();
                        names.sort();
                        return Err(ParseErrorKind::Ambiguous {
                            token: token.to_owned(),
                            candidates: names,
                        });
                    }
                }
            }
        };
        match chosen {
            Some(keyword) => {
                alive.retain(|p| {
                    matches!(p.elements.get(index), Some(Element::Keywords(k)) if k.contains(&keyword))
                });
                let shortest = (1..=keyword.len())
                    .find(|&l| {
                        let prefix = keyword.get(..l).unwrap_or(keyword);
                        offered
                            .iter()
                            .all(|&(other, _)| other == keyword || !other.starts_with(prefix))
                    })
                    .unwrap_or(keyword.len());
                found.push(Found {
                    offset,
                    len: token.len(),
                    keyword,
                    shortest,
                });
            }
            None => {
                alive.retain(|p| p.elements.get(index) == Some(&Element::Arg));
                if alive.is_empty() {
                    break;
                }
            }
        }
    }
    Ok(found)
}

/// `text` with each found keyword replaced by what `write` makes of it.
fn rewrite(text: &str, found: &[Found], mut write: impl FnMut(&Found) -> String) -> String {
    let mut out = String::with_capacity(text.len().saturating_add(32));
    let mut at = 0;
    for f in found {
        out.push_str(text.get(at..f.offset).unwrap_or(""));
        out.push_str(&write(f));
        at = f.offset.saturating_add(f.len);
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// The line with every abbreviated keyword written in full; `text`
/// unchanged when it holds none. A leading `no` is kept and the rest is
/// read as the command it negates.
///
/// # Errors
/// [`ParseErrorKind::Ambiguous`] when a token at a keyword position is the
/// prefix of several keywords of the model (IOS: `% Ambiguous command`).
pub(super) fn expand(text: &str, grammar: Grammar) -> Result<String, ParseErrorKind> {
    let tokens = tokens(text);
    let found = walk(&tokens, grammar)?;
    if found.iter().all(|f| f.len == f.keyword.len()) {
        return Ok(text.to_owned());
    }
    Ok(rewrite(text, &found, |f| f.keyword.to_owned()))
}

/// The sub-mode grammar a global command (keywords in full) opens.
fn opens(line: &str) -> Option<Grammar> {
    let words: Vec<String> = line
        .split_whitespace()
        .take(5)
        .map(str::to_ascii_lowercase)
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["crypto", "isakmp", "policy", ..] => Some(Grammar::Policy),
        ["crypto", "ipsec", "transform-set", ..] => Some(Grammar::TransformSet),
        ["crypto", "dynamic-map", ..] => Some(Grammar::MapEntry),
        ["crypto", "map", _, seq, ..] if seq.bytes().all(|b| b.is_ascii_digit()) => {
            Some(Grammar::MapEntry)
        }
        ["interface", ..] => Some(Grammar::Interface),
        ["ip", "access-list", ..] => Some(Grammar::NamedAcl),
        ["crypto", "isakmp", "client", "configuration", "group"] => Some(Grammar::ClientGroup),
        ["crypto", "pki" | "ca", "trustpoint", ..] => Some(Grammar::Trustpoint),
        ["crypto", "pki" | "ca", "certificate", "chain", ..] => Some(Grammar::CertificateChain),
        ["crypto", "keyring", _] => Some(Grammar::Keyring),
        _ => None,
    }
}

/// Configuration text with its keywords abbreviated, as an operator may
/// type them: each keyword becomes a prefix of a length `pick(shortest,
/// full)` returns, clamped to `shortest..=full`, where `shortest` is the
/// length of its shortest unambiguous prefix. Unindented lines are read
/// as global commands and indented ones as sub-commands of the last
/// unindented line; banner and certificate text is left alone. For tests
/// and fuzzing: importing the result must give the model the text gives.
pub fn abbreviate(text: &str, pick: &mut dyn FnMut(usize, usize) -> usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut sub: Option<Grammar> = None;
    let mut certificate = false;
    let mut banner = false;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let indented = line.starts_with(char::is_whitespace);
        let trimmed = line.trim();
        if certificate {
            if trimmed.eq_ignore_ascii_case("quit") {
                certificate = false;
            }
            out.push_str(line);
            continue;
        }
        if banner || line.matches("^C").count() == 1 {
            // A banner's text, up to its closing delimiter, as it came.
            banner = !(banner && line.contains("^C"));
            out.push_str(line);
            continue;
        }
        let grammar = if indented {
            sub
        } else {
            sub = line
                .split_whitespace()
                .next()
                .is_some()
                .then_some(Grammar::Global);
            sub
        };
        let (Some(g), false) = (grammar, trimmed.starts_with('!') || trimmed.contains("^C")) else {
            out.push_str(line);
            continue;
        };
        let tokens = tokens(line);
        let Ok(found) = walk(&tokens, g) else {
            out.push_str(line);
            continue;
        };
        if g == Grammar::Global {
            sub = opens(&rewrite(line, &found, |f| f.keyword.to_owned()));
        } else if g == Grammar::CertificateChain
            && found.first().is_some_and(|f| f.keyword == "certificate")
        {
            certificate = true;
        }
        out.push_str(&rewrite(line, &found, |f| {
            let full = f.keyword.len();
            let len = pick(f.shortest, full).clamp(f.shortest, full);
            f.keyword.get(..len).unwrap_or(f.keyword).to_owned()
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(text: &str) -> String {
        expand(text, Grammar::Global).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn prefixes_expand() {
        assert_eq!(global("cry isa pol 10"), "crypto isakmp policy 10");
        assert_eq!(
            expand("encr 3des", Grammar::Policy).ok().as_deref(),
            Some("encryption 3des")
        );
        assert_eq!(
            expand("authen pre", Grammar::Policy).ok().as_deref(),
            Some("authentication pre-share")
        );
        assert_eq!(
            global("no cry isa key 0 k add 1.1.1.1"),
            "no crypto isakmp key 0 k add 1.1.1.1"
        );
        assert_eq!(
            global("cry map m 10 ipsec-i"),
            "crypto map m 10 ipsec-isakmp"
        );
        assert_eq!(
            global("cry map m loc Fa0/0"),
            "crypto map m local-address Fa0/0"
        );
        assert_eq!(global("int  Fa0/0"), "interface  Fa0/0");
    }

    #[test]
    fn ambiguous_names_candidates() {
        match expand("e 3des", Grammar::Policy) {
            Err(ParseErrorKind::Ambiguous { token, candidates }) => {
                assert_eq!(token, "e");
                assert_eq!(candidates, vec!["encryption".to_owned(), "exit".to_owned()]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            expand("authentication rsa", Grammar::Policy),
            Err(ParseErrorKind::Ambiguous { .. })
        ));
        // Only commands outside the model: not an error.
        assert_eq!(global("s foo"), "s foo");
    }

    #[test]
    fn arguments_are_not_rewritten() {
        assert_eq!(global("hostname cry"), "hostname cry");
        assert_eq!(global("crypto map loc 10"), "crypto map loc 10");
    }
}
