//! From the IOS model to the engines: [`crate::config::Config`] into
//! [`ike_sm::Config`] (ISAKMP policies, pre-shared keys including the
//! wildcard, transform sets, crypto map entries as phase-2 policies,
//! lifetimes, PFS), and a negotiated SA into [`esp::SaParams`].
//!
//! IOS semantics kept here: a policy line left out takes IOS's default
//! (already resolved by the model); `crypto isakmp key K address 0.0.0.0
//! 0.0.0.0` is the prefix 0.0.0.0/0; a crypto map entry's `set
//! security-association lifetime` overrides the global one; a dynamic map
//! entry accepts any peer. Parts the engines cannot run (RSA
//! authentication, AH and IPComp transforms, non-contiguous masks) are
//! left out and reported, never silently changed into something else.
//!
//! The two engines share their IPsec vocabulary (`Spi`, `SecretBytes`,
//! `AesKeySize` are esp's) and ike-sm states a negotiated transform and
//! its proxies in esp's terms (`EspEncryption::to_esp`,
//! `ProxyId::esp_selector`); what is left here is the gateway's policy.

use std::net::{IpAddr, Ipv4Addr};

use ike_sm::{
    EspEncryption, EspIntegrity, EspMode, EspTransform, Identity, LocalIdentity, Phase2Policy,
    Phase2Request, ProxyAddr, ProxyId, PskEntry as IkePskEntry, PskScope,
};

use crate::acl::{Action, IpProtocol, ProxyIdent};
use crate::config::{
    AesKeySize, Config, CryptoMapEntry, DhGroup, EncapsulationMode, IsakmpAuthentication,
    IsakmpEncryption, IsakmpHash, IsakmpIdentity, KeyringLocalAddress, MapParams, PskPeer,
    SaLifetime, Transform, TransformSet,
};

use super::options::GatewayOptions;
use ike_sm::SignatureAlgorithm;

/// Why an ISAKMP policy of the configuration is left out of the engine's
/// policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PolicyRefusal {
    /// `rsa-sig`, `ecdsa-sig` without a certificate and key of that
    /// algorithm in [`GatewayOptions::pki`] (IOS keeps them in NVRAM; the
    /// configuration text has no key).
    #[error(
        "authentication {} needs a certificate and private key of that algorithm \
         (none given): the policy is left out",
        .0.keyword()
    )]
    NeedsCredentials(IsakmpAuthentication),
    /// A method the engine does not have (`rsa-encr`).
    #[error("authentication {} is not implemented", .0.keyword())]
    NotImplemented(IsakmpAuthentication),
}

/// The IKE configuration a gateway runs, with what could not be carried
/// over and the weak algorithms the IOS configuration names.
pub(crate) struct Translation {
    pub(crate) ike: ike_sm::Config,
    pub(crate) ignored: Vec<String>,
    /// (algorithm, the configuration part that names it).
    pub(crate) weak: Vec<(String, String)>,
}

fn dh_group(g: DhGroup) -> ike_sm::crypto::DhGroup {
    match g {
        DhGroup::Group1 => ike_sm::crypto::DhGroup::Modp768,
        DhGroup::Group2 => ike_sm::crypto::DhGroup::Modp1024,
        DhGroup::Group5 => ike_sm::crypto::DhGroup::Modp1536,
        DhGroup::Group14 => ike_sm::crypto::DhGroup::Modp2048,
        DhGroup::Group15 => ike_sm::crypto::DhGroup::Modp3072,
        DhGroup::Group16 => ike_sm::crypto::DhGroup::Modp4096,
    }
}

fn encryption(e: IsakmpEncryption) -> ike_sm::crypto::EncryptionAlgorithm {
    use ike_sm::crypto::EncryptionAlgorithm as E;
    match e {
        IsakmpEncryption::Des => E::DesCbc,
        IsakmpEncryption::TripleDes => E::TripleDesCbc,
        IsakmpEncryption::Aes(AesKeySize::Aes128) => E::Aes128Cbc,
        IsakmpEncryption::Aes(AesKeySize::Aes192) => E::Aes192Cbc,
        IsakmpEncryption::Aes(AesKeySize::Aes256) => E::Aes256Cbc,
    }
}

