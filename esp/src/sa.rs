//! One ESP security association: encapsulation (RFC 4303 s.3.1-3.3) and
//! decapsulation (s.3.4) in place, in tunnel or transport mode, with the
//! anti-replay window, lifetimes (RFC 4301 s.4.4.2.1) and counters.
//!
//! # Surface
//!
//! - Getters: [`Sa::spi`], [`Sa::direction`], [`Sa::counters`],
//!   [`Sa::room`], [`Sa::is_expired`] ...
//! - Inputs: [`Sa::encapsulate`] (outbound), [`Sa::decapsulate`] (inbound).
//! - Outputs: [`Sa::poll_event`] (drain until `None` after every input),
//!   [`Sa::poll_timeout`] / [`Sa::handle_timeout`] for time lifetimes.
//!
//! # Receive order
//!
//! Outer header, SPI, anti-replay quick check, ICV in constant time,
//! decrypt, padding, mark the window, then (tunnel) the inner header and the
//! selectors. A packet that fails after decryption has its plaintext zeroed
//! in the caller's buffer before the error returns.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;
use std::time::Instant;

use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::counters::Counters;
use crate::error::{ConfigError, DecapError, EncapError, LimitKind};
use crate::ip::{
    self, IPV4_MIN_HEADER, Ipv4Header, PROTO_ESP, PROTO_IPV4, PROTO_IPV6, PROTO_NONE, parse_inner,
    parse_ipv4,
};
use crate::params::{
    DfPolicy, Direction, Encryption, Integrity, Limits, Mode, PaddingCheck, SaParams, UdpEncap,
};
use crate::replay::ReplayWindow;
use crate::selector::{PacketKey, TrafficSelector};
use crate::spi::Spi;
use crate::transform::{ESP_HEADER, OpenError, Transform};
use crate::udp::{self, UDP_HEADER};

/// IP protocol 17, which carries UDP-encapsulated ESP.
const PROTO_UDP: u8 = 17;

/// Without ESN, a soft "rekey wanted" event is raised this many packets
/// before the 32-bit sequence space runs out.
pub const SEQ_SOFT_MARGIN: u64 = 1 << 24;

/// Bytes [`Sa::decapsulate_udp`] needs before the ESP bytes in the buffer
/// (transport mode; tunnel mode needs none): enough for the IPv4 header of
/// the restored packet whatever the IV. A driver that reads each datagram
/// into `buf[UDP_RX_HEADROOM..]` always has them; reading at
/// `IPV4_HEADER_LEN + UDP_HEADER_LEN` (28), where the datagram would lie
/// in a whole packet, is as good.
pub const UDP_RX_HEADROOM: usize = IPV4_MIN_HEADER - ESP_HEADER;

/// Something the caller should act on, drained with [`Sa::poll_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A soft limit was reached: negotiate a replacement SA.
    SoftExpired {
        /// The SA.
        spi: Spi,
        /// Its direction.
        direction: Direction,
        /// Which limit.
        kind: LimitKind,
    },
    /// A hard limit was reached: the SA refuses all further packets.
    HardExpired {
        /// The SA.
        spi: Spi,
        /// Its direction.
        direction: Direction,
        /// Which limit.
        kind: LimitKind,
    },
}

/// Bytes an encapsulation needs around the inner packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Room {
    /// Bytes needed before the inner packet.
    pub headroom: usize,
    /// Bytes needed after the inner packet.
    pub tailroom: usize,
}

/// The result of [`Sa::encapsulate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encapsulated {
    /// The complete outer IPv4 packet within the buffer (for a
    /// UDP-encapsulated SA: IPv4, UDP, ESP), for a raw socket or a
    /// simulated network.
    pub packet: Range<usize>,
    /// The ESP part (SPI to ICV) within the buffer.
    pub esp: Range<usize>,
    /// The sequence number used (64-bit with ESN).
    pub seq: u64,
    /// For a UDP-encapsulated SA: what a UDP socket sends instead of
    /// `packet` (the payload is `esp`, the datagram's addresses are the
    /// outer header's and the UDP header's).
    pub udp: Option<UdpDatagram>,
}

/// A UDP-encapsulated ESP packet as a UDP socket sends or receives it
/// (RFC 3948 s.2.1): from `source` to `destination`, the UDP payload at
/// `payload` in the caller's buffer being the ESP packet, SPI to ICV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpDatagram {
    /// IPv4 source address and UDP source port.
    pub source: SocketAddrV4,
    /// IPv4 destination address and UDP destination port.
    pub destination: SocketAddrV4,
    /// The UDP payload (the ESP packet) within the buffer.
    pub payload: Range<usize>,
}

/// The result of [`Sa::decapsulate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decapsulated {
    /// Tunnel mode: the inner IP packet. Transport mode: the restored IPv4
    /// packet (the original header moved next to the payload, protocol,
    /// total length and checksum rewritten).
    pub packet: Range<usize>,
    /// The ESP next header (4 or 41 in tunnel mode; the upper-layer
    /// protocol in transport mode).
    pub next_header: u8,
    /// The (inferred, with ESN) sequence number.
    pub seq: u64,
    /// For UDP-encapsulated ESP: the outer source address and UDP source
    /// port of this authenticated, replay-checked packet. When it differs
    /// from the peer the SA sends to, the peer's NAT mapping has changed
    /// (RFC 3948 s.2.3); following it is the caller's decision.
    pub udp_source: Option<SocketAddrV4>,
}

