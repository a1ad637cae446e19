//! Building SA payloads and choosing among offered proposals.
//!
//! Phase 1 (RFC 2409 s.5, Appendix A; IOS behaviour): the initiator offers
//! one ISAKMP proposal with one KEY_IKE transform per policy, in priority
//! order. The responder walks its policies in priority order and, for
//! each, the offered transforms in order ("Checking ISAKMP transform N
//! against priority P policy"); the first transform whose encryption (and
//! key length), hash, authentication method and group equal the policy's
//! and whose lifetime is **at most** the policy's is chosen, and the
//! offered lifetime is used. A longer offered lifetime is not acceptable
//! (IOS: "the remote peer's lifetime must be less than or equal"). A
//! transform without a lifetime takes the policy's.
//!
//! Phase 2 (RFC 2409 s.5.5, RFC 2407 s.4.5): the initiator offers one ESP
//! proposal per transform set (proposal numbers 1, 2, ...), each with one
//! transform carrying encapsulation mode, lifetimes, authentication
//! algorithm, key length and, with PFS, the group. The responder takes the
//! first offered proposal whose transform matches one of its transform
//! sets and whose PFS group fits its policy. Lifetimes: a proposal longer
//! than ours is accepted, our shorter values apply, and we answer with a
//! RESPONDER-LIFETIME notification (RFC 2407 s.4.5.4 / s.4.6.3.1); a
//! missing lifetime means RFC 2407's default of 28800 s.

use isakmp_wire::nat_t::NatTVersion;
use isakmp_wire::{
    Attribute, AuthMethod, EncryptionAlgorithm as WireEnc, GroupDescription,
    HashAlgorithm as WireHash, IpsecAttribute, LifeType, Phase1Attribute, ProposalRepr, ProtocolId,
    SaLifeType, SaRepr, TransformId, TransformRepr,
};

use crate::config::{
    EspEncryption, EspIntegrity, EspMode, EspTransform, IsakmpPolicy, Phase1Auth, Phase2Policy,
    TransformSet,
};
use crate::crypto::{DhGroup, EncryptionAlgorithm, HashAlgorithm};
use crate::event::{Phase1Suite, TraceAttribute, TraceEvent};
use crate::types::{Lifetime, Spi};

/// SIT_IDENTITY_ONLY (RFC 2407 s.4.2.1).
pub(crate) const SIT_IDENTITY_ONLY: u32 = 1;
/// KEY_IKE (RFC 2407 s.4.4.1).
const KEY_IKE: TransformId = TransformId(1);

pub(crate) fn wire_encryption(e: EncryptionAlgorithm) -> (WireEnc, Option<u16>) {
    match e {
        EncryptionAlgorithm::DesCbc => (WireEnc::DES_CBC, None),
        EncryptionAlgorithm::TripleDesCbc => (WireEnc::TRIPLE_DES_CBC, None),
        EncryptionAlgorithm::Aes128Cbc => (WireEnc::AES_CBC, Some(128)),
        EncryptionAlgorithm::Aes192Cbc => (WireEnc::AES_CBC, Some(192)),
        EncryptionAlgorithm::Aes256Cbc => (WireEnc::AES_CBC, Some(256)),
    }
}

pub(crate) fn wire_hash(h: HashAlgorithm) -> WireHash {
    match h {
        HashAlgorithm::Md5 => WireHash::MD5,
        HashAlgorithm::Sha1 => WireHash::SHA,
        HashAlgorithm::Sha2_256 => WireHash::SHA2_256,
        HashAlgorithm::Sha2_384 => WireHash::SHA2_384,
        HashAlgorithm::Sha2_512 => WireHash::SHA2_512,
    }
}

fn hash_from_wire(h: WireHash) -> Option<HashAlgorithm> {
    Some(match h {
        WireHash::MD5 => HashAlgorithm::Md5,
        WireHash::SHA => HashAlgorithm::Sha1,
        WireHash::SHA2_256 => HashAlgorithm::Sha2_256,
        WireHash::SHA2_384 => HashAlgorithm::Sha2_384,
        WireHash::SHA2_512 => HashAlgorithm::Sha2_512,
        _ => return None,
    })
}

fn encryption_from_wire(e: WireEnc, key_bits: Option<u16>) -> Option<EncryptionAlgorithm> {
    match (e, key_bits) {
        (WireEnc::DES_CBC, None) => Some(EncryptionAlgorithm::DesCbc),
        (WireEnc::TRIPLE_DES_CBC, None) => Some(EncryptionAlgorithm::TripleDesCbc),
        // RFC 3602 s.5 makes Key Length mandatory for AES; 128 is what
        // peers that omit it mean.
        (WireEnc::AES_CBC, None) => Some(EncryptionAlgorithm::Aes128Cbc),
        (WireEnc::AES_CBC, Some(bits)) => EncryptionAlgorithm::aes_cbc(bits).ok(),
        _ => None,
    }
}

