//! An IPv4 address pool for Mode-Config clients (IOS `ip local pool`).
//!
//! A pool is one or more inclusive ranges of addresses. It hands an address
//! to a *holder* (whatever the gateway keys a client's state by: its ISAKMP
//! SA, its session) on behalf of a *user* (the XAUTH user name, or the
//! group name when there is no XAUTH):
//!
//! - **Affinity.** A user who already holds an address gets the same one
//!   again, and the new holder is added to it. This is what a phase-1
//!   rekey looks like from here: the client runs a new phase 1 (a new
//!   holder) and asks for its address while the old SA still holds it; it
//!   must keep its address, or its tunnels would break.
//! - **A requested address** (the client's INTERNAL_IP4_ADDRESS in its
//!   request) is given when it is in the pool and free; otherwise the
//!   request is ignored, as IOS ignores it, and the pool picks.
//! - **The pool picks the lowest free address**, so that the outcome does
//!   not depend on history beyond what is leased (a deterministic choice
//!   the tests and `show` output can rely on).
//! - **An address returns to the pool when its last holder releases it.**
//!   Nothing expires by itself: the pool has no clock; the gateway releases
//!   a holder when the SA or session it stands for is gone.
//! - **Exhaustion is an error** ([`PoolError::Exhausted`]): the caller
//!   refuses the client instead of handing out an address twice.
//!
//! Two sessions of the same user at once share one address under this
//! rule. A gateway that must tell them apart has to key the user
//! differently (for example by user name and peer address).
//!
//! # Memory
//!
//! The pool stores its ranges, the leases, and the free addresses as
//! intervals, never one entry per address of a range; so its memory grows
//! with the number of leases, not with the size of the ranges, and every
//! operation is logarithmic. A range is still limited to
//! [`AddressPool::MAX_RANGE_SIZE`] addresses and a pool to
//! [`AddressPool::MAX_RANGES`] ranges, so that a configuration line such as
//! `ip local pool p 0.0.0.0 255.255.255.255` is refused rather than turned
//! into a pool that a flood of clients could drain into millions of
//! leases.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

const MAX_RANGE_SIZE: u64 = 1 << 16;
const MAX_RANGES: usize = 32;

/// Why a pool refused a range or a lease.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// Every address of the pool is leased.
    #[error("address pool {pool} is exhausted")]
    Exhausted {
        /// The pool.
        pool: String,
    },
    /// A range whose start is above its end.
    #[error("range {start}-{end} starts above its end")]
    ReversedRange {
        /// First address.
        start: Ipv4Addr,
        /// Last address.
        end: Ipv4Addr,
    },
    /// A range with more addresses than [`AddressPool::MAX_RANGE_SIZE`].
    #[error("range {start}-{end} holds {size} addresses; at most {max} are allowed")]
    RangeTooLarge {
        /// First address.
        start: Ipv4Addr,
        /// Last address.
        end: Ipv4Addr,
        /// How many addresses it holds.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// More ranges than [`AddressPool::MAX_RANGES`].
    #[error("a pool holds at most {max} ranges")]
    TooManyRanges {
        /// The limit.
        max: usize,
    },
    /// A range that overlaps one the pool already has.
    #[error("range {start}-{end} overlaps the pool's range {other_start}-{other_end}")]
    Overlap {
        /// First address of the new range.
        start: Ipv4Addr,
        /// Last address of the new range.
        end: Ipv4Addr,
        /// First address of the range it overlaps.
        other_start: Ipv4Addr,
        /// Last address of the range it overlaps.
        other_end: Ipv4Addr,
    },
    /// The holder already holds an address for another user: a holder
    /// stands for one client, so this is a mistake of the caller.
    #[error("the holder already holds {address} for another user")]
    HolderInUse {
        /// The address it holds.
        address: Ipv4Addr,
    },
}

/// One inclusive range of a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolRange {
    start: Ipv4Addr,
    end: Ipv4Addr,
}

