//! A table of SAs: inbound packets find their SA by SPI in O(1) (RFC 4301
//! s.4.1: the SPI alone selects a unicast SA), outbound SAs are addressed by
//! the handle returned when they were installed.
//!
//! Handles carry a generation so that a handle to a removed SA never
//! reaches the SA that later reuses its slot.
//!
//! The table holds at most [`SaTable::max_sas`] SAs ([`SaTable::DEFAULT_MAX_SAS`]
//! unless built with [`SaTable::with_max_sas`]); an insert beyond that is
//! refused with [`TableError::Full`]. Its memory is bounded by that number:
//! removed slots are reused before the slot vector grows.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddrV4;
use std::ops::Range;
use std::time::Instant;

use rand_core::CryptoRng;

use crate::error::{DecapError, EncapError};
use crate::ip::{PROTO_ESP, parse_ipv4};
use crate::params::Direction;
use crate::sa::{Decapsulated, Encapsulated, Event, Sa};
use crate::spi::Spi;
use crate::udp;

const PROTO_UDP: u8 = 17;

/// A handle to an SA in an [`SaTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SaHandle {
    index: u32,
    generation: u32,
}

/// Why [`SaTable::insert`] refused an SA.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// An inbound SA with this SPI is already installed.
    #[error("an inbound SA with SPI {0:#010x} is already installed")]
    DuplicateSpi(Spi),
    /// The table already holds [`SaTable::max_sas`] SAs.
    #[error("SA table full")]
    Full,
}

/// Hashes a u32 SPI with a fixed multiply-xorshift mixer.
///
/// A keyed hash (SipHash with a random key) guards maps whose keys an
/// attacker chooses. Here the keys are inbound SPIs, which the local side
/// allocates (RFC 4301 s.4.1, RFC 2408 s.2.4); a peer can only probe with
/// SPIs that miss, and a miss costs one bucket regardless of the hash. A
/// fixed mixer keeps the table deterministic and free of OS randomness.
#[derive(Default, Clone, Copy)]
pub struct SpiHasher(u64);

impl Hasher for SpiHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b) ^ (self.0 >> 56);
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.0 = (self.0 << 32) ^ u64::from(i);
    }
}

struct Slot {
    generation: u32,
    sa: Option<Sa>,
}

/// SAs by handle, inbound SAs also by SPI.
pub struct SaTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_spi: HashMap<u32, SaHandle, BuildHasherDefault<SpiHasher>>,
    count: usize,
    max: usize,
    unknown_spi: u64,
    not_esp: u64,
    keepalives: u64,
}

impl Default for SaTable {
    fn default() -> Self {
        Self::with_max_sas(Self::DEFAULT_MAX_SAS)
    }
}

impl core::fmt::Debug for SaTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaTable")
            .field("len", &self.len())
            .field("max_sas", &self.max)
            .field("unknown_spi", &self.unknown_spi)
            .finish_non_exhaustive()
    }
}

impl SaTable {
    /// How many SAs a table built by [`SaTable::new`] holds at most: 32768
    /// inbound/outbound pairs. A gateway that negotiates SAs for peers sets
    /// its own bound with [`SaTable::with_max_sas`].
    pub const DEFAULT_MAX_SAS: usize = 65_536;

