//! Entry points for the fuzz targets and the corpus-replay tests.
//!
//! Each function takes arbitrary bytes and panics only when an invariant of
//! the crate is broken; any other input, however malformed, must return.
// Panicking on a broken invariant is what these functions are for.
#![allow(clippy::panic)]

pub(crate) mod program;

use ted::acl::Flow;
use ted::config::ios;
mod discovery;
mod gateway;
pub mod peer;

pub use discovery::{DiscoveryRun, discovery, discovery_run};
pub use gateway::{GatewayRun, gateway, gateway_run};

/// Configuration text: import it; when that succeeds, rendering and
/// importing again must give the same model, and rendering that model the
/// same text (the render is a fixed point). The rendered text with its
/// keywords abbreviated (to lengths the input's bytes choose, and to the
/// shortest unambiguous prefixes) imports to the same model too. The import
/// that goes on after refusals (`parse_all`) agrees with `parse`: the same
/// first refusal, or no refusal and the same result; its refusals are in
/// line order within the text, and no line is counted twice.
pub fn ios_roundtrip(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let strict = ios::parse(text);
    let all = ios::parse_all(text, &ios::ParseOptions::default());
    let lines = text.split('\n').count();
    match &strict {
        Ok(parsed) => {
            assert!(all.refused.is_empty(), "parse_all refused what parse took");
            assert_eq!(&all.parsed, parsed, "parse_all and parse differ");
        }
        Err(e) => assert_eq!(all.refused.first(), Some(e), "first refusals differ"),
    }
    for pair in all.refused.windows(2) {
        if let [a, b] = pair {
            assert!(a.line <= b.line, "refusals out of order");
        }
    }
    for e in &all.refused {
        assert!(
            e.line >= 1 && e.line <= lines,
            "refusal line {} outside",
            e.line
        );
    }
    assert!(
        all.understood + all.parsed.skipped.len() + all.refused.len() <= lines,
        "more lines counted than the text has"
    );
    let Ok(first) = strict else {
        return;
    };
    let rendered = ios::render(&first.config);
    let second = match ios::parse(&rendered) {
        Ok(p) => p,
        Err(e) => panic!("rendered configuration does not parse: {e}\n{rendered}"),
    };
    assert_eq!(
        first.config, second.config,
        "round trip changed the model:\n{rendered}"
    );
    assert_eq!(
        rendered,
        ios::render(&second.config),
        "render is not a fixed point"
    );
    let mut choices = data.iter().rev().copied().cycle();
    let mut pick = |shortest: usize, full: usize| {
        let span = full.saturating_sub(shortest).saturating_add(1);
        shortest.saturating_add(usize::from(choices.next().unwrap_or(0)) % span)
    };
    for short in [
        ios::abbreviate(&rendered, &mut pick),
        ios::abbreviate(&rendered, &mut |shortest, _| shortest),
    ] {
        match ios::parse(&short) {
            Ok(p) => assert_eq!(
                p.config, first.config,
                "abbreviated keywords changed the model:\n{short}"
            ),
            Err(e) => panic!("abbreviated configuration does not parse: {e}\n{short}"),
        }
    }
}

/// A user file for the XAUTH database (`ted::remote_access::UserDb`):
/// reading it never panics, and what it accepts keeps the file's rules:
/// one user per line that is neither blank nor a comment, names of 1-64
/// printable ASCII bytes without `:`, hash costs within the limits. No
/// password is verified (that would run argon2id at the file's costs);
/// the number of users read is returned for the replay test.
pub fn user_db(data: &[u8]) -> usize {
    use ted::remote_access::UserDb;
    let Ok(text) = core::str::from_utf8(data) else {
        return 0;
    };
    let db = match UserDb::parse(text) {
        Ok(db) => db,
        Err(e) => {
            let line = e.line.unwrap_or(0);
            assert!(
                line >= 1 && line <= text.split('\n').count(),
                "error line {line} outside the file"
            );
            return 0;
        }
    };
    let lines = text
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    assert_eq!(db.len(), lines, "every user line is one user");
    for name in db.names() {
        assert!(
            !name.is_empty()
                && name.len() <= UserDb::MAX_NAME_LEN
                && name.bytes().all(|b| b.is_ascii_graphic() && b != b':'),
            "bad name {name:?} accepted"
        );
        let params = db.params_of(name);
        assert!(
            params.is_some_and(|p| p.within_limits()),
            "{name}: {params:?}"
        );
    }
    assert!(db.dummy_params().within_limits());
    db.len()
}

/// The first part of the input (up to a NUL byte) is configuration text;
/// the rest is an IPv4 packet. For every access list of the configuration:
/// a rule matches the packet's flow exactly when its mirror matches the
/// reversed flow, and mirroring twice gives the list back.
pub fn acl_mirror(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (text, packet) = data.split_at(split);
    let packet = packet.get(1..).unwrap_or(&[]);
    let Ok(text) = core::str::from_utf8(text) else {
        return;
    };
    let Ok(parsed) = ios::parse(text) else {
        return;
    };
    let Ok(flow) = Flow::from_ipv4_packet(packet) else {
        return;
    };
    let reversed = flow.reversed();
    for acl in parsed.config.access_lists() {
        for (seq, rule) in acl.rules() {
            assert_eq!(
                rule.matches(&flow),
                rule.mirror().matches(&reversed),
                "line {seq} of {}: mirror disagrees on {flow}",
                acl.name()
            );
        }
        let back = acl
            .mirrored(acl.name().clone())
            .and_then(|m| m.mirrored(acl.name().clone()));
        if let Ok(back) = back {
            assert!(
                back.rules().map(|(_, r)| r).eq(acl.rules().map(|(_, r)| r)),
                "mirroring twice changed {}",
                acl.name()
            );
        }
    }
}
