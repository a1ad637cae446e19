//! Certificate authentication (RFC 2409 s.5.1; ECDSA: RFC 4754): what
//! Main and Aggressive Mode add when the chosen method is a signature.
//!
//! ```text
//! Main:       MM3/MM4 carry our certificate requests (CR, one per trust
//!             anchor); MM5/MM6 are HDR*, ID, [CERT...], SIG
//! Aggressive: AM1 carries CRs; AM2 is SA, KE, Nr, ID, [CERT...], [CR], SIG;
//!             AM3 is HDR*, [CERT...], SIG
//! ```
//!
//! SIG is the signature of HASH_I or HASH_R, the same values a
//! pre-shared-key exchange sends in its HASH payload, only with
//! `SKEYID = prf(Ni_b | Nr_b, g^xy)` (see
//! [`Skeyid::signature`](crate::crypto::Skeyid::signature)); the
//! encodings are [`ike_pki::PrivateKey::sign_ikev1`]'s. The peer's
//! certificate is the first X.509 CERT payload, the others are
//! intermediates for path building; it must validate against
//! [`PkiConfig::trust`](crate::PkiConfig::trust) at the caller's calendar
//! time and name the identity of the peer's ID payload.

use std::time::Instant;

use ike_pki::{Certificate, MAX_CHAIN_DEPTH, PeerIdentity, SignatureAlgorithm};
use isakmp_wire::{CertEncoding, CertRepr, IdData, IdRepr, NotifyType, PayloadRepr};

use super::{IsakmpSa, Verdict};
use crate::config::{Config, SendCertificate};
use crate::context::Context;
use crate::crypto::HashValue;
use crate::event::{CertRefusal, DropReason, Event, FailReason, PolicyDrop};
use crate::message::Inbound;

/// The names our certificate requests carry when the chosen (or offered)
/// method is a signature: our anchors' subjects, or one empty request
/// ("any authority") without anchors; none when requests are off.
pub(crate) fn request_names(config: &Config, signature: bool) -> Vec<Vec<u8>> {
    if !signature || !config.pki.send_certificate_requests {
        return Vec::new();
    }
    let names = config.pki.trust.anchor_names();
    if names.is_empty() {
        vec![Vec::new()]
    } else {
        names
    }
}

/// CR payloads for `names` (X.509 signature certificates).
pub(crate) fn request_payloads(names: &[Vec<u8>]) -> Vec<PayloadRepr<'_>> {
    names
        .iter()
        .map(|n| {
            PayloadRepr::CertRequest(CertRepr {
                encoding: CertEncoding::X509_SIGNATURE,
                data: n,
            })
        })
        .collect()
}

/// Notes whether the peer asked for our certificate (any CR payload).
pub(crate) fn note_requests(sa: &mut IsakmpSa, inb: &Inbound<'_>) {
    if inb
        .typed
        .iter()
        .any(|p| matches!(p, PayloadRepr::CertRequest(_)))
    {
        sa.peer_requested_cert = true;
    }
}

/// Our CERT payloads (our certificate, then its chain) if the policy
/// sends them to this peer.
pub(crate) fn cert_payloads<'c>(config: &'c Config, sa: &IsakmpSa) -> Vec<PayloadRepr<'c>> {
    let Some(cred) = &config.pki.credentials else {
        return Vec::new();
    };
    let send = match config.pki.send_certificate {
        SendCertificate::Always => true,
        SendCertificate::IfRequested => sa.peer_requested_cert,
        SendCertificate::Never => false,
    };
    if !send {
        return Vec::new();
    }
    std::iter::once(&cred.certificate)
        .chain(cred.chain.iter())
        .map(|c| {
            PayloadRepr::Cert(CertRepr {
                encoding: CertEncoding::X509_SIGNATURE,
                data: c.der(),
            })
        })
        .collect()
}

/// Our signature over `hash` (HASH_I or HASH_R).
pub(crate) fn sign(config: &Config, hash: &HashValue) -> Result<Vec<u8>, CertRefusal> {
    let cred = config
        .pki
        .credentials
        .as_ref()
        .ok_or(CertRefusal::NoCredentials)?;
    cred.key
        .sign_ikev1(hash.as_bytes())
        .map_err(|_| CertRefusal::NoCredentials)
}