/// The wire transform for one policy.
pub(crate) fn phase1_transform(number: u8, p: &IsakmpPolicy) -> TransformRepr<'static> {
    let (enc, key_len) = wire_encryption(p.encryption);
    let mut attrs: Vec<Phase1Attribute<'static>> = vec![Phase1Attribute::EncryptionAlgorithm(enc)];
    if let Some(k) = key_len {
        attrs.push(Phase1Attribute::KeyLength(k));
    }
    attrs.extend([
        Phase1Attribute::HashAlgorithm(wire_hash(p.hash)),
        Phase1Attribute::GroupDescription(GroupDescription(p.group.number())),
        Phase1Attribute::AuthMethod(match p.auth {
            Phase1Auth::PreSharedKey => AuthMethod::PRE_SHARED_KEY,
            Phase1Auth::XauthInitPreShared => AuthMethod::XAUTH_INIT_PRE_SHARED,
            Phase1Auth::Signature(a) => AuthMethod(a.auth_method()),
        }),
        Phase1Attribute::LifeType(LifeType::SECONDS),
        Phase1Attribute::LifeDuration(u64::from(p.lifetime)),
    ]);
    TransformRepr {
        number,
        id: KEY_IKE,
        attributes: attrs.iter().map(Phase1Attribute::to_attribute).collect(),
    }
}

/// The initiator's phase-1 SA: one proposal, one transform per policy.
pub(crate) fn phase1_sa(policies: &[IsakmpPolicy]) -> SaRepr<'static> {
    let transforms = policies
        .iter()
        .enumerate()
        .map(|(i, p)| phase1_transform(u8::try_from(i.saturating_add(1)).unwrap_or(u8::MAX), p))
        .collect();
    SaRepr {
        situation: SIT_IDENTITY_ONLY,
        proposals: vec![ProposalRepr {
            number: 1,
            protocol: ProtocolId::ISAKMP,
            spi: &[],
            transforms,
        }],
    }
}

/// A decoded phase-1 transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Phase1Offer {
    pub(crate) encryption: EncryptionAlgorithm,
    pub(crate) hash: HashAlgorithm,
    pub(crate) auth: AuthMethod,
    pub(crate) group: DhGroup,
    pub(crate) lifetime: Option<u32>,
}

/// Decodes a KEY_IKE transform; `Err` says why it cannot be used.
pub(crate) fn decode_phase1(t: &TransformRepr<'_>) -> Result<Phase1Offer, &'static str> {
    if t.id != KEY_IKE {
        return Err("transform ID is not KEY_IKE");
    }
    let (mut enc, mut key_len, mut hash, mut auth, mut group) = (None, None, None, None, None);
    let mut life_type = None;
    let mut lifetime: Option<u32> = None;
    for a in &t.attributes {
        match a.phase1().map_err(|_| "malformed attribute")? {
            Phase1Attribute::EncryptionAlgorithm(e) => enc = Some(e),
            Phase1Attribute::KeyLength(k) => key_len = Some(k),
            Phase1Attribute::HashAlgorithm(h) => hash = Some(h),
            Phase1Attribute::AuthMethod(m) => auth = Some(m),
            Phase1Attribute::GroupDescription(g) => group = Some(g),
            Phase1Attribute::LifeType(lt) => life_type = Some(lt),
            Phase1Attribute::LifeDuration(d) => match life_type {
                Some(LifeType::SECONDS) => {
                    lifetime = Some(u32::try_from(d).unwrap_or(u32::MAX));
                }
                // Kilobyte limits on ISAKMP SAs are rare; IOS ignores them.
                Some(LifeType::KILOBYTES) => {}
                _ => return Err("life duration without a life type"),
            },
            Phase1Attribute::GroupType(_)
            | Phase1Attribute::GroupPrime(_)
            | Phase1Attribute::GroupGeneratorOne(_)
            | Phase1Attribute::GroupGeneratorTwo(_)
            | Phase1Attribute::GroupCurveA(_)
            | Phase1Attribute::GroupCurveB(_)
            | Phase1Attribute::GroupOrder(_) => return Err("private groups are not supported"),
            Phase1Attribute::Prf(_) => return Err("PRF attribute is not supported"),
            _ => return Err("unsupported attribute"),
        }
    }
    let encryption = encryption_from_wire(enc.ok_or("no encryption algorithm")?, key_len)
        .ok_or("unsupported encryption algorithm or key length")?;
    let hash = hash_from_wire(hash.ok_or("no hash algorithm")?).ok_or("unsupported hash")?;
    let auth = auth.ok_or("no authentication method")?;
    let group = DhGroup::from_number(group.ok_or("no group")?.0).ok_or("unsupported group")?;
    Ok(Phase1Offer {
        encryption,
        hash,
        auth,
        group,
        lifetime,
    })
}

/// The result of choosing a phase-1 transform.
#[derive(Clone, Debug)]
pub(crate) struct Phase1Choice<'a> {
    pub(crate) suite: Phase1Suite,
    pub(crate) proposal: u8,
    pub(crate) transform: TransformRepr<'a>,
}

