//! Every tunable of Tunnel Endpoint Discovery, with the default this project
//! adopts and where that default comes from.
//!
//! Tags as in `docs/ted-wire.md` ("Status and sources"): \[T\] read from the seed's IOS
//! debug trace, \[S\] confirmed by a public source, \[A\] our assumption.
//! Everything tagged \[A\] must be checked against a real IOS capture before
//! anyone claims byte-level interoperability.

use std::time::Duration;

use isakmp_wire::{ExchangeType, TedProxyNumbering};

/// How [`Discovery`](super::Discovery) behaves: wire constants, timers,
/// bounds and the responder's acceptance rules.
///
/// Build it with [`DiscoveryConfig::default`] and change fields; the
/// defaults reproduce the seed scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveryConfig {
    /// The ISAKMP exchange type of probes and responses: a private-use
    /// value (RFC 2408 s.3.1, 240-255). \[A\] default 240.
    pub exchange_type: ExchangeType,
    /// The payload number the proxy payload of a response is sent as:
    /// [`TedProxyNumbering::Primary`] is 16, what the seed's initiator
    /// reported receiving; [`TedProxyNumbering::Alternate`] is 239, what
    /// the seed's responder printed. \[T\]/\[A\] default 16.
    pub proxy_payload_numbering: TedProxyNumbering,
    /// Whether a response whose proxy payload came as 239 is accepted (16
    /// always is). \[A\] default true: the trace shows both numbers.
    pub accept_alternate_proxy_payload: bool,
    /// The vendor ID sent first in probes and responses. \[S\] default
    /// [`isakmp_wire::ted::IOS_VENDOR_ID`]; receivers match its 4-byte
    /// prefix and accept any other vendor ID as well.
    pub vendor_id: Vec<u8>,
    /// A second vendor ID appended to probes, the "TED V3 capable" marker
    /// the seed's probe seems to carry. Its bytes are unknown: \[A\] default
    /// none. Receivers ignore unknown trailing vendor IDs.
    pub capability_vendor_id: Option<Vec<u8>>,
    /// The UDP port of IKE, the source and destination port of probes and
    /// responses. \[T\] default 500.
    pub ike_port: u16,
    /// The waits after each probe before it is sent again: one entry per
    /// retransmission. \[S\] default five times 10 s, IOS's phase-1
    /// schedule (ike-scan's backoff patterns for IOS 12.1-15.0: 0, 10, 10,
    /// 10, 10, 10 s).
    pub retransmit_intervals: Vec<Duration>,
    /// How long to wait for a response after the last retransmission
    /// before giving up. \[A\] default 10 s (one more IOS interval).
    pub give_up_after: Duration,
    /// How long after a discovery gave up a new trigger for the same pair
    /// is refused, so that a host retrying towards an unreachable peer does
    /// not turn every packet into probes. \[A\] default 30 s; zero turns
    /// the hold-down off.
    pub hold_down: Duration,
    /// The most discoveries pending at once; further triggers for new
    /// pairs are refused until one finishes. \[A\] default 256.
    pub max_pending: usize,
    /// The most pairs remembered in hold-down; when full, the entry that
    /// expires first is forgotten. \[A\] default 1024.
    pub max_hold_down: usize,
    /// The responder's token bucket: how many probes it answers.
    pub responder_rate: RateLimit,
    /// Drop a probe whose IP source is not inside the proxy it carries. A
    /// real probe is a copy of a protected host's packet, sent from that
    /// host's address (13.13.13.14 inside 13.13.13.0/24 in the seed), so a
    /// mismatch marks a forged or broken probe. \[A\] default true.
    pub require_source_in_proxy: bool,
    /// Drop a probe whose ID address (where the response would go) lies
    /// inside the proxy the probe carries, i.e. inside the network the
    /// initiator says it protects. Such a probe either tries to reflect our
    /// response into the initiator's protected network, or comes from a
    /// gateway whose IKE address is itself protected. Off by default \[A\]
    /// because a proxy of `any` (an ACL `permit ip any ...`, common on TED
    /// hubs) contains every address.
    pub reject_address_in_probe_proxy: bool,
    /// Drop a response whose proxy is not inside the destination of the
    /// access list entry that triggered the discovery, so that an
    /// unauthenticated response cannot widen what the following Quick Mode
    /// proposes beyond local policy. \[A\] default true.
    pub require_remote_proxy_in_acl: bool,
    /// Drop a response whose IP source differs from the address in its ID
    /// payload. TED V3 sends from the responder's own IKE address, so they
    /// agree in the seed; but the cookie already ties the response to the
    /// probe, and NAT would break TED anyway. \[A\] default false.
    pub require_response_from_id_address: bool,
    /// The most datagrams waiting in [`poll_transmit`](super::Discovery::poll_transmit);
    /// further ones are dropped and counted. Default 1024.
    pub max_queued_transmits: usize,
    /// The most events waiting in [`poll_event`](super::Discovery::poll_event);
    /// further ones are dropped and counted. Default 1024.
    pub max_queued_events: usize,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            exchange_type: isakmp_wire::ted::TED_EXCHANGE_TYPE,
            proxy_payload_numbering: TedProxyNumbering::Primary,
            accept_alternate_proxy_payload: true,
            vendor_id: isakmp_wire::ted::IOS_VENDOR_ID.to_vec(),
            capability_vendor_id: isakmp_wire::ted::TED_CAPABILITY_VENDOR_ID.map(<[u8]>::to_vec),
            ike_port: isakmp_wire::ted::IKE_PORT,
            retransmit_intervals: vec![Self::IOS_RETRANSMIT_INTERVAL; 5],
            give_up_after: Self::IOS_RETRANSMIT_INTERVAL,
            hold_down: Duration::from_secs(30),
            max_pending: 256,
            max_hold_down: 1024,
            responder_rate: RateLimit::default(),
            require_source_in_proxy: true,
            reject_address_in_probe_proxy: false,
            require_remote_proxy_in_acl: true,
            require_response_from_id_address: false,
            max_queued_transmits: 1024,
            max_queued_events: 1024,
        }
    }
}

