//! The gateway's internal consistency, checked from outside: what the
//! fuzz drivers and the harness assert after every input.
//!
//! The checks read private state (the tunnel and negotiation maps, the
//! derived crypto map entries, the ESP table), so they live with the type;
//! the driver that calls them lives in the harness crate.

use std::fmt;
use std::time::Instant;

use super::Gateway;

/// A broken invariant of a [`Gateway`]: a bug in this crate, never a
/// consequence of input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantViolation {
    what: String,
}

impl InvariantViolation {
    fn new(what: String) -> Self {
        Self { what }
    }
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gateway invariant broken: {}", self.what)
    }
}

impl std::error::Error for InvariantViolation {}

/// `Err` naming the broken invariant unless `holds`.
fn ensure(holds: bool, what: impl FnOnce() -> String) -> Result<(), InvariantViolation> {
    if holds {
        Ok(())
    } else {
        Err(InvariantViolation::new(what()))
    }
}

impl Gateway {
    /// Checks that the gateway's state is within its caps and consistent:
    /// tunnels and negotiations within [`Caps`](super::Caps), the ESP
    /// table holding exactly the tunnels' SAs, every derived crypto map
    /// entry in the configuration and counted by its users, the logs
    /// within their bounds, and (at `now`) a bounded number of ISAKMP SAs.
    ///
    /// Call it after draining [`poll_transmit`](Gateway::poll_transmit)
    /// and [`poll_event`](Gateway::poll_event), as a driver does after
    /// every input: the output queues must then be empty. For tests and
    /// fuzz drivers; an `Err` is a bug in this crate.
    pub fn check_invariants(&self, now: Instant) -> Result<(), InvariantViolation> {
        let caps = &self.options.caps;
        // A rekey's successor may overlap its predecessor beyond the cap
        // (one per installed tunnel): at most max_tunnels different peer
        // and proxy pairs, at most twice that many tunnels.
        let mut distinct: Vec<_> = self
            .tunnels
            .values()
            .map(|t| format!("{} {:?} {:?}", t.peer, t.local_proxy, t.remote_proxy))
            .collect();
        distinct.sort();
        distinct.dedup();
        ensure(
            distinct.len() <= caps.max_tunnels && self.tunnels.len() <= 2 * caps.max_tunnels,
            || {
                format!(
                    "{} tunnels for {} peer and proxy pairs",
                    self.tunnels.len(),
                    distinct.len()
                )
            },
        )?;
        ensure(self.negotiations.len() <= caps.max_negotiations, || {
            format!("{} negotiations", self.negotiations.len())
        })?;
        ensure(self.transmits.is_empty() && self.events.is_empty(), || {
            "output queues not drained".into()
        })?;
        ensure(
            self.deferred_log.is_empty() && self.pending_ids.is_empty(),
            || "deferred log records or pending IDs left after draining".into(),
        )?;
        // The ESP table is the tunnels' SAs, nothing else.
        ensure(self.esp.len() == 2 * self.tunnels.len(), || {
            format!(
                "{} ESP SAs for {} tunnels",
                self.esp.len(),
                self.tunnels.len()
            )
        })?;
        for (spi, t) in &self.tunnels {
            ensure(*spi == t.inbound_spi, || {
                format!("tunnel {spi:#x} filed under another SPI")
            })?;
            ensure(
                self.esp.get(t.inbound).map(|sa| sa.spi().0) == Some(t.inbound_spi)
                    && self.esp.get(t.outbound).map(|sa| sa.spi().0) == Some(t.outbound_spi),
                || format!("tunnel {spi:#x}: ESP SAs missing or under other SPIs"),
            )?;
        }
        // Every derived entry is in the configuration, used, and counted
        // right; the configuration has no other.
        for (seq, u) in &self.derived {
            let users = self
                .negotiations
                .values()
                .filter(|n| n.derived == Some(*seq))
                .count()
                + self
                    .tunnels
                    .values()
                    .filter(|t| t.derived == Some(*seq))
                    .count();
            ensure(
                u.users >= 1 && usize::try_from(u.users).ok() == Some(users),
                || {
                    format!(
                        "derived entry {seq}: {} users counted, {users} found",
                        u.users
                    )
                },
            )?;
        }
        let in_config: Vec<u32> = self
            .config
            .crypto_map(&self.map)
            .map(|m| m.derived_entries().map(|(s, _)| s).collect())
            .unwrap_or_default();
        let derived: Vec<u32> = self.derived.keys().copied().collect();
        ensure(in_config == derived, || {
            format!("derived entries: {in_config:?} in the configuration, {derived:?} tracked")
        })?;
        ensure(
            self.ted_conn.len() <= self.options.discovery.max_pending.saturating_add(64),
            || format!("{} TED connection IDs", self.ted_conn.len()),
        )?;
        ensure(
            self.discovery.pending_count() <= self.options.discovery.max_pending,
            || format!("{} pending discoveries", self.discovery.pending_count()),
        )?;
        if let Some(log) = &self.log {
            ensure(log.records().count() <= caps.max_log_records, || {
                "debug log beyond its cap".into()
            })?;
        }
        if let Some(keys) = &self.key_log {
            ensure(keys.entries().count() <= caps.max_key_log_entries, || {
                "key log beyond its cap".into()
            })?;
        }
        // Each phase 1 is reused by the next negotiation with the same
        // peer, and half-open ones are capped: a handful per peer.
        let isakmp = self.endpoint.isakmp_sas(now).len();
        ensure(isakmp <= 16, || format!("{isakmp} ISAKMP SAs"))
    }
}