fn hash(h: IsakmpHash) -> ike_sm::crypto::HashAlgorithm {
    use ike_sm::crypto::HashAlgorithm as H;
    match h {
        IsakmpHash::Sha => H::Sha1,
        IsakmpHash::Md5 => H::Md5,
        IsakmpHash::Sha256 => H::Sha2_256,
        IsakmpHash::Sha384 => H::Sha2_384,
        IsakmpHash::Sha512 => H::Sha2_512,
    }
}

/// The prefix length of a contiguous mask.
fn prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0)
        .then(|| u8::try_from(len).ok())
        .flatten()
}

/// The IKE lifetimes of IOS's SA lifetimes.
pub(crate) fn lifetime(l: SaLifetime) -> ike_sm::Lifetime {
    ike_sm::Lifetime {
        seconds: l.seconds,
        kilobytes: Some(l.kilobytes),
    }
}

/// An IOS transform set as the IKE engine's ESP transform, or why not.
pub(crate) fn ike_transform_set(set: &TransformSet) -> Result<ike_sm::TransformSet, String> {
    if let Some(ah) = set.ah() {
        return Err(format!(
            "transform set {}: {ah} (AH) is not implemented",
            set.name()
        ));
    }
    if let Some(comp) = set.compression() {
        return Err(format!(
            "transform set {}: {comp} (IPComp) is not implemented",
            set.name()
        ));
    }
    let enc = match set.esp_encryption() {
        Some(Transform::EspDes) => EspEncryption::DesCbc,
        Some(Transform::Esp3des) => EspEncryption::TripleDesCbc,
        Some(Transform::EspAes(size)) => EspEncryption::AesCbc {
            key_bits: size.bits(),
        },
        Some(Transform::EspGcm(size)) => EspEncryption::AesGcm16 {
            key_bits: size.bits(),
        },
        // `esp-sha-hmac` alone is ESP with NULL encryption (RFC 2410).
        Some(Transform::EspNull) | None => EspEncryption::Null,
        Some(other) => {
            return Err(format!(
                "transform set {}: {other} is not an ESP cipher",
                set.name()
            ));
        }
    };
    let integrity = match set.esp_authentication() {
        None => EspIntegrity::None,
        Some(Transform::EspMd5Hmac) => EspIntegrity::HmacMd5_96,
        Some(Transform::EspShaHmac) => EspIntegrity::HmacSha1_96,
        Some(Transform::EspSha256Hmac) => EspIntegrity::HmacSha256_128,
        Some(Transform::EspSha384Hmac) => EspIntegrity::HmacSha384_192,
        Some(Transform::EspSha512Hmac) => EspIntegrity::HmacSha512_256,
        Some(other) => {
            return Err(format!(
                "transform set {}: {other} is not an ESP integrity transform",
                set.name()
            ));
        }
    };
    if enc == EspEncryption::Null && integrity == EspIntegrity::None {
        return Err(format!("transform set {}: no ESP transform", set.name()));
    }
    let mode = match set.mode {
        EncapsulationMode::Tunnel => EspMode::Tunnel,
        EncapsulationMode::Transport => EspMode::Transport,
    };
    Ok(ike_sm::TransformSet::new(set.name(), enc, integrity, mode))
}

/// The IOS transform keywords of a negotiated ESP transform, for the
/// `show` views and the debug log (`esp-des esp-md5-hmac`).
pub(crate) fn ios_transforms(t: &EspTransform) -> Vec<Transform> {
    let size = |bits: u16| AesKeySize::from_bits(u32::from(bits)).unwrap_or(AesKeySize::Aes128);
    let mut out = Vec::with_capacity(2);
    match t.encryption {
        EspEncryption::DesCbc => out.push(Transform::EspDes),
        EspEncryption::TripleDesCbc => out.push(Transform::Esp3des),
        EspEncryption::AesCbc { key_bits } => out.push(Transform::EspAes(size(key_bits))),
        EspEncryption::AesGcm16 { key_bits } => out.push(Transform::EspGcm(size(key_bits))),
        EspEncryption::Null if t.integrity == EspIntegrity::None => out.push(Transform::EspNull),
        _ => {}
    }
    match t.integrity {
        EspIntegrity::HmacMd5_96 => out.push(Transform::EspMd5Hmac),
        EspIntegrity::HmacSha1_96 => out.push(Transform::EspShaHmac),
        EspIntegrity::HmacSha256_128 => out.push(Transform::EspSha256Hmac),
        EspIntegrity::HmacSha384_192 => out.push(Transform::EspSha384Hmac),
        EspIntegrity::HmacSha512_256 => out.push(Transform::EspSha512Hmac),
        _ => {}
    }
    out
}

