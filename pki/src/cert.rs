//! X.509 certificates (RFC 5280 s.4) as IKEv1 peers send them, and how one
//! names a peer's identity (RFC 4945 s.3.1).

use core::fmt;
use std::net::IpAddr;

use der::asn1::ObjectIdentifier;
use der::oid::AssociatedOid;
use der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectAltName};
use x509_cert::name::Name;

use crate::error::CertError;
use crate::key::PublicKey;
use crate::{name, pem};

/// The largest certificate DER accepted; a larger one is refused
/// ([`CertError::TooLarge`]) before it is parsed. IKEv1 carries a
/// certificate in one CERT payload, itself at most 64 KiB; real
/// certificates are 1 to 3 KiB.
pub const MAX_CERT_SIZE: usize = 16 * 1024;

/// emailAddress (PKCS#9, RFC 2985), the legacy place of an e-mail address
/// in a subject name.
const OID_EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
/// commonName (X.520).
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// An IKEv1 ID payload's identity, as a certificate must name it (RFC 4945
/// s.3.1, s.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerIdentity<'a> {
    /// ID_DER_ASN1_DN: the DER of a distinguished name; matches a subject
    /// with the same DER, or the same RDNs with equal values after string
    /// preparation (case and spaces).
    Dn(&'a [u8]),
    /// ID_FQDN: matches a subjectAltName dNSName, case-insensitively; or the
    /// subject's commonName when the certificate has no subjectAltName at
    /// all.
    Fqdn(&'a str),
    /// ID_USER_FQDN: matches a subjectAltName rfc822Name or the subject's
    /// emailAddress attribute, case-insensitively.
    UserFqdn(&'a str),
    /// ID_IPV4_ADDR, ID_IPV6_ADDR: matches a subjectAltName iPAddress.
    Ip(IpAddr),
}

/// An X.509 certificate: its DER as received and the parsed structure.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("serial", &self.serial_hex())
            .finish_non_exhaustive()
    }
}

fn malformed(e: impl fmt::Display) -> CertError {
    CertError::Malformed(e.to_string())
}

