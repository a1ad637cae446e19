//! Certificates: trustpoints and the certificate chains IOS keeps for them.
//!
//! `crypto pki trustpoint NAME` (`crypto ca trustpoint` before IOS 12.3(7)T)
//! says where a router's certificate comes from and how it is checked:
//! `enrollment`, `subject-name`, `revocation-check`, `rsakeypair`, `fqdn`,
//! `serial-number`, `ip-address` ([`Trustpoint`]). `crypto pki certificate
//! chain NAME` holds the certificates themselves, as IOS prints them in its
//! running-config: `certificate [ca|self-signed] SERIAL`, the DER bytes in
//! hexadecimal, `quit` ([`CertificateChain`]). The model keeps the bytes as
//! they came; reading them (X.509) is the gateway's business.

use core::fmt;
use std::collections::BTreeMap;

/// How a trustpoint enrolls (`enrollment ...`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Enrollment {
    /// `enrollment selfsigned`: the router signs its own certificate.
    SelfSigned,
    /// `enrollment terminal [pem]`: certificates are pasted in.
    Terminal {
        /// `pem`: in PEM form.
        pem: bool,
    },
    /// `enrollment url URL`: a SCEP server.
    Url(String),
}

impl fmt::Display for Enrollment {
    /// The words after `enrollment`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SelfSigned => f.write_str("selfsigned"),
            Self::Terminal { pem: false } => f.write_str("terminal"),
            Self::Terminal { pem: true } => f.write_str("terminal pem"),
            Self::Url(url) => write!(f, "url {url}"),
        }
    }
}

/// One method of `revocation-check` (tried in the order given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevocationCheck {
    /// `crl`: certificate revocation lists.
    Crl,
    /// `ocsp`: an OCSP responder.
    Ocsp,
    /// `none`: no check (as the last method: accept when the others
    /// cannot answer).
    None,
}

impl RevocationCheck {
    /// The configuration keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Crl => "crl",
            Self::Ocsp => "ocsp",
            Self::None => "none",
        }
    }
}

/// `rsakeypair NAME [SIGN-BITS [ENCRYPT-BITS]]`: the key pair of the
/// router's certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RsaKeypair {
    /// The key pair's label.
    pub label: String,
    /// The signature key's size in bits, when given.
    pub sign_bits: Option<u16>,
    /// The encryption key's size in bits, when given.
    pub encrypt_bits: Option<u16>,
}

/// `crypto pki trustpoint NAME` and the sub-commands the model keeps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Trustpoint {
    name: String,
    /// `enrollment selfsigned | terminal [pem] | url URL`.
    pub enrollment: Option<Enrollment>,
    /// `subject-name X.500-NAME` (the rest of the line, e.g.
    /// `CN=r1.example.com, OU=VPN`).
    pub subject_name: Option<String>,
    /// `revocation-check METHOD...`, in order; empty: not configured (IOS
    /// then checks CRLs).
    pub revocation_check: Vec<RevocationCheck>,
    /// `rsakeypair`.
    pub rsakeypair: Option<RsaKeypair>,
    /// `fqdn NAME | none`: the name put in the certificate request.
    pub fqdn: Option<String>,
    /// `serial-number [none]`: `Some(true)` puts the router's serial number
    /// in the request, `Some(false)` (`none`) leaves it out.
    pub serial_number: Option<bool>,
    /// `ip-address ADDRESS | INTERFACE | none`: the address put in the
    /// request, as written.
    pub ip_address: Option<String>,
}

impl Trustpoint {
    /// A trustpoint with nothing configured.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            enrollment: None,
            subject_name: None,
            revocation_check: Vec::new(),
            rsakeypair: None,
            fqdn: None,
            serial_number: None,
            ip_address: None,
        }
    }

    /// The trustpoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Whose certificate a chain entry is (`certificate [ca|self-signed]
/// SERIAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertificateKind {
    /// The router's own certificate (no keyword).
    Router,
    /// `ca`: the certification authority's certificate.
    Ca,
    /// `self-signed`: the router's self-signed certificate.
    SelfSigned,
}

