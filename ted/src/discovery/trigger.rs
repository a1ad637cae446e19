//! What starts a discovery: a plaintext packet that a `dynamic ...
//! discover` crypto map entry protects, with no SA to carry it.

use std::net::Ipv4Addr;

use crate::acl::{AclName, Flow, ProxyError, ProxyIdent};
use crate::config::{Config, RouteLookup, SaLifetime, Transform};

/// A request to discover the peer for one packet's flow.
///
/// The caller (the gateway) builds it when a plaintext packet matched a
/// crypto map entry with `discover` and no SA, and no negotiation towards a
/// peer exists for it; [`Trigger::from_config`] fills it from the policy
/// model. Everything the probe and the later `Discovered` event need is
/// here, so that the discovery itself never looks at the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// The packet's source: the probe's IP source (docs/ted-wire.md, "The exchange", \[T\]).
    pub packet_source: Ipv4Addr,
    /// The packet's destination: the probe's IP destination \[T\].
    pub packet_destination: Ipv4Addr,
    /// This router's IKE address (the crypto map interface's address): the
    /// probe's first ID, where the response will be sent.
    pub local_address: Ipv4Addr,
    /// The local proxy: the source side of the access list entry that
    /// matched (the probe's second ID).
    pub local_proxy: ProxyIdent,
    /// The destination side of that entry: the most the remote proxy may
    /// be.
    pub remote_proxy: ProxyIdent,
    /// The crypto map.
    pub map: String,
    /// The crypto map entry (`tedtag 10`).
    pub map_seq: u32,
    /// The dynamic map template entry whose access list matched
    /// (`ted-map 10`); what the peer's entry will be derived from.
    pub template_seq: Option<u32>,
    /// The access list that matched.
    pub acl: AclName,
    /// The access list line that matched.
    pub acl_seq: u32,
    /// The transforms of the entry's first transform set (for the IOS-style
    /// log; `esp-des esp-md5-hmac` in the seed).
    pub transforms: Vec<Transform>,
    /// The SA lifetimes in force for the entry.
    pub lifetime: SaLifetime,
    /// Where the probe leaves: interface and next hop (for the log).
    pub via: Option<RouteLookup>,
}

/// Why a packet gives no [`Trigger`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TriggerError {
    /// No entry of the crypto map protects the packet.
    #[error("crypto map {map} does not protect {flow}")]
    NotProtected {
        /// The crypto map.
        map: String,
        /// The packet's flow.
        flow: String,
    },
    /// The entry that protects it has no `discover`.
    #[error("crypto map {map} {seq} protects the packet but has no `discover`")]
    NoDiscover {
        /// The crypto map.
        map: String,
        /// The entry.
        seq: u32,
    },
    /// The matching access list line vanished between classification and
    /// lookup (a configuration changed underneath).
    #[error("access list {acl} has no line {seq}")]
    NoAclLine {
        /// The access list.
        acl: AclName,
        /// The line.
        seq: u32,
    },
    /// The access list line is no pair of proxy identities.
    #[error("access list {acl} line {seq} gives no proxy identities: {source}")]
    NoProxy {
        /// The access list.
        acl: AclName,
        /// The line.
        seq: u32,
        /// Why.
        #[source]
        source: ProxyError,
    },
    /// The crypto map is on no interface with an address.
    #[error("crypto map {map} has no local address (no addressed interface uses it)")]
    NoLocalAddress {
        /// The crypto map.
        map: String,
    },
}

impl Trigger {
    /// The trigger a packet of flow `flow` leaving through crypto map `map`
    /// gives: the entry must have `discover` on (IOS ignores a `discover`
    /// on anything but a dynamic entry, and so does [`Config::classify`]).
    pub fn from_config(config: &Config, map: &str, flow: &Flow) -> Result<Self, TriggerError> {
        let hit = config
            .classify(map, flow)
            .ok_or_else(|| TriggerError::NotProtected {
                map: map.to_owned(),
                flow: flow.to_string(),
            })?;
        if !hit.discover {
            return Err(TriggerError::NoDiscover {
                map: map.to_owned(),
                seq: hit.seq,
            });
        }
        let rule = config
            .access_list(&hit.acl)
            .and_then(|acl| acl.rules().find(|(seq, _)| *seq == hit.acl_seq))
            .map(|(_, rule)| rule)
            .ok_or_else(|| TriggerError::NoAclLine {
                acl: hit.acl.clone(),
                seq: hit.acl_seq,
            })?;
        let pair = rule.proxy().map_err(|source| TriggerError::NoProxy {
            acl: hit.acl.clone(),
            seq: hit.acl_seq,
            source,
        })?;
        let local_address =
            config
                .crypto_map_local_address(map)
                .ok_or_else(|| TriggerError::NoLocalAddress {
                    map: map.to_owned(),
                })?;
        let params = config.crypto_map(map).and_then(|m| match m.entry(hit.seq) {
            Some(crate::config::CryptoMapEntry::Dynamic { template, .. }) => hit
                .template_seq
                .and_then(|t| config.dynamic_map(template)?.entry(t)),
            Some(entry) => entry.params(),
            None => None,
        });
        let transforms = params
            .and_then(|p| p.transform_sets.first())
            .and_then(|name| config.transform_set(name))
            .map(|set| set.transforms().to_vec())
            .unwrap_or_default();
        let lifetime = params.map_or(config.sa_lifetime, |p| {
            p.lifetime.resolve(config.sa_lifetime)
        });
        Ok(Self {
            packet_source: flow.source(),
            packet_destination: flow.destination(),
            local_address,
            local_proxy: pair.source,
            remote_proxy: pair.destination,
            map: map.to_owned(),
            map_seq: hit.seq,
            template_seq: hit.template_seq,
            acl: hit.acl,
            acl_seq: hit.acl_seq,
            transforms,
            lifetime,
            via: config.route(flow.destination()),
        })
    }
}