/// An IOS proxy identity as the IKE engine's: a /32 is a host (IOS sends
/// ID_IPV4_ADDR), anything else a subnet.
pub(crate) fn proxy_to_ike(p: &ProxyIdent) -> ProxyId {
    let addr = IpAddr::V4(p.address);
    let base = match prefix_len(p.mask) {
        Some(32) => ProxyId::host(addr),
        Some(len) => ProxyId::subnet(addr, len),
        // `ProxyIdent`s come from `AclRule::proxy`, which refuses
        // non-contiguous masks; a host is the narrowest safe reading.
        None => ProxyId::host(addr),
    };
    base.with_protocol_port(p.protocol.0, p.port)
}

/// The IOS form of a negotiated proxy identity, for `show` and the log. A
/// range is shown as the smallest subnet holding it; IPv6 has no IOS form
/// here (`None`).
pub(crate) fn proxy_from_ike(p: &ProxyId) -> Option<ProxyIdent> {
    let (address, mask) = match p.addr {
        ProxyAddr::Host(IpAddr::V4(a)) => (a, Ipv4Addr::BROADCAST),
        ProxyAddr::Subnet {
            addr: IpAddr::V4(a),
            prefix,
        } => {
            let mask = u32::MAX
                .checked_shl(32u32.saturating_sub(u32::from(prefix.min(32))))
                .unwrap_or(0);
            (a, Ipv4Addr::from(mask))
        }
        ProxyAddr::Range {
            start: IpAddr::V4(s),
            end: IpAddr::V4(e),
        } => {
            let common = (u32::from(s) ^ u32::from(e)).leading_zeros();
            let mask = u32::MAX.checked_shl(32 - common).unwrap_or(0);
            (Ipv4Addr::from(u32::from(s) & mask), Ipv4Addr::from(mask))
        }
        _ => return None,
    };
    Some(ProxyIdent {
        address,
        mask,
        protocol: IpProtocol(p.protocol),
        port: p.port,
    })
}

/// The parameters of one direction of a negotiated SA pair.
///
/// Weak algorithms and ESP without integrity are allowed here because the
/// IKE engine negotiates only what the IOS configuration names: a transform
/// set that says `esp-des esp-md5-hmac` is the operator's explicit choice,
/// reported once as a warning when the gateway starts.
pub(crate) fn esp_params(
    est: &ike_sm::Phase2Established,
    direction: esp::Direction,
) -> Option<esp::SaParams> {
    let encryption = est.transform.encryption.to_esp()?;
    let integrity = est.transform.integrity.to_esp();
    let (IpAddr::V4(local), IpAddr::V4(remote)) = (est.local.ip(), est.remote.ip()) else {
        return None;
    };
    let (keys, spi, mode, sel) = match direction {
        esp::Direction::Inbound => (
            &est.inbound,
            est.inbound.spi,
            esp::Mode::Tunnel {
                src: remote,
                dst: local,
            },
            est.remote_proxy.esp_selector(&est.local_proxy)?,
        ),
        esp::Direction::Outbound => (
            &est.outbound,
            est.outbound.spi,
            esp::Mode::Tunnel {
                src: local,
                dst: remote,
            },
            est.local_proxy.esp_selector(&est.remote_proxy)?,
        ),
    };
    let mode = match est.transform.mode {
        EspMode::Tunnel => mode,
        EspMode::Transport => esp::Mode::Transport,
    };
    let mut p = esp::SaParams::new(
        spi,
        direction,
        mode,
        encryption,
        integrity,
        esp::Keys {
            encryption: keys.encryption_key.clone(),
            integrity: keys.integrity_key.clone(),
        },
    );
    p.selector = sel;
    p.allow_weak = encryption.is_weak() || integrity.is_weak();
    p.allow_no_integrity = integrity == esp::Integrity::None && !encryption.is_aead();
    p.lifetime.hard.time = Some(est.lifetime.duration());
    p.lifetime.hard.bytes = est.lifetime.kilobytes.map(|kb| kb.saturating_mul(1024));
    p.udp_encap = est
        .udp_encapsulation
        .map(|u| udp_encap(u, direction, est.local.port(), est.remote.port()));
    Some(p)
}

