//! Distinguished names: display, comparison, attribute values.
//!
//! Two names match when their DER is equal or, as RFC 5280 s.7.1 allows,
//! when they have the same RDNs in the same order, each with the same
//! attribute types and values equal after a simplified preparation of
//! directory strings (RFC 4518: leading and trailing spaces removed,
//! inner runs of spaces collapsed, case folded; ASCII folding only).
//! Values that are not strings compare byte for byte.

use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// The text of a directory string value (UTF8String, PrintableString,
/// IA5String, VisibleString, TeletexString read as Latin-1,
/// BMPString), `None` for other types.
pub(crate) fn string_value(atv: &AttributeTypeAndValue) -> Option<String> {
    let bytes = atv.value.value();
    match atv.value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            core::str::from_utf8(bytes).ok().map(str::to_owned)
        }
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| match c {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => 0,
                })
                .collect::<Vec<u16>>();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// RFC 4518's preparation, simplified: trimmed, inner whitespace runs as
/// one space, lower case.
fn prepare(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn atv_eq(a: &AttributeTypeAndValue, b: &AttributeTypeAndValue) -> bool {
    if a.oid != b.oid {
        return false;
    }
    match (string_value(a), string_value(b)) {
        (Some(x), Some(y)) => prepare(&x) == prepare(&y),
        _ => a.value == b.value,
    }
}

/// Whether two names are the same name (equal DER, or equal after string
/// preparation).
pub(crate) fn names_match(a: &Name, b: &Name) -> bool {
    if a == b {
        return true;
    }
    let (ra, rb): (Vec<_>, Vec<_>) = (a.iter_rdn().collect(), b.iter_rdn().collect());
    ra.len() == rb.len()
        && ra.iter().zip(&rb).all(|(x, y)| {
            x.len() == y.len()
                && x.iter().all(|ax| y.iter().any(|by| atv_eq(ax, by)))
                && y.iter().all(|by| x.iter().any(|ax| atv_eq(ax, by)))
        })
}

/// The name's DER (empty if it cannot be encoded, which a decoded name
/// always can).
pub(crate) fn name_der(name: &Name) -> Vec<u8> {
    name.to_der().unwrap_or_default()
}

/// The name in RFC 4514 form, as x509-cert writes it.
pub(crate) fn display(name: &Name) -> String {
    name.to_string()
}

/// A DER-encoded distinguished name (an ID_DER_ASN1_DN payload's data, a
/// certificate request's authority) in RFC 4514 form; `None` if it is not
/// a DER `Name` or is longer than a certificate may be.
#[must_use]
pub fn name_to_string(der: &[u8]) -> Option<String> {
    if der.len() > crate::MAX_CERT_SIZE {
        return None;
    }
    Name::from_der(der).ok().map(|n| display(&n))
}