/// Lifetime bookkeeping.
#[derive(Clone, Debug)]
struct Life {
    created: Instant,
    limits: crate::params::Lifetime,
    soft_fired: bool,
    hard: Option<LimitKind>,
}

impl Life {
    fn deadline(&self, l: &Limits) -> Option<Instant> {
        l.time.and_then(|d| self.created.checked_add(d))
    }
}

/// One ESP security association (RFC 4303).
///
/// - Getters: [`Sa::spi`], [`Sa::direction`], [`Sa::counters`],
///   [`Sa::room`], [`Sa::is_expired`], ...
/// - Inputs: [`Sa::encapsulate`] (outbound), [`Sa::decapsulate`] (inbound).
/// - Outputs: drain [`Sa::poll_event`] until `None` after every input and
///   timeout; call [`Sa::handle_timeout`] at [`Sa::poll_timeout`].
///
/// Receive order: outer header, SPI, anti-replay quick check, ICV in
/// constant time, decrypt, padding, mark the window, then the inner header
/// and the selectors. A packet that fails after decryption has its
/// plaintext zeroed in the caller's buffer before the error returns.
pub struct Sa {
    spi: Spi,
    direction: Direction,
    mode: Mode,
    encryption: Encryption,
    integrity: Integrity,
    esn: bool,
    selector: TrafficSelector,
    ttl: u8,
    df: DfPolicy,
    padding_check: PaddingCheck,
    udp: Option<UdpEncap>,
    transform: Transform,
    /// Outbound: the last sequence number sent (0: none yet).
    seq_out: u64,
    /// Outbound: tunnel-mode IPv4 identification counter.
    ip_id: u16,
    /// Inbound: the replay window.
    window: ReplayWindow,
    life: Life,
    counters: Counters,
    events: VecDeque<Event>,
}

// The keys live in `transform`, whose every part wipes itself on drop (see
// the guard in `transform.rs`); the rest of an SA is not secret.
impl zeroize::ZeroizeOnDrop for Sa {}