/// A transform's attributes as trace steps print them.
pub(crate) fn trace_attrs(t: &TransformRepr<'_>) -> Vec<TraceAttribute> {
    t.attributes.iter().map(TraceAttribute::from_attr).collect()
}

/// The responder's choice (see the module documentation for the order).
pub(crate) fn select_phase1<'a>(
    sa: &SaRepr<'a>,
    policies: &[IsakmpPolicy],
    trace: &mut Vec<TraceEvent>,
    tracing: bool,
) -> Option<Phase1Choice<'a>> {
    for policy in policies {
        for proposal in &sa.proposals {
            if proposal.protocol != ProtocolId::ISAKMP {
                continue;
            }
            for t in &proposal.transforms {
                if tracing {
                    trace.push(TraceEvent::CheckingIsakmpTransform {
                        transform: t.number,
                        priority: policy.priority,
                        attributes: trace_attrs(t),
                    });
                }
                let verdict = decode_phase1(t).and_then(|o| phase1_matches(&o, policy));
                if tracing {
                    trace.push(TraceEvent::AttributesAcceptable {
                        acceptable: verdict.is_ok(),
                        reason: verdict.err(),
                    });
                }
                if let Ok(suite) = verdict {
                    return Some(Phase1Choice {
                        suite,
                        proposal: proposal.number,
                        transform: t.clone(),
                    });
                }
            }
        }
    }
    None
}

fn phase1_matches(o: &Phase1Offer, p: &IsakmpPolicy) -> Result<Phase1Suite, &'static str> {
    if o.encryption != p.encryption {
        return Err("encryption algorithm mismatch");
    }
    if o.hash != p.hash {
        return Err("hash algorithm mismatch");
    }
    let auth = match (o.auth, p.auth) {
        (AuthMethod::PRE_SHARED_KEY, Phase1Auth::PreSharedKey) => Phase1Auth::PreSharedKey,
        (AuthMethod::XAUTH_INIT_PRE_SHARED, Phase1Auth::XauthInitPreShared) => {
            Phase1Auth::XauthInitPreShared
        }
        (m, Phase1Auth::Signature(a)) if m.0 == a.auth_method() => Phase1Auth::Signature(a),
        _ => return Err("authentication method mismatch"),
    };
    if o.group != p.group {
        return Err("Diffie-Hellman group mismatch");
    }
    let lifetime = match o.lifetime {
        // Remote-access clients (vpnc, the Cisco VPN Client) offer
        // 2147483 s whatever the concentrator wants; IOS and strongSwan
        // take the offer and keep their own, shorter lifetime.
        Some(l) if l > p.lifetime && auth.is_xauth() => p.lifetime,
        Some(l) if l > p.lifetime => return Err("offered lifetime exceeds the policy's"),
        Some(0) => return Err("zero lifetime"),
        Some(l) => l,
        None => p.lifetime,
    };
    Ok(Phase1Suite {
        encryption: o.encryption,
        hash: o.hash,
        group: o.group,
        auth,
        lifetime,
    })
}

/// The initiator's check of the responder's SA: one proposal, one
/// transform, equal to one we offered, lifetime not above it.
pub(crate) fn accept_phase1_reply(
    sa: &SaRepr<'_>,
    offered: &[IsakmpPolicy],
) -> Result<Phase1Suite, &'static str> {
    let (_, t) = single_reply_transform(
        sa,
        ProtocolId::ISAKMP,
        "responder proposal is not PROTO_ISAKMP",
    )?;
    let o = decode_phase1(t)?;
    offered
        .iter()
        .find_map(|p| phase1_matches(&o, p).ok())
        .ok_or("responder chose a transform we did not offer")
}

// ----- phase 2 -----