/// RFC 3948 for one direction of a pair: from our port to the peer's
/// (outbound), from the peer's to ours (inbound, which checks ours). The
/// NAT-OA addresses go to the inbound SA, whose transport-mode checksums
/// they fix (the peer computed them over its own address and the one it
/// believed ours).
fn udp_encap(
    u: ike_sm::UdpEncapsulation,
    direction: esp::Direction,
    local_port: u16,
    remote_port: u16,
) -> esp::UdpEncap {
    let v4 = |a: Option<IpAddr>| match a {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    };
    match direction {
        esp::Direction::Outbound => esp::UdpEncap::new(local_port, remote_port),
        esp::Direction::Inbound => esp::UdpEncap::new(remote_port, local_port)
            .with_original_addresses(v4(u.peer_original), v4(u.local_as_seen)),
    }
}

/// The parameters of a crypto map entry (static, derived or a dynamic
/// template entry) as a phase-2 request towards `peer`.
pub(crate) fn phase2_request(
    config: &Config,
    params: &MapParams,
    local: Ipv4Addr,
    peer: Ipv4Addr,
    local_proxy: &ProxyIdent,
    remote_proxy: &ProxyIdent,
) -> Phase2Request {
    Phase2Request {
        peer: std::net::SocketAddr::new(IpAddr::V4(peer), isakmp_wire::ted::IKE_PORT),
        local: std::net::SocketAddr::new(IpAddr::V4(local), isakmp_wire::ted::IKE_PORT),
        local_proxy: proxy_to_ike(local_proxy),
        remote_proxy: proxy_to_ike(remote_proxy),
        transform_sets: params
            .transform_sets
            .iter()
            .filter_map(|name| config.transform_set(name))
            .filter_map(|set| ike_transform_set(set).ok())
            .collect(),
        pfs: params.pfs.map(dh_group),
        lifetime: lifetime(params.lifetime.resolve(config.sa_lifetime)),
    }
}