impl PoolRange {
    /// A range from `start` to `end`, both included, of at most
    /// [`AddressPool::MAX_RANGE_SIZE`] addresses.
    pub fn new(start: Ipv4Addr, end: Ipv4Addr) -> Result<Self, PoolError> {
        if start > end {
            return Err(PoolError::ReversedRange { start, end });
        }
        let range = Self { start, end };
        let size = range.size();
        if size > MAX_RANGE_SIZE {
            return Err(PoolError::RangeTooLarge {
                start,
                end,
                size,
                max: MAX_RANGE_SIZE,
            });
        }
        Ok(range)
    }

    /// The first address.
    pub fn start(&self) -> Ipv4Addr {
        self.start
    }

    /// The last address.
    pub fn end(&self) -> Ipv4Addr {
        self.end
    }

    /// How many addresses the range holds (at least 1).
    pub fn size(&self) -> u64 {
        u64::from(u32::from(self.end))
            .saturating_sub(u64::from(u32::from(self.start)))
            .saturating_add(1)
    }

    /// Whether `address` is in the range.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.start <= address && address <= self.end
    }

    /// Whether the two ranges share an address.
    pub fn overlaps(&self, other: &PoolRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// Where `range` goes in the sorted, disjoint `ranges`, or why it cannot:
/// too many ranges, or an overlap. The one rule for the configuration's
/// pools and the run-time pool.
pub(crate) fn insertion_point(ranges: &[PoolRange], range: PoolRange) -> Result<usize, PoolError> {
    if ranges.len() >= MAX_RANGES {
        return Err(PoolError::TooManyRanges { max: MAX_RANGES });
    }
    if let Some(other) = ranges.iter().find(|r| r.overlaps(&range)) {
        return Err(PoolError::Overlap {
            start: range.start,
            end: range.end,
            other_start: other.start,
            other_end: other.end,
        });
    }
    Ok(ranges.partition_point(|r| r.start < range.start))
}

/// What [`AddressPool::release`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Released {
    /// The address the holder held.
    pub address: Ipv4Addr,
    /// Whether it was the last holder, so that the address went back to the
    /// pool (the gateway then removes what it set up for the address).
    pub freed: bool,
}

/// One leased address, as `show` lists it ([`AddressPool::leases`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseInfo<'a> {
    /// The address.
    pub address: Ipv4Addr,
    /// The user it is leased to.
    pub user: &'a str,
    /// How many holders hold it (2 during a phase-1 rekey).
    pub holders: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Lease<K> {
    user: String,
    holders: BTreeSet<K>,
}

/// An address pool; `K` is the gateway's holder key (see the
/// [module](self) documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPool<K> {
    name: String,
    /// The ranges, sorted, disjoint.
    ranges: Vec<PoolRange>,
    /// The free addresses as disjoint, non-adjacent inclusive intervals,
    /// first address to last.
    free: BTreeMap<u32, u32>,
    leases: BTreeMap<Ipv4Addr, Lease<K>>,
    by_holder: BTreeMap<K, Ipv4Addr>,
    by_user: BTreeMap<String, Ipv4Addr>,
}

impl<K: Ord + Clone> AddressPool<K> {
    /// The most addresses one range may hold: 65536, a /16.
    pub const MAX_RANGE_SIZE: u64 = MAX_RANGE_SIZE;
    /// The most ranges one pool may have.
    pub const MAX_RANGES: usize = MAX_RANGES;

