//! Crypto maps and dynamic crypto maps.
//!
//! A crypto map (Cisco IOS Security Command Reference: `crypto map`,
//! `crypto dynamic-map`, `set peer`, `match address`, `set transform-set`,
//! `set pfs`, `set security-association lifetime`, `crypto map
//! local-address`) is an ordered list of entries, bound to an interface,
//! that says which traffic is protected, with which transforms and towards
//! which peer. IOS evaluates the entries in sequence order.
//!
//! - `crypto map NAME SEQ ipsec-isakmp` with its sub-mode lines is a static
//!   entry: [`CryptoMapEntry::IpsecIsakmp`] holding [`MapParams`].
//! - `crypto map NAME SEQ ipsec-isakmp dynamic DYN [discover]` refers to the
//!   dynamic map DYN as a template ([`CryptoMapEntry::Dynamic`]); the peer is
//!   learnt at run time, and `discover` turns Tunnel Endpoint Discovery on
//!   so that this router can find the peer itself.
//! - A dynamic map's entries are [`MapParams`] too, typically without a
//!   peer.
//! - When a peer is found for a template entry (TED's response, or an
//!   incoming IKE negotiation), IOS instantiates the template as a new
//!   entry of the crypto map, shown by `show crypto map` as "dynamic
//!   (created from dynamic map ted-map/10)". The model holds such entries as
//!   [`CryptoMapEntry::Derived`], created with
//!   [`Config::derive_entry`](super::Config::derive_entry) and removed with
//!   [`Config::remove_derived_entry`](super::Config::remove_derived_entry).
//!   The seed numbers the first one seq + 1 (`tedtag 11` after `tedtag
//!   10`); the model takes the first free number above the parent.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use super::iface::InterfaceName;
use super::ipsec::LifetimeOverride;
use super::isakmp::DhGroup;
use crate::acl::AclName;

/// Sequence numbers IOS accepts for crypto map and dynamic map entries.
pub const SEQ_RANGE: RangeInclusive<u32> = 1..=65_535;

/// The parameters of a static entry or of a dynamic map entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MapParams {
    /// `set peer A` lines, in order (the first is tried first).
    pub peers: Vec<Ipv4Addr>,
    /// `match address ACL`.
    pub match_address: Option<AclName>,
    /// `set transform-set T1 [T2 ...]`, in order of preference.
    pub transform_sets: Vec<String>,
    /// `set pfs [groupN]`; `None` is no PFS.
    pub pfs: Option<DhGroup>,
    /// `set security-association lifetime seconds|kilobytes N`.
    pub lifetime: LifetimeOverride,
    /// `description TEXT`.
    pub description: Option<String>,
}

impl MapParams {
    /// The most transform sets one entry may name (IOS 12.2).
    pub const MAX_TRANSFORM_SETS: usize = 6;
}

/// A `crypto dynamic-map NAME`: template entries by sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DynamicMap {
    name: String,
    entries: BTreeMap<u32, MapParams>,
}

impl DynamicMap {
    /// An empty dynamic map.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            entries: BTreeMap::new(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entries in sequence order.
    pub fn entries(&self) -> impl Iterator<Item = (u32, &MapParams)> + '_ {
        self.entries.iter().map(|(&s, p)| (s, p))
    }

    /// One entry.
    pub fn entry(&self, seq: u32) -> Option<&MapParams> {
        self.entries.get(&seq)
    }

    /// One entry, to change it.
    pub fn entry_mut(&mut self, seq: u32) -> Option<&mut MapParams> {
        self.entries.get_mut(&seq)
    }

    /// Adds or replaces an entry; the sequence number must be in
    /// [`SEQ_RANGE`].
    pub fn insert(&mut self, seq: u32, params: MapParams) -> Result<Option<MapParams>, MapError> {
        check_seq(seq)?;
        Ok(self.entries.insert(seq, params))
    }

    /// Removes an entry.
    pub fn remove(&mut self, seq: u32) -> Option<MapParams> {
        self.entries.remove(&seq)
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A crypto map entry created at run time from a dynamic map template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DerivedEntry {
    /// The dynamic map it came from.
    pub template: String,
    /// The template entry it came from.
    pub template_seq: u32,
    /// The crypto map entry (`... dynamic DYN`) that referred to the
    /// template.
    pub parent_seq: u32,
    /// The peer that was found.
    pub peer: Ipv4Addr,
    /// The template entry's parameters with `peers` set to the peer.
    pub params: MapParams,
}

/// One entry of a crypto map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoMapEntry {
    /// `ipsec-isakmp` with its own parameters.
    IpsecIsakmp(MapParams),
    /// `ipsec-isakmp dynamic TEMPLATE [discover]`.
    Dynamic {
        /// The dynamic map's name.
        template: String,
        /// Whether Tunnel Endpoint Discovery is on.
        discover: bool,
    },
    /// Created at run time from a template; not part of the configuration
    /// text (the renderer leaves it out, as IOS's running-config does).
    Derived(DerivedEntry),
}