/// The ESP transform for one set; with `udp` (the NAT-T version when
/// ESP is to be UDP-encapsulated) its mode is that version's UDP mode.
pub(crate) fn esp_transform(
    number: u8,
    set: &EspTransform,
    pfs: Option<DhGroup>,
    lifetime: Lifetime,
    udp: Option<NatTVersion>,
) -> TransformRepr<'static> {
    let mode = match udp {
        Some(v) => v.udp_mode(set.mode == EspMode::Tunnel),
        None => isakmp_wire::EncapsulationMode(set.mode.attribute()),
    };
    let mut attrs = vec![
        IpsecAttribute::EncapsulationMode(mode),
        IpsecAttribute::SaLifeType(SaLifeType::SECONDS),
        IpsecAttribute::SaLifeDuration(u64::from(lifetime.seconds)),
    ];
    if let Some(kb) = lifetime.kilobytes {
        attrs.push(IpsecAttribute::SaLifeType(SaLifeType::KILOBYTES));
        attrs.push(IpsecAttribute::SaLifeDuration(kb));
    }
    if let Some(a) = set.integrity.attribute() {
        attrs.push(IpsecAttribute::AuthAlgorithm(isakmp_wire::AuthAlgorithm(a)));
    }
    if let Some(k) = set.encryption.key_length_attribute() {
        attrs.push(IpsecAttribute::KeyLength(k));
    }
    if let Some(g) = pfs {
        attrs.push(IpsecAttribute::GroupDescription(GroupDescription(
            g.number(),
        )));
    }
    TransformRepr {
        number,
        id: TransformId(set.encryption.transform_id()),
        attributes: attrs.iter().map(IpsecAttribute::to_attribute).collect(),
    }
}

/// The initiator's phase-2 SA: one ESP proposal per transform set, in
/// the UDP-encapsulated modes of `udp` when that is given.
pub(crate) fn phase2_sa<'s>(
    sets: &[TransformSet],
    spi: &'s [u8; 4],
    pfs: Option<DhGroup>,
    lifetime: Lifetime,
    udp: Option<NatTVersion>,
) -> SaRepr<'s> {
    SaRepr {
        situation: SIT_IDENTITY_ONLY,
        proposals: sets
            .iter()
            .enumerate()
            .map(|(i, s)| ProposalRepr {
                number: u8::try_from(i.saturating_add(1)).unwrap_or(u8::MAX),
                protocol: ProtocolId::ESP,
                spi,
                transforms: vec![esp_transform(1, &s.transform, pfs, lifetime, udp)],
            })
            .collect(),
    }
}

/// A decoded ESP transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Phase2Offer {
    pub(crate) transform: EspTransform,
    pub(crate) pfs: Option<u16>,
    pub(crate) lifetime: Lifetime,
    /// The UDP-encapsulated mode value, when the mode is one (RFC 3947
    /// s.5.1, either numbering).
    pub(crate) udp: Option<isakmp_wire::EncapsulationMode>,
}

/// Decodes an ESP transform.
pub(crate) fn decode_esp(t: &TransformRepr<'_>) -> Result<Phase2Offer, &'static str> {
    let mut mode = None;
    let mut auth = None;
    let mut key_len = None;
    let mut group = None;
    let mut life_type = None;
    let mut seconds: Option<u32> = None;
    let mut kilobytes: Option<u64> = None;
    for a in &t.attributes {
        match a.ipsec().map_err(|_| "malformed attribute")? {
            IpsecAttribute::EncapsulationMode(m) => mode = Some(m),
            IpsecAttribute::AuthAlgorithm(x) => auth = Some(x.0),
            IpsecAttribute::KeyLength(k) => key_len = Some(k),
            IpsecAttribute::GroupDescription(g) => group = Some(g.0),
            IpsecAttribute::SaLifeType(lt) => life_type = Some(lt),
            IpsecAttribute::SaLifeDuration(d) => match life_type {
                Some(SaLifeType::SECONDS) => seconds = Some(u32::try_from(d).unwrap_or(u32::MAX)),
                Some(SaLifeType::KILOBYTES) => kilobytes = Some(d),
                _ => return Err("life duration without a life type"),
            },
            _ => return Err("unsupported attribute"),
        }
    }
    let encryption = EspEncryption::from_wire(t.id.0, key_len)
        .ok_or("unsupported ESP transform or key length")?;
    let integrity =
        EspIntegrity::from_attribute(auth).ok_or("unsupported authentication algorithm")?;
    if integrity == EspIntegrity::None && !encryption.is_aead() {
        return Err("ESP without integrity");
    }
    if integrity != EspIntegrity::None && encryption.is_aead() {
        return Err("integrity algorithm with an AEAD cipher");
    }
    use isakmp_wire::EncapsulationMode as M;
    let (mode, udp) = match mode {
        // RFC 2407 s.4.5: the default is unspecified; IOS and most peers
        // send it, and tunnel is what a missing one means in practice.
        None | Some(M::TUNNEL) => (EspMode::Tunnel, None),
        Some(M::TRANSPORT) => (EspMode::Transport, None),
        Some(m @ (M::UDP_TUNNEL | M::UDP_TUNNEL_DRAFT)) => (EspMode::Tunnel, Some(m)),
        Some(m @ (M::UDP_TRANSPORT | M::UDP_TRANSPORT_DRAFT)) => (EspMode::Transport, Some(m)),
        Some(_) => return Err("unsupported encapsulation mode"),
    };
    if seconds == Some(0) || kilobytes == Some(0) {
        return Err("zero lifetime");
    }
    let lifetime = match (seconds, kilobytes) {
        (None, None) => Lifetime::RFC_DEFAULT,
        (s, kb) => Lifetime {
            seconds: s.unwrap_or(Lifetime::RFC_DEFAULT.seconds),
            kilobytes: kb,
        },
    };
    Ok(Phase2Offer {
        transform: EspTransform {
            encryption,
            integrity,
            mode,
        },
        pfs: group,
        lifetime,
        udp,
    })
}

/// The responder's phase-2 choice.
#[derive(Clone, Debug)]
pub(crate) struct Phase2Choice<'a> {
    pub(crate) proposal: u8,
    pub(crate) transform: TransformRepr<'a>,
    pub(crate) peer_spi: Spi,
    pub(crate) esp: EspTransform,
    pub(crate) pfs: Option<DhGroup>,
    /// Lifetime in force (the shorter of offer and policy).
    pub(crate) lifetime: Lifetime,
    /// Whether ours is shorter than the offer: send RESPONDER-LIFETIME.
    pub(crate) responder_lifetime: bool,
    /// The UDP-encapsulated mode chosen, if the transform has one.
    pub(crate) udp: Option<isakmp_wire::EncapsulationMode>,
}