    /// An empty pool (no range: every lease fails until one is added).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ranges: Vec::new(),
            free: BTreeMap::new(),
            leases: BTreeMap::new(),
            by_holder: BTreeMap::new(),
            by_user: BTreeMap::new(),
        }
    }

    /// A pool with these ranges (an IOS `ip local pool NAME START END` line
    /// each).
    pub fn with_ranges(
        name: &str,
        ranges: impl IntoIterator<Item = PoolRange>,
    ) -> Result<Self, PoolError> {
        let mut pool = Self::new(name);
        for range in ranges {
            pool.add_range(range)?;
        }
        Ok(pool)
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ranges, lowest first.
    pub fn ranges(&self) -> &[PoolRange] {
        &self.ranges
    }

    /// Adds a range; it must not overlap the pool's other ranges.
    pub fn add_range(&mut self, range: PoolRange) -> Result<(), PoolError> {
        let at = insertion_point(&self.ranges, range)?;
        self.ranges.insert(at, range);
        self.free_interval(u32::from(range.start), u32::from(range.end));
        Ok(())
    }

    /// How many addresses the pool has in all.
    pub fn capacity(&self) -> u64 {
        self.ranges.iter().map(PoolRange::size).sum()
    }

    /// How many addresses are leased.
    pub fn in_use(&self) -> usize {
        self.leases.len()
    }

    /// How many addresses are free.
    pub fn available(&self) -> u64 {
        self.free
            .iter()
            .map(|(&s, &e)| u64::from(e).saturating_sub(u64::from(s)).saturating_add(1))
            .sum()
    }

    /// Whether `address` is in one of the pool's ranges.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.ranges.iter().any(|r| r.contains(address))
    }

    /// The address a holder holds.
    pub fn address_of(&self, holder: &K) -> Option<Ipv4Addr> {
        self.by_holder.get(holder).copied()
    }

    /// The address a user holds.
    pub fn address_of_user(&self, user: &str) -> Option<Ipv4Addr> {
        self.by_user.get(user).copied()
    }

    /// The user an address is leased to.
    pub fn user_of(&self, address: Ipv4Addr) -> Option<&str> {
        self.leases.get(&address).map(|l| l.user.as_str())
    }

    /// The leases, lowest address first.
    pub fn leases(&self) -> impl Iterator<Item = LeaseInfo<'_>> + '_ {
        self.leases.iter().map(|(&address, lease)| LeaseInfo {
            address,
            user: &lease.user,
            holders: lease.holders.len(),
        })
    }

    /// Leases an address to `holder` on behalf of `user`: the user's
    /// address if it has one (the holder is added to it); else `requested`
    /// when it is in the pool and free; else the lowest free address.
    ///
    /// Calling it again for a holder that already holds an address for the
    /// same user returns that address and changes nothing; for another
    /// user it fails ([`PoolError::HolderInUse`]).
    pub fn lease(
        &mut self,
        user: &str,
        holder: K,
        requested: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, PoolError> {
        if let Some(&held) = self.by_holder.get(&holder) {
            return match self.leases.get(&held) {
                Some(lease) if lease.user == user => Ok(held),
                _ => Err(PoolError::HolderInUse { address: held }),
            };
        }
        if let Some(&address) = self.by_user.get(user)
            && let Some(lease) = self.leases.get_mut(&address)
        {
            lease.holders.insert(holder.clone());
            self.by_holder.insert(holder, address);
            return Ok(address);
        }
        let address = match requested.filter(|&r| self.is_free(r)) {
            Some(r) => r,
            None => self.lowest_free().ok_or_else(|| PoolError::Exhausted {
                pool: self.name.clone(),
            })?,
        };
        self.take(u32::from(address));
        self.leases.insert(
            address,
            Lease {
                user: user.to_owned(),
                holders: BTreeSet::from([holder.clone()]),
            },
        );
        self.by_holder.insert(holder, address);
        self.by_user.insert(user.to_owned(), address);
        Ok(address)
    }

    /// Drops a holder. The address goes back to the pool when this was its
    /// last holder. `None`: the holder held nothing.
    pub fn release(&mut self, holder: &K) -> Option<Released> {
        let address = self.by_holder.remove(holder)?;
        let Some(lease) = self.leases.get_mut(&address) else {
            return Some(Released {
                address,
                freed: false,
            });
        };
        lease.holders.remove(holder);
        let freed = lease.holders.is_empty();
        if freed {
            if let Some(lease) = self.leases.remove(&address) {
                self.by_user.remove(&lease.user);
            }
            let a = u32::from(address);
            self.free_interval(a, a);
        }
        Some(Released { address, freed })
    }

    /// Whether `address` is in the pool and not leased.
    pub fn is_free(&self, address: Ipv4Addr) -> bool {
        let a = u32::from(address);
        self.free
            .range(..=a)
            .next_back()
            .is_some_and(|(_, &end)| a <= end)
    }

    fn lowest_free(&self) -> Option<Ipv4Addr> {
        self.free.keys().next().map(|&a| Ipv4Addr::from(a))
    }

    /// Removes one address from the free intervals (it must be free).
    fn take(&mut self, a: u32) {
        let Some((&start, &end)) = self.free.range(..=a).next_back() else {
            return;
        };
        if a > end {
            return;
        }
        self.free.remove(&start);
        if start < a {
            self.free.insert(start, a.saturating_sub(1));
        }
        if a < end {
            self.free.insert(a.saturating_add(1), end);
        }
    }

    /// Adds `start..=end` to the free intervals, merging with neighbours.
    fn free_interval(&mut self, mut start: u32, mut end: u32) {
        if let Some((&s, &e)) = self.free.range(..start).next_back()
            && e.checked_add(1) == Some(start)
        {
            self.free.remove(&s);
            start = s;
        }
        if let Some(next) = end.checked_add(1)
            && let Some(e) = self.free.remove(&next)
        {
            end = e;
        }
        self.free.insert(start, end);
    }
}