impl core::fmt::Debug for Sa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sa")
            .field("spi", &self.spi)
            .field("direction", &self.direction)
            .field("mode", &self.mode)
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .field("esn", &self.esn)
            .field("udp", &self.udp)
            .field("seq_out", &self.seq_out)
            .field("window", &self.window)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Sa {
    /// Creates an SA at time `now` (the start of its time lifetimes).
    pub fn new(params: SaParams, now: Instant) -> Result<Self, ConfigError> {
        params.validate()?;
        let transform = Transform::new(params.encryption, params.integrity, &params.keys)?;
        Ok(Self {
            spi: params.spi,
            direction: params.direction,
            mode: params.mode,
            encryption: params.encryption,
            integrity: params.integrity,
            esn: params.esn,
            selector: params.selector.clone(),
            ttl: params.ttl,
            df: params.df,
            padding_check: params.padding_check,
            udp: params.udp_encap,
            transform,
            seq_out: 0,
            ip_id: 0,
            window: ReplayWindow::new(params.replay_window),
            life: Life {
                created: now,
                limits: params.lifetime,
                soft_fired: false,
                hard: None,
            },
            counters: Counters::default(),
            events: VecDeque::new(),
        })
    }

    // ----- getters -------------------------------------------------------

    /// The SPI.
    pub fn spi(&self) -> Spi {
        self.spi
    }

    /// Inbound or outbound.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Tunnel or transport.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The encryption transform.
    pub fn encryption(&self) -> Encryption {
        self.encryption
    }

    /// The integrity transform.
    pub fn integrity(&self) -> Integrity {
        self.integrity
    }

    /// Whether extended sequence numbers are on.
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// The selector this SA enforces.
    pub fn selector(&self) -> &TrafficSelector {
        &self.selector
    }

    /// The UDP encapsulation (RFC 3948), if this SA's ESP travels in UDP.
    pub fn udp_encap(&self) -> Option<UdpEncap> {
        self.udp
    }

    /// The peer of a UDP-encapsulated SA moved (its NAT made a new
    /// mapping): an outbound SA sends to `peer` from now on (the tunnel's
    /// outer destination and the UDP destination port; in transport mode
    /// the address is the inner packet's, only the port changes); an
    /// inbound SA records it as its source (informational: inbound
    /// packets are taken from any source). Returns `false`, changing
    /// nothing, for an SA that is not UDP-encapsulated: plain ESP has no
    /// port, and nothing negotiated a move of it.
    pub fn set_udp_peer(&mut self, peer: SocketAddrV4) -> bool {
        let Some(u) = self.udp.as_mut() else {
            return false;
        };
        match (self.direction, &mut self.mode) {
            (Direction::Outbound, Mode::Tunnel { dst, .. }) => {
                *dst = *peer.ip();
                u.destination_port = peer.port();
            }
            (Direction::Outbound, Mode::Transport) => u.destination_port = peer.port(),
            (Direction::Inbound, Mode::Tunnel { src, .. }) => {
                *src = *peer.ip();
                u.source_port = peer.port();
            }
            (Direction::Inbound, Mode::Transport) => u.source_port = peer.port(),
        }
        true
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The last outbound sequence number sent (0 before the first).
    pub fn last_sequence_number(&self) -> u64 {
        self.seq_out
    }

    /// The inbound replay window.
    pub fn replay_window(&self) -> &ReplayWindow {
        &self.window
    }

    /// The hard limit reached, if any: the SA then refuses all packets.
    pub fn is_expired(&self) -> Option<LimitKind> {
        self.life.hard
    }

    /// When the SA was created.
    pub fn created(&self) -> Instant {
        self.life.created
    }

    /// Headroom and tailroom [`Sa::encapsulate`] needs for an inner packet
    /// of `inner_len` bytes. Tunnel mode: outer IPv4 header, ESP header and
    /// IV before; padding, trailer and ICV after. Transport mode: ESP header
    /// and IV before (the IP header moves into it). A UDP-encapsulated SA
    /// needs 8 bytes more before, for the UDP header.
    pub fn room(&self, inner_len: usize) -> Room {
        let hdr = ESP_HEADER + self.transform.iv_len() + self.udp_header_len();
        let headroom = match self.mode {
            Mode::Tunnel { .. } => IPV4_MIN_HEADER + hdr,
            Mode::Transport => hdr,
        };
        // In transport mode the payload excludes the IP header; the
        // padding then depends on that header's length, so assume the
        // worst case (alignment - 1 bytes of padding).
        let pad = match self.mode {
            Mode::Tunnel { .. } => self.pad_len(inner_len),
            Mode::Transport => self.transform.alignment() - 1,
        };
        Room {
            headroom,
            tailroom: pad + 2 + self.transform.icv_len(),
        }
    }

    fn udp_header_len(&self) -> usize {
        if self.udp.is_some() { UDP_HEADER } else { 0 }
    }

    /// The largest tailroom any packet can need.
    pub fn max_tailroom(&self) -> usize {
        self.transform.alignment() - 1 + 2 + self.transform.icv_len()
    }

    fn pad_len(&self, payload_len: usize) -> usize {
        let a = self.transform.alignment();
        (a - (payload_len + 2) % a) % a
    }

    // ----- lifetimes -----------------------------------------------------

    /// The next instant [`Sa::handle_timeout`] should be called: the earliest
    /// time limit not yet reached.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.life.hard.is_some() {
            return None;
        }
        let hard = self.life.deadline(&self.life.limits.hard);
        let soft = if self.life.soft_fired {
            None
        } else {
            self.life.deadline(&self.life.limits.soft)
        };
        match (soft, hard) {
            (Some(s), Some(h)) => Some(s.min(h)),
            (s, h) => s.or(h),
        }
    }

    /// Fires the time limits reached at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.life.hard.is_some() {
            return;
        }
        if !self.life.soft_fired
            && self
                .life
                .deadline(&self.life.limits.soft)
                .is_some_and(|d| now >= d)
        {
            self.fire_soft(LimitKind::Time);
        }
        if self
            .life
            .deadline(&self.life.limits.hard)
            .is_some_and(|d| now >= d)
        {
            self.fire_hard(LimitKind::Time);
        }
    }

    /// The next event, if any. Drain after every input and timeout.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn fire_soft(&mut self, kind: LimitKind) {
        if !self.life.soft_fired && self.life.hard.is_none() {
            self.life.soft_fired = true;
            self.events.push_back(Event::SoftExpired {
                spi: self.spi,
                direction: self.direction,
                kind,
            });
        }
    }

    fn fire_hard(&mut self, kind: LimitKind) {
        if self.life.hard.is_none() {
            self.life.hard = Some(kind);
            self.events.push_back(Event::HardExpired {
                spi: self.spi,
                direction: self.direction,
                kind,
            });
        }
    }

    /// Refuses work on an expired SA (time checked against `now` even if
    /// the caller has not called `handle_timeout`).
    fn live(&mut self, now: Instant) -> Result<(), LimitKind> {
        self.handle_timeout(now);
        let hard = self.life.limits.hard;
        if hard.packets.is_some_and(|p| self.packets() >= p) {
            self.fire_hard(LimitKind::Packets);
        }
        if hard.bytes.is_some_and(|b| self.bytes() >= b) {
            self.fire_hard(LimitKind::Bytes);
        }
        match self.life.hard {
            Some(kind) => Err(kind),
            None => Ok(()),
        }
    }

    fn packets(&self) -> u64 {
        match self.direction {
            Direction::Outbound => self.counters.pkts_encaps,
            Direction::Inbound => self.counters.pkts_decaps,
        }
    }

    fn bytes(&self) -> u64 {
        match self.direction {
            Direction::Outbound => self.counters.bytes_encaps,
            Direction::Inbound => self.counters.bytes_decaps,
        }
    }

    /// Counts a processed packet against the byte and packet limits.
    fn account(&mut self) {
        let soft = self.life.limits.soft;
        let hard = self.life.limits.hard;
        let (p, b) = (self.packets(), self.bytes());
        if soft.packets.is_some_and(|l| p >= l) {
            self.fire_soft(LimitKind::Packets);
        }
        if soft.bytes.is_some_and(|l| b >= l) {
            self.fire_soft(LimitKind::Bytes);
        }
        if hard.packets.is_some_and(|l| p >= l) {
            self.fire_hard(LimitKind::Packets);
        }
        if hard.bytes.is_some_and(|l| b >= l) {
            self.fire_hard(LimitKind::Bytes);
        }
    }

    // ----- outbound ------------------------------------------------------

    /// Encapsulates the inner IP packet at `buf[inner]` in place.
    ///
    /// `buf` must have [`Sa::room`]`(inner.len())` bytes free before and
    /// after `inner`. Tunnel mode takes an IPv4 or IPv6 packet and writes a
    /// new outer IPv4 header; transport mode takes an IPv4 packet and
    /// inserts the ESP header after its header. A UDP-encapsulated SA
    /// (RFC 3948 s.2.1) puts a UDP header between the IPv4 header
    /// (protocol 17) and the ESP header: the SA's ports, the length, and
    /// checksum zero. The returned ranges locate the result in `buf`;
    /// [`Encapsulated::udp`] says what a UDP socket sends instead. CBC IVs are drawn from `rng`; GCM uses the
    /// sequence number. Nothing is written to `buf` when an error returns,
    /// and no sequence number is used.
    pub fn encapsulate<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
        buf: &mut [u8],
        inner: Range<usize>,
    ) -> Result<Encapsulated, EncapError> {
        let r = self.encapsulate_inner(now, rng, buf, inner);
        match &r {
            Ok(_) => self.account(),
            Err(e) => self.counters.count_send_error(e),
        }
        r
    }

    fn encapsulate_inner<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
        buf: &mut [u8],
        inner: Range<usize>,
    ) -> Result<Encapsulated, EncapError> {
        if self.direction != Direction::Outbound {
            return Err(EncapError::WrongDirection(self.spi));
        }
        self.live(now).map_err(|kind| EncapError::Expired {
            spi: self.spi,
            kind,
        })?;
        let len = buf.len();
        let packet = buf
            .get(inner.clone())
            .filter(|_| inner.start <= inner.end)
            .ok_or(EncapError::BadRange {
                start: inner.start,
                end: inner.end,
                len,
            })?;
        let info = parse_inner(packet).map_err(EncapError::MalformedInner)?;
        if info.total_len != packet.len() {
            return Err(EncapError::MalformedInner(
                "header length differs from the packet given",
            ));
        }
        // Transport mode: the ESP header goes after the IPv4 header.
        let (ip_hdr_len, next_header, outer_addrs) = match self.mode {
            Mode::Tunnel { src, dst } => (
                0,
                if info.is_ipv6 { PROTO_IPV6 } else { PROTO_IPV4 },
                (src, dst),
            ),
            Mode::Transport => {
                if info.is_ipv6 {
                    return Err(EncapError::MalformedInner(
                        "transport mode supports IPv4 only",
                    ));
                }
                let h = parse_ipv4(packet).map_err(EncapError::MalformedInner)?;
                if h.is_fragment {
                    return Err(EncapError::Fragment);
                }
                (h.header_len, h.protocol, (h.src, h.dst))
            }
        };
        if !self.selector.matches(&info.key) {
            return Err(EncapError::SelectorMismatch {
                src: info.key.src,
                dst: info.key.dst,
                protocol: info.key.protocol,
            });
        }

        // Layout.
        let iv_len = self.transform.iv_len();
        let icv_len = self.transform.icv_len();
        let esp_hdr = ESP_HEADER + iv_len;
        let udp_len = self.udp_header_len();
        let payload_len = packet.len() - ip_hdr_len;
        let pad = self.pad_len(payload_len);
        let tail = pad + 2 + icv_len;
        let outer_hdr = match self.mode {
            Mode::Tunnel { .. } => IPV4_MIN_HEADER,
            Mode::Transport => ip_hdr_len,
        };
        let headroom = match self.mode {
            Mode::Tunnel { .. } => IPV4_MIN_HEADER + udp_len + esp_hdr,
            Mode::Transport => udp_len + esp_hdr,
        };
        let start = inner
            .start
            .checked_sub(headroom)
            .ok_or(EncapError::InsufficientHeadroom {
                needed: headroom,
                have: inner.start,
            })?;
        let end = inner.end.checked_add(tail).filter(|e| *e <= len).ok_or(
            EncapError::InsufficientTailroom {
                needed: tail,
                have: len - inner.end,
            },
        )?;
        let total = end - start;
        let total16 = u16::try_from(total).map_err(|_| EncapError::TooLarge(total))?;

        // Sequence number: RFC 4303 s.3.3.3, never wrap without ESN.
        let seq = self
            .seq_out
            .checked_add(1)
            .filter(|s| self.esn || *s <= u64::from(u32::MAX))
            .ok_or(EncapError::SequenceExhausted(self.spi))?;

        // Everything is checked; from here on nothing fails.
        let (tos, df) = (info.tos, info.df);
        if let Mode::Transport = self.mode {
            buf.copy_within(inner.start..inner.start + ip_hdr_len, start);
        }
        let esp_start = start + outer_hdr + udp_len;
        let payload_end = inner.end;
        if let Some(trailer) = buf.get_mut(payload_end..payload_end + pad + 2) {
            for (i, b) in trailer.iter_mut().enumerate() {
                // RFC 4303 s.2.4: padding bytes 1, 2, 3, ...; pad <= 15.
                #[allow(clippy::cast_possible_truncation)]
                let v = (i + 1) as u8;
                *b = v;
            }
            #[allow(clippy::cast_possible_truncation)]
            let pad_u8 = pad as u8;
            if let Some(pl) = trailer.get_mut(pad) {
                *pl = pad_u8;
            }
            if let Some(nh) = trailer.get_mut(pad + 1) {
                *nh = next_header;
            }
        }
        if let Some(h) = buf
            .get_mut(esp_start..esp_start + ESP_HEADER)
            .and_then(|h| <&mut [u8; ESP_HEADER]>::try_from(h).ok())
        {
            // The low half goes on the wire; ESN keeps the high half implicit.
            #[allow(clippy::cast_possible_truncation)]
            let low = seq as u32;
            let [a, b, c, d] = self.spi.0.to_be_bytes();
            let [e, f, g, i] = low.to_be_bytes();
            *h = [a, b, c, d, e, f, g, i];
        }
        let esp = buf
            .get_mut(esp_start..end)
            .ok_or(EncapError::TooLarge(total))?;
        self.transform
            .seal(esp, seq, self.esn, rng)
            .map_err(|_| EncapError::TooLarge(total))?;

        // RFC 3948 s.2.1: source and destination port, length, checksum 0.
        let udp = match self.udp {
            Some(u) => {
                let udp_total = u16::try_from(end - start - outer_hdr)
                    .map_err(|_| EncapError::TooLarge(total))?;
                let [s0, s1] = u.source_port.to_be_bytes();
                let [d0, d1] = u.destination_port.to_be_bytes();
                let [l0, l1] = udp_total.to_be_bytes();
                let at = start + outer_hdr;
                if let Some(h) = buf.get_mut(at..at + UDP_HEADER) {
                    h.copy_from_slice(&[s0, s1, d0, d1, l0, l1, 0, 0]);
                }
                Some(UdpDatagram {
                    source: SocketAddrV4::new(outer_addrs.0, u.source_port),
                    destination: SocketAddrV4::new(outer_addrs.1, u.destination_port),
                    payload: esp_start..end,
                })
            }
            None => None,
        };
        let outer_protocol = if udp.is_some() { PROTO_UDP } else { PROTO_ESP };
        let outer = buf
            .get_mut(start..start + outer_hdr)
            .ok_or(EncapError::TooLarge(total))?;
        match self.mode {
            Mode::Tunnel { src, dst } => {
                self.ip_id = self.ip_id.wrapping_add(1);
                let df_bit = match self.df {
                    DfPolicy::Copy => df,
                    DfPolicy::Set => true,
                    DfPolicy::Clear => false,
                };
                // RFC 4301 s.5.1.2.1: DSCP copied; ECN copied too (RFC 6040
                // normal mode).
                let header = Ipv4Header {
                    source: src,
                    destination: dst,
                    protocol: outer_protocol,
                    ttl: self.ttl,
                    identification: self.ip_id,
                    tos,
                    dont_fragment: df_bit,
                }
                .to_bytes(total16);
                for (o, b) in outer.iter_mut().zip(header) {
                    *o = b;
                }
            }
            Mode::Transport => ip::rewrite_ipv4(outer, total16, outer_protocol),
        }

        self.seq_out = seq;
        let c = &mut self.counters;
        c.pkts_encaps += 1;
        c.bytes_encaps = c.bytes_encaps.saturating_add(payload_len as u64);
        if self.transform.encrypts() {
            c.pkts_encrypt += 1;
        }
        if self.transform.authenticates() {
            c.pkts_digest += 1;
        }
        if !self.esn && seq >= (1u64 << 32) - SEQ_SOFT_MARGIN {
            self.fire_soft(LimitKind::SequenceNumber);
        }
        if !self.esn && seq == u64::from(u32::MAX) {
            // The next packet cannot be sent; say so now.
            self.fire_hard(LimitKind::SequenceNumber);
        }
        Ok(Encapsulated {
            packet: start..end,
            esp: esp_start..end,
            seq,
            udp,
        })
    }

    // ----- inbound -------------------------------------------------------

    /// Decapsulates the IPv4 packet in `buf` (from its first byte; bytes
    /// beyond its total length are ignored) in place.
    ///
    /// The packet is ESP (protocol 50) for a plain SA, and UDP (protocol
    /// 17) carrying ESP for a UDP-encapsulated one (RFC 3948 s.2.1): its
    /// UDP length must equal the IPv4 payload's, its destination port be
    /// the SA's, its payload ESP (not a keepalive, not the non-ESP marker
    /// of an IKE message); the UDP checksum is ignored (RFC 3948 s.2.1).
    /// Each of these is checked before the SA's state is touched, and
    /// each has its [`DecapError`].
    ///
    /// Transport mode, UDP-encapsulated: the restored packet's TCP or UDP
    /// checksum is fixed up for its addresses (RFC 3948 s.3.1.2):
    /// incrementally from the NAT-OA addresses when the SA has both
    /// ([`UdpEncap::original_source`], [`UdpEncap::original_destination`]),
    /// by recomputing it otherwise; a UDP checksum of zero stays zero.
    ///
    /// On success the returned range locates the inner packet in `buf`. On
    /// any failure after decryption the decrypted bytes are zeroed before
    /// the error returns.
    pub fn decapsulate(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Decapsulated, DecapError> {
        let r = self.decapsulate_inner(now, buf);
        self.count_decap(&r);
        r
    }

    /// Decapsulates the ESP packet at `buf[esp]` (SPI to ICV) that a UDP
    /// socket received from `source` on `destination` (RFC 3948): the
    /// entry point for a driver with a UDP socket on the NAT-T port, where
    /// [`decapsulate`](Self::decapsulate) takes the whole IPv4 packet. The
    /// SA must be UDP-encapsulated and `destination`'s port its own; the
    /// payload is checked as there (keepalive, non-ESP marker, truncated
    /// marker are errors).
    ///
    /// Tunnel mode: the inner packet lies inside `buf[esp]`. Transport
    /// mode: the restored IPv4 packet gets a new 20-byte header (from
    /// `source`'s address to `destination`'s, TTL 64, TOS 0, the checksum
    /// fix-up of [`decapsulate`](Self::decapsulate)), which needs
    /// [`UDP_RX_HEADROOM`] bytes before `esp` in `buf` (fewer:
    /// [`DecapError::InsufficientHeadroom`], nothing touched).
    pub fn decapsulate_udp(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        esp: Range<usize>,
        source: SocketAddrV4,
        destination: SocketAddrV4,
    ) -> Result<Decapsulated, DecapError> {
        let r = self.decapsulate_udp_inner(now, buf, esp, source, destination);
        self.count_decap(&r);
        r
    }

    fn count_decap(&mut self, r: &Result<Decapsulated, DecapError>) {
        match r {
            Ok(_) => self.account(),
            Err(e) => self.counters.count_recv_error(e),
        }
    }

    /// The checks of a UDP-encapsulated packet that depend on the SA.
    fn expect_udp(&self, destination_port: u16) -> Result<UdpEncap, DecapError> {
        let u = self.udp.ok_or(DecapError::NotUdpEncapsulated(self.spi))?;
        if destination_port != u.destination_port {
            return Err(DecapError::UdpPort {
                expected: u.destination_port,
                got: destination_port,
            });
        }
        Ok(u)
    }

    fn decapsulate_inner(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Decapsulated, DecapError> {
        let outer = parse_ipv4(buf).map_err(DecapError::MalformedOuter)?;
        if outer.protocol != PROTO_ESP && outer.protocol != PROTO_UDP {
            return Err(DecapError::NotEsp(outer.protocol));
        }
        if outer.is_fragment {
            return Err(DecapError::Fragment);
        }
        let hl = outer.header_len;
        let (esp_range, udp_source) = if outer.protocol == PROTO_UDP {
            // A plain SA knows no UDP framing to check.
            if self.udp.is_none() {
                return Err(DecapError::NotUdpEncapsulated(self.spi));
            }
            let frame = udp::read_frame(buf, hl, outer.total_len)?;
            self.expect_udp(frame.destination_port)?;
            (
                frame.esp,
                Some(SocketAddrV4::new(outer.src, frame.source_port)),
            )
        } else if self.udp.is_some() {
            return Err(DecapError::UdpEncapsulationExpected(self.spi));
        } else {
            (hl..outer.total_len, None)
        };
        let esp = buf
            .get_mut(esp_range.clone())
            .ok_or(DecapError::MalformedOuter("total length"))?;
        let r = self.open_esp(now, esp)?;
        let (body, next_header, seq) = (r.body, r.next_header, r.seq);
        // `body` is relative to the ESP bytes.
        let payload = esp_range.start + body.start..esp_range.start + body.end;

        let result = match self.mode {
            Mode::Tunnel { .. } => self.check_tunnel_inner(buf, payload.clone(), next_header),
            Mode::Transport => self.restore_transport(buf, hl, payload.clone(), next_header),
        };
        self.finish_decap(
            buf,
            result,
            payload,
            body.len(),
            next_header,
            seq,
            udp_source,
        )
    }

    fn decapsulate_udp_inner(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        esp_range: Range<usize>,
        source: SocketAddrV4,
        destination: SocketAddrV4,
    ) -> Result<Decapsulated, DecapError> {
        let bytes = buf
            .get(esp_range.clone())
            .filter(|_| esp_range.start <= esp_range.end)
            .ok_or(DecapError::MalformedOuter("ESP range outside the buffer"))?;
        udp::esp_spi(bytes)?;
        self.expect_udp(destination.port())?;
        let before_payload = esp_range.start + ESP_HEADER + self.transform.iv_len();
        if self.mode == Mode::Transport && before_payload < IPV4_MIN_HEADER {
            return Err(DecapError::InsufficientHeadroom {
                needed: UDP_RX_HEADROOM.saturating_sub(self.transform.iv_len()),
                have: esp_range.start,
            });
        }
        let esp = buf
            .get_mut(esp_range.clone())
            .ok_or(DecapError::MalformedOuter("ESP range outside the buffer"))?;
        let r = self.open_esp(now, esp)?;
        let (body, next_header, seq) = (r.body, r.next_header, r.seq);
        let payload = esp_range.start + body.start..esp_range.start + body.end;
        let result = match self.mode {
            Mode::Tunnel { .. } => self.check_tunnel_inner(buf, payload.clone(), next_header),
            Mode::Transport => self.rebuild_transport(
                buf,
                payload.clone(),
                next_header,
                *source.ip(),
                *destination.ip(),
            ),
        };
        self.finish_decap(
            buf,
            result,
            payload,
            body.len(),
            next_header,
            seq,
            Some(source),
        )
    }

    /// Counts a decapsulation whose ESP part verified, or zeroes its
    /// plaintext when the inner packet failed.
    #[allow(clippy::too_many_arguments)]
    fn finish_decap(
        &mut self,
        buf: &mut [u8],
        result: Result<Range<usize>, DecapError>,
        payload: Range<usize>,
        body_len: usize,
        next_header: u8,
        seq: u64,
        udp_source: Option<SocketAddrV4>,
    ) -> Result<Decapsulated, DecapError> {
        match result {
            Ok(packet) => {
                let c = &mut self.counters;
                c.pkts_decaps += 1;
                c.bytes_decaps = c.bytes_decaps.saturating_add(body_len as u64);
                if self.transform.encrypts() {
                    c.pkts_decrypt += 1;
                }
                if self.transform.authenticates() {
                    c.pkts_verify += 1;
                }
                Ok(Decapsulated {
                    packet,
                    next_header,
                    seq,
                    udp_source,
                })
            }
            Err(e) => {
                if let Some(p) = buf.get_mut(payload) {
                    p.zeroize();
                }
                Err(e)
            }
        }
    }

    /// SPI, replay check, ICV, decrypt, padding, window. Returns the payload
    /// range within `esp` (padding and trailer excluded).
    fn open_esp(&mut self, now: Instant, esp: &mut [u8]) -> Result<Opened, DecapError> {
        if self.direction != Direction::Inbound {
            return Err(DecapError::WrongDirection(self.spi));
        }
        self.live(now).map_err(|kind| DecapError::Expired {
            spi: self.spi,
            kind,
        })?;
        let len = esp.len();
        let header: [u8; 8] = esp
            .get(..ESP_HEADER)
            .and_then(|h| h.try_into().ok())
            .ok_or(DecapError::BadLength { len })?;
        let spi = Spi(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        if spi != self.spi {
            return Err(DecapError::WrongSpi {
                expected: self.spi,
                got: spi,
            });
        }
        let seq_low = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let seq = if self.esn {
            self.window.infer_esn(seq_low).ok_or(DecapError::Replay {
                seq: u64::from(seq_low),
                reason: crate::replay::ReplayError::TooOld,
            })?
        } else {
            u64::from(seq_low)
        };
        self.window
            .check(seq)
            .map_err(|reason| DecapError::Replay { seq, reason })?;
        self.transform
            .open(esp, seq, self.esn)
            .map_err(|e| match e {
                OpenError::Length => DecapError::BadLength { len },
                OpenError::Auth => DecapError::AuthenticationFailed,
            })?;
        let body_start = ESP_HEADER + self.transform.iv_len();
        let body_end = len - self.transform.icv_len();
        let checked = Self::check_trailer(
            esp.get(body_start..body_end).unwrap_or(&[]),
            self.padding_check,
        );
        let (payload_len, next_header) = match checked {
            Some(v) => v,
            None => {
                if let Some(b) = esp.get_mut(body_start..body_end) {
                    b.zeroize();
                }
                return Err(DecapError::BadPadding);
            }
        };
        // Authentic and well formed: now the window may move.
        if let Err(reason) = self.window.mark(seq) {
            if let Some(b) = esp.get_mut(body_start..body_end) {
                b.zeroize();
            }
            return Err(DecapError::Replay { seq, reason });
        }
        if next_header == PROTO_NONE {
            if let Some(b) = esp.get_mut(body_start..body_end) {
                b.zeroize();
            }
            return Err(DecapError::DummyPacket);
        }
        Ok(Opened {
            body: body_start..body_start + payload_len,
            next_header,
            seq,
        })
    }

    /// Parses the ESP trailer of a decrypted body: returns the payload
    /// length and next header.
    fn check_trailer(body: &[u8], check: PaddingCheck) -> Option<(usize, u8)> {
        let (&next_header, rest) = body.split_last()?;
        let (&pad_len, rest) = rest.split_last()?;
        let pad_len = usize::from(pad_len);
        let payload_len = rest.len().checked_sub(pad_len)?;
        if check == PaddingCheck::Strict {
            let pad = rest.get(payload_len..)?;
            // Not secret-dependent timing: the ICV already verified, and the
            // result is reported anyway.
            for (i, b) in pad.iter().enumerate() {
                if usize::from(*b) != i + 1 {
                    return None;
                }
            }
        }
        Some((payload_len, next_header))
    }

    fn check_tunnel_inner(
        &self,
        buf: &[u8],
        payload: Range<usize>,
        next_header: u8,
    ) -> Result<Range<usize>, DecapError> {
        let inner = buf
            .get(payload.clone())
            .ok_or(DecapError::MalformedInner("payload range"))?;
        let info = parse_inner(inner).map_err(DecapError::MalformedInner)?;
        let expected = if info.is_ipv6 { PROTO_IPV6 } else { PROTO_IPV4 };
        if next_header != PROTO_IPV4 && next_header != PROTO_IPV6 {
            return Err(DecapError::UnsupportedNextHeader(next_header));
        }
        if next_header != expected {
            return Err(DecapError::MalformedInner(
                "IP version differs from the next header",
            ));
        }
        self.check_selector(&info.key)?;
        // Bytes after the inner packet's own length are TFC padding
        // (RFC 4303 s.2.7): not part of the packet.
        Ok(payload.start..payload.start + info.total_len)
    }

    fn restore_transport(
        &self,
        buf: &mut [u8],
        hl: usize,
        payload: Range<usize>,
        next_header: u8,
    ) -> Result<Range<usize>, DecapError> {
        let start = payload
            .start
            .checked_sub(hl)
            .ok_or(DecapError::MalformedInner("header placement"))?;
        let total = hl + payload.len();
        let total16 =
            u16::try_from(total).map_err(|_| DecapError::MalformedInner("total length"))?;
        buf.copy_within(0..hl, start);
        let header = buf
            .get_mut(start..start + hl)
            .ok_or(DecapError::MalformedInner("header placement"))?;
        ip::rewrite_ipv4(header, total16, next_header);
        self.check_transport(buf, start..payload.end, next_header)
    }

    /// Transport mode from [`Sa::decapsulate_udp`]: a new IPv4 header
    /// from `src` to `dst` goes right before the payload.
    fn rebuild_transport(
        &self,
        buf: &mut [u8],
        payload: Range<usize>,
        next_header: u8,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Range<usize>, DecapError> {
        let start = payload
            .start
            .checked_sub(IPV4_MIN_HEADER)
            .ok_or(DecapError::MalformedInner("header placement"))?;
        let total16 = u16::try_from(IPV4_MIN_HEADER + payload.len())
            .map_err(|_| DecapError::MalformedInner("total length"))?;
        let header = Ipv4Header::new(src, dst, next_header).to_bytes(total16);
        buf.get_mut(start..payload.start)
            .ok_or(DecapError::MalformedInner("header placement"))?
            .copy_from_slice(&header);
        self.check_transport(buf, start..payload.end, next_header)
    }

    /// A restored transport-mode packet at `buf[packet]`: the checksum
    /// fix-up of UDP encapsulation, then the selectors.
    fn check_transport(
        &self,
        buf: &mut [u8],
        packet: Range<usize>,
        next_header: u8,
    ) -> Result<Range<usize>, DecapError> {
        let restored = buf
            .get_mut(packet.clone())
            .ok_or(DecapError::MalformedInner("header placement"))?;
        let h = parse_ipv4(restored).map_err(DecapError::MalformedInner)?;
        if let Some(u) = self.udp {
            let original = u.original_source.zip(u.original_destination);
            udp::fix_transport_checksum(
                restored,
                h.header_len,
                next_header,
                h.src,
                h.dst,
                original,
            );
        }
        let l4 = restored.get(h.header_len..).unwrap_or(&[]);
        let ports = match l4 {
            [a, b, c, d, ..] if matches!(next_header, 6 | 17 | 132 | 136) => {
                Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])))
            }
            _ => None,
        };
        self.check_selector(&PacketKey {
            src: h.src.into(),
            dst: h.dst.into(),
            protocol: next_header,
            ports,
        })?;
        Ok(packet)
    }

    fn check_selector(&self, key: &PacketKey) -> Result<(), DecapError> {
        if self.selector.matches(key) {
            Ok(())
        } else {
            Err(DecapError::SelectorMismatch {
                src: key.src,
                dst: key.dst,
                protocol: key.protocol,
            })
        }
    }
}