/// Walks the initiator's proposals (see the module documentation).
/// `udp_fits` says whether a transform's encapsulation (its UDP mode, if
/// any) fits the ISAKMP SA: UDP modes exactly when NAT-T found a NAT.
pub(crate) fn select_phase2<'a>(
    sa: &SaRepr<'a>,
    policy: &Phase2Policy,
    udp_fits: impl Fn(Option<isakmp_wire::EncapsulationMode>) -> bool,
    trace: &mut Vec<TraceEvent>,
    tracing: bool,
) -> Option<Phase2Choice<'a>> {
    for (i, proposal) in sa.proposals.iter().enumerate() {
        // Proposals sharing a number are AND-ed (e.g. AH + ESP): we only
        // do ESP alone.
        let shared = sa
            .proposals
            .iter()
            .enumerate()
            .any(|(j, p)| j != i && p.number == proposal.number);
        if shared || proposal.protocol != ProtocolId::ESP {
            continue;
        }
        let Ok(spi_bytes) = <[u8; 4]>::try_from(proposal.spi) else {
            continue;
        };
        let peer_spi = Spi(u32::from_be_bytes(spi_bytes));
        if peer_spi.0 < 256 {
            continue;
        }
        for t in &proposal.transforms {
            if tracing {
                trace.push(TraceEvent::CheckingIpsecProposal {
                    proposal: proposal.number,
                    transform: t.number,
                    transform_id: t.id.0,
                    attributes: trace_attrs(t),
                });
            }
            let verdict = decode_esp(t)
                .and_then(|o| {
                    if udp_fits(o.udp) {
                        Ok(o)
                    } else if o.udp.is_some() {
                        Err("UDP encapsulation without a NAT found by NAT-T")
                    } else {
                        Err("plain ESP across a NAT (UDP encapsulation required)")
                    }
                })
                .and_then(|o| phase2_matches(&o, policy).map(|m| (m, o.udp)));
            if tracing {
                trace.push(TraceEvent::AttributesAcceptable {
                    acceptable: verdict.is_ok(),
                    reason: verdict.as_ref().err().copied(),
                });
            }
            if let Ok(((esp, pfs, lifetime, responder_lifetime), udp)) = verdict {
                return Some(Phase2Choice {
                    proposal: proposal.number,
                    transform: t.clone(),
                    peer_spi,
                    esp,
                    pfs,
                    lifetime,
                    responder_lifetime,
                    udp,
                });
            }
        }
    }
    None
}

type Phase2Match = (EspTransform, Option<DhGroup>, Lifetime, bool);

fn phase2_matches(o: &Phase2Offer, policy: &Phase2Policy) -> Result<Phase2Match, &'static str> {
    if !policy
        .transform_sets
        .iter()
        .any(|s| s.transform == o.transform)
    {
        return Err("transform not in any transform set");
    }
    let pfs = match (o.pfs, policy.pfs) {
        (None, None) => None,
        (None, Some(_)) => return Err("PFS required by policy"),
        (Some(g), Some(p)) if g == p.number() => Some(p),
        (Some(_), Some(_)) => return Err("PFS group mismatch"),
        (Some(g), None) => match DhGroup::from_number(g) {
            Some(g) if !g.is_weak() => Some(g),
            _ => return Err("unsupported or weak PFS group not named by policy"),
        },
    };
    let ours = policy.lifetime;
    let lifetime = o.lifetime.min(ours);
    let responder_lifetime = lifetime != o.lifetime;
    Ok((o.transform, pfs, lifetime, responder_lifetime))
}