/// A peer certificate that validated, for [`Event::PeerCertificate`].
pub(crate) struct VerifiedPeer {
    subject: String,
    issuer: String,
    serial: String,
    not_after: u64,
    anchor: String,
}

/// Checks the peer's authentication message `inb`: its certificate (with
/// the intermediates it sent) validated at the calendar time of `now`,
/// naming the identity `id` of its ID payload, with a key of `alg`, and
/// its SIG over `expected`.
pub(crate) fn verify(
    cx: &Context,
    now: Instant,
    alg: SignatureAlgorithm,
    inb: &Inbound<'_>,
    id: &IdRepr<'_>,
    expected: &HashValue,
) -> Result<VerifiedPeer, CertRefusal> {
    let mut certs = inb.typed.iter().filter_map(|p| match p {
        PayloadRepr::Cert(c) if c.encoding == CertEncoding::X509_SIGNATURE => Some(c.data),
        _ => None,
    });
    let end = certs.next().ok_or(CertRefusal::NoCertificate)?;
    let end = Certificate::from_der(end).map_err(CertRefusal::Invalid)?;
    // More than a path can use is not parsed.
    let intermediates: Vec<Certificate> = certs
        .take(MAX_CHAIN_DEPTH)
        .filter_map(|d| Certificate::from_der(d).ok())
        .collect();
    let key = end.public_key().map_err(CertRefusal::Invalid)?;
    if key.algorithm() != alg {
        return Err(CertRefusal::WrongKeyType {
            key: key.algorithm().name(),
            method: alg.name(),
        });
    }
    let signature = inb
        .typed
        .iter()
        .find_map(|p| match p {
            PayloadRepr::Signature(s) => Some(*s),
            _ => None,
        })
        .ok_or(CertRefusal::NoSignature)?;
    key.verify_ikev1(expected.as_bytes(), signature)
        .map_err(|_| CertRefusal::BadSignature)?;
    let unix = cx.unix_time(now).ok_or(CertRefusal::NoClock)?;
    let path = cx
        .config
        .pki
        .trust
        .validate(&end, &intermediates, unix)
        .map_err(CertRefusal::Invalid)?;
    if !peer_identity(id).is_some_and(|i| end.matches(&i)) {
        return Err(CertRefusal::Invalid(ike_pki::CertError::IdentityMismatch));
    }
    Ok(VerifiedPeer {
        subject: end.subject(),
        issuer: end.issuer(),
        serial: end.serial_hex(),
        not_after: end.not_after(),
        anchor: path.anchor_subject,
    })
}

/// The identity an ID payload claims, as a certificate must name it.
fn peer_identity<'a>(id: &IdRepr<'a>) -> Option<PeerIdentity<'a>> {
    Some(match id.data {
        IdData::DerAsn1Dn(d) => PeerIdentity::Dn(d),
        IdData::Fqdn(d) => PeerIdentity::Fqdn(core::str::from_utf8(d).ok()?),
        IdData::UserFqdn(d) => PeerIdentity::UserFqdn(core::str::from_utf8(d).ok()?),
        IdData::Ipv4Addr(a) => PeerIdentity::Ip(a.into()),
        IdData::Ipv6Addr(a) => PeerIdentity::Ip(a.into()),
        _ => return None,
    })
}

/// Reports a validated peer certificate.
pub(crate) fn report(cx: &mut Context, sa: &IsakmpSa, v: VerifiedPeer) {
    cx.events.push_back(Event::PeerCertificate {
        sa: sa.id,
        peer: sa.remote,
        subject: v.subject,
        issuer: v.issuer,
        serial: v.serial,
        not_after: v.not_after,
        anchor: v.anchor,
    });
}

/// The negotiation ends on a refused certificate or signature, with
/// AUTHENTICATION-FAILED to the peer.
pub(crate) fn refused(r: CertRefusal) -> Verdict {
    Verdict::Fail {
        reason: DropReason::Policy(PolicyDrop::CertificateRefused),
        fail: FailReason::Certificate(r),
        notify: Some(NotifyType::AUTHENTICATION_FAILED),
    }
}

/// We cannot sign (no credentials, or the key refused): the negotiation
/// ends without telling the peer.
pub(crate) fn cannot_sign(r: CertRefusal) -> Verdict {
    Verdict::Fail {
        reason: DropReason::Policy(PolicyDrop::CertificateRefused),
        fail: FailReason::Certificate(r),
        notify: None,
    }
}
