//! `ikev1-peer --check-config FILE`: import an IOS configuration without
//! running it, and say what became of each line.
//!
//! The report has three parts, each line with its line number in the file:
//! what was understood (one line per ISAKMP policy, pre-shared key,
//! transform set, dynamic map entry, crypto map entry, client group,
//! trustpoint and certificate chain), the warnings (lines skipped as
//! outside the crypto model, and the cross-checks IOS would only warn
//! about), and the refusals (lines the importer refuses, and the
//! cross-checks IOS would refuse). The exit status is 0 when there is
//! neither warning nor refusal, 1 with warnings only, 2 with a refusal (or
//! a file that cannot be read). Keys and passwords are never printed: the
//! importer redacts them in every line it quotes, and a key is shown as
//! `<redacted>`.

use core::fmt::Write as _;
use std::path::Path;

use ted::config::ios::{self, ParseOptions, Report};
use ted::config::{
    Config, CryptoMapEntry, EncapsulationMode, Location, MapParams, PskPeer, Severity,
};

/// What `--check-config` prints and the status it exits with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The report, for stdout.
    pub text: String,
    /// 0 clean, 1 warnings, 2 refused.
    pub status: u8,
}

/// Reads and checks the file at `path`.
pub fn check_file(path: &Path) -> CheckOutcome {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => check_text(&path.display().to_string(), &text),
            Err(e) => CheckOutcome {
                text: format!(
                    "{}: not UTF-8 text (byte {}): refused\n",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ),
                status: 2,
            },
        },
        Err(e) => CheckOutcome {
            text: format!("{}: cannot be read: {e}\n", path.display()),
            status: 2,
        },
    }
}

/// Checks configuration text; `name` heads the report.
pub fn check_text(name: &str, text: &str) -> CheckOutcome {
    let report = ios::parse_all(text, &ParseOptions::default());
    let mut out = String::new();
    let understood = understood(&report);
    let mut warnings: Vec<(usize, String)> = report
        .parsed
        .skipped
        .iter()
        .map(|s| {
            (
                s.line,
                format!("skipped ({}): {}", s.reason.describe(), s.text),
            )
        })
        .collect();
    let mut refusals: Vec<(usize, String)> = report
        .refused
        .iter()
        .map(|e| (e.line, format!("{}: `{}`", e.kind, e.text)))
        .collect();
    for d in &report.parsed.diagnostics {
        let entry = (d.line.unwrap_or(0), format!("{}: {}", d.location, d.kind));
        match d.severity {
            Severity::Error => refusals.push(entry),
            _ => warnings.push(entry),
        }
    }
    warnings.sort_by_key(|(line, _)| *line);
    refusals.sort_by_key(|(line, _)| *line);

    let _ = writeln!(out, "{name}: {} lines understood", report.understood);
    for (line, what) in &understood {
        let _ = writeln!(out, "  {}  {what}", at(*line));
    }
    let _ = writeln!(out, "warnings: {}", warnings.len());
    for (line, what) in &warnings {
        let _ = writeln!(out, "  {}  {what}", at(*line));
    }
    let _ = writeln!(out, "refused: {}", refusals.len());
    for (line, what) in &refusals {
        let _ = writeln!(out, "  {}  {what}", at(*line));
    }
    let status = if !refusals.is_empty() {
        2
    } else if !warnings.is_empty() {
        1
    } else {
        0
    };
    let verdict = match status {
        0 => "clean",
        1 => "warnings",
        _ => "refused",
    };
    let _ = writeln!(out, "result: {verdict} (exit {status})");
    CheckOutcome { text: out, status }
}

fn at(line: usize) -> String {
    if line == 0 {
        "line -".to_owned()
    } else {
        format!("line {line}")
    }
}

