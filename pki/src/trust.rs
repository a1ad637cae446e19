//! Trust anchors, CRLs and certificate path validation: a subset of RFC
//! 5280 s.6 sized for IKEv1 peers.
//!
//! A path runs from the peer's end-entity certificate through the
//! intermediates it sent (CERT payloads, in any order) to one of our trust
//! anchors. Issuers are found by name (equal DER, or the same name after
//! string preparation) and confirmed by signature; every path of at most
//! [`MAX_CHAIN_DEPTH`] certificates is tried, a certificate appears at most
//! once in a path. On the path found:
//!
//! - every certificate, the anchor included, is within its validity;
//! - every issuer has basicConstraints cA=TRUE, and its
//!   pathLenConstraint bounds the intermediates below it;
//! - a keyUsage extension, where present, allows keyCertSign on an issuer
//!   and digitalSignature on the end entity;
//! - a loaded CRL from the issuer of a certificate in the path must verify
//!   under that issuer's key and be current, and must not list the
//!   certificate.
//!
//! Not checked: certificate policies, name constraints, extended key
//! usage, unknown critical extensions, revocation without a loaded CRL
//! (no CRL means no revocation check; OCSP is not implemented).

use std::collections::HashMap;

use crate::cert::Certificate;
use crate::crl::Crl;
use crate::error::CertError;
use crate::sigalg::{self, Failure};
use crate::{name, sigalg::first_element};

/// The most certificates a path may hold, the end entity and the anchor
/// included.
pub const MAX_CHAIN_DEPTH: usize = 8;

/// The most signature checks one validation makes while it searches for
/// a path; a search that needs more fails with [`CertError::ChainTooLong`].
const MAX_SIGNATURE_CHECKS: usize = 64;

/// A successful validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedPath {
    /// The subject of the trust anchor the path ends at (RFC 4514 form).
    pub anchor_subject: String,
    /// The number of certificates in the path, the end entity and the
    /// anchor included (2 for an end entity issued by the anchor itself; 1
    /// when the end entity is an anchor).
    pub depth: usize,
}

/// Our trust anchors (CA certificates we trust) and the CRLs we loaded.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    crls: Vec<Crl>,
}

/// Where a certificate of a candidate path comes from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Node {
    EndEntity,
    Intermediate(usize),
    Anchor(usize),
}

/// The search's state: the certificates, the signature results so far,
/// the budget, and the most telling error met.
struct Search<'a> {
    store: &'a TrustStore,
    end_entity: &'a Certificate,
    intermediates: &'a [Certificate],
    now: u64,
    verified: HashMap<(Node, Node), Result<(), CertError>>,
    checks: usize,
    error: Option<(u8, CertError)>,
}

impl TrustStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a trust anchor (a certificate already present is not added
    /// twice).
    pub fn add_anchor(&mut self, cert: Certificate) {
        if !self.anchors.iter().any(|a| a.der() == cert.der()) {
            self.anchors.push(cert);
        }
    }

    /// Adds a CRL. It is used for the certificates its issuer issued in
    /// a path; its signature is checked then.
    pub fn add_crl(&mut self, crl: Crl) {
        if !self.crls.iter().any(|c| c.der() == crl.der()) {
            self.crls.push(crl);
        }
    }

    /// The trust anchors, in the order added.
    #[must_use]
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The DER subject names of the anchors: what our CERTREQ payloads
    /// carry (RFC 2408 s.3.10, Certificate Authority field).
    #[must_use]
    pub fn anchor_names(&self) -> Vec<Vec<u8>> {
        self.anchors.iter().map(Certificate::subject_der).collect()
    }

    /// Whether the store has no anchor.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Validates `end_entity` with the `intermediates` the peer sent, at
    /// Unix time `now` (see the module documentation for what is checked).
    ///
    /// # Errors
    /// The [`CertError`] of the first check that failed. When no path
    /// reaches an anchor: [`CertError::BadSignature`] if a certificate
    /// named an issuer whose key does not verify it,
    /// [`CertError::ChainTooLong`] if only paths longer than
    /// [`MAX_CHAIN_DEPTH`] or looping ones would, else
    /// [`CertError::UnknownIssuer`]. When paths exist but fail a check,
    /// the error of the first such path.
    pub fn validate(
        &self,
        end_entity: &Certificate,
        intermediates: &[Certificate],
        now: u64,
    ) -> Result<ValidatedPath, CertError> {
        let mut search = Search {
            store: self,
            end_entity,
            intermediates,
            now,
            verified: HashMap::new(),
            checks: 0,
            error: None,
        };
        // The end entity is itself an anchor: trusted as is.
        if let Some(i) = self
            .anchors
            .iter()
            .position(|a| a.der() == end_entity.der())
        {
            search.check_path(&[Node::Anchor(i)])?;
            return Ok(ValidatedPath {
                anchor_subject: end_entity.subject(),
                depth: 1,
            });
        }
        let mut path = vec![Node::EndEntity];
        if let Some(found) = search.extend(&mut path) {
            return Ok(found);
        }
        Err(search.error.map_or_else(
            || CertError::UnknownIssuer {
                issuer: end_entity.issuer(),
            },
            |(_, e)| e,
        ))
    }
}

