//! `show crypto pki certificates`: our certificate and the trust anchors,
//! one block each, in the layout IOS 12.4 prints (status, serial, usage,
//! issuer and subject one attribute a line, validity dates, trustpoint).

use std::fmt::Write as _;

/// Which certificate a block shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PkiCertificateKind {
    /// Ours (IOS: `Certificate`).
    Own,
    /// A trust anchor (IOS: `CA Certificate`).
    Ca,
}

/// One certificate, as the view needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkiCertificateRow {
    /// Ours or a CA's.
    pub kind: PkiCertificateKind,
    /// Serial number, hex.
    pub serial: String,
    /// Issuer, RFC 4514 form (`CN=Test CA, O=Example, C=CH`).
    pub issuer: String,
    /// Subject, the same form.
    pub subject: String,
    /// Validity start, Unix seconds.
    pub not_before: u64,
    /// Validity end, Unix seconds.
    pub not_after: u64,
    /// The trustpoint IOS would name (ours: the configuration's, or
    /// `ikev1-peer`).
    pub trustpoint: String,
}

/// Renders `show crypto pki certificates`.
#[must_use]
pub fn pki_certificates(rows: &[PkiCertificateRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let (title, usage) = match r.kind {
            PkiCertificateKind::Own => ("Certificate", "General Purpose"),
            PkiCertificateKind::Ca => ("CA Certificate", "Signature"),
        };
        let _ = writeln!(out, "{title}");
        let _ = writeln!(out, "  Status: Available");
        let _ = writeln!(out, "  Certificate Serial Number: {}", r.serial);
        let _ = writeln!(out, "  Certificate Usage: {usage}");
        let _ = writeln!(out, "  Issuer:");
        for a in attributes(&r.issuer) {
            let _ = writeln!(out, "    {a}");
        }
        let _ = writeln!(out, "  Subject:");
        for a in attributes(&r.subject) {
            let _ = writeln!(out, "    {a}");
        }
        let _ = writeln!(out, "  Validity Date:");
        let _ = writeln!(out, "    start date: {}", ios_date(r.not_before));
        let _ = writeln!(out, "    end   date: {}", ios_date(r.not_after));
        let _ = writeln!(out, "  Associated Trustpoints: {}", r.trustpoint);
        out.push('\n');
    }
    out
}

/// `CN=a,O=b` (or `CN=a, O=b`) -> `cn=a`, `o=b`: IOS prints attribute
/// names in lower case, one a line, most specific first as RFC 4514
/// writes them. An escaped comma (`\,`) stays in its value.
fn attributes(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for ch in name.chars() {
        match ch {
            ',' if !escaped => parts.push(core::mem::take(&mut current)),
            _ => current.push(ch),
        }
        escaped = ch == '\\' && !escaped;
    }
    parts.push(current);
    parts
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(|a| match a.split_once('=') {
            Some((k, v)) => format!("{}={v}", k.to_ascii_lowercase()),
            None => a.to_owned(),
        })
        .collect()
}

/// `00:00:00 UTC Jan 1 2001`, IOS's form.
fn ios_date(unix: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // The debug log's calendar arithmetic counts days from 0000-03-01.
    let epoch = crate::log::days_from_civil(1970, 1, 1);
    let (y, m, d) = crate::log::civil_from_days(epoch + unix / 86_400);
    let secs = unix % 86_400;
    let month = MONTHS
        .get(usize::from(m.saturating_sub(1)))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{:02}:{:02}:{:02} UTC {month} {d} {y}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_ios_form() {
        // `date -u -d @978307200` is 2001-01-01 00:00:00; 951782400 is
        // 2000-02-29 (a leap day); 4102444799 is 2099-12-31 23:59:59.
        assert_eq!(ios_date(978_307_200), "00:00:00 UTC Jan 1 2001");
        assert_eq!(ios_date(951_782_400), "00:00:00 UTC Feb 29 2000");
        assert_eq!(ios_date(4_102_444_799), "23:59:59 UTC Dec 31 2099");
    }

    #[test]
    fn blocks_name_each_attribute_on_its_line() {
        let text = pki_certificates(&[PkiCertificateRow {
            kind: PkiCertificateKind::Ca,
            serial: "01".into(),
            issuer: "CN=Test CA, O=Example, C=CH".into(),
            subject: "CN=Test CA, O=Example, C=CH".into(),
            not_before: 978_307_200,
            not_after: 4_102_444_799,
            trustpoint: "TP".into(),
        }]);
        assert!(text.starts_with("CA Certificate\n  Status: Available\n"));
        assert!(text.contains("  Subject:\n    cn=Test CA\n    o=Example\n    c=CH\n"));
        assert_eq!(attributes("CN=a\\,b,O=x"), ["cn=a\\,b", "o=x"]);
        assert!(text.contains("    end   date: 23:59:59 UTC Dec 31 2099\n"));
        assert!(text.contains("  Associated Trustpoints: TP\n"));
    }
}