/// One entry per object of the model, in line order.
fn understood(report: &Report) -> Vec<(usize, String)> {
    let config: &Config = &report.parsed.config;
    let line = |l: Location| report.lines.get(&l).copied().unwrap_or(0);
    let mut out = Vec::new();
    for p in config.isakmp.policies() {
        out.push((
            line(Location::IsakmpPolicy(p.priority)),
            format!(
                "crypto isakmp policy {}: encr {}, hash {}, authentication {}, group {}, lifetime {}",
                p.priority,
                p.encryption,
                p.hash.keyword(),
                p.authentication.keyword(),
                p.group.number(),
                p.lifetime
            ),
        ));
    }
    for k in config.isakmp.keys() {
        let xauth = if k.no_xauth { " no-xauth" } else { "" };
        let (l, peer) = match &k.peer {
            PskPeer::Address { address, mask } => (
                line(Location::IsakmpKey {
                    address: *address,
                    mask: *mask,
                }),
                format!("address {address} {mask}"),
            ),
            PskPeer::Hostname(h) => (0, format!("hostname {h}")),
        };
        out.push((l, format!("crypto isakmp key <redacted> {peer}{xauth}")));
    }
    for ring in config.keyrings() {
        let l = line(Location::Keyring(ring.name().to_owned()));
        let local = ring
            .local_address
            .as_ref()
            .map_or(String::new(), |a| format!(", local-address {a}"));
        out.push((l, format!("crypto keyring {}{local}", ring.name())));
        for k in ring.keys() {
            let peer = match &k.peer {
                PskPeer::Address { address, mask } => format!("address {address} {mask}"),
                PskPeer::Hostname(h) => format!("hostname {h}"),
            };
            out.push((
                l,
                format!(
                    "crypto keyring {} pre-shared-key {peer} key <redacted>",
                    ring.name()
                ),
            ));
        }
    }
    for set in config.transform_sets() {
        let mode = match set.mode {
            EncapsulationMode::Transport => "transport",
            _ => "tunnel",
        };
        out.push((
            line(Location::TransformSet(set.name().to_owned())),
            format!(
                "crypto ipsec transform-set {} {set}: mode {mode}",
                set.name()
            ),
        ));
    }
    for d in config.dynamic_maps() {
        for (seq, params) in d.entries() {
            out.push((
                line(Location::DynamicMapEntry {
                    map: d.name().to_owned(),
                    seq,
                }),
                format!(
                    "crypto dynamic-map {} {seq}: {}",
                    d.name(),
                    params_text(params)
                ),
            ));
        }
    }
    for m in config.crypto_maps() {
        for (seq, entry) in m.entries() {
            let l = line(Location::CryptoMapEntry {
                map: m.name().to_owned(),
                seq,
            });
            match entry {
                CryptoMapEntry::IpsecIsakmp(params) => out.push((
                    l,
                    format!(
                        "crypto map {} {seq} ipsec-isakmp: {}",
                        m.name(),
                        params_text(params)
                    ),
                )),
                CryptoMapEntry::Dynamic { template, discover } => out.push((
                    l,
                    format!(
                        "crypto map {} {seq} ipsec-isakmp dynamic {template}{}",
                        m.name(),
                        if *discover { " discover (TED)" } else { "" }
                    ),
                )),
                _ => {}
            }
        }
    }
    for g in config.remote_access.groups() {
        out.push((
            line(Location::ClientGroup(g.name().to_owned())),
            format!("crypto isakmp client configuration group {}", g.name()),
        ));
    }
    for tp in config.pki.trustpoints() {
        let enrollment = tp
            .enrollment
            .as_ref()
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        out.push((
            line(Location::Trustpoint(tp.name().to_owned())),
            format!(
                "crypto pki trustpoint {}: enrollment {enrollment}",
                tp.name()
            ),
        ));
    }
    for chain in config.pki.chains() {
        let ca = chain.certificates.iter().filter(|c| c.is_ca()).count();
        out.push((
            line(Location::CertificateChain(chain.trustpoint().to_owned())),
            format!(
                "crypto pki certificate chain {}: {} certificates ({ca} of a CA)",
                chain.trustpoint(),
                chain.certificates.len()
            ),
        ));
    }
    for i in config.interfaces() {
        if let Some(map) = &i.crypto_map {
            out.push((
                line(Location::Interface(i.name().clone())),
                format!("interface {}: crypto map {map}", i.name()),
            ));
        }
    }
    out.sort_by_key(|(l, _)| *l);
    out
}

fn params_text(p: &MapParams) -> String {
    let mut parts = Vec::new();
    if !p.peers.is_empty() {
        let peers: Vec<String> = p.peers.iter().map(ToString::to_string).collect();
        parts.push(format!("peer {}", peers.join(" ")));
    }
    if !p.transform_sets.is_empty() {
        parts.push(format!("transform-set {}", p.transform_sets.join(" ")));
    }
    if let Some(acl) = &p.match_address {
        parts.push(format!("match address {acl}"));
    }
    if let Some(g) = p.pfs {
        parts.push(format!("pfs group{}", g.number()));
    }
    if let Some(s) = p.lifetime.seconds {
        parts.push(format!("lifetime {s} s"));
    }
    if let Some(k) = p.lifetime.kilobytes {
        parts.push(format!("lifetime {k} KB"));
    }
    if parts.is_empty() {
        "nothing set".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_daphne_has_warnings_only() {
        let text = include_str!("../../vectors/seed/daphne.cfg");
        let outcome = check_text("daphne.cfg", text);
        assert_eq!(outcome.status, 1, "{}", outcome.text);
        assert!(outcome.text.contains("crypto isakmp policy 10: encr des"));
        assert!(!outcome.text.contains("abc123"));
        assert!(outcome.text.contains("refused: 0"));
    }

    #[test]
    fn refusals_exit_2_and_keys_stay_hidden() {
        let text =
            "crypto isakmp key 6 SeCrEt address 0.0.0.0 0.0.0.0\ncrypto isakmp policy 1\n e aes\n";
        let outcome = check_text("x", text);
        assert_eq!(outcome.status, 2);
        assert!(!outcome.text.contains("SeCrEt"), "{}", outcome.text);
        assert!(outcome.text.contains("line 1"));
        assert!(outcome.text.contains("line 3"));
    }

    #[test]
    fn clean_exits_0() {
        let text = "crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 192.0.2.1\n";
        let outcome = check_text("x", text);
        assert_eq!(outcome.status, 0, "{}", outcome.text);
        assert!(!outcome.text.contains(" k "), "{}", outcome.text);
    }

    #[test]
    fn keyrings_listed_with_keys_hidden() {
        let text = "crypto keyring ring1
 local-address 192.0.2.1
 pre-shared-key address 198.51.100.7 key RiNgSeCrEt
 pre-shared-key hostname gw.example.com key OtHeRsEcReT
";
        let outcome = check_text("x", text);
        assert!(
            outcome
                .text
                .contains("line 1  crypto keyring ring1, local-address 192.0.2.1"),
            "{}",
            outcome.text
        );
        assert!(outcome.text.contains(
            "crypto keyring ring1 pre-shared-key address 198.51.100.7 255.255.255.255 key <redacted>"
        ));
        assert!(outcome.text.contains(
            "crypto keyring ring1 pre-shared-key hostname gw.example.com key <redacted>"
        ));
        assert!(!outcome.text.contains("SeCrEt"), "{}", outcome.text);
        assert!(!outcome.text.contains("sEcReT"), "{}", outcome.text);
    }
}