struct Opened {
    body: Range<usize>,
    next_header: u8,
    seq: u64,
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use crate::params::{AesKeySize, Keys};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::net::Ipv4Addr;

    fn sa(dir: Direction, esn: bool) -> Sa {
        let mut p = SaParams::new(
            Spi(0x4242),
            dir,
            Mode::Tunnel {
                src: Ipv4Addr::new(1, 1, 1, 1),
                dst: Ipv4Addr::new(2, 2, 2, 2),
            },
            Encryption::AesGcm16(AesKeySize::Aes128),
            Integrity::None,
            Keys::new(&[9; 20], &[]),
        );
        p.esn = esn;
        Sa::new(p, Instant::now()).unwrap()
    }

    fn packet() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 3, 3, 3, 3, 4, 4, 4, 4,
        ];
        let c = ip::checksum(&p);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    fn send(s: &mut Sa) -> Result<(Vec<u8>, u64), EncapError> {
        let inner = packet();
        let room = s.room(inner.len());
        let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
        buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let e = s.encapsulate(
            Instant::now(),
            &mut rng,
            &mut buf,
            room.headroom..room.headroom + inner.len(),
        )?;
        Ok((buf[e.packet].to_vec(), e.seq))
    }

    /// RFC 4303 s.3.3.3: without ESN the counter must not cycle; the SA
    /// warns (soft) 2^24 packets ahead and stops (hard) at 2^32 - 1.
    #[test]
    fn sequence_number_never_wraps_without_esn() {
        let mut out = sa(Direction::Outbound, false);
        out.seq_out = (1u64 << 32) - SEQ_SOFT_MARGIN - 1;
        send(&mut out).unwrap();
        assert!(matches!(
            out.poll_event(),
            Some(Event::SoftExpired {
                kind: LimitKind::SequenceNumber,
                ..
            })
        ));
        out.seq_out = u64::from(u32::MAX) - 1;
        let (_, seq) = send(&mut out).unwrap();
        assert_eq!(seq, u64::from(u32::MAX));
        assert!(matches!(
            out.poll_event(),
            Some(Event::HardExpired {
                kind: LimitKind::SequenceNumber,
                ..
            })
        ));
        assert!(matches!(
            send(&mut out),
            Err(EncapError::Expired {
                kind: LimitKind::SequenceNumber,
                ..
            })
        ));
        // Even without the hard flag the counter refuses to wrap.
        let mut out = sa(Direction::Outbound, false);
        out.seq_out = u64::from(u32::MAX);
        assert!(matches!(
            send(&mut out),
            Err(EncapError::SequenceExhausted(_))
        ));
        assert_eq!(out.counters().seq_exhausted, 1);
    }

    /// With ESN the 64-bit counter crosses 2^32: the wire carries the low
    /// half, the receiver infers the high half, GCM authenticates it.
    #[test]
    fn esn_crosses_the_32_bit_boundary() {
        let mut out = sa(Direction::Outbound, true);
        let mut inb = sa(Direction::Inbound, true);
        out.seq_out = u64::from(u32::MAX) - 2;
        inb.window.mark(u64::from(u32::MAX) - 10).unwrap();
        for expect in [
            u64::from(u32::MAX) - 1,
            u64::from(u32::MAX),
            1 << 32,
            (1 << 32) + 1,
        ] {
            let (mut wire, seq) = send(&mut out).unwrap();
            assert_eq!(seq, expect);
            // Low half on the wire.
            assert_eq!(&wire[24..28], &((seq & 0xffff_ffff) as u32).to_be_bytes());
            let d = inb.decapsulate(Instant::now(), &mut wire).unwrap();
            assert_eq!(d.seq, expect);
        }
        // The outbound ESN counter refuses to wrap 2^64.
        out.seq_out = u64::MAX;
        assert!(matches!(
            send(&mut out),
            Err(EncapError::SequenceExhausted(_))
        ));
    }
}