impl CryptoMapEntry {
    /// The parameters of a static or derived entry.
    pub fn params(&self) -> Option<&MapParams> {
        match self {
            Self::IpsecIsakmp(p) => Some(p),
            Self::Derived(d) => Some(&d.params),
            Self::Dynamic { .. } => None,
        }
    }
}

/// A `crypto map NAME`: entries by sequence number, and the interface whose
/// address is the local IKE endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CryptoMap {
    name: String,
    entries: BTreeMap<u32, CryptoMapEntry>,
    /// `crypto map NAME local-address IF`.
    pub local_address: Option<InterfaceName>,
}

impl CryptoMap {
    /// An empty crypto map.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            entries: BTreeMap::new(),
            local_address: None,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entries in sequence order, derived ones included.
    pub fn entries(&self) -> impl Iterator<Item = (u32, &CryptoMapEntry)> + '_ {
        self.entries.iter().map(|(&s, e)| (s, e))
    }

    /// One entry.
    pub fn entry(&self, seq: u32) -> Option<&CryptoMapEntry> {
        self.entries.get(&seq)
    }

    /// One entry, to change it.
    pub fn entry_mut(&mut self, seq: u32) -> Option<&mut CryptoMapEntry> {
        self.entries.get_mut(&seq)
    }

    /// Adds or replaces an entry; the sequence number must be in
    /// [`SEQ_RANGE`].
    pub fn insert(
        &mut self,
        seq: u32,
        entry: CryptoMapEntry,
    ) -> Result<Option<CryptoMapEntry>, MapError> {
        check_seq(seq)?;
        Ok(self.entries.insert(seq, entry))
    }

    /// Removes an entry.
    pub fn remove(&mut self, seq: u32) -> Option<CryptoMapEntry> {
        self.entries.remove(&seq)
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries created at run time.
    pub fn derived_entries(&self) -> impl Iterator<Item = (u32, &DerivedEntry)> + '_ {
        self.entries.iter().filter_map(|(&s, e)| match e {
            CryptoMapEntry::Derived(d) => Some((s, d)),
            _ => None,
        })
    }

    /// Adds a derived entry at the first free sequence number above its
    /// parent and returns that number.
    pub(crate) fn add_derived(&mut self, entry: DerivedEntry) -> Result<u32, MapError> {
        let parent = entry.parent_seq;
        let seq = (parent.saturating_add(1)..=*SEQ_RANGE.end())
            .find(|s| !self.entries.contains_key(s))
            .ok_or(MapError::NoFreeSequence {
                map: self.name.clone(),
                after: parent,
            })?;
        self.entries.insert(seq, CryptoMapEntry::Derived(entry));
        Ok(seq)
    }
}

fn check_seq(seq: u32) -> Result<(), MapError> {
    if SEQ_RANGE.contains(&seq) {
        Ok(())
    } else {
        Err(MapError::SequenceOutOfRange { seq })
    }
}

/// A crypto map operation the model refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// A sequence number outside 1-65535.
    #[error("sequence number {seq} is outside 1-65535")]
    SequenceOutOfRange {
        /// The number.
        seq: u32,
    },
    /// No crypto map by that name.
    #[error("crypto map {map} does not exist")]
    NoSuchMap {
        /// The name.
        map: String,
    },
    /// No entry by that number.
    #[error("crypto map {map} has no entry {seq}")]
    NoSuchEntry {
        /// The map.
        map: String,
        /// The number.
        seq: u32,
    },
    /// The parent entry does not refer to a dynamic map.
    #[error("crypto map {map} {seq} does not refer to a dynamic map")]
    NotDynamic {
        /// The map.
        map: String,
        /// The number.
        seq: u32,
    },
    /// The template has no such entry.
    #[error("dynamic map {template} has no entry {seq}")]
    NoSuchTemplateEntry {
        /// The dynamic map.
        template: String,
        /// The number.
        seq: u32,
    },
    /// Every number above the parent is taken.
    #[error("crypto map {map} has no free sequence number after {after}")]
    NoFreeSequence {
        /// The map.
        map: String,
        /// The parent's number.
        after: u32,
    },
    /// The entry is configured, not derived.
    #[error("crypto map {map} {seq} was configured, not created at run time")]
    NotDerived {
        /// The map.
        map: String,
        /// The number.
        seq: u32,
    },
}