    /// An empty table holding at most [`SaTable::DEFAULT_MAX_SAS`] SAs.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table holding at most `max` SAs (inbound and outbound
    /// together; at most `u32::MAX`, the number of handles).
    pub fn with_max_sas(max: usize) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_spi: HashMap::default(),
            count: 0,
            max,
            unknown_spi: 0,
            not_esp: 0,
            keepalives: 0,
        }
    }

    /// The most SAs the table holds.
    pub fn max_sas(&self) -> usize {
        self.max
    }

    /// Number of installed SAs.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Packets dropped because no inbound SA had their SPI.
    pub fn unknown_spi_drops(&self) -> u64 {
        self.unknown_spi
    }

    /// Packets dropped before any SA was found (not IPv4/ESP, malformed;
    /// for UDP encapsulation also a bad UDP length, the non-ESP marker, a
    /// truncated marker).
    pub fn malformed_drops(&self) -> u64 {
        self.not_esp
    }

    /// NAT keepalives (RFC 3948 s.2.3) handed to
    /// [`decapsulate`](Self::decapsulate) or
    /// [`decapsulate_udp`](Self::decapsulate_udp) and discarded.
    pub fn keepalives(&self) -> u64 {
        self.keepalives
    }

    /// Counts a drop before any SA was found.
    fn drop_early(&mut self, e: DecapError) -> DecapError {
        match e {
            DecapError::Keepalive => self.keepalives += 1,
            DecapError::UnknownSpi(_) => self.unknown_spi += 1,
            _ => self.not_esp += 1,
        }
        e
    }

    /// The SA for `spi`, or the counted error.
    fn inbound_mut(&mut self, spi: Spi) -> Result<(SaHandle, &mut Sa), DecapError> {
        let Some(handle) = self.inbound(spi) else {
            return Err(self.drop_early(DecapError::UnknownSpi(spi)));
        };
        let sa = self.get_mut(handle).ok_or(DecapError::UnknownSpi(spi))?;
        Ok((handle, sa))
    }

    /// Installs an SA. Inbound SAs must have distinct SPIs; a table that
    /// holds [`max_sas`](Self::max_sas) SAs refuses more (the refused SA is
    /// dropped, and its keys with it).
    pub fn insert(&mut self, sa: Sa) -> Result<SaHandle, TableError> {
        let inbound = sa.direction() == Direction::Inbound;
        let spi = sa.spi();
        if inbound && self.by_spi.contains_key(&spi.0) {
            return Err(TableError::DuplicateSpi(spi));
        }
        if self.count >= self.max {
            return Err(TableError::Full);
        }
        let handle = if let Some(index) = self.free.pop() {
            let slot = self
                .slots
                .get_mut(usize::try_from(index).map_err(|_| TableError::Full)?)
                .ok_or(TableError::Full)?;
            slot.generation = slot.generation.wrapping_add(1);
            slot.sa = Some(sa);
            SaHandle {
                index,
                generation: slot.generation,
            }
        } else {
            let index = u32::try_from(self.slots.len()).map_err(|_| TableError::Full)?;
            self.slots.push(Slot {
                generation: 0,
                sa: Some(sa),
            });
            SaHandle {
                index,
                generation: 0,
            }
        };
        if inbound {
            self.by_spi.insert(spi.0, handle);
        }
        self.count += 1;
        Ok(handle)
    }

    /// Removes an SA and returns it.
    pub fn remove(&mut self, handle: SaHandle) -> Option<Sa> {
        let slot = self.slot_mut(handle)?;
        let sa = slot.sa.take()?;
        if sa.direction() == Direction::Inbound {
            self.by_spi.remove(&sa.spi().0);
        }
        self.free.push(handle.index);
        self.count -= 1;
        Some(sa)
    }

    fn slot_mut(&mut self, h: SaHandle) -> Option<&mut Slot> {
        let slot = self.slots.get_mut(usize::try_from(h.index).ok()?)?;
        (slot.generation == h.generation).then_some(slot)
    }

    /// The SA behind a handle.
    pub fn get(&self, h: SaHandle) -> Option<&Sa> {
        let slot = self.slots.get(usize::try_from(h.index).ok()?)?;
        if slot.generation == h.generation {
            slot.sa.as_ref()
        } else {
            None
        }
    }

    /// The SA behind a handle, mutably.
    pub fn get_mut(&mut self, h: SaHandle) -> Option<&mut Sa> {
        self.slot_mut(h)?.sa.as_mut()
    }

    /// The inbound SA with this SPI.
    pub fn inbound(&self, spi: Spi) -> Option<SaHandle> {
        self.by_spi.get(&spi.0).copied()
    }

    /// Encapsulates with the SA behind `handle`; see [`Sa::encapsulate`].
    pub fn encapsulate<R: CryptoRng + ?Sized>(
        &mut self,
        handle: SaHandle,
        now: Instant,
        rng: &mut R,
        buf: &mut [u8],
        inner: Range<usize>,
    ) -> Option<Result<Encapsulated, EncapError>> {
        Some(self.get_mut(handle)?.encapsulate(now, rng, buf, inner))
    }

    /// Finds the inbound SA for the ESP packet in `buf` (an IPv4 packet:
    /// ESP, or UDP carrying ESP, RFC 3948) by its SPI and decapsulates; see
    /// [`Sa::decapsulate`]. A UDP datagram that carries no ESP (a
    /// keepalive, the non-ESP marker, a bad UDP length) is refused before
    /// any SA is looked up.
    pub fn decapsulate(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<(SaHandle, Decapsulated), DecapError> {
        let outer = match parse_ipv4(buf) {
            Ok(h) => h,
            Err(e) => return Err(self.drop_early(DecapError::MalformedOuter(e))),
        };
        let spi = match outer.protocol {
            PROTO_ESP => buf
                .get(outer.header_len..outer.total_len)
                .and_then(|esp| esp.get(..4))
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(|s| Spi(u32::from_be_bytes(s)))
                .ok_or(DecapError::BadLength {
                    len: outer.total_len.saturating_sub(outer.header_len),
                }),
            PROTO_UDP if !outer.is_fragment => {
                udp::read_frame(buf, outer.header_len, outer.total_len).map(|f| f.spi)
            }
            PROTO_UDP => Err(DecapError::Fragment),
            other => Err(DecapError::NotEsp(other)),
        };
        let spi = spi.map_err(|e| self.drop_early(e))?;
        let (handle, sa) = self.inbound_mut(spi)?;
        sa.decapsulate(now, buf).map(|d| (handle, d))
    }

    /// Finds the inbound SA for the ESP packet at `buf[esp]` (SPI to ICV,
    /// as a UDP socket received it from `source` on `destination`) by its
    /// SPI and decapsulates; see [`Sa::decapsulate_udp`]. A payload that
    /// is no ESP (a keepalive, the non-ESP marker, too short) is refused
    /// before any SA is looked up.
    pub fn decapsulate_udp(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        esp: Range<usize>,
        source: SocketAddrV4,
        destination: SocketAddrV4,
    ) -> Result<(SaHandle, Decapsulated), DecapError> {
        let spi = match buf.get(esp.clone()) {
            Some(bytes) => udp::esp_spi(bytes),
            None => Err(DecapError::MalformedOuter("ESP range outside the buffer")),
        };
        let spi = spi.map_err(|e| self.drop_early(e))?;
        let (handle, sa) = self.inbound_mut(spi)?;
        sa.decapsulate_udp(now, buf, esp, source, destination)
            .map(|d| (handle, d))
    }

    /// The earliest timeout of any SA.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| s.sa.as_ref()?.poll_timeout())
            .min()
    }

    /// Fires the timeouts of every SA.
    pub fn handle_timeout(&mut self, now: Instant) {
        for s in &mut self.slots {
            if let Some(sa) = s.sa.as_mut() {
                sa.handle_timeout(now);
            }
        }
    }

    /// The next event of any SA, with its handle.
    pub fn poll_event(&mut self) -> Option<(SaHandle, Event)> {
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(sa) = s.sa.as_mut()
                && let Some(e) = sa.poll_event()
            {
                let index = u32::try_from(i).ok()?;
                return Some((
                    SaHandle {
                        index,
                        generation: s.generation,
                    },
                    e,
                ));
            }
        }
        None
    }

    /// Iterates over the installed SAs.
    pub fn iter(&self) -> impl Iterator<Item = (SaHandle, &Sa)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            Some((
                SaHandle {
                    index: u32::try_from(i).ok()?,
                    generation: s.generation,
                },
                s.sa.as_ref()?,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::params::{AesKeySize, Encryption, Integrity, Keys, Mode, SaParams};

    fn sa(spi: u32, direction: Direction, now: Instant) -> Sa {
        let p = SaParams::new(
            Spi(spi),
            direction,
            Mode::Transport,
            Encryption::AesGcm16(AesKeySize::Aes128),
            Integrity::None,
            Keys::new(&[7; 20], &[]),
        );
        Sa::new(p, now).unwrap()
    }

    #[test]
    fn slots_never_outgrow_the_bound() {
        // The memory the table keeps (slots, free list, SPI index) is
        // bounded by max_sas whatever the sequence of inserts and removes.
        let now = Instant::now();
        let max = 16;
        let mut t = SaTable::with_max_sas(max);
        let mut live = std::collections::VecDeque::new();
        for k in 0..5_000u32 {
            let dir = if k % 3 == 0 {
                Direction::Outbound
            } else {
                Direction::Inbound
            };
            match t.insert(sa(0x1000 + k, dir, now)) {
                Ok(h) => live.push_back(h),
                Err(TableError::Full) => {
                    let old = live.pop_front().unwrap();
                    t.remove(old).unwrap();
                }
                Err(e) => panic!("{e}"),
            }
            assert!(t.slots.len() <= max);
            assert!(t.free.len() <= max);
            assert!(t.by_spi.len() <= t.count);
            assert_eq!(t.count, live.len());
        }
    }
}