/// What a crypto map entry accepts as Quick Mode responder: one policy per
/// `permit` line of its access list (and per configured peer).
fn entry_policies(
    config: &Config,
    params: &MapParams,
    any_peer: bool,
    ignored: &mut Vec<String>,
    where_: &str,
) -> Vec<Phase2Policy> {
    let mut out = Vec::new();
    let transform_sets: Vec<ike_sm::TransformSet> = params
        .transform_sets
        .iter()
        .filter_map(|name| config.transform_set(name))
        .filter_map(|set| match ike_transform_set(set) {
            Ok(s) => Some(s),
            Err(why) => {
                ignored.push(format!("{where_}: {why}"));
                None
            }
        })
        .collect();
    if transform_sets.is_empty() {
        return out;
    }
    let Some(acl_name) = &params.match_address else {
        // A dynamic map entry without `match address` takes whatever
        // proxies the peer proposes (IOS; how Easy VPN servers are
        // written: the client proposes its assigned address and the
        // networks it tunnels).
        if any_peer {
            let any = ProxyId::subnet(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
            out.push(Phase2Policy {
                peer: None,
                local_proxy: any,
                remote_proxy: any,
                transform_sets,
                pfs: params.pfs.map(dh_group),
                lifetime: lifetime(params.lifetime.resolve(config.sa_lifetime)),
            });
        }
        return out;
    };
    let Some(acl) = config.access_list(acl_name) else {
        return out;
    };
    let peers: Vec<Option<(IpAddr, u8)>> = if any_peer || params.peers.is_empty() {
        vec![None]
    } else {
        params
            .peers
            .iter()
            .map(|p| Some((IpAddr::V4(*p), 32)))
            .collect()
    };
    for (seq, rule) in acl.rules() {
        if rule.action() != Action::Permit {
            continue;
        }
        let pair = match rule.proxy() {
            Ok(pair) => pair,
            Err(e) => {
                ignored.push(format!("{where_}: access list {acl_name} line {seq}: {e}"));
                continue;
            }
        };
        for peer in &peers {
            out.push(Phase2Policy {
                peer: *peer,
                local_proxy: proxy_to_ike(&pair.source),
                remote_proxy: proxy_to_ike(&pair.destination),
                transform_sets: transform_sets.clone(),
                pfs: params.pfs.map(dh_group),
                lifetime: lifetime(params.lifetime.resolve(config.sa_lifetime)),
            });
        }
    }
    out
}

/// The IKE engine's configuration for a gateway whose outside interface
/// uses crypto map `map`.
pub(crate) fn ike_config(config: &Config, map: &str, options: &GatewayOptions) -> Translation {
    let mut ignored = Vec::new();
    let mut weak = Vec::new();
    let mut ike = ike_sm::Config::ios_defaults();
    ike.trace = options.debug;
    ike.retransmit = options.ike.retransmit.clone();
    ike.rekey = options.ike.rekey.clone();
    ike.limits = options.ike.limits.clone();
    ike.nonce_len = options.ike.nonce_len;
    ike.default_mode = options.ike.phase1_mode;
    ike.nat_t = options.ike.nat_t.clone();
    ike.fragmentation = options.ike.fragmentation.clone();
    ike.pki = options.pki.clone();
    // The CA certificates of `crypto pki certificate chain` blocks are
    // trust anchors too, next to the options' (`--ca` files).
    for chain in config.pki.chains() {
        for c in chain.certificates.iter().filter(|c| c.is_ca()) {
            match ike_sm::ike_pki::Certificate::from_der(&c.der) {
                Ok(cert) => ike.pki.trust.add_anchor(cert),
                Err(e) => ignored.push(format!(
                    "crypto pki certificate chain {}: certificate ca {}: {e}",
                    chain.trustpoint(),
                    c.serial
                )),
            }
        }
    }
    let signer = options.pki.credentials.as_ref().map(|c| c.key.algorithm());
    // `no crypto ipsec nat-transparency udp-encapsulation` turns NAT-T off;
    // `crypto isakmp nat keepalive N` sets the keepalive interval (without
    // it, the options' interval: IOS would send none, which lets a NAT's
    // mapping expire under an idle tunnel).
    if !config.nat_transparency {
        ike.nat_t.mode = ike_sm::NatTMode::Disabled;
    }
    // IOS answers Aggressive Mode (ios_defaults) unless `crypto isakmp
    // aggressive-mode disable`.
    if config.isakmp.aggressive_mode_disabled {
        ike.aggressive_mode = ike_sm::AggressiveModePolicy::default();
    }
    if let Some(s) = config.isakmp.nat_keepalive {
        ike.nat_t.keepalive = Some(std::time::Duration::from_secs(u64::from(s)));
    }
    ike.policies.clear();

    let policies = config
        .isakmp
        .policies()
        .copied()
        .chain(config.isakmp.default_suite());
    for p in policies {
        let name = format!("crypto isakmp policy {}", p.priority);
        let auth = match (p.authentication, signer) {
            (IsakmpAuthentication::PreShare, _) => ike_sm::Phase1Auth::PreSharedKey,
            (IsakmpAuthentication::RsaSig, Some(SignatureAlgorithm::Rsa)) => {
                ike_sm::Phase1Auth::Signature(SignatureAlgorithm::Rsa)
            }
            (
                IsakmpAuthentication::EcdsaSig,
                Some(
                    a @ (SignatureAlgorithm::EcdsaP256
                    | SignatureAlgorithm::EcdsaP384
                    | SignatureAlgorithm::EcdsaP521),
                ),
            ) => ike_sm::Phase1Auth::Signature(a),
            (other, _) => {
                let refusal = if other.uses_certificates() {
                    PolicyRefusal::NeedsCredentials(other)
                } else {
                    PolicyRefusal::NotImplemented(other)
                };
                ignored.push(format!("{name}: {refusal}"));
                continue;
            }
        };
        let policy = ike_sm::IsakmpPolicy {
            priority: u32::from(p.priority),
            encryption: encryption(p.encryption),
            hash: hash(p.hash),
            auth,
            group: dh_group(p.group),
            lifetime: p.lifetime,
        };
        if policy.encryption.is_weak() {
            weak.push((policy.encryption.name().to_owned(), name.clone()));
        }
        if policy.hash.is_weak() {
            weak.push((policy.hash.name().to_owned(), name.clone()));
        }
        if policy.group.is_weak() {
            weak.push((format!("MODP-{}", policy.group.prime_bits()), name.clone()));
        }
        ike.policies.push(policy);
    }

    // `crypto keyring` keys count as `crypto isakmp key` lines, after
    // them; a keyring bound by `local-address` to another address than the
    // outside interface's is not for this gateway.
    let outside = config.crypto_map_local_address(map);
    let mut keys: Vec<(String, &crate::config::PskEntry)> = config
        .isakmp
        .keys()
        .iter()
        .map(|k| ("crypto isakmp key".to_owned(), k))
        .collect();
    for ring in config.keyrings() {
        if let Some(local) = &ring.local_address {
            let address = match local {
                KeyringLocalAddress::Address(a) => Some(*a),
                KeyringLocalAddress::Interface(name) => config
                    .interface(name)
                    .and_then(|i| i.address)
                    .map(|a| a.address),
            };
            if address.is_none() || address != outside {
                let outside = outside.map_or("unknown".to_owned(), |a| a.to_string());
                ignored.push(format!(
                    "crypto keyring {}: local-address {local} is not the outside address ({outside}); its keys are not used",
                    ring.name()
                ));
                continue;
            }
        }
        let what = format!("crypto keyring {} pre-shared-key", ring.name());
        keys.extend(ring.keys().iter().map(|k| (what.clone(), k)));
    }
    for (what, entry) in keys {
        let scope = match &entry.peer {
            PskPeer::Address { address, mask } => match prefix_len(*mask) {
                Some(prefix) => PskScope::Address {
                    addr: IpAddr::V4(*address),
                    prefix,
                },
                None => {
                    ignored.push(format!(
                        "{what} for {address} {mask}: the mask is not contiguous"
                    ));
                    continue;
                }
            },
            PskPeer::Hostname(name) => PskScope::Identity(Identity::Fqdn(name.clone())),
        };
        ike.pre_shared_keys.push(IkePskEntry {
            scope,
            key: ike_sm::PreSharedKey::new(entry.key.as_bytes()),
        });
    }

    ike.identity = match config.isakmp.identity {
        IsakmpIdentity::Address => LocalIdentity::Address,
        // With a certificate, the name it holds (a peer checks our ID
        // against it): the hostname if the certificate names it, else its
        // first subjectAltName DNS name.
        IsakmpIdentity::Hostname => {
            let from_cert = options.pki.credentials.as_ref().and_then(|c| {
                let names = c.certificate.dns_names();
                names
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(&config.hostname))
                    .or(names.first())
                    .cloned()
            });
            LocalIdentity::Fixed(Identity::Fqdn(
                from_cert.unwrap_or_else(|| config.hostname.clone()),
            ))
        }
        IsakmpIdentity::Dn => match &options.pki.credentials {
            Some(c) => LocalIdentity::Fixed(Identity::Dn(c.certificate.subject_der())),
            None => {
                ignored.push(
                    "crypto isakmp identity dn: no certificate given; the address is used"
                        .to_owned(),
                );
                LocalIdentity::Address
            }
        },
    };
    // IOS announces DPD (RFC 3706's vendor ID) only with `crypto isakmp
    // keepalive` configured: the seed's routers, which have none, send no
    // vendor ID in Main Mode's first two messages.
    ike.vendor_ids.dpd = config.isakmp.keepalive.is_some();
    ike.dpd = config.isakmp.keepalive.map(|k| ike_sm::DpdConfig {
        interval: std::time::Duration::from_secs(u64::from(k.interval)),
        retry_interval: std::time::Duration::from_secs(u64::from(k.retry)),
        ..ike_sm::DpdConfig::default()
    });

    if let Some(crypto_map) = config.crypto_map(map) {
        for (seq, entry) in crypto_map.entries() {
            let where_ = format!("crypto map {map} {seq}");
            match entry {
                CryptoMapEntry::IpsecIsakmp(params) => {
                    ike.phase2_policies.extend(entry_policies(
                        config,
                        params,
                        false,
                        &mut ignored,
                        &where_,
                    ));
                    weak_transforms(config, params, &where_, &mut weak);
                }
                CryptoMapEntry::Dynamic { template, .. } => {
                    let Some(dynamic) = config.dynamic_map(template) else {
                        continue;
                    };
                    for (tseq, params) in dynamic.entries() {
                        let where_ = format!("crypto dynamic-map {template} {tseq}");
                        ike.phase2_policies.extend(entry_policies(
                            config,
                            params,
                            true,
                            &mut ignored,
                            &where_,
                        ));
                        weak_transforms(config, params, &where_, &mut weak);
                    }
                }
                // Instances of a template: covered by the template.
                _ => {}
            }
        }
    }
    remote_access(config, map, options, &mut ike);
    Translation { ike, ignored, weak }
}

