//! Keeps secrets out of the line texts the importer hands back.
//!
//! Error messages and the list of skipped lines quote configuration lines.
//! Some carry secrets: the pre-shared key of `crypto isakmp key`, a client
//! group's `key`, a local user's password (every word of it: `username ...
//! password` runs to the end of the line), and, among the lines outside
//! the crypto subset, `enable password`, `enable secret`, `key-string`,
//! SNMP communities. Those tokens are replaced with `<redacted>`. This is a
//! best effort for the lines outside the subset: it knows the common IOS
//! forms, not every one.

const REDACTED: &str = "<redacted>";

/// The line with its secret tokens replaced; the line unchanged (spacing
/// included) when it holds none.
pub(super) fn redact(text: &str) -> String {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    apply(text, &tokens, &mask(&tokens))
}

/// `text` with the tokens hidden that [`redact`] hides in `expanded`, the
/// same line with its abbreviated keywords written in full (so that
/// `username u pass 0 TEXT` hides TEXT as `password` would).
pub(super) fn redact_as(text: &str, expanded: &str) -> String {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let full: Vec<&str> = expanded.split_whitespace().collect();
    if tokens.len() != full.len() {
        return redact(text);
    }
    let mut hide = mask(&full);
    for (h, more) in hide.iter_mut().zip(mask(&tokens)) {
        *h |= more;
    }
    apply(text, &tokens, &hide)
}

fn apply(text: &str, tokens: &[&str], hide: &[bool]) -> String {
    if !hide.iter().any(|&h| h) {
        return text.to_owned();
    }
    tokens
        .iter()
        .zip(hide)
        .map(|(t, &h)| if h { REDACTED } else { *t })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which tokens of a line are secret.
fn mask(tokens: &[&str]) -> Vec<bool> {
    let lower: Vec<String> = tokens.iter().map(|t| t.to_ascii_lowercase()).collect();
    let is = |i: usize, kw: &str| lower.get(i).is_some_and(|t| t == kw);
    let mut hide = vec![false; tokens.len()];
    let mut mark = |i: usize| {
        if let Some(h) = hide.get_mut(i) {
            *h = true;
        }
    };

    // `[no] crypto isakmp key [0|6] KEY ...`: every word between the key
    // type and the peer keyword is hidden, not only the first. A key typed
    // with a space in it is cut at the space by the grammar, and the line
    // is refused, but both halves are the operator's secret. Without a peer
    // keyword only the first word is hidden (the next may be a misspelt
    // `address`, which the error should show).
    let base = usize::from(is(0, "no"));
    if is(base, "crypto") && is(base + 1, "isakmp") && is(base + 2, "key") {
        let key = base + 3;
        let typed =
            (is(key, "0") || is(key, "6")) && !(is(key + 1, "address") || is(key + 1, "hostname"));
        let first = if typed { key + 1 } else { key };
        let peer = (first..tokens.len()).find(|&i| is(i, "address") || is(i, "hostname"));
        for i in first..peer.unwrap_or(first + 1) {
            mark(i);
        }
    }
    // A keyring's `[no] pre-shared-key address|hostname PEER [MASK] key
    // [0|6] KEY`, keywords possibly abbreviated (`pre a 10.0.0.1 k KEY`):
    // every word after the `key` keyword (the first prefix of `key` after
    // the peer) is hidden, all of a key typed with a space included.
    // Without a `key` word, every word after the peer but a mask is
    // hidden (it may be the key, typed without `key`).
    if lower
        .get(base)
        .is_some_and(|t| t.len() >= 2 && "pre-shared-key".starts_with(t.as_str()))
    {
        let at = (base + 3..tokens.len()).find(|&i| {
            lower
                .get(i)
                .is_some_and(|t| !t.is_empty() && "key".starts_with(t.as_str()))
        });
        match at {
            Some(at) => {
                for i in after_type(&lower, at + 1)..tokens.len() {
                    mark(i);
                }
            }
            None => {
                for i in base + 3..tokens.len() {
                    if lower
                        .get(i)
                        .is_none_or(|t| t.parse::<std::net::Ipv4Addr>().is_err())
                    {
                        mark(i);
                    }
                }
            }
        }
    }
    // `username NAME ... password|secret [TYPE] TEXT`: the password runs to
    // the end of the line (IOS allows blanks in it), so every word after
    // the keyword and type is hidden.
    if is(base, "username")
        && let Some(at) = (base + 2..tokens.len()).find(|&i| is(i, "password") || is(i, "secret"))
    {
        for i in after_type(&lower, at + 1)..tokens.len() {
            mark(i);
        }
    }
    // A client group's `key [0|6] SECRET` line: all of it is the secret
    // (a key typed with a blank is refused, but both halves are secret);
    // not `key chain NAME` nor `key config-key ...`.
    if is(base, "key") && !(is(base + 1, "chain") || is(base + 1, "config-key")) {
        for i in after_type(&lower, base + 1)..tokens.len() {
            mark(i);
        }
    }
    for i in 0..tokens.len() {
        let next = i + 1;
        let kw = lower.get(i).map(String::as_str).unwrap_or("");
        match kw {
            "password" | "secret" | "key-string" | "authentication-key" => {
                mark(after_type(&lower, next));
            }
            // `key SECRET` in keyrings, client groups, `tacacs-server key`;
            // not the RSA key commands (`crypto key generate rsa`) nor the
            // `crypto isakmp key` line, handled above.
            "key" if !(is(base, "crypto") && (is(base + 1, "key") || is(base + 1, "isakmp"))) => {
                mark(after_type(&lower, next));
            }
            // `ip ospf message-digest-key 1 md5 SECRET`
            "message-digest-key" if is(i + 2, "md5") => mark(after_type(&lower, i + 3)),
            "community" if is(0, "snmp-server") => mark(next),
            _ => {}
        }
    }
    hide
}

/// The index of a secret that may follow an encryption-type digit
/// (`secret 5 $1$...`, `password 7 0822455D0A16`).
fn after_type(lower: &[String], at: usize) -> usize {
    let typed = lower
        .get(at)
        .is_some_and(|t| t.len() == 1 && t.bytes().all(|b| b.is_ascii_digit()))
        && at + 1 < lower.len();
    if typed { at + 1 } else { at }
}