impl<'a> Search<'a> {
    fn cert(&self, node: Node) -> Option<&'a Certificate> {
        match node {
            Node::EndEntity => Some(self.end_entity),
            Node::Intermediate(i) => self.intermediates.get(i),
            Node::Anchor(i) => self.store.anchors.get(i),
        }
    }

    /// Keeps the most telling error: a failed check of a whole path (3)
    /// over a bad signature (2) over a path too long or looping (1) over
    /// an unknown issuer (0); the first of a rank.
    fn note(&mut self, rank: u8, error: CertError) {
        if self.error.as_ref().is_none_or(|(r, _)| rank > *r) {
            self.error = Some((rank, error));
        }
    }

    /// Depth-first search for an issuer of the last certificate of `path`;
    /// the first path that reaches an anchor and passes every check wins.
    fn extend(&mut self, path: &mut Vec<Node>) -> Option<ValidatedPath> {
        let last = *path.last()?;
        let child = self.cert(last)?;
        let issuer_name = child.issuer_name().clone();
        let anchors = (0..self.store.anchors.len()).map(Node::Anchor);
        let intermediates = (0..self.intermediates.len()).map(Node::Intermediate);
        let candidates: Vec<Node> = anchors
            .chain(intermediates)
            .filter(|&n| {
                self.cert(n)
                    .is_some_and(|c| name::names_match(c.subject_name(), &issuer_name))
            })
            .collect();
        if candidates.is_empty() {
            self.note(
                0,
                CertError::UnknownIssuer {
                    issuer: name::display(&issuer_name),
                },
            );
        }
        for candidate in candidates {
            let Some(parent) = self.cert(candidate) else {
                continue;
            };
            // A self-issued root sent along names itself: a dead end, not a
            // loop.
            let parent_der = parent.der();
            if parent_der == child.der() {
                continue;
            }
            // A certificate (by DER) at most once per path: no loops.
            if path
                .iter()
                .any(|&n| self.cert(n).is_some_and(|c| c.der() == parent_der))
            {
                self.note(1, CertError::ChainTooLong);
                continue;
            }
            if path.len() >= MAX_CHAIN_DEPTH {
                self.note(1, CertError::ChainTooLong);
                continue;
            }
            if let Err(e) = self.signed_by(last, candidate) {
                let rank = if matches!(e, CertError::ChainTooLong) {
                    1
                } else {
                    2
                };
                self.note(rank, e);
                continue;
            }
            path.push(candidate);
            if let Node::Anchor(i) = candidate {
                match self.check_path(path) {
                    Ok(()) => {
                        return Some(ValidatedPath {
                            anchor_subject: self.store.anchors.get(i)?.subject(),
                            depth: path.len(),
                        });
                    }
                    Err(e) => self.note(3, e),
                }
            } else if let Some(found) = self.extend(path) {
                return Some(found);
            }
            path.pop();
        }
        None
    }

    /// Whether `issuer`'s key verifies `child`'s signature (memoized, within
    /// the budget).
    fn signed_by(&mut self, child: Node, issuer: Node) -> Result<(), CertError> {
        if let Some(r) = self.verified.get(&(child, issuer)) {
            return r.clone();
        }
        if self.checks >= MAX_SIGNATURE_CHECKS {
            return Err(CertError::ChainTooLong);
        }
        self.checks = self.checks.saturating_add(1);
        let (Some(c), Some(i)) = (self.cert(child), self.cert(issuer)) else {
            return Err(CertError::ChainTooLong);
        };
        let result = check_signature(c, i);
        self.verified.insert((child, issuer), result.clone());
        result
    }

    /// The checks of a path that reaches an anchor (the last node).
    fn check_path(&self, path: &[Node]) -> Result<(), CertError> {
        let certs: Vec<&Certificate> = path.iter().filter_map(|&n| self.cert(n)).collect();
        for cert in &certs {
            check_validity(cert, self.now)?;
        }
        for (i, cert) in certs.iter().enumerate() {
            let is_end_entity = i == 0 && path.len() > 1;
            if i > 0 {
                // An issuer.
                let bc = cert.basic_constraints()?;
                let Some(bc) = bc.filter(|bc| bc.ca) else {
                    return Err(CertError::NotCa {
                        subject: cert.subject(),
                    });
                };
                // Intermediates between this issuer and the end entity.
                let below = i.saturating_sub(1);
                if bc
                    .path_len_constraint
                    .is_some_and(|limit| below > usize::from(limit))
                {
                    return Err(CertError::PathLength {
                        subject: cert.subject(),
                    });
                }
                if cert.key_usage()?.is_some_and(|ku| !ku.key_cert_sign()) {
                    return Err(CertError::KeyUsage {
                        subject: cert.subject(),
                    });
                }
            } else if is_end_entity && cert.key_usage()?.is_some_and(|ku| !ku.digital_signature()) {
                return Err(CertError::KeyUsage {
                    subject: cert.subject(),
                });
            }
        }
        // Revocation: each certificate against its issuer's CRLs.
        for pair in certs.windows(2) {
            if let [cert, issuer] = pair {
                self.check_revocation(cert, issuer)?;
            }
        }
        Ok(())
    }

    fn check_revocation(&self, cert: &Certificate, issuer: &Certificate) -> Result<(), CertError> {
        for crl in &self.store.crls {
            let crl_issuer = &crl.parsed().tbs_cert_list.issuer;
            if !name::names_match(crl_issuer, issuer.subject_name()) {
                continue;
            }
            let invalid = || CertError::CrlExpired {
                issuer: issuer.subject(),
            };
            if issuer.key_usage()?.is_some_and(|ku| !ku.crl_sign()) {
                return Err(invalid());
            }
            let key = issuer.public_key()?;
            let parsed = crl.parsed();
            let signed = first_element(crl.der()).ok_or_else(invalid)?;
            let signature = parsed.signature.as_bytes().ok_or_else(invalid)?;
            if parsed.signature_algorithm != parsed.tbs_cert_list.signature {
                return Err(invalid());
            }
            match sigalg::verify(&key, &parsed.signature_algorithm, signed, signature) {
                Ok(()) => {}
                Err(Failure::Bad) => return Err(invalid()),
                Err(Failure::Unsupported(what)) => {
                    return Err(CertError::UnsupportedAlgorithm(what));
                }
            }
            if crl.this_update() > self.now || crl.next_update().is_some_and(|n| n < self.now) {
                return Err(invalid());
            }
            if crl.is_revoked(cert.serial_bytes()) {
                return Err(CertError::Revoked {
                    subject: cert.subject(),
                    serial: cert.serial_hex(),
                });
            }
        }
        Ok(())
    }
}