/// The remote-access parts: as a server (Easy VPN server), XAUTH when the
/// crypto map has `client authentication list`, Mode-Config as `client
/// configuration address` says, each `crypto isakmp client configuration
/// group` key for its group name; as a client, the group's identity and
/// key and XAUTH policies.
fn remote_access(config: &Config, map: &str, options: &GatewayOptions, ike: &mut ike_sm::Config) {
    let xauth_policies = |ike: &ike_sm::Config| -> Vec<ike_sm::IsakmpPolicy> {
        ike.policies
            .iter()
            .map(|p| ike_sm::IsakmpPolicy {
                auth: ike_sm::Phase1Auth::XauthInitPreShared,
                ..*p
            })
            .collect()
    };
    if let Some(client) = &options.client {
        // The client offers its policies with XAUTH (65001), as vpnc and
        // the Cisco clients do, under its group's identity and key.
        ike.policies = xauth_policies(ike);
        let group = Identity::KeyId(client.group.as_bytes().to_vec());
        ike.identity = LocalIdentity::Fixed(group.clone());
        ike.pre_shared_keys.clear();
        if let Some(peer) = config.crypto_map(map).and_then(|m| {
            m.entries().find_map(|(_, e)| match e {
                CryptoMapEntry::IpsecIsakmp(p) => p.peers.first().copied(),
                _ => None,
            })
        }) {
            ike.pre_shared_keys.push(IkePskEntry {
                scope: PskScope::Address {
                    addr: IpAddr::V4(peer),
                    prefix: 32,
                },
                key: ike_sm::PreSharedKey::new(client.group_key.as_bytes()),
            });
        }
        ike.pre_shared_keys.push(IkePskEntry {
            scope: PskScope::Identity(group),
            key: ike_sm::PreSharedKey::new(client.group_key.as_bytes()),
        });
        ike.default_mode = client.mode;
        ike.vendor_ids.cisco_unity = true;
        ike.remote_access.client_mode_cfg = ike_sm::ModeCfgClientMode::Pull;
        return;
    }
    let ra = &config.remote_access;
    if config.xauth_list_for_map(map).is_some() {
        // XAUTH on this map: each pre-share policy also matches an XAUTH
        // offer (IOS accepts 65001 for `authentication pre-share` when the
        // map authenticates clients).
        let extra = xauth_policies(ike);
        ike.policies.extend(extra);
        ike.remote_access.timeout = std::time::Duration::from_secs(u64::from(ra.xauth_timeout));
    }
    ike.remote_access.server_mode_cfg = match config.mode_cfg_direction(map) {
        Some(crate::config::ModeCfgDirection::Initiate) => ike_sm::ModeCfgServerMode::Push,
        _ => ike_sm::ModeCfgServerMode::Pull,
    };
    let mut any_group = false;
    for g in ra.groups() {
        let Some(key) = &g.key else {
            continue;
        };
        any_group = true;
        ike.pre_shared_keys.push(IkePskEntry {
            scope: PskScope::Identity(Identity::KeyId(g.name().as_bytes().to_vec())),
            key: ike_sm::PreSharedKey::new(key.as_bytes()),
        });
        // The group's clients come in Aggressive Mode (their key is found
        // by the group name in AM1): answered unless the configuration
        // turns Aggressive Mode off altogether.
        if !config.isakmp.aggressive_mode_disabled {
            ike.aggressive_mode.rules.push(ike_sm::AggressiveModeRule {
                scope: PskScope::Identity(Identity::KeyId(g.name().as_bytes().to_vec())),
                answer: true,
            });
        }
    }
    if any_group {
        ike.vendor_ids.cisco_unity = true;
    }
}