impl Certificate {
    /// Parses a DER certificate (nothing may follow it).
    ///
    /// # Errors
    /// [`CertError::TooLarge`] above [`MAX_CERT_SIZE`] bytes,
    /// [`CertError::Malformed`] for DER that is not a certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        if der.len() > MAX_CERT_SIZE {
            return Err(CertError::TooLarge(der.len()));
        }
        let parsed = x509_cert::Certificate::from_der(der).map_err(malformed)?;
        Ok(Self {
            der: der.to_vec(),
            parsed,
        })
    }

    /// Parses the first `CERTIFICATE` block of PEM text.
    ///
    /// # Errors
    /// [`CertError::Malformed`] without such a block or if it does not
    /// decode; then as [`Self::from_der`].
    pub fn from_pem(text: &str) -> Result<Self, CertError> {
        Self::from_der(&pem::first(text, "CERTIFICATE").map_err(CertError::Malformed)?)
    }

    /// Parses every `CERTIFICATE` block of PEM text (a bundle), in order.
    ///
    /// # Errors
    /// As [`Self::from_pem`], for the first block that fails; a text
    /// without any certificate is [`CertError::Malformed`].
    pub fn all_from_pem(text: &str) -> Result<Vec<Self>, CertError> {
        let certs = pem::blocks(text)
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE")
            .map(|b| Self::from_der(&b.decode().map_err(CertError::Malformed)?))
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(CertError::Malformed("no CERTIFICATE PEM block".into()));
        }
        Ok(certs)
    }

    /// The DER, as received (what a CERT payload carries).
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn parsed(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    pub(crate) fn subject_name(&self) -> &Name {
        self.parsed.tbs_certificate().subject()
    }

    pub(crate) fn issuer_name(&self) -> &Name {
        self.parsed.tbs_certificate().issuer()
    }

    /// The DER of the subject name: what an ID_DER_ASN1_DN payload carries
    /// and what CERTREQ payloads name.
    #[must_use]
    pub fn subject_der(&self) -> Vec<u8> {
        name::name_der(self.subject_name())
    }

    /// The DER of the issuer name.
    #[must_use]
    pub fn issuer_der(&self) -> Vec<u8> {
        name::name_der(self.issuer_name())
    }

    /// The subject in RFC 4514 form (most significant RDN last), e.g.
    /// `CN=moon.example,O=Test,C=CH`.
    #[must_use]
    pub fn subject(&self) -> String {
        name::display(self.subject_name())
    }

    /// The issuer in RFC 4514 form.
    #[must_use]
    pub fn issuer(&self) -> String {
        name::display(self.issuer_name())
    }

    /// The serial number in upper-case hex, without the leading zero bytes
    /// of its DER (as `openssl x509 -serial` prints it).
    #[must_use]
    pub fn serial_hex(&self) -> String {
        serial_hex(self.parsed.tbs_certificate().serial_number().as_bytes())
    }

    pub(crate) fn serial_bytes(&self) -> &[u8] {
        self.parsed.tbs_certificate().serial_number().as_bytes()
    }

    /// notBefore, Unix seconds.
    #[must_use]
    pub fn not_before(&self) -> u64 {
        self.parsed
            .tbs_certificate()
            .validity()
            .not_before
            .to_unix_duration()
            .as_secs()
    }

    /// notAfter, Unix seconds.
    #[must_use]
    pub fn not_after(&self) -> u64 {
        self.parsed
            .tbs_certificate()
            .validity()
            .not_after
            .to_unix_duration()
            .as_secs()
    }

    /// The basicConstraints extension; an undecodable one is an error.
    pub(crate) fn basic_constraints(&self) -> Result<Option<BasicConstraints>, CertError> {
        self.parsed
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map(|e| e.map(|(_, bc)| bc))
            .map_err(|e| CertError::Malformed(format!("basicConstraints: {e}")))
    }

    /// The keyUsage extension; an undecodable one is an error.
    pub(crate) fn key_usage(&self) -> Result<Option<KeyUsage>, CertError> {
        self.parsed
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map(|e| e.map(|(_, ku)| ku))
            .map_err(|e| CertError::Malformed(format!("keyUsage: {e}")))
    }

    /// Whether basicConstraints says cA=TRUE.
    #[must_use]
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints(), Ok(Some(bc)) if bc.ca)
    }

    /// The subject's public key.
    ///
    /// # Errors
    /// [`CertError::UnsupportedAlgorithm`] for a key this crate does not
    /// use (DSA, Ed25519, other curves, RSA moduli outside 1024..=4096
    /// bits); [`CertError::Malformed`] for an invalid key.
    pub fn public_key(&self) -> Result<PublicKey, CertError> {
        let spki = self
            .parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(malformed)?;
        PublicKey::from_spki_der(&spki).map_err(|e| match e {
            crate::KeyError::Unsupported(what) => CertError::UnsupportedAlgorithm(what),
            other => CertError::Malformed(other.to_string()),
        })
    }

    /// The subjectAltName entries; `None` without the extension (or with
    /// an undecodable one).
    fn alt_names(&self) -> Option<Vec<GeneralName>> {
        match self
            .parsed
            .tbs_certificate()
            .get_extension::<SubjectAltName>()
        {
            Ok(Some((_, san))) => Some(san.0),
            _ => None,
        }
    }

    fn has_alt_names_extension(&self) -> bool {
        self.parsed
            .tbs_certificate()
            .extensions()
            .is_some_and(|exts| {
                exts.iter()
                    .any(|e| e.extn_id == <SubjectAltName as AssociatedOid>::OID)
            })
    }

    /// The subjectAltName dNSName entries.
    #[must_use]
    pub fn dns_names(&self) -> Vec<String> {
        self.alt_names()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The subjectAltName rfc822Name entries.
    #[must_use]
    pub fn emails(&self) -> Vec<String> {
        self.alt_names()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::Rfc822Name(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The subjectAltName iPAddress entries (4 or 16 bytes; other lengths,
    /// such as name-constraint ranges, are skipped).
    #[must_use]
    pub fn ip_addresses(&self) -> Vec<IpAddr> {
        self.alt_names()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::IpAddress(o) => ip_from_bytes(o.as_bytes()),
                _ => None,
            })
            .collect()
    }

    /// The values of one attribute type in the subject, as text.
    fn subject_attribute(&self, oid: ObjectIdentifier) -> Vec<String> {
        self.subject_name()
            .iter()
            .filter(|atv| atv.oid == oid)
            .filter_map(name::string_value)
            .collect()
    }

    /// Whether the certificate names this peer identity (see
    /// [`PeerIdentity`] for each kind's rule).
    #[must_use]
    pub fn matches(&self, id: &PeerIdentity<'_>) -> bool {
        match *id {
            PeerIdentity::Dn(der) => match Name::from_der(der) {
                Ok(n) => name::names_match(&n, self.subject_name()),
                Err(_) => false,
            },
            PeerIdentity::Fqdn(fqdn) => {
                let want = fqdn.trim_end_matches('.');
                if want.is_empty() {
                    return false;
                }
                if self.has_alt_names_extension() {
                    self.dns_names()
                        .iter()
                        .any(|d| d.trim_end_matches('.').eq_ignore_ascii_case(want))
                } else {
                    self.subject_attribute(OID_CN)
                        .iter()
                        .any(|cn| cn.eq_ignore_ascii_case(want))
                }
            }
            PeerIdentity::UserFqdn(email) => {
                !email.is_empty()
                    && self
                        .emails()
                        .into_iter()
                        .chain(self.subject_attribute(OID_EMAIL))
                        .any(|e| e.eq_ignore_ascii_case(email))
            }
            PeerIdentity::Ip(ip) => self.ip_addresses().contains(&ip),
        }
    }
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        Some(IpAddr::from(v4))
    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
        Some(IpAddr::from(v6))
    } else {
        None
    }
}

/// Upper-case hex of a serial number's bytes without leading zero bytes
/// (one zero byte stays for the serial 0).
pub(crate) fn serial_hex(bytes: &[u8]) -> String {
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes
        .get(first..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}