impl CertificateKind {
    /// The keyword after `certificate`, if any.
    pub fn keyword(self) -> Option<&'static str> {
        match self {
            Self::Router => None,
            Self::Ca => Some("ca"),
            Self::SelfSigned => Some("self-signed"),
        }
    }
}

/// One certificate of a chain.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChainCertificate {
    /// Whose it is.
    pub kind: CertificateKind,
    /// The serial number as IOS prints it (hexadecimal digits).
    pub serial: String,
    /// The certificate, DER-encoded.
    pub der: Vec<u8>,
}

impl ChainCertificate {
    /// Whether it is the certification authority's certificate.
    pub fn is_ca(&self) -> bool {
        self.kind == CertificateKind::Ca
    }
}

impl fmt::Debug for ChainCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainCertificate")
            .field("kind", &self.kind)
            .field("serial", &self.serial)
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// `crypto pki certificate chain NAME`: the certificates of trustpoint
/// NAME, in configuration order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertificateChain {
    trustpoint: String,
    /// The certificates.
    pub certificates: Vec<ChainCertificate>,
}

impl CertificateChain {
    /// The most certificates one chain holds.
    pub const MAX_CERTIFICATES: usize = 16;
    /// The largest certificate, in DER bytes.
    pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
    /// The longest serial number, in hexadecimal digits (RFC 5280 allows
    /// 20 octets).
    pub const MAX_SERIAL_LEN: usize = 40;

    /// An empty chain.
    pub fn new(trustpoint: &str) -> Self {
        Self {
            trustpoint: trustpoint.to_owned(),
            certificates: Vec::new(),
        }
    }

    /// The trustpoint whose chain it is.
    pub fn trustpoint(&self) -> &str {
        &self.trustpoint
    }

    /// Adds a certificate, replacing one with the same serial number and
    /// kind (as pasting it again does).
    pub fn add(&mut self, certificate: ChainCertificate) {
        match self
            .certificates
            .iter_mut()
            .find(|c| c.serial == certificate.serial && c.kind == certificate.kind)
        {
            Some(slot) => *slot = certificate,
            None => self.certificates.push(certificate),
        }
    }
}

/// The certificate part of a configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pki {
    trustpoints: BTreeMap<String, Trustpoint>,
    chains: BTreeMap<String, CertificateChain>,
}

impl Pki {
    /// The trustpoints, by name.
    pub fn trustpoints(&self) -> impl Iterator<Item = &Trustpoint> + '_ {
        self.trustpoints.values()
    }

    /// A trustpoint by name.
    pub fn trustpoint(&self, name: &str) -> Option<&Trustpoint> {
        self.trustpoints.get(name)
    }

    /// A trustpoint by name, created empty if it does not exist.
    pub fn trustpoint_mut(&mut self, name: &str) -> &mut Trustpoint {
        self.trustpoints
            .entry(name.to_owned())
            .or_insert_with(|| Trustpoint::new(name))
    }

    /// Removes a trustpoint (and its chain, as IOS does).
    pub fn remove_trustpoint(&mut self, name: &str) -> Option<Trustpoint> {
        self.chains.remove(name);
        self.trustpoints.remove(name)
    }

    /// The certificate chains, by trustpoint name.
    pub fn chains(&self) -> impl Iterator<Item = &CertificateChain> + '_ {
        self.chains.values()
    }

    /// A trustpoint's certificate chain.
    pub fn chain(&self, trustpoint: &str) -> Option<&CertificateChain> {
        self.chains.get(trustpoint)
    }

    /// A trustpoint's certificate chain, created empty if it does not
    /// exist.
    pub fn chain_mut(&mut self, trustpoint: &str) -> &mut CertificateChain {
        self.chains
            .entry(trustpoint.to_owned())
            .or_insert_with(|| CertificateChain::new(trustpoint))
    }

    /// Removes a certificate chain.
    pub fn remove_chain(&mut self, trustpoint: &str) -> Option<CertificateChain> {
        self.chains.remove(trustpoint)
    }

    /// Whether nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.trustpoints.is_empty() && self.chains.is_empty()
    }
}