/// The shape we accept for a responder's SA in either phase: one proposal
/// of `protocol` carrying one transform, the one it chose;
/// `wrong_protocol` is the error when the protocol differs.
fn single_reply_transform<'s, 'a>(
    sa: &'s SaRepr<'a>,
    protocol: ProtocolId,
    wrong_protocol: &'static str,
) -> Result<(&'s ProposalRepr<'a>, &'s TransformRepr<'a>), &'static str> {
    let [proposal] = sa.proposals.as_slice() else {
        return Err("responder SA must carry exactly one proposal");
    };
    let [t] = proposal.transforms.as_slice() else {
        return Err("responder proposal must carry exactly one transform");
    };
    if proposal.protocol != protocol {
        return Err(wrong_protocol);
    }
    Ok((proposal, t))
}

/// The initiator's check of the responder's SA.
/// `udp`: whether we proposed UDP-encapsulated modes; the reply's
/// mode must agree (its UDP mode value comes back with the result).
pub(crate) fn accept_phase2_reply(
    sa: &SaRepr<'_>,
    offered: &[TransformSet],
    pfs: Option<DhGroup>,
    offered_lifetime: Lifetime,
    udp: bool,
) -> Result<Phase2Reply, &'static str> {
    let (proposal, t) =
        single_reply_transform(sa, ProtocolId::ESP, "responder proposal is not ESP")?;
    let spi = <[u8; 4]>::try_from(proposal.spi).map_err(|_| "responder SPI is not 4 bytes")?;
    let spi = Spi(u32::from_be_bytes(spi));
    if spi.0 < 256 {
        return Err("responder SPI is reserved");
    }
    let o = decode_esp(t)?;
    if !offered.iter().any(|s| s.transform == o.transform) {
        return Err("responder chose a transform we did not offer");
    }
    if o.pfs != pfs.map(DhGroup::number) {
        return Err("responder changed the PFS group");
    }
    if o.udp.is_some() != udp {
        return Err("responder changed the encapsulation (UDP or not)");
    }
    Ok(Phase2Reply {
        transform: o.transform,
        peer_spi: spi,
        lifetime: o.lifetime.min(offered_lifetime),
        udp: o.udp,
    })
}

/// What the initiator takes from the responder's phase-2 SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Phase2Reply {
    pub(crate) transform: EspTransform,
    pub(crate) peer_spi: Spi,
    pub(crate) lifetime: Lifetime,
    pub(crate) udp: Option<isakmp_wire::EncapsulationMode>,
}

/// The attributes of a RESPONDER-LIFETIME notification (RFC 2407
/// s.4.6.3.1): life type / duration pairs.
pub(crate) fn responder_lifetime_data(l: Lifetime) -> Vec<u8> {
    let mut attrs = vec![
        IpsecAttribute::SaLifeType(SaLifeType::SECONDS).to_attribute(),
        IpsecAttribute::SaLifeDuration(u64::from(l.seconds)).to_attribute(),
    ];
    if let Some(kb) = l.kilobytes {
        attrs.push(IpsecAttribute::SaLifeType(SaLifeType::KILOBYTES).to_attribute());
        attrs.push(IpsecAttribute::SaLifeDuration(kb).to_attribute());
    }
    let mut out = Vec::new();
    for a in attrs {
        encode_attribute(&a, &mut out);
    }
    out
}

fn encode_attribute(a: &Attribute<'_>, out: &mut Vec<u8>) {
    match &a.value {
        isakmp_wire::AttributeValue::Basic(v) => {
            out.extend_from_slice(&(a.attribute_type | 0x8000).to_be_bytes());
            out.extend_from_slice(&v.to_be_bytes());
        }
        isakmp_wire::AttributeValue::Variable(v) => {
            out.extend_from_slice(&a.attribute_type.to_be_bytes());
            out.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_be_bytes());
            out.extend_from_slice(v);
        }
    }
}

