//! Helpers shared by the `secrets_*` tests: how a secret could show up in
//! text, and the assertion that it does not.

// Not every test file uses every helper.
#![allow(dead_code)]

/// Every way a `Debug` or `Display` implementation could plausibly print
/// (part of) `secret`: lower- and upper-case hex, the decimal list a
/// derived `Debug` of a `Vec<u8>` or array prints, and the raw text when
/// the secret is UTF-8. Whole secrets and every 6-byte window (so a
/// truncated or partial print is caught too); windows of one repeated
/// byte are left out, they would match unrelated zero runs.
pub(crate) fn renderings(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |part: &[u8]| {
        let lower: String = part.iter().map(|b| format!("{b:02x}")).collect();
        out.push(lower.to_uppercase());
        out.push(lower);
        let decimal: Vec<String> = part.iter().map(u8::to_string).collect();
        out.push(decimal.join(", "));
        if let Ok(text) = core::str::from_utf8(part)
            && part.len() >= 4
        {
            out.push(text.to_owned());
        }
    };
    add(secret);
    for w in secret.windows(6) {
        if w.iter().any(|b| *b != w[0]) {
            add(w);
        }
    }
    out
}

/// Fails when `shown` (the output of formatting `what`) contains any
/// rendering of `secret`.
pub(crate) fn assert_hidden(what: &str, shown: &str, secret: &[u8]) {
    assert!(
        secret.len() >= 6,
        "{what}: test secrets must be at least 6 bytes"
    );
    for r in renderings(secret) {
        assert!(
            !shown.contains(&r),
            "{what}: the secret appears as `{r}` in:\n{shown}"
        );
    }
}

/// A distinctive test secret of `len` bytes: no run, no printable pattern
/// that other output could contain by chance.
pub(crate) fn secret(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let i = u8::try_from(i % 251).unwrap_or(0);
            i.wrapping_mul(167).wrapping_add(salt) ^ 0x5c
        })
        .collect()
}

/// Compile-time: `T` wipes its secrets when dropped (it implements the
/// `ZeroizeOnDrop` marker, which the crates only declare for types whose
/// every secret field wipes itself).
pub(crate) fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
