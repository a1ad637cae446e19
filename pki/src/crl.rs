//! Certificate revocation lists (RFC 5280 s.5).

use core::fmt;

use der::Decode;

use crate::cert::{MAX_CERT_SIZE, serial_hex};
use crate::error::CertError;
use crate::{name, pem};

/// The largest CRL DER accepted: 64 times [`MAX_CERT_SIZE`] (a CRL grows
/// with the revoked certificates; this holds some 30,000 entries).
pub(crate) const MAX_CRL_SIZE: usize = 64 * MAX_CERT_SIZE;

/// A CRL: its issuer, its revoked serial numbers and its validity. Its
/// signature is checked when a path validation uses it, against the
/// issuer found in the path.
#[derive(Clone)]
pub struct Crl {
    der: Vec<u8>,
    parsed: x509_cert::crl::CertificateList,
}

impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crl")
            .field("issuer", &self.issuer())
            .field("revoked", &self.revoked_serials().len())
            .field("this_update", &self.this_update())
            .field("next_update", &self.next_update())
            .finish_non_exhaustive()
    }
}

impl Crl {
    /// Parses a DER CRL.
    ///
    /// # Errors
    /// [`CertError::TooLarge`] above 1 MiB, [`CertError::Malformed`] for DER
    /// that is not a CRL.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        if der.len() > MAX_CRL_SIZE {
            return Err(CertError::TooLarge(der.len()));
        }
        let parsed = x509_cert::crl::CertificateList::from_der(der)
            .map_err(|e| CertError::Malformed(e.to_string()))?;
        Ok(Self {
            der: der.to_vec(),
            parsed,
        })
    }

    /// Parses the first `X509 CRL` block of PEM text.
    ///
    /// # Errors
    /// [`CertError::Malformed`] without such a block or if it does not
    /// decode; then as [`Self::from_der`].
    pub fn from_pem(text: &str) -> Result<Self, CertError> {
        Self::from_der(&pem::first(text, "X509 CRL").map_err(CertError::Malformed)?)
    }

    /// The DER, as read.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn parsed(&self) -> &x509_cert::crl::CertificateList {
        &self.parsed
    }

    /// The DER of the issuer name.
    #[must_use]
    pub fn issuer_der(&self) -> Vec<u8> {
        name::name_der(&self.parsed.tbs_cert_list.issuer)
    }

    /// The issuer in RFC 4514 form.
    #[must_use]
    pub fn issuer(&self) -> String {
        name::display(&self.parsed.tbs_cert_list.issuer)
    }

    /// The revoked serial numbers, upper-case hex as
    /// [`crate::Certificate::serial_hex`] writes them.
    #[must_use]
    pub fn revoked_serials(&self) -> Vec<String> {
        self.parsed
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| serial_hex(r.serial_number.as_bytes()))
            .collect()
    }

    pub(crate) fn is_revoked(&self, serial: &[u8]) -> bool {
        let want = serial_hex(serial);
        self.parsed
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .any(|r| serial_hex(r.serial_number.as_bytes()) == want)
    }

    /// thisUpdate, Unix seconds.
    #[must_use]
    pub fn this_update(&self) -> u64 {
        self.parsed
            .tbs_cert_list
            .this_update
            .to_unix_duration()
            .as_secs()
    }

    /// nextUpdate, Unix seconds, if the CRL gives one.
    #[must_use]
    pub fn next_update(&self) -> Option<u64> {
        self.parsed
            .tbs_cert_list
            .next_update
            .map(|t| t.to_unix_duration().as_secs())
    }
}