/// Reads a RESPONDER-LIFETIME's attributes; `None` if malformed.
pub(crate) fn parse_responder_lifetime(data: &[u8], base: Lifetime) -> Option<Lifetime> {
    let mut out = base;
    let mut rest = data;
    let mut life_type = None;
    while !rest.is_empty() {
        let word = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
        let second = u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?]);
        let (ty, value, used) = if word & 0x8000 != 0 {
            (word & 0x7fff, u64::from(second), 4usize)
        } else {
            let len = usize::from(second);
            let end = 4usize.checked_add(len)?;
            let v = rest.get(4..end)?;
            if v.is_empty() || v.len() > 8 {
                return None;
            }
            (
                word,
                v.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)),
                end,
            )
        };
        match ty {
            1 => life_type = Some(value),
            2 => match life_type {
                Some(1) => out.seconds = out.seconds.min(u32::try_from(value).unwrap_or(u32::MAX)),
                Some(2) => {
                    out.kilobytes = Some(out.kilobytes.map_or(value, |k| k.min(value)));
                }
                _ => return None,
            },
            _ => {}
        }
        rest = rest.get(used..)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ProxyId;

    #[test]
    fn seed_phase1_transform_matches_the_seed_trace() {
        // The seed's MM2/MM1 transform: DES-CBC, SHA, group 1, pre-share,
        // life 86400 s sent as the 4-byte value 0x00015180.
        let t = phase1_transform(1, &IsakmpPolicy::ios_default(10));
        let life = t.attributes.last().unwrap();
        assert_eq!(
            life.value,
            isakmp_wire::AttributeValue::Variable(vec![0, 1, 0x51, 0x80].into())
        );
        let o = decode_phase1(&t).unwrap();
        assert_eq!(o.encryption, EncryptionAlgorithm::DesCbc);
        assert_eq!(o.hash, HashAlgorithm::Sha1);
        assert_eq!(o.group, DhGroup::Modp768);
        assert_eq!(o.lifetime, Some(86_400));
    }

    #[test]
    fn responder_walks_policies_then_transforms() {
        let strong = IsakmpPolicy::new(20);
        let ios = IsakmpPolicy::ios_default(10);
        // Initiator offers strong first, then ios.
        let offer = phase1_sa(&[strong, ios]);
        let mut trace = Vec::new();
        // Responder prefers ios (priority 10): it is checked first and
        // matches transform 2.
        let choice = select_phase1(&offer, &[ios, strong], &mut trace, true).unwrap();
        assert_eq!(choice.transform.number, 2);
        assert_eq!(choice.suite.encryption, EncryptionAlgorithm::DesCbc);
        assert!(matches!(
            trace[0],
            TraceEvent::CheckingIsakmpTransform {
                transform: 1,
                priority: 10,
                ..
            }
        ));
        assert_eq!(
            trace[1],
            TraceEvent::AttributesAcceptable {
                acceptable: false,
                reason: Some("encryption algorithm mismatch")
            }
        );
        // Nothing in common.
        let only_strong = phase1_sa(&[strong]);
        assert!(select_phase1(&only_strong, &[ios], &mut Vec::new(), false).is_none());
    }

    #[test]
    fn phase1_lifetime_rule() {
        let mut longer = IsakmpPolicy::ios_default(10);
        longer.lifetime = 100_000;
        let ours = IsakmpPolicy::ios_default(10);
        let offer = phase1_sa(&[longer]);
        assert!(select_phase1(&offer, &[ours], &mut Vec::new(), false).is_none());
        let mut shorter = ours;
        shorter.lifetime = 3600;
        let offer = phase1_sa(&[shorter]);
        let c = select_phase1(&offer, &[ours], &mut Vec::new(), false).unwrap();
        assert_eq!(c.suite.lifetime, 3600);
        // The initiator accepts the echo, and refuses a transform it did
        // not offer.
        let reply = SaRepr {
            situation: 1,
            proposals: vec![ProposalRepr {
                number: 1,
                protocol: ProtocolId::ISAKMP,
                spi: &[],
                transforms: vec![c.transform.clone()],
            }],
        };
        assert_eq!(
            accept_phase1_reply(&reply, &[shorter]).unwrap().lifetime,
            3600
        );
        assert!(accept_phase1_reply(&reply, &[IsakmpPolicy::new(1)]).is_err());
    }

    fn policy(sets: Vec<TransformSet>, pfs: Option<DhGroup>, lifetime: Lifetime) -> Phase2Policy {
        Phase2Policy {
            peer: None,
            local_proxy: ProxyId::subnet("0.0.0.0".parse().unwrap(), 0),
            remote_proxy: ProxyId::subnet("0.0.0.0".parse().unwrap(), 0),
            transform_sets: sets,
            pfs,
            lifetime,
        }
    }

    #[test]
    fn seed_phase2_offer_and_responder_lifetime() {
        let spi = 0xF800_D61Fu32.to_be_bytes();
        let sa = phase2_sa(
            &[TransformSet::ios_seed()],
            &spi,
            None,
            Lifetime::IOS_IPSEC,
            None,
        );
        let t = &sa.proposals[0].transforms[0];
        assert_eq!(t.id, TransformId(2));
        // 4608000 KB as the 4-byte TLV 0x00465000, as in the seed's QM2.
        assert!(t.attributes.iter().any(
            |a| a.value == isakmp_wire::AttributeValue::Variable(vec![0, 0x46, 0x50, 0].into())
        ));
        let same = policy(vec![TransformSet::ios_seed()], None, Lifetime::IOS_IPSEC);
        let c = select_phase2(&sa, &same, plain, &mut Vec::new(), false).unwrap();
        assert_eq!(c.peer_spi, Spi(0xF800_D61F));
        assert!(!c.responder_lifetime);
        assert_eq!(c.lifetime, Lifetime::IOS_IPSEC);
        let short = Lifetime {
            seconds: 1200,
            kilobytes: Some(1000),
        };
        let c = select_phase2(
            &sa,
            &policy(vec![TransformSet::ios_seed()], None, short),
            plain,
            &mut Vec::new(),
            false,
        )
        .unwrap();
        assert!(c.responder_lifetime);
        assert_eq!(c.lifetime, short);
        let data = responder_lifetime_data(short);
        assert_eq!(
            parse_responder_lifetime(&data, Lifetime::IOS_IPSEC),
            Some(short)
        );
        assert_eq!(parse_responder_lifetime(&[0x80], Lifetime::IOS_IPSEC), None);
        // A transform set we do not have: no proposal chosen.
        assert!(
            select_phase2(
                &sa,
                &policy(vec![TransformSet::strong()], None, short),
                plain,
                &mut Vec::new(),
                false
            )
            .is_none()
        );
        // PFS required but not offered.
        assert!(
            select_phase2(
                &sa,
                &policy(
                    vec![TransformSet::ios_seed()],
                    Some(DhGroup::Modp2048),
                    short
                ),
                plain,
                &mut Vec::new(),
                false
            )
            .is_none()
        );
    }

    #[test]
    fn pfs_and_reply_checks() {
        let spi = 0x1000u32.to_be_bytes();
        let sets = [TransformSet::strong()];
        let sa = phase2_sa(
            &sets,
            &spi,
            Some(DhGroup::Modp2048),
            Lifetime::IOS_IPSEC,
            None,
        );
        let p = policy(sets.to_vec(), None, Lifetime::IOS_IPSEC);
        let c = select_phase2(&sa, &p, plain, &mut Vec::new(), false).unwrap();
        assert_eq!(c.pfs, Some(DhGroup::Modp2048));
        let weak = phase2_sa(
            &sets,
            &spi,
            Some(DhGroup::Modp768),
            Lifetime::IOS_IPSEC,
            None,
        );
        assert!(select_phase2(&weak, &p, plain, &mut Vec::new(), false).is_none());
        let reply = SaRepr {
            situation: 1,
            proposals: vec![ProposalRepr {
                number: 1,
                protocol: ProtocolId::ESP,
                spi: &spi,
                transforms: vec![c.transform.clone()],
            }],
        };
        assert!(
            accept_phase2_reply(
                &reply,
                &sets,
                Some(DhGroup::Modp2048),
                Lifetime::IOS_IPSEC,
                false
            )
            .is_ok()
        );
        assert_eq!(
            accept_phase2_reply(&reply, &sets, None, Lifetime::IOS_IPSEC, false),
            Err("responder changed the PFS group")
        );
    }

    /// Plain ESP only (no NAT found).
    fn plain(udp: Option<isakmp_wire::EncapsulationMode>) -> bool {
        udp.is_none()
    }

    #[test]
    fn udp_encapsulated_modes() {
        use isakmp_wire::EncapsulationMode as M;
        let spi = 0x2000u32.to_be_bytes();
        let sets = [TransformSet::strong()];
        let p = policy(sets.to_vec(), None, Lifetime::IOS_IPSEC);
        for (version, want) in [
            (NatTVersion::Rfc3947, M::UDP_TUNNEL),
            (NatTVersion::Draft02, M::UDP_TUNNEL_DRAFT),
        ] {
            let sa = phase2_sa(&sets, &spi, None, Lifetime::IOS_IPSEC, Some(version));
            let t = &sa.proposals[0].transforms[0];
            assert_eq!(decode_esp(t).unwrap().udp, Some(want));
            // Without a NAT, a UDP mode is refused; with one, chosen.
            assert!(select_phase2(&sa, &p, plain, &mut Vec::new(), false).is_none());
            let c = select_phase2(&sa, &p, |u| u.is_some(), &mut Vec::new(), false).unwrap();
            assert_eq!(c.udp, Some(want));
            let reply = SaRepr {
                situation: 1,
                proposals: vec![ProposalRepr {
                    number: 1,
                    protocol: ProtocolId::ESP,
                    spi: &spi,
                    transforms: vec![c.transform.clone()],
                }],
            };
            assert_eq!(
                accept_phase2_reply(&reply, &sets, None, Lifetime::IOS_IPSEC, true)
                    .unwrap()
                    .udp,
                Some(want)
            );
            assert_eq!(
                accept_phase2_reply(&reply, &sets, None, Lifetime::IOS_IPSEC, false),
                Err("responder changed the encapsulation (UDP or not)")
            );
        }
        // Plain tunnel mode where a NAT was found: refused.
        let plain_sa = phase2_sa(&sets, &spi, None, Lifetime::IOS_IPSEC, None);
        assert!(select_phase2(&plain_sa, &p, |u| u.is_some(), &mut Vec::new(), false).is_none());
    }
}