impl DiscoveryConfig {
    /// IOS's phase-1 retransmission interval (ike-scan's backoff patterns).
    pub const IOS_RETRANSMIT_INTERVAL: Duration = Duration::from_secs(10);

    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many probes one discovery sends at most: the first and one per
    /// retransmission interval.
    pub fn max_probes(&self) -> usize {
        self.retransmit_intervals.len().saturating_add(1)
    }

    /// How long a discovery lasts at most before it gives up.
    pub fn lifetime(&self) -> Duration {
        self.retransmit_intervals
            .iter()
            .fold(self.give_up_after, |a, b| a.saturating_add(*b))
    }
}

/// A token bucket: `burst` answers at once, refilled at `per_second`
/// tokens a second. \[A\] defaults 10 a second, burst 20: IOS's own limit is
/// not known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Tokens added per second; 0 means the bucket never refills.
    pub per_second: u32,
    /// The bucket's size, and how full it starts.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 10,
            burst: 20,
        }
    }
}

/// The responder's rate limiter. Whole tokens only; the time not yet worth
/// a token is carried over, so that the long-run rate is exact.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: u32,
    /// When the tokens were last counted; `None` before the first use.
    last: Option<std::time::Instant>,
}

impl TokenBucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: limit.burst,
            last: None,
        }
    }

    /// Tokens left now (after refilling up to `now`).
    pub(crate) fn available(&mut self, now: std::time::Instant) -> u32 {
        self.refill(now);
        self.tokens
    }

    /// Takes one token if there is one.
    pub(crate) fn try_take(&mut self, now: std::time::Instant) -> bool {
        self.refill(now);
        match self.tokens.checked_sub(1) {
            Some(left) => {
                self.tokens = left;
                true
            }
            None => false,
        }
    }

    fn refill(&mut self, now: std::time::Instant) {
        let Some(last) = self.last else {
            self.last = Some(now);
            return;
        };
        // A clock that went backwards adds nothing and moves the mark back,
        // so the bucket can never be refilled twice for the same time.
        let Some(elapsed) = now.checked_duration_since(last) else {
            self.last = Some(now);
            return;
        };
        if self.limit.per_second == 0 {
            self.last = Some(now);
            return;
        }
        let per_token = Duration::from_secs(1) / self.limit.per_second;
        let earned = elapsed.as_nanos() / per_token.as_nanos().max(1);
        if earned == 0 {
            return;
        }
        let room = self.limit.burst.saturating_sub(self.tokens);
        if earned >= u128::from(room) {
            self.tokens = self.limit.burst;
            self.last = Some(now);
        } else {
            // earned < room <= u32::MAX here.
            let earned = u32::try_from(earned).unwrap_or(room);
            self.tokens = self.tokens.saturating_add(earned);
            let spent = per_token.saturating_mul(earned);
            self.last = Some(last.checked_add(spent).unwrap_or(now));
        }
    }
}