fn weak_transforms(
    config: &Config,
    params: &MapParams,
    where_: &str,
    weak: &mut Vec<(String, String)>,
) {
    for name in &params.transform_sets {
        let Some(set) = config.transform_set(name) else {
            continue;
        };
        let Ok(ike_set) = ike_transform_set(set) else {
            continue;
        };
        let t = ike_set.transform;
        let by = format!("crypto ipsec transform-set {name} ({where_})");
        if t.encryption.is_weak() {
            weak.push((t.encryption.ios_name(), by.clone()));
        }
        if t.integrity.is_weak() {
            weak.push((t.integrity.ios_name().to_owned(), by));
        }
    }
    if let Some(g) = params.pfs {
        let g = dh_group(g);
        if g.is_weak() {
            weak.push((
                format!("MODP-{}", g.prime_bits()),
                format!("set pfs ({where_})"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(prefix_len(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
        assert_eq!(prefix_len(Ipv4Addr::BROADCAST), Some(32));
        assert_eq!(prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
    }

    #[test]
    fn proxies_round_trip_through_the_engine_form() {
        for (a, m, proto, port) in [
            ([13, 13, 13, 0], [255, 255, 255, 0], 0, 0),
            ([10, 1, 2, 3], [255, 255, 255, 255], 17, 500),
            ([0, 0, 0, 0], [0, 0, 0, 0], 6, 0),
        ] {
            let p = ProxyIdent {
                address: Ipv4Addr::from(a),
                mask: Ipv4Addr::from(m),
                protocol: IpProtocol(proto),
                port,
            };
            assert_eq!(proxy_from_ike(&proxy_to_ike(&p)), Some(p));
        }
        // A host is sent as ID_IPV4_ADDR, as IOS does.
        let host = proxy_to_ike(&ProxyIdent {
            address: Ipv4Addr::new(1, 2, 3, 4),
            mask: Ipv4Addr::BROADCAST,
            protocol: IpProtocol(0),
            port: 0,
        });
        assert!(matches!(host.addr, ProxyAddr::Host(_)));
        // A range shows as the smallest subnet holding it.
        let range = ProxyId {
            protocol: 0,
            port: 0,
            addr: ProxyAddr::Range {
                start: "10.0.0.5".parse().unwrap(),
                end: "10.0.0.9".parse().unwrap(),
            },
        };
        assert_eq!(
            proxy_from_ike(&range).unwrap().to_string(),
            "10.0.0.0/255.255.255.240/0/0"
        );
    }

    #[test]
    fn transform_sets_map_and_refuse() {
        let seed = TransformSet::new("t", &[Transform::EspDes, Transform::EspMd5Hmac]).unwrap();
        let s = ike_transform_set(&seed).unwrap();
        assert_eq!(s.transform, ike_sm::TransformSet::ios_seed().transform);
        assert_eq!(ios_transforms(&s.transform), seed.transforms());
        let gcm = TransformSet::new("g", &[Transform::EspGcm(AesKeySize::Aes256)]).unwrap();
        let g = ike_transform_set(&gcm).unwrap();
        assert_eq!(
            g.transform.encryption,
            EspEncryption::AesGcm16 { key_bits: 256 }
        );
        assert_eq!(ios_transforms(&g.transform), gcm.transforms());
        let ah = TransformSet::new("a", &[Transform::AhShaHmac, Transform::EspDes]).unwrap();
        assert!(ike_transform_set(&ah).unwrap_err().contains("AH"));
        let auth_only = TransformSet::new("n", &[Transform::EspShaHmac]).unwrap();
        assert_eq!(
            ike_transform_set(&auth_only).unwrap().transform.encryption,
            EspEncryption::Null
        );
    }
}