/// Whether `issuer`'s key verifies `cert`'s signature over the
/// TBSCertificate as received.
fn check_signature(cert: &Certificate, issuer: &Certificate) -> Result<(), CertError> {
    let bad = || CertError::BadSignature {
        subject: cert.subject(),
    };
    let parsed = cert.parsed();
    // RFC 5280 s.4.1.1.2: the outer algorithm must equal the signed one.
    if parsed.signature_algorithm() != parsed.tbs_certificate().signature() {
        return Err(bad());
    }
    let key = issuer.public_key()?;
    let signed = first_element(cert.der()).ok_or_else(bad)?;
    let signature = parsed.signature().as_bytes().ok_or_else(bad)?;
    match sigalg::verify(&key, parsed.signature_algorithm(), signed, signature) {
        Ok(()) => Ok(()),
        Err(Failure::Bad) => Err(bad()),
        Err(Failure::Unsupported(what)) => Err(CertError::UnsupportedAlgorithm(what)),
    }
}

fn check_validity(cert: &Certificate, now: u64) -> Result<(), CertError> {
    let (not_before, not_after) = (cert.not_before(), cert.not_after());
    if now < not_before {
        return Err(CertError::NotYetValid {
            subject: cert.subject(),
            not_before,
        });
    }
    if now > not_after {
        return Err(CertError::Expired {
            subject: cert.subject(),
            not_after,
        });
    }
    Ok(())
}