#[cfg(test)]
// Test code: a panic is a test failure.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    use rand_chacha::ChaCha8Rng;
    use rand_core::{Rng, SeedableRng};

    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn pool(ranges: &[(&str, &str)]) -> AddressPool<u64> {
        AddressPool::with_ranges(
            "p",
            ranges
                .iter()
                .map(|&(s, e)| PoolRange::new(ip(s), ip(e)).unwrap()),
        )
        .unwrap()
    }

    #[test]
    fn lowest_free_then_exhausted() {
        let mut p = pool(&[("10.0.0.10", "10.0.0.12")]);
        assert_eq!(p.capacity(), 3);
        assert_eq!(p.lease("a", 1, None), Ok(ip("10.0.0.10")));
        assert_eq!(p.lease("b", 2, None), Ok(ip("10.0.0.11")));
        assert_eq!(p.lease("c", 3, None), Ok(ip("10.0.0.12")));
        assert_eq!(p.available(), 0);
        assert_eq!(
            p.lease("d", 4, None),
            Err(PoolError::Exhausted { pool: "p".into() })
        );
        // The failure leased nothing.
        assert_eq!(p.address_of(&4), None);
        assert_eq!(p.in_use(), 3);
        // A freed address is the next one given, even in the middle.
        assert_eq!(
            p.release(&2),
            Some(Released {
                address: ip("10.0.0.11"),
                freed: true
            })
        );
        assert_eq!(p.lease("d", 4, None), Ok(ip("10.0.0.11")));
    }

    #[test]
    fn several_ranges_are_used_in_address_order() {
        // Added out of order; the lower range is used first.
        let mut p = pool(&[("10.0.1.1", "10.0.1.1"), ("10.0.0.1", "10.0.0.1")]);
        assert_eq!(p.lease("a", 1, None), Ok(ip("10.0.0.1")));
        assert_eq!(p.lease("b", 2, None), Ok(ip("10.0.1.1")));
        assert!(matches!(
            p.lease("c", 3, None),
            Err(PoolError::Exhausted { .. })
        ));
    }

    #[test]
    fn user_affinity_across_holders() {
        let mut p = pool(&[("10.0.0.1", "10.0.0.9")]);
        let first = p.lease("alice", 1, None).unwrap();
        p.lease("bob", 2, None).unwrap();
        // Phase-1 rekey: a new holder for alice, asking for another address.
        assert_eq!(p.lease("alice", 3, Some(ip("10.0.0.7"))), Ok(first));
        assert_eq!(p.address_of(&3), Some(first));
        let info: Vec<_> = p.leases().collect();
        assert_eq!(info[0].user, "alice");
        assert_eq!(info[0].holders, 2);
        assert_eq!(info[1].holders, 1);
        // Asking again for the same holder changes nothing.
        assert_eq!(p.lease("alice", 3, None), Ok(first));
        assert_eq!(p.leases().next().unwrap().holders, 2);
        // A holder belongs to one user.
        assert_eq!(
            p.lease("bob", 3, None),
            Err(PoolError::HolderInUse { address: first })
        );
    }

    #[test]
    fn address_returns_only_with_its_last_holder() {
        let mut p = pool(&[("10.0.0.1", "10.0.0.1")]);
        let a = p.lease("alice", 1, None).unwrap();
        p.lease("alice", 2, None).unwrap();
        assert_eq!(
            p.release(&1),
            Some(Released {
                address: a,
                freed: false
            })
        );
        // Still alice's: nobody else gets it.
        assert!(matches!(
            p.lease("bob", 3, None),
            Err(PoolError::Exhausted { .. })
        ));
        assert_eq!(p.user_of(a), Some("alice"));
        assert_eq!(
            p.release(&2),
            Some(Released {
                address: a,
                freed: true
            })
        );
        assert_eq!(p.release(&2), None);
        assert_eq!(p.user_of(a), None);
        assert_eq!(p.address_of_user("alice"), None);
        assert_eq!(p.lease("bob", 3, None), Ok(a));
    }

    #[test]
    fn requested_address_inside_outside_and_taken() {
        let mut p = pool(&[("10.0.0.1", "10.0.0.5")]);
        // In the pool and free: given.
        assert_eq!(p.lease("a", 1, Some(ip("10.0.0.4"))), Ok(ip("10.0.0.4")));
        // Outside the pool: ignored, the lowest free address instead.
        assert_eq!(p.lease("b", 2, Some(ip("192.0.2.1"))), Ok(ip("10.0.0.1")));
        // Taken by another user: ignored.
        assert_eq!(p.lease("c", 3, Some(ip("10.0.0.4"))), Ok(ip("10.0.0.2")));
        // Held by the same user: given (affinity).
        assert_eq!(p.lease("a", 4, Some(ip("10.0.0.4"))), Ok(ip("10.0.0.4")));
        // The free intervals were split around 10.0.0.4.
        assert!(p.is_free(ip("10.0.0.3")));
        assert!(p.is_free(ip("10.0.0.5")));
        assert!(!p.is_free(ip("10.0.0.4")));
        assert_eq!(p.available(), 2);
    }

    #[test]
    fn range_limits() {
        let huge = PoolRange::new(ip("0.0.0.0"), ip("255.255.255.255"));
        assert!(matches!(
            huge,
            Err(PoolError::RangeTooLarge {
                size: 4_294_967_296,
                ..
            })
        ));
        assert_eq!(
            PoolRange::new(ip("10.0.0.9"), ip("10.0.0.1")),
            Err(PoolError::ReversedRange {
                start: ip("10.0.0.9"),
                end: ip("10.0.0.1")
            })
        );
        // A full /16 is allowed, and costs one free interval, not 65536
        // entries.
        let mut p = pool(&[("10.1.0.0", "10.1.255.255")]);
        assert_eq!(p.capacity(), 65_536);
        assert_eq!(p.free.len(), 1);
        assert_eq!(
            p.lease("a", 1, Some(ip("10.1.128.0"))),
            Ok(ip("10.1.128.0"))
        );
        assert_eq!(p.free.len(), 2);
        assert!(matches!(
            p.add_range(PoolRange::new(ip("10.1.255.255"), ip("10.2.0.0")).unwrap()),
            Err(PoolError::Overlap { .. })
        ));
        // The top of the address space does not overflow.
        let mut top = pool(&[("255.255.255.254", "255.255.255.255")]);
        assert_eq!(top.lease("a", 1, None), Ok(ip("255.255.255.254")));
        assert_eq!(top.lease("b", 2, None), Ok(ip("255.255.255.255")));
        top.release(&2);
        top.release(&1);
        assert_eq!(top.available(), 2);
        assert_eq!(top.free.len(), 1);
        let mut many = AddressPool::<u64>::new("m");
        for i in 0..AddressPool::<u64>::MAX_RANGES {
            let a = Ipv4Addr::from(0x0a00_0000 + u32::try_from(i).unwrap() * 4);
            many.add_range(PoolRange::new(a, a).unwrap()).unwrap();
        }
        assert!(matches!(
            many.add_range(PoolRange::new(ip("11.0.0.0"), ip("11.0.0.1")).unwrap()),
            Err(PoolError::TooManyRanges { .. })
        ));
    }

    /// Random leases and releases against a plain model: an address is
    /// never held by two users, a user never holds two addresses, every
    /// address is from the pool, the counts add up, and exhaustion happens
    /// exactly when the model has no free address.
    #[test]
    fn random_operations_never_hand_out_twice() {
        let ranges = [("10.0.0.250", "10.0.1.3"), ("10.0.2.0", "10.0.2.5")];
        for seed in 0..20u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut p = pool(&ranges);
            let capacity = usize::try_from(p.capacity()).unwrap();
            // holder -> (user, address)
            let mut model: BTreeMap<u64, (String, Ipv4Addr)> = BTreeMap::new();
            for step in 0..2000u64 {
                let holder = rng.next_u64() % 40;
                if rng.next_u32() % 3 == 0 {
                    let expect = model.remove(&holder);
                    let got = p.release(&holder);
                    assert_eq!(got.map(|r| r.address), expect.as_ref().map(|e| e.1));
                    if let (Some(r), Some((user, _))) = (got, expect) {
                        let others = model.values().any(|(u, _)| *u == user);
                        assert_eq!(r.freed, !others, "seed {seed} step {step}");
                    }
                    continue;
                }
                let user = format!("u{}", rng.next_u32() % 25);
                let requested = (rng.next_u32() % 2 == 0)
                    .then(|| Ipv4Addr::from(0x0a00_0000 + rng.next_u32() % 0x300));
                let users_addr = model.values().find(|(u, _)| *u == user).map(|&(_, a)| a);
                let in_use: BTreeMap<Ipv4Addr, &str> =
                    model.values().map(|(u, a)| (*a, u.as_str())).collect();
                match (p.lease(&user, holder, requested), model.get(&holder)) {
                    (Ok(a), Some((u, held))) => {
                        assert_eq!((u, *held), (&user, a));
                    }
                    (Err(PoolError::HolderInUse { address }), Some((u, held))) => {
                        assert_ne!(u, &user);
                        assert_eq!(address, *held);
                    }
                    (Ok(a), None) => {
                        assert!(p.contains(a), "{a} is not from the pool");
                        match users_addr {
                            Some(ua) => assert_eq!(a, ua, "affinity"),
                            None => {
                                assert!(!in_use.contains_key(&a), "{a} handed out twice");
                                if let Some(r) = requested
                                    && p.contains(r)
                                    && !in_use.contains_key(&r)
                                {
                                    assert_eq!(a, r, "a free requested address is given");
                                }
                            }
                        }
                        model.insert(holder, (user, a));
                    }
                    (Err(PoolError::Exhausted { .. }), None) => {
                        assert!(users_addr.is_none());
                        assert_eq!(in_use.len(), capacity, "exhausted while free");
                    }
                    (other, held) => panic!("seed {seed} step {step}: {other:?} / {held:?}"),
                }
                let distinct: BTreeMap<Ipv4Addr, ()> =
                    model.values().map(|(_, a)| (*a, ())).collect();
                assert_eq!(p.in_use(), distinct.len());
                assert_eq!(
                    u64::try_from(p.in_use()).unwrap() + p.available(),
                    p.capacity()
                );
            }
        }
    }
}
