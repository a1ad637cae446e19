//! The fuzz driver of the peer (behind the `fuzzing` feature): the bodies
//! of the `peer_core` and `peer_cli` fuzz targets, and of the corpus
//! replay test (`tests/tests/fuzz_corpus_peer.rs`), which call the same
//! functions.
//!
//! # `peer_core`: two [`Core`]s back to back
//!
//! [`core`] builds the seed's two routers as the binary builds them
//! (`vectors/seed/daphne.cfg` and `fred.cfg`, IKE on 11.11.11.1:500 and
//! 11.11.11.2:500, with the events, capture and debug outputs switched on
//! but written to memory), wires them back to back through a link the
//! program controls, and applies the program's operations ([`Op`]):
//! packets read from either TUN device (echo requests between the
//! protected hosts, UDP, arbitrary flows, raw bytes), raw ESP-socket input
//! (arbitrary bytes, forged ESP headers, garbage IP headers, replays and
//! mutations of what either side sent), UDP datagrams (arbitrary, or
//! replayed/mutated/reflected real ones), delivery, loss, duplication,
//! corruption and truncation of what is in flight, clock steps and jumps
//! (up to years), control command lines (the real commands with arbitrary
//! arguments, and arbitrary text) and shutdown. The cores' outputs are
//! drained after every input.
//!
//! There is no file or socket I/O: the key tables (the only files the
//! core writes itself) are not asked for; events, capture and debug lines
//! go to in-memory writers; the generator is a seeded ChaCha20 (the first
//! eight bytes of the input); the clock is the program's.
//!
//! It panics only when an invariant breaks:
//!
//! - **no protected clear text leaves as clear text**: nothing from one
//!   router's protected network to the other's (access list 101) leaves
//!   through [`Output::Outside`] except the router's own TED probe (UDP
//!   500 to 500, an ISAKMP message of exchange type TED, RFC-less Cisco
//!   TED, see `docs/ted-wire.md`); what [`Core::plaintext`] returns to send is
//!   an ESP packet (RFC 4303) from the router's outside address to the
//!   peer it names; [`Output::Forward`] is exactly the datagram just
//!   received; [`Output::Udp`] is at least an ISAKMP header (RFC 2408
//!   s.3.1) long;
//! - **nothing reaches a protected side unless it came out of ESP, once**:
//!   what [`Core::esp`] hands to the TUN device is the very packet the
//!   other router's TUN device gave it, for ESP bytes that router emitted
//!   and that never decrypted before (anti-replay, RFC 4303 s.3.4.3);
//! - **bounded**: the outputs and event lines of one input, the tunnels
//!   (within the cap, a rekey's successor may overlap), the ISAKMP SAs,
//!   the pending discoveries, the `input_dropped` lines (1000); timers
//!   settle (after a few rounds of [`Core::timeout`] nothing is due);
//!   every event line is one JSON object with an `event` name;
//! - **shutdown**: [`Core::shutdown`] sends an Informational exchange
//!   (the Delete notifies) to every peer it had an established ISAKMP SA
//!   with, leaves no tunnel and no established ISAKMP SA, writes
//!   `stopped`; after it, whatever arrives, nothing new is established
//!   (no tunnel installed, no `phase1_up` or `phase2_up`).
//!
//! # `peer_cli`
//!
//! [`cli`] parses an arbitrary argument vector (known flags and arbitrary
//! strings): no panic; a result that runs re-renders to arguments that
//! parse to the same thing; an unknown argument is one that was given.
//! [`control_line`] feeds arbitrary bytes, in arbitrary pieces, to the
//! control socket's line reader.
// Panicking on a broken invariant is what this module is for.
#![allow(clippy::panic)]

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use esp::ip::{self as packet, Ipv4Header};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::Config;
use ted::gateway::{Caps, Gateway, GatewayOptions};

use ikev1_peer::capture::{self, Capture};
use ikev1_peer::cli::{self, ClientArgs, Command, PasswordSource, RunArgs};
use ikev1_peer::control::{Connection, MAX_LINE, Progress};
use ikev1_peer::core::{Core, Output, Outputs};
use ikev1_peer::events::EventLog;

/// The seed's initiator configuration (Daphne).
pub const DAPHNE_CFG: &str = include_str!("../../../vectors/seed/daphne.cfg");
/// The seed's responder configuration (fred).
pub const FRED_CFG: &str = include_str!("../../../vectors/seed/fred.cfg");

/// The interface with the crypto map in both configurations.
const OUTSIDE: &str = "FastEthernet0/0";
/// Daphne's outside address.
pub const DAPHNE: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
/// fred's outside address.
pub const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);
/// The host behind Daphne.
pub const D1: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 14);
/// The host behind fred.
pub const A1: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 13);

/// Addresses a program picks from by index: the seed's, neighbours in the
/// protected networks, and hostile ones.
const ADDRESSES: [Ipv4Addr; 16] = [
    D1,
    A1,
    DAPHNE,
    FRED,
    Ipv4Addr::new(13, 13, 13, 13),
    Ipv4Addr::new(12, 12, 12, 12),
    Ipv4Addr::new(13, 13, 13, 200),
    Ipv4Addr::new(12, 12, 12, 99),
    Ipv4Addr::new(13, 13, 13, 0),
    Ipv4Addr::new(12, 12, 12, 255),
    Ipv4Addr::new(11, 11, 11, 3),
    Ipv4Addr::new(8, 8, 8, 8),
    Ipv4Addr::new(0, 0, 0, 0),
    Ipv4Addr::new(127, 0, 0, 1),
    Ipv4Addr::new(224, 0, 0, 5),
    Ipv4Addr::new(255, 255, 255, 255),
];

/// The control commands the core knows.
pub const COMMANDS: [&str; 7] = [
    "show crypto isakmp sa",
    "show crypto ipsec sa",
    "show crypto map",
    "show crypto engine connections active",
    "show counters",
    "clear crypto sa",
    "clear crypto isakmp",
];

/// Operations per program at most.
const MAX_OPS: usize = 512;
/// Packets in flight on the link at most (the oldest is lost beyond).
const MAX_IN_FLIGHT: usize = 64;
/// Deliveries one [`Op::DeliverAll`] may make.
const MAX_DELIVER_ALL: usize = 128;
/// Sent packets kept for replays, per kind.
const MAX_HISTORY: usize = 64;
/// ESP packets remembered (to check decryptions against) per router.
const MAX_EMITTED: usize = 1024;
/// Rounds of [`Core::timeout`] at one instant before the timers are
/// declared stuck.
const MAX_TIMER_ROUNDS: usize = 8;
/// Outputs one input may cause at most (the gateway's queues are capped
/// at 16 transmits, plus the bypassed or forwarded packet).
const MAX_OUTPUTS_PER_INPUT: usize = 48;
/// Event lines one input may cause at most.
const MAX_EVENTS_PER_INPUT: usize = 96;
/// ISAKMP SAs a router may hold at most under these caps.
const MAX_ISAKMP_SAS: usize = 24;
/// The ISAKMP header (RFC 2408 s.3.1).
const ISAKMP_HEADER_LEN: usize = 28;
/// Exchange type: Informational (RFC 2408 s.4.8), what Delete notifies use.
const EXCHANGE_INFORMATIONAL: u8 = 5;
/// Exchange type of Cisco TED (docs/ted-wire.md, "ISAKMP header").
const EXCHANGE_TED: u8 = 240;

/// A router: 0 is Daphne, 1 fred (the low bit of the byte).
pub type Side = u8;

fn side(s: Side) -> usize {
    usize::from(s & 1)
}

/// A packet read from a TUN device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plain {
    /// An echo request from the router's host to the far host (D1 to A1,
    /// or back): the seed's traffic.
    Ping,
    /// UDP from the router's host to an address of the list.
    Udp {
        /// Index into the address list.
        destination: u8,
        /// Source port.
        source_port: u16,
        /// Destination port.
        destination_port: u16,
        /// Payload.
        payload: Vec<u8>,
    },
    /// A packet between any two listed addresses, of any protocol.
    Flow {
        /// Index into the address list.
        source: u8,
        /// Index into the address list.
        destination: u8,
        /// IP protocol.
        protocol: u8,
        /// Payload.
        payload: Vec<u8>,
    },
    /// Arbitrary bytes.
    Raw(Vec<u8>),
}

/// Input on the raw ESP socket (IP header included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawEsp {
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
    /// A well-formed IPv4 header from the other router, protocol 50, an
    /// ESP header with one of the router's inbound SPIs (or the byte
    /// itself as SPI), a sequence number and arbitrary bytes after it.
    Forged {
        /// Picks an inbound SPI (below 200) or is the SPI.
        spi: u8,
        /// The sequence number.
        sequence: u32,
        /// What follows the ESP header.
        body: Vec<u8>,
    },
    /// An IPv4 header with arbitrary version/IHL, total length and
    /// protocol in front of arbitrary bytes.
    Header {
        /// Byte 0 of the header.
        version_ihl: u8,
        /// The total length field.
        total_length: u16,
        /// The protocol field.
        protocol: u8,
        /// What follows the 20 header bytes.
        body: Vec<u8>,
    },
    /// An ESP packet either router sent, with one byte changed (`xor` 0
    /// replays it as it was).
    Replay {
        /// Which one (of the last 64).
        index: u8,
        /// Offset of the changed byte (modulo the length).
        at: u16,
        /// What to xor it with.
        xor: u8,
    },
}

/// A UDP datagram on the IKE (or intercept) socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dgram {
    /// Arbitrary payload between listed addresses.
    Bytes {
        /// Where it was sent to (index; port 500).
        local: u8,
        /// Where it came from (index).
        remote: u8,
        /// Its source port.
        port: u16,
        /// The payload.
        payload: Vec<u8>,
    },
    /// A datagram either router sent, with one byte changed (`xor` 0
    /// replays it as it was), to the router of the operation: the one it
    /// was sent to, or its sender (a reflection, addresses swapped).
    Replay {
        /// Which one (of the last 64).
        index: u8,
        /// Offset of the changed byte (modulo the length).
        at: u16,
        /// What to xor it with.
        xor: u8,
    },
}

/// A step of the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Milliseconds (times 16).
    Millis(u16),
    /// Seconds.
    Seconds(u16),
    /// Ten-minute units.
    Jump(u16),
    /// Hours (up to seven years).
    Hours(u16),
    /// To the next timer of either router.
    NextTimer,
}

/// One operation of a `peer_core` program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A packet from a TUN device.
    Plaintext(Side, Plain),
    /// Deliver the packet in flight at this index (modulo their number).
    Deliver(u8),
    /// Deliver everything in flight, in order, until the link is quiet
    /// (at most 128 packets).
    DeliverAll,
    /// Lose one.
    Lose(u8),
    /// Duplicate one.
    Duplicate(u8),
    /// Change one byte of one.
    Corrupt {
        /// Which packet.
        index: u8,
        /// Which byte (modulo the length).
        at: u16,
        /// What to xor it with.
        xor: u8,
    },
    /// Cut one short.
    Truncate {
        /// Which packet.
        index: u8,
        /// The length it keeps.
        len: u16,
    },
    /// Raw ESP-socket input.
    Esp(Side, RawEsp),
    /// A datagram on the IKE socket.
    Datagram(Side, Dgram),
    /// The clock moves.
    Time(Clock),
    /// A known command (index modulo their number) with arbitrary words
    /// after it.
    Command(Side, u8, String),
    /// An arbitrary control line.
    Line(Side, String),
    /// SIGTERM.
    Shutdown(Side),
}

/// Operation tags (the first byte of each operation, modulo their number).
const OP_TAGS: u8 = 13;

/// Reads one byte; `None` at the end of the input.
fn byte(u: &mut Unstructured<'_>) -> Option<u8> {
    if u.is_empty() {
        return None;
    }
    u.bytes(1).ok()?.first().copied()
}

fn be16(u: &mut Unstructured<'_>) -> Option<u16> {
    Some(u16::from_be_bytes([byte(u)?, byte(u)?]))
}

fn be32(u: &mut Unstructured<'_>) -> Option<u32> {
    Some(u32::from_be_bytes([byte(u)?, byte(u)?, byte(u)?, byte(u)?]))
}

/// A length byte then up to that many bytes (fewer at the end).
fn short_bytes(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let n = usize::from(byte(u)?);
    let n = n.min(u.len());
    Some(u.bytes(n).ok()?.to_vec())
}

/// A big-endian 16-bit length then up to that many bytes.
fn long_bytes(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let n = usize::from(be16(u)?);
    let n = n.min(u.len());
    Some(u.bytes(n).ok()?.to_vec())
}

fn text(u: &mut Unstructured<'_>) -> Option<String> {
    Some(String::from_utf8_lossy(&short_bytes(u)?).into_owned())
}

fn put_short(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len().min(usize::from(u8::MAX));
    out.push(u8::try_from(n).unwrap_or(u8::MAX));
    out.extend_from_slice(b.get(..n).unwrap_or_default());
}

fn put_long(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(b.get(..n).unwrap_or_default());
}

impl Op {
    /// Decodes one operation; `None` when the input ends first.
    fn decode(u: &mut Unstructured<'_>) -> Option<Self> {
        Some(match byte(u)? % OP_TAGS {
            0 => {
                let s = byte(u)?;
                let p = match byte(u)? % 4 {
                    0 => Plain::Ping,
                    1 => Plain::Udp {
                        destination: byte(u)?,
                        source_port: be16(u)?,
                        destination_port: be16(u)?,
                        payload: short_bytes(u)?,
                    },
                    2 => Plain::Flow {
                        source: byte(u)?,
                        destination: byte(u)?,
                        protocol: byte(u)?,
                        payload: short_bytes(u)?,
                    },
                    _ => Plain::Raw(long_bytes(u)?),
                };
                Op::Plaintext(s, p)
            }
            1 => Op::Deliver(byte(u)?),
            2 => Op::DeliverAll,
            3 => Op::Lose(byte(u)?),
            4 => Op::Duplicate(byte(u)?),
            5 => Op::Corrupt {
                index: byte(u)?,
                at: be16(u)?,
                xor: byte(u)?,
            },
            6 => Op::Truncate {
                index: byte(u)?,
                len: be16(u)?,
            },
            7 => {
                let s = byte(u)?;
                let e = match byte(u)? % 4 {
                    0 => RawEsp::Bytes(long_bytes(u)?),
                    1 => RawEsp::Forged {
                        spi: byte(u)?,
                        sequence: be32(u)?,
                        body: short_bytes(u)?,
                    },
                    2 => RawEsp::Header {
                        version_ihl: byte(u)?,
                        total_length: be16(u)?,
                        protocol: byte(u)?,
                        body: short_bytes(u)?,
                    },
                    _ => RawEsp::Replay {
                        index: byte(u)?,
                        at: be16(u)?,
                        xor: byte(u)?,
                    },
                };
                Op::Esp(s, e)
            }
            8 => {
                let s = byte(u)?;
                let d = if byte(u)? & 1 == 0 {
                    Dgram::Bytes {
                        local: byte(u)?,
                        remote: byte(u)?,
                        port: be16(u)?,
                        payload: long_bytes(u)?,
                    }
                } else {
                    Dgram::Replay {
                        index: byte(u)?,
                        at: be16(u)?,
                        xor: byte(u)?,
                    }
                };
                Op::Datagram(s, d)
            }
            9 => {
                let kind = byte(u)?;
                let amount = be16(u)?;
                Op::Time(match kind % 5 {
                    0 => Clock::Millis(amount),
                    1 => Clock::Seconds(amount),
                    2 => Clock::Jump(amount),
                    3 => Clock::Hours(amount),
                    _ => Clock::NextTimer,
                })
            }
            10 => Op::Command(byte(u)?, byte(u)?, text(u)?),
            11 => Op::Line(byte(u)?, text(u)?),
            _ => Op::Shutdown(byte(u)?),
        })
    }

    /// Appends the bytes that [decode](Self::decode) back to this
    /// operation (how the seed corpus is written).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Op::Plaintext(s, p) => {
                out.extend_from_slice(&[0, *s]);
                match p {
                    Plain::Ping => out.push(0),
                    Plain::Udp {
                        destination,
                        source_port,
                        destination_port,
                        payload,
                    } => {
                        out.extend_from_slice(&[1, *destination]);
                        out.extend_from_slice(&source_port.to_be_bytes());
                        out.extend_from_slice(&destination_port.to_be_bytes());
                        put_short(out, payload);
                    }
                    Plain::Flow {
                        source,
                        destination,
                        protocol,
                        payload,
                    } => {
                        out.extend_from_slice(&[2, *source, *destination, *protocol]);
                        put_short(out, payload);
                    }
                    Plain::Raw(b) => {
                        out.push(3);
                        put_long(out, b);
                    }
                }
            }
            Op::Deliver(i) => out.extend_from_slice(&[1, *i]),
            Op::DeliverAll => out.push(2),
            Op::Lose(i) => out.extend_from_slice(&[3, *i]),
            Op::Duplicate(i) => out.extend_from_slice(&[4, *i]),
            Op::Corrupt { index, at, xor } => {
                out.extend_from_slice(&[5, *index]);
                out.extend_from_slice(&at.to_be_bytes());
                out.push(*xor);
            }
            Op::Truncate { index, len } => {
                out.extend_from_slice(&[6, *index]);
                out.extend_from_slice(&len.to_be_bytes());
            }
            Op::Esp(s, e) => {
                out.extend_from_slice(&[7, *s]);
                match e {
                    RawEsp::Bytes(b) => {
                        out.push(0);
                        put_long(out, b);
                    }
                    RawEsp::Forged {
                        spi,
                        sequence,
                        body,
                    } => {
                        out.extend_from_slice(&[1, *spi]);
                        out.extend_from_slice(&sequence.to_be_bytes());
                        put_short(out, body);
                    }
                    RawEsp::Header {
                        version_ihl,
                        total_length,
                        protocol,
                        body,
                    } => {
                        out.extend_from_slice(&[2, *version_ihl]);
                        out.extend_from_slice(&total_length.to_be_bytes());
                        out.push(*protocol);
                        put_short(out, body);
                    }
                    RawEsp::Replay { index, at, xor } => {
                        out.extend_from_slice(&[3, *index]);
                        out.extend_from_slice(&at.to_be_bytes());
                        out.push(*xor);
                    }
                }
            }
            Op::Datagram(s, d) => {
                out.extend_from_slice(&[8, *s]);
                match d {
                    Dgram::Bytes {
                        local,
                        remote,
                        port,
                        payload,
                    } => {
                        out.extend_from_slice(&[0, *local, *remote]);
                        out.extend_from_slice(&port.to_be_bytes());
                        put_long(out, payload);
                    }
                    Dgram::Replay { index, at, xor } => {
                        out.extend_from_slice(&[1, *index]);
                        out.extend_from_slice(&at.to_be_bytes());
                        out.push(*xor);
                    }
                }
            }
            Op::Time(c) => {
                let (kind, amount) = match c {
                    Clock::Millis(a) => (0, *a),
                    Clock::Seconds(a) => (1, *a),
                    Clock::Jump(a) => (2, *a),
                    Clock::Hours(a) => (3, *a),
                    Clock::NextTimer => (4, 0),
                };
                out.extend_from_slice(&[9, kind]);
                out.extend_from_slice(&amount.to_be_bytes());
            }
            Op::Command(s, c, words) => {
                out.extend_from_slice(&[10, *s, *c]);
                put_short(out, words.as_bytes());
            }
            Op::Line(s, line) => {
                out.extend_from_slice(&[11, *s]);
                put_short(out, line.as_bytes());
            }
            Op::Shutdown(s) => out.extend_from_slice(&[12, *s]),
        }
    }
}

/// A whole `peer_core` input: the generator's seed, then the operations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Seeds the routers' generators (cookies, nonces, DH values, SPIs,
    /// IVs).
    pub seed: u64,
    /// What happens, in order.
    pub ops: Vec<Op>,
}

impl Program {
    /// The input bytes of this program.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.seed.to_le_bytes().to_vec();
        for op in &self.ops {
            op.encode(&mut out);
        }
        out
    }
}

impl<'a> Arbitrary<'a> for Program {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let seed = u64::from_le_bytes(std::array::from_fn(|_| byte(u).unwrap_or(0)));
        let mut ops = Vec::new();
        while ops.len() < MAX_OPS {
            match Op::decode(u) {
                Some(op) => ops.push(op),
                None => break,
            }
        }
        Ok(Self { seed, ops })
    }
}

// ----- the harness -----

/// What the event lines said, shared between the core's writer and the
/// harness.
#[derive(Debug, Default)]
struct Tally {
    partial: Vec<u8>,
    lines: u64,
    by_name: HashMap<String, u64>,
}

impl Tally {
    fn count(&self, name: &str) -> u64 {
        self.by_name.get(name).copied().unwrap_or(0)
    }
}

/// The `events.jsonl` writer: checks that every line is one JSON object
/// with an `event` name, and counts them by name (nothing is kept).
#[derive(Clone, Debug, Default)]
struct EventSink(Arc<Mutex<Tally>>);

impl EventSink {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        // A poisoned lock means an assertion already failed.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Write for EventSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut t = self.tally();
        t.partial.extend_from_slice(buf);
        while let Some(end) = t.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = t.partial.drain(..=end).collect();
            let body = line.get(..end).unwrap_or_default();
            let value: serde_json::Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => panic!(
                    "an events.jsonl line is not JSON ({e}): {}",
                    String::from_utf8_lossy(body)
                ),
            };
            let Some(name) = value.get("event").and_then(serde_json::Value::as_str) else {
                panic!("an events.jsonl line without an event name: {value}");
            };
            let name = name.to_owned();
            t.lines = t.lines.saturating_add(1);
            let n = t.by_name.entry(name).or_insert(0);
            *n = n.saturating_add(1);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a `peer_core` run did, for the corpus replay test to check that
/// the seeds reach the interesting paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CoreRun {
    /// Operations applied.
    pub ops: usize,
    /// Tunnels installed, both routers.
    pub tunnels_installed: u64,
    /// `phase1_up` lines, both routers.
    pub phase1_up: u64,
    /// `phase2_up` lines, both routers.
    pub phase2_up: u64,
    /// Packets handed to a TUN device out of ESP.
    pub decrypted: u64,
    /// ESP packets one router emitted that the other refused (replayed,
    /// corrupted, or for an SA gone).
    pub esp_refused: u64,
    /// TED probes that crossed the link.
    pub ted_probes: u64,
    /// Shutdowns that had an established ISAKMP SA to delete.
    pub shutdowns_with_deletes: u64,
    /// Datagrams received after a shutdown.
    pub datagrams_after_shutdown: u64,
    /// Control commands answered `OK`.
    pub commands_ok: u64,
    /// Control commands answered with an error.
    pub commands_refused: u64,
}

/// What is on the link.
#[derive(Clone, Debug)]
enum Packet {
    /// A datagram for the IKE or intercept socket.
    Udp {
        local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: Vec<u8>,
    },
    /// A whole IPv4 packet for the raw ESP socket.
    Esp(Vec<u8>),
}

#[derive(Clone, Debug)]
struct InFlight {
    to: usize,
    packet: Packet,
}

/// An ESP packet a router emitted: its ESP part (after the IP header, what
/// the ICV covers) and the clear text it carries.
struct Emitted {
    esp: Vec<u8>,
    inner: Vec<u8>,
}

struct Router {
    core: Core,
    events: EventSink,
    address: Ipv4Addr,
    /// The router's protected network (access list 101 of the seed).
    lan: [u8; 3],
    /// The ESP it emitted, by SPI and sequence number.
    emitted: HashMap<[u8; 8], Emitted>,
    emitted_order: VecDeque<[u8; 8]>,
    /// Set by shutdown: the tunnels installed and the up lines then.
    stopped: Option<(u64, u64, u64)>,
}

struct Harness {
    now: Instant,
    routers: [Router; 2],
    wire: VecDeque<InFlight>,
    /// ESP parts that decrypted once.
    decrypted: BTreeSet<Vec<u8>>,
    datagram_history: VecDeque<InFlight>,
    esp_history: VecDeque<InFlight>,
    ping_sequence: u16,
    run: CoreRun,
}

fn configs() -> &'static (Config, Config) {
    // Importing the configurations would dominate a short program.
    static CONFIGS: OnceLock<(Config, Config)> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let parse = |text: &str| match ted::config::ios::parse(text) {
            Ok(p) => p.config,
            Err(e) => panic!("a seed configuration does not import: {e}"),
        };
        (parse(DAPHNE_CFG), parse(FRED_CFG))
    })
}

/// The options the binary uses (debug lines on, no key log since no key
/// tables are written), with small caps so that a short program reaches
/// them.
fn options(address: Ipv4Addr) -> GatewayOptions {
    let mut options = GatewayOptions::default();
    options.debug = true;
    options.key_log = false;
    options.outside_address = Some(address);
    options.ike.limits.half_open_per_peer = 2;
    options.ike.limits.half_open_total = 4;
    options.ike.limits.phase2_per_sa = 2;
    options.discovery.max_pending = 3;
    let caps: &mut Caps = &mut options.caps;
    caps.max_tunnels = 2;
    caps.max_negotiations = 2;
    caps.max_queued_transmits = 16;
    caps.max_queued_events = 32;
    caps.max_log_records = 64;
    caps.max_key_log_entries = 8;
    options
}

fn router(config: &Config, address: Ipv4Addr, lan: [u8; 3], seed: u64, now: Instant) -> Router {
    let gateway = match Gateway::new(
        config.clone(),
        OUTSIDE,
        Box::new(ChaCha20Rng::seed_from_u64(seed)),
        options(address),
    ) {
        Ok(g) => g,
        Err(e) => panic!("the seed configuration is refused: {e}"),
    };
    let events = EventSink::default();
    let capture = match Capture::new(Box::new(io::sink()) as ikev1_peer::core::Sink) {
        Ok(c) => c,
        Err(e) => panic!("a capture into memory failed: {e}"),
    };
    let outputs = Outputs {
        events: Some(EventLog::new(Box::new(events.clone()))),
        keys: None,
        capture: Some(capture),
        debug: Some(Box::new(io::sink())),
    };
    // A fixed wall clock: the debug lines' timestamps do not matter.
    let wall = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let core = Core::new(
        gateway,
        SocketAddrV4::new(address, cli::IKE_PORT),
        outputs,
        now,
        wall,
    );
    Router {
        core,
        events,
        address,
        lan,
        emitted: HashMap::new(),
        emitted_order: VecDeque::new(),
        stopped: None,
    }
}

fn address(i: u8) -> Ipv4Addr {
    ADDRESSES
        .get(usize::from(i) % ADDRESSES.len())
        .copied()
        .unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn ipv4_at(bytes: &[u8], at: usize) -> Option<Ipv4Addr> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// Whether `a` is in the protected network `lan`.
fn in_lan(lan: [u8; 3], a: Ipv4Addr) -> bool {
    a.octets().get(..3) == Some(&lan[..])
}

/// The ESP part of an IPv4 packet as a receiver reads it (after the
/// header its IHL gives).
fn esp_part(bytes: &[u8]) -> Option<&[u8]> {
    let ihl = usize::from(bytes.first()? & 0x0f).checked_mul(4)?;
    bytes.get(ihl..)
}

fn esp_key(esp: &[u8]) -> Option<[u8; 8]> {
    esp.get(..8)?.try_into().ok()
}

/// Whether an outside packet is a TED probe: UDP 500 to 500 carrying an
/// ISAKMP message of the TED exchange type.
fn is_ted_probe(bytes: &[u8]) -> bool {
    let Ok(ip) = packet::Ipv4Packet::parse(bytes) else {
        return false;
    };
    matches!(
        ip.transport(),
        Ok(packet::Transport::Udp {
            source_port: 500,
            destination_port: 500,
            payload,
        }) if payload.get(18) == Some(&EXCHANGE_TED)
    )
}

impl Harness {
    fn new(seed: u64) -> Self {
        let now = Instant::now();
        let (daphne, fred) = configs();
        let routers = [
            router(daphne, DAPHNE, [13, 13, 13], seed, now),
            router(fred, FRED, [12, 12, 12], seed ^ 0x5a5a_5a5a_5a5a_5a5a, now),
        ];
        Self {
            now,
            routers,
            wire: VecDeque::new(),
            decrypted: BTreeSet::new(),
            datagram_history: VecDeque::new(),
            esp_history: VecDeque::new(),
            ping_sequence: 0,
            run: CoreRun::default(),
        }
    }

    fn router(&mut self, s: usize) -> &mut Router {
        // `s` is 0 or 1 everywhere (`side`, `1 - side`).
        let [a, b] = &mut self.routers;
        if s == 0 { a } else { b }
    }

    fn put_on_wire(&mut self, p: InFlight) {
        let history = match p.packet {
            Packet::Udp { .. } => &mut self.datagram_history,
            Packet::Esp(_) => &mut self.esp_history,
        };
        if history.len() >= MAX_HISTORY {
            history.pop_front();
        }
        history.push_back(p.clone());
        if self.wire.len() >= MAX_IN_FLIGHT {
            self.wire.pop_front();
        }
        self.wire.push_back(p);
    }

    /// Takes every output of router `s` after one input, checking them;
    /// `received` is the datagram that input was, if it was one.
    fn drain(&mut self, s: usize, lines_before: u64, received: Option<&[u8]>) {
        let mut outputs = 0usize;
        while let Some(o) = self.router(s).core.poll_output() {
            outputs = outputs.saturating_add(1);
            self.output(s, o, received);
        }
        assert!(
            outputs <= MAX_OUTPUTS_PER_INPUT,
            "router {s}: {outputs} outputs for one input"
        );
        self.check_state(s, lines_before);
    }

    fn output(&mut self, s: usize, o: Output, received: Option<&[u8]>) {
        let other = 1 - s;
        let r = self.router(s);
        let (address, lan) = (r.address, r.lan);
        let far_lan = if s == 0 { [12, 12, 12] } else { [13, 13, 13] };
        match o {
            Output::Udp {
                destination,
                payload,
            } => {
                assert!(
                    payload.len() >= ISAKMP_HEADER_LEN,
                    "router {s} sent a {}-byte datagram",
                    payload.len()
                );
                self.put_on_wire(InFlight {
                    to: other,
                    packet: Packet::Udp {
                        local: destination,
                        remote: SocketAddrV4::new(address, cli::IKE_PORT),
                        payload,
                    },
                });
            }
            Output::Outside(p) => {
                let (src, dst) = (ipv4_at(&p, 12), ipv4_at(&p, 16));
                let v4 = p.first().is_some_and(|b| b >> 4 == 4);
                if let (true, Some(src), Some(dst)) = (v4, src, dst)
                    && in_lan(lan, src)
                    && in_lan(far_lan, dst)
                {
                    assert!(
                        is_ted_probe(&p),
                        "router {s} sent protected clear text {src} -> {dst} outside: {p:02x?}"
                    );
                }
                // A TED probe: the other router is on its path and
                // intercepts it; anything else goes elsewhere.
                if let Ok(ip) = packet::Ipv4Packet::parse(&p)
                    && let Ok(packet::Transport::Udp {
                        source_port,
                        destination_port,
                        payload,
                    }) = ip.transport()
                    && destination_port == cli::IKE_PORT
                {
                    if is_ted_probe(&p) {
                        self.run.ted_probes = self.run.ted_probes.saturating_add(1);
                    }
                    let packet = Packet::Udp {
                        local: SocketAddrV4::new(ip.header.destination, destination_port),
                        remote: SocketAddrV4::new(ip.header.source, source_port),
                        payload: payload.to_vec(),
                    };
                    self.put_on_wire(InFlight { to: other, packet });
                }
            }
            Output::Forward(p) => {
                assert_eq!(
                    Some(p.as_slice()),
                    received,
                    "router {s} forwarded something other than the datagram it received"
                );
            }
            // The core's outputs are a non-exhaustive enum: a kind this
            // driver has not learnt yet must be taught to it, not ignored.
            other => panic!("router {s}: an output this driver does not know: {other:?}"),
        }
    }

    /// State within its bounds after an input of router `s`.
    fn check_state(&mut self, s: usize, lines_before: u64) {
        let now = self.now;
        let r = self.router(s);
        let g = r.core.gateway();
        let caps = &g.options().caps;
        let tunnels = g.tunnels().len();
        assert!(
            tunnels <= caps.max_tunnels.saturating_mul(2),
            "router {s}: {tunnels} tunnels"
        );
        let sas = g.ike().isakmp_sas(now).len();
        assert!(sas <= MAX_ISAKMP_SAS, "router {s}: {sas} ISAKMP SAs");
        let pending = g.discovery().pending_count();
        assert!(
            pending <= g.options().discovery.max_pending,
            "router {s}: {pending} pending discoveries"
        );
        if let Some(log) = g.log() {
            assert!(log.records().count() <= caps.max_log_records);
        }
        let installed = g.counters().tunnels_installed;
        let t = r.events.tally();
        let new_lines = t.lines.saturating_sub(lines_before);
        assert!(
            usize::try_from(new_lines).unwrap_or(usize::MAX) <= MAX_EVENTS_PER_INPUT,
            "router {s}: {new_lines} event lines for one input"
        );
        assert!(
            t.count("input_dropped") <= 1000,
            "router {s}: input_dropped lines past their cap"
        );
        if let Some((tunnels_then, p1, p2)) = r.stopped {
            assert_eq!(
                installed, tunnels_then,
                "router {s} installed a tunnel after its shutdown"
            );
            assert_eq!(
                (t.count("phase1_up"), t.count("phase2_up")),
                (p1, p2),
                "router {s} established an SA after its shutdown"
            );
        }
    }

    fn lines(&self, s: usize) -> u64 {
        self.routers.get(s).map_or(0, |r| r.events.tally().lines)
    }

    /// A packet read from router `s`'s TUN device.
    fn plaintext(&mut self, s: usize, packet: &[u8]) {
        let lines = self.lines(s);
        let now = self.now;
        let head = Gateway::HEADROOM;
        let mut buf = vec![0u8; head + packet.len() + Gateway::TAILROOM];
        if let Some(b) = buf.get_mut(head..head + packet.len()) {
            b.copy_from_slice(packet);
        }
        let out = self
            .router(s)
            .core
            .plaintext(now, &mut buf, head..head + packet.len());
        if let Some((peer, range)) = out {
            let Some(esp) = buf.get(range) else {
                panic!("router {s}: the ESP packet's range is outside the buffer")
            };
            let address = self.router(s).address;
            assert!(
                esp.first() == Some(&0x45)
                    && esp.get(9) == Some(&50)
                    && ipv4_at(esp, 12) == Some(address)
                    && ipv4_at(esp, 16) == Some(peer),
                "router {s}: what plaintext() returned to send is not ESP from {address} to {peer}: {esp:02x?}"
            );
            let part = esp.get(20..).unwrap_or_default().to_vec();
            if let Some(key) = esp_key(&part) {
                let r = self.router(s);
                if r.emitted.len() >= MAX_EMITTED
                    && let Some(old) = r.emitted_order.pop_front()
                {
                    r.emitted.remove(&old);
                }
                r.emitted.insert(
                    key,
                    Emitted {
                        esp: part,
                        inner: packet.to_vec(),
                    },
                );
                r.emitted_order.push_back(key);
            }
            let other = 1 - s;
            if peer == self.router(other).address {
                self.put_on_wire(InFlight {
                    to: other,
                    packet: Packet::Esp(esp.to_vec()),
                });
            }
        }
        self.drain(s, lines, None);
    }

    /// A packet read from router `s`'s raw ESP socket.
    fn esp(&mut self, s: usize, bytes: &[u8]) {
        let lines = self.lines(s);
        let now = self.now;
        let mut buf = bytes.to_vec();
        let out = self.router(s).core.esp(now, &mut buf);
        let other = 1 - s;
        let part = esp_part(bytes).unwrap_or_default();
        let emitted = esp_key(part).and_then(|k| self.routers.get(other)?.emitted.get(&k));
        let intact = emitted.filter(|e| part.get(..e.esp.len()) == Some(&e.esp[..]));
        match out {
            Some(range) => {
                let Some(inner) = buf.get(range) else {
                    panic!("router {s}: the decrypted range is outside the buffer")
                };
                let Some(e) = intact else {
                    panic!("router {s} decrypted ESP the other router never emitted: {bytes:02x?}")
                };
                assert_eq!(
                    inner,
                    &e.inner[..],
                    "router {s} decrypted something else than what was sent"
                );
                assert!(
                    self.decrypted.insert(e.esp.clone()),
                    "router {s} decrypted the same ESP twice (a replay)"
                );
                self.run.decrypted = self.run.decrypted.saturating_add(1);
            }
            None => {
                if intact.is_some() {
                    self.run.esp_refused = self.run.esp_refused.saturating_add(1);
                }
            }
        }
        self.drain(s, lines, None);
    }

    /// A datagram on router `s`'s IKE (or intercept) socket.
    fn datagram(&mut self, s: usize, local: SocketAddrV4, remote: SocketAddrV4, payload: &[u8]) {
        let lines = self.lines(s);
        let now = self.now;
        if self.router(s).stopped.is_some() {
            self.run.datagrams_after_shutdown = self.run.datagrams_after_shutdown.saturating_add(1);
        }
        self.router(s).core.datagram(now, local, remote, payload);
        let received = capture::udp_packet(remote, local, payload).ok();
        self.drain(s, lines, received.as_deref());
    }

    fn deliver_packet(&mut self, p: InFlight) {
        match p.packet {
            Packet::Udp {
                local,
                remote,
                payload,
            } => self.datagram(p.to, local, remote, &payload),
            Packet::Esp(bytes) => self.esp(p.to, &bytes),
        }
    }

    fn wire_index(&self, i: u8) -> Option<usize> {
        (!self.wire.is_empty()).then(|| usize::from(i) % self.wire.len())
    }

    /// Runs the timers due now on both routers; they must settle.
    fn timers(&mut self) {
        let now = self.now;
        for s in 0..2 {
            for round in 0.. {
                match self.router(s).core.poll_timeout() {
                    Some(t) if t <= now => {}
                    _ => break,
                }
                assert!(
                    round < MAX_TIMER_ROUNDS,
                    "router {s}'s timers do not settle"
                );
                let lines = self.lines(s);
                self.router(s).core.timeout(now);
                self.drain(s, lines, None);
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now = self.now.checked_add(by).unwrap_or(self.now);
        self.timers();
    }

    fn host_packet(&mut self, s: usize, p: &Plain) {
        let (me, far) = if s == 0 { (D1, A1) } else { (A1, D1) };
        let bytes = match p {
            Plain::Ping => {
                self.ping_sequence = self.ping_sequence.wrapping_add(1);
                packet::icmp_echo(
                    Ipv4Header::new(me, far, 0).with_ttl(128),
                    false,
                    1,
                    self.ping_sequence,
                    b"abcdefghijklmnopqrstuvwabcdefghi",
                )
                .ok()
            }
            Plain::Udp {
                destination,
                source_port,
                destination_port,
                payload,
            } => packet::udp(
                Ipv4Header::new(me, address(*destination), 0).with_ttl(64),
                *source_port,
                *destination_port,
                payload,
            )
            .ok(),
            Plain::Flow {
                source,
                destination,
                protocol,
                payload,
            } => Ipv4Header::new(address(*source), address(*destination), *protocol)
                .with_ttl(64)
                .build(payload)
                .ok(),
            Plain::Raw(b) => Some(b.clone()),
        };
        if let Some(b) = bytes {
            self.plaintext(s, &b);
        }
    }

    fn raw_esp(&mut self, s: usize, e: &RawEsp) {
        let other = 1 - s;
        let bytes = match e {
            RawEsp::Bytes(b) => Some(b.clone()),
            RawEsp::Forged {
                spi,
                sequence,
                body,
            } => {
                let now = self.now;
                let spis: Vec<u32> = self
                    .router(s)
                    .core
                    .gateway()
                    .ike()
                    .ipsec_sas(now)
                    .iter()
                    .map(|sa| sa.inbound.0)
                    .collect();
                let spi = match spis.get(usize::from(*spi) % spis.len().max(1)) {
                    Some(x) if *spi < 200 => *x,
                    _ => u32::from(*spi),
                };
                let mut esp = spi.to_be_bytes().to_vec();
                esp.extend_from_slice(&sequence.to_be_bytes());
                esp.extend_from_slice(body);
                let (src, dst) = (self.router(other).address, self.router(s).address);
                Ipv4Header::new(src, dst, 50).with_ttl(64).build(&esp).ok()
            }
            RawEsp::Header {
                version_ihl,
                total_length,
                protocol,
                body,
            } => {
                let (src, dst) = (self.router(other).address, self.router(s).address);
                let mut b = vec![*version_ihl, 0];
                b.extend_from_slice(&total_length.to_be_bytes());
                b.extend_from_slice(&[0, 0, 0, 0, 64, *protocol, 0, 0]);
                b.extend_from_slice(&src.octets());
                b.extend_from_slice(&dst.octets());
                b.extend_from_slice(body);
                Some(b)
            }
            RawEsp::Replay { index, at, xor } => {
                let n = self.esp_history.len();
                (n > 0)
                    .then(|| self.esp_history.get(usize::from(*index) % n))
                    .flatten()
                    .and_then(|p| match &p.packet {
                        Packet::Esp(b) => {
                            let mut b = b.clone();
                            let len = b.len().max(1);
                            if let Some(x) = b.get_mut(usize::from(*at) % len) {
                                *x ^= xor;
                            }
                            Some(b)
                        }
                        Packet::Udp { .. } => None,
                    })
            }
        };
        if let Some(b) = bytes {
            self.esp(s, &b);
        }
    }

    fn forged_datagram(&mut self, s: usize, d: &Dgram) {
        match d {
            Dgram::Bytes {
                local,
                remote,
                port,
                payload,
            } => {
                let local = SocketAddrV4::new(address(*local), cli::IKE_PORT);
                let remote = SocketAddrV4::new(address(*remote), *port);
                self.datagram(s, local, remote, payload);
            }
            Dgram::Replay { index, at, xor } => {
                let n = self.datagram_history.len();
                let Some(p) = (n > 0)
                    .then(|| self.datagram_history.get(usize::from(*index) % n))
                    .flatten()
                    .cloned()
                else {
                    return;
                };
                let Packet::Udp {
                    local,
                    remote,
                    mut payload,
                } = p.packet
                else {
                    return;
                };
                let len = payload.len().max(1);
                if let Some(x) = payload.get_mut(usize::from(*at) % len) {
                    *x ^= xor;
                }
                if s == p.to {
                    self.datagram(s, local, remote, &payload);
                } else {
                    // Back to its sender, as if from the router it went to.
                    self.datagram(s, remote, local, &payload);
                }
            }
        }
    }

    fn command(&mut self, s: usize, line: &str) {
        let lines = self.lines(s);
        let now = self.now;
        let reply = self.router(s).core.command(now, line);
        let rendered = reply.render();
        assert!(
            rendered.ends_with("OK\n")
                || rendered
                    .lines()
                    .last()
                    .is_some_and(|l| l.starts_with("ERROR: ")),
            "router {s}: an answer without its status line: {rendered:?}"
        );
        if reply.status.is_ok() {
            self.run.commands_ok = self.run.commands_ok.saturating_add(1);
        } else {
            self.run.commands_refused = self.run.commands_refused.saturating_add(1);
        }
        self.drain(s, lines, None);
    }

    fn shutdown(&mut self, s: usize) {
        let lines = self.lines(s);
        let now = self.now;
        let established: Vec<SocketAddr> = self
            .router(s)
            .core
            .gateway()
            .ike()
            .isakmp_sas(now)
            .into_iter()
            .filter(|sa| sa.lifetime_remaining.is_some())
            .map(|sa| sa.remote)
            .collect();
        let stopped_before = self.router(s).events.tally().count("stopped");
        self.router(s).core.shutdown(now);
        // The Delete notifies, before the harness puts them on the link.
        let mut informational = Vec::new();
        let mut outputs = Vec::new();
        while let Some(o) = self.router(s).core.poll_output() {
            if let Output::Udp {
                destination,
                payload,
            } = &o
                && payload.get(18) == Some(&EXCHANGE_INFORMATIONAL)
            {
                informational.push(SocketAddr::V4(*destination));
            }
            outputs.push(o);
        }
        for peer in &established {
            assert!(
                informational.contains(peer),
                "router {s} shut down without telling {peer} (sent to {informational:?})"
            );
        }
        if !established.is_empty() {
            self.run.shutdowns_with_deletes = self.run.shutdowns_with_deletes.saturating_add(1);
        }
        let r = self.router(s);
        let g = r.core.gateway();
        assert!(g.tunnels().is_empty(), "router {s}: tunnels after shutdown");
        assert!(
            g.ike()
                .isakmp_sas(now)
                .iter()
                .all(|sa| sa.lifetime_remaining.is_none()),
            "router {s}: an established ISAKMP SA after shutdown"
        );
        let installed = g.counters().tunnels_installed;
        let (stopped, p1, p2) = {
            let t = r.events.tally();
            (
                t.count("stopped"),
                t.count("phase1_up"),
                t.count("phase2_up"),
            )
        };
        assert_eq!(stopped, stopped_before + 1, "router {s}: no `stopped` line");
        r.stopped = Some((installed, p1, p2));
        let n = outputs.len();
        assert!(
            n <= MAX_OUTPUTS_PER_INPUT,
            "router {s}: {n} outputs for a shutdown"
        );
        for o in outputs {
            self.output(s, o, None);
        }
        self.check_state(s, lines);
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Plaintext(s, p) => self.host_packet(side(*s), p),
            Op::Deliver(i) => {
                if let Some(p) = self.wire_index(*i).and_then(|i| self.wire.remove(i)) {
                    self.deliver_packet(p);
                }
            }
            Op::DeliverAll => {
                for _ in 0..MAX_DELIVER_ALL {
                    let Some(p) = self.wire.pop_front() else {
                        break;
                    };
                    self.deliver_packet(p);
                }
            }
            Op::Lose(i) => {
                if let Some(i) = self.wire_index(*i) {
                    self.wire.remove(i);
                }
            }
            Op::Duplicate(i) => {
                if let Some(p) = self.wire_index(*i).and_then(|i| self.wire.get(i)).cloned() {
                    self.put_on_wire(p);
                }
            }
            Op::Corrupt { index, at, xor } => {
                if let Some(p) = self.wire_index(*index).and_then(|i| self.wire.get_mut(i)) {
                    let bytes = match &mut p.packet {
                        Packet::Udp { payload, .. } => payload,
                        Packet::Esp(b) => b,
                    };
                    let len = bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(usize::from(*at) % len) {
                        *b ^= xor;
                    }
                }
            }
            Op::Truncate { index, len } => {
                if let Some(p) = self.wire_index(*index).and_then(|i| self.wire.get_mut(i)) {
                    match &mut p.packet {
                        Packet::Udp { payload, .. } => payload.truncate(usize::from(*len)),
                        Packet::Esp(b) => b.truncate(usize::from(*len)),
                    }
                }
            }
            Op::Esp(s, e) => self.raw_esp(side(*s), e),
            Op::Datagram(s, d) => self.forged_datagram(side(*s), d),
            Op::Time(c) => match c {
                Clock::Millis(a) => self.advance(Duration::from_millis(u64::from(*a) * 16)),
                Clock::Seconds(a) => self.advance(Duration::from_secs(u64::from(*a))),
                Clock::Jump(a) => self.advance(Duration::from_secs(u64::from(*a) * 600)),
                Clock::Hours(a) => self.advance(Duration::from_secs(u64::from(*a) * 3600)),
                Clock::NextTimer => {
                    let next = self
                        .routers
                        .iter()
                        .filter_map(|r| r.core.poll_timeout())
                        .min();
                    if let Some(t) = next {
                        self.now = self.now.max(t);
                        self.timers();
                    }
                }
            },
            Op::Command(s, c, words) => {
                let name = COMMANDS
                    .get(usize::from(*c) % COMMANDS.len())
                    .copied()
                    .unwrap_or("show counters");
                let line = if words.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name} {words}")
                };
                self.command(side(*s), &line);
            }
            Op::Line(s, line) => self.command(side(*s), line),
            Op::Shutdown(s) => self.shutdown(side(*s)),
        }
    }
}

/// The `peer_core` fuzz target (see the [module documentation](self)).
pub fn core(data: &[u8]) {
    core_run(data);
}

/// [`core`], returning what the run did.
pub fn core_run(data: &[u8]) -> CoreRun {
    let mut u = Unstructured::new(data);
    let Ok(program) = Program::arbitrary(&mut u) else {
        return CoreRun::default();
    };
    run_program(&program)
}

/// Runs a decoded program (what [`core_run`] does after decoding).
pub fn run_program(program: &Program) -> CoreRun {
    let mut h = Harness::new(program.seed);
    for op in program.ops.iter().take(MAX_OPS) {
        h.step(op);
        h.run.ops = h.run.ops.saturating_add(1);
    }
    for r in &h.routers {
        let t = r.events.tally();
        h.run.phase1_up = h.run.phase1_up.saturating_add(t.count("phase1_up"));
        h.run.phase2_up = h.run.phase2_up.saturating_add(t.count("phase2_up"));
        h.run.tunnels_installed = h
            .run
            .tunnels_installed
            .saturating_add(r.core.gateway().counters().tunnels_installed);
    }
    h.run
}

// ----- peer_cli -----

/// Flags and words a `peer_cli` argument vector picks from.
const WORDS: [&str; 42] = [
    "--config",
    "--outside",
    "--ike",
    "--esp",
    "--tun",
    "--tun-create",
    "--intercept",
    "--aggressive",
    "--out",
    "--control",
    "--no-debug",
    "-h",
    "--help",
    "ctl",
    "--",
    "11.11.11.1",
    "11.11.11.1:4500",
    "vectors/seed/daphne.cfg",
    "ikp0",
    "",
    "--nat-t",
    "--nat-t-port",
    "force",
    "4500",
    "client",
    "hash-password",
    "--users",
    "--gateway",
    "--group",
    "--group-key-file",
    "--user",
    "--password-file",
    "--password-env",
    "--password",
    "--password=hunter2",
    "--main-mode",
    "--local",
    "--no-routes",
    "aes256-sha1-modp1024,3des-md5-modp1024",
    "aes256-sha1",
    "ragroup",
    "--check-config",
];

/// The arguments that give `r` back.
fn render_run(r: &RunArgs) -> Vec<String> {
    let mut a = vec![
        "--config".to_owned(),
        r.config.to_string_lossy().into_owned(),
        "--tun".to_owned(),
        r.tun.clone(),
    ];
    if let Some(o) = &r.outside {
        a.extend(["--outside".to_owned(), o.clone()]);
    }
    if let Some(i) = r.ike {
        a.extend(["--ike".to_owned(), i.to_string()]);
    }
    if let Some(e) = r.esp {
        a.extend(["--esp".to_owned(), e.to_string()]);
    }
    if let Some(o) = &r.out {
        a.extend(["--out".to_owned(), o.to_string_lossy().into_owned()]);
    }
    if let Some(c) = &r.control {
        a.extend(["--control".to_owned(), c.to_string_lossy().into_owned()]);
    }
    let nat_t = match r.nat_t {
        ike_sm::NatTMode::Disabled => Some("disable"),
        ike_sm::NatTMode::Forced => Some("force"),
        _ => None,
    };
    if let Some(m) = nat_t {
        a.extend(["--nat-t".to_owned(), m.to_owned()]);
    }
    if let Some(p) = r.nat_t_port {
        a.extend(["--nat-t-port".to_owned(), p.to_string()]);
    }
    if let Some(u) = &r.users {
        a.extend(["--users".to_owned(), u.to_string_lossy().into_owned()]);
    }
    // The certificate flags (issue 14).
    let paths = r
        .cert
        .iter()
        .map(|p| ("--cert", p))
        .chain(r.private_key.iter().map(|p| ("--private-key", p)))
        .chain(r.ca.iter().map(|p| ("--ca", p)))
        .chain(r.crl.iter().map(|p| ("--crl", p)));
    for (flag, p) in paths {
        a.extend([flag.to_owned(), p.to_string_lossy().into_owned()]);
    }
    if let Some(n) = r.fragment_size {
        a.extend(["--fragment-size".to_owned(), n.to_string()]);
    }
    for (set, flag) in [
        (r.tun_create, "--tun-create"),
        (r.intercept, "--intercept"),
        (r.aggressive, "--aggressive"),
        (!r.debug, "--no-debug"),
    ] {
        if set {
            a.push(flag.to_owned());
        }
    }
    a
}

/// The arguments that give the client's `c` back.
fn render_client(c: &ClientArgs) -> Vec<String> {
    let mut a = vec![
        "client".to_owned(),
        "--gateway".to_owned(),
        c.gateway.to_string(),
        "--group".to_owned(),
        c.group.clone(),
        "--group-key-file".to_owned(),
        c.group_key_file.to_string_lossy().into_owned(),
        "--user".to_owned(),
        c.user.clone(),
        "--tun".to_owned(),
        c.tun.clone(),
    ];
    match &c.password {
        PasswordSource::File(f) => {
            a.extend([
                "--password-file".to_owned(),
                f.to_string_lossy().into_owned(),
            ]);
        }
        PasswordSource::Env(v) => a.extend(["--password-env".to_owned(), v.clone()]),
        _ => {}
    }
    for s in &c.ike {
        a.extend(["--ike".to_owned(), s.to_string()]);
    }
    for s in &c.esp {
        a.extend(["--esp".to_owned(), s.to_string()]);
    }
    if let Some(l) = c.local {
        a.extend(["--local".to_owned(), l.to_string()]);
    }
    if let Some(o) = &c.out {
        a.extend(["--out".to_owned(), o.to_string_lossy().into_owned()]);
    }
    if let Some(p) = &c.control {
        a.extend(["--control".to_owned(), p.to_string_lossy().into_owned()]);
    }
    let nat_t = match c.nat_t {
        ike_sm::NatTMode::Disabled => Some("disable"),
        ike_sm::NatTMode::Forced => Some("force"),
        _ => None,
    };
    if let Some(m) = nat_t {
        a.extend(["--nat-t".to_owned(), m.to_owned()]);
    }
    if let Some(p) = c.nat_t_port {
        a.extend(["--nat-t-port".to_owned(), p.to_string()]);
    }
    for (set, flag) in [
        (c.main_mode, "--main-mode"),
        (c.tun_create, "--tun-create"),
        (!c.debug, "--no-debug"),
        (!c.routes, "--no-routes"),
    ] {
        if set {
            a.push(flag.to_owned());
        }
    }
    a
}

/// The `peer_cli` fuzz target: the first byte splits the input between
/// an argument vector for [`cli::parse`] (bytes below 128 pick a known
/// flag or word, others start an arbitrary string) and bytes for the
/// control socket's line reader ([`control_line`]).
pub fn cli(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut args: Vec<String> = Vec::new();
    let count = byte(&mut u).map_or(0, |b| usize::from(b % 24));
    for _ in 0..count {
        let Some(b) = byte(&mut u) else { break };
        if b < 128 {
            let w = WORDS
                .get(usize::from(b) % WORDS.len())
                .copied()
                .unwrap_or("");
            args.push(w.to_owned());
        } else {
            let n = usize::from(b - 128).min(u.len());
            let bytes = u.bytes(n).unwrap_or_default();
            args.push(String::from_utf8_lossy(bytes).into_owned());
        }
    }
    check_cli(&args);
    control_line(u.take_rest());
}

fn check_cli(args: &[String]) {
    let given = |w: &str| args.iter().any(|a| a == w);
    match cli::parse(args.iter().cloned()) {
        Ok(Command::Run(r)) => {
            assert!(
                given("--config") && given("--tun"),
                "a run without --config or --tun: {args:?}"
            );
            let again = cli::parse(render_run(&r));
            assert_eq!(
                again,
                Ok(Command::Run(r.clone())),
                "the run's arguments do not parse back: {args:?}"
            );
        }
        Ok(Command::Client(c)) => {
            assert_eq!(args.first().map(String::as_str), Some("client"));
            for flag in [
                "--gateway",
                "--group",
                "--group-key-file",
                "--user",
                "--tun",
            ] {
                assert!(given(flag), "a client without {flag}: {args:?}");
            }
            let again = cli::parse(render_client(&c));
            assert_eq!(
                again,
                Ok(Command::Client(c.clone())),
                "the client's arguments do not parse back: {args:?}"
            );
        }
        Ok(Command::HashPassword) => {
            assert_eq!(args, ["hash-password"], "hash-password with arguments");
        }
        Ok(Command::Help) => {
            assert!(given("-h") || given("--help"), "help without -h: {args:?}");
        }
        Ok(Command::CheckConfig(path)) => {
            assert_eq!(args.first().map(String::as_str), Some("--check-config"));
            let again = vec![
                "--check-config".to_owned(),
                path.to_string_lossy().into_owned(),
            ];
            assert_eq!(
                cli::parse(again),
                Ok(Command::CheckConfig(path)),
                "the check's arguments do not parse back: {args:?}"
            );
        }
        Ok(Command::Ctl { control, command }) => {
            assert_eq!(args.first().map(String::as_str), Some("ctl"));
            assert!(!command.is_empty());
            let mut again = vec![
                "ctl".to_owned(),
                "--control".to_owned(),
                control.to_string_lossy().into_owned(),
                "--".to_owned(),
            ];
            again.extend(command.iter().cloned());
            assert_eq!(
                cli::parse(again),
                Ok(Command::Ctl { control, command }),
                "the ctl arguments do not parse back: {args:?}"
            );
        }
        Err(cli::CliError::Unknown(a)) => {
            assert!(given(&a), "an unknown argument that was not given: {a:?}");
        }
        Err(cli::CliError::SecretInArgv(flag)) => {
            // The error holds the flag's name only (what comes before an
            // `=`), so its text cannot repeat the value. (Checking that
            // the text does not contain each value would flag any value
            // short enough to occur in the message by chance.)
            assert!(
                !flag.contains('='),
                "a secret flag with its value: {flag:?}"
            );
            assert!(
                args.iter()
                    .any(|a| a.split('=').next() == Some(flag.as_str())),
                "a secret flag that was not given: {flag:?} in {args:?}"
            );
        }
        Err(_) => {}
    }
}

/// A stream that yields its bytes in pieces (each piece's length is the
/// byte before it), then would block or ends, and takes what is written.
struct Pieces<'a> {
    data: &'a [u8],
    eof: bool,
    delivered: Vec<u8>,
    written: Vec<u8>,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some((&len, rest)) = self.data.split_first() else {
            return if self.eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        };
        let n = usize::from(len).min(rest.len()).min(buf.len());
        let (piece, rest) = rest.split_at(n);
        if let Some(b) = buf.get_mut(..n) {
            b.copy_from_slice(piece);
        }
        self.delivered.extend_from_slice(piece);
        self.data = rest;
        if n == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        Ok(n)
    }
}

impl Write for Pieces<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The control socket's line reader over arbitrary bytes in arbitrary
/// pieces: a command is the input's bytes (without the piece lengths) up
/// to the first newline, less a trailing `\r`, valid UTF-8 and within
/// [`MAX_LINE`] (plus one read); a refusal is one of the two error
/// answers.
pub fn control_line(data: &[u8]) {
    let (eof, data) = match data.split_first() {
        Some((b, rest)) => (b & 1 == 1, rest),
        None => (true, data),
    };
    let mut c = Connection::new(Pieces {
        data,
        eof,
        delivered: Vec::new(),
        written: Vec::new(),
    });
    // Every read takes at least one byte or returns, so the input bounds
    // the rounds.
    let mut progress = Progress::Reading;
    for _ in 0..=data.len() {
        progress = c.read();
        if progress != Progress::Reading || c.stream().data.is_empty() {
            break;
        }
    }
    let delivered = c.stream().delivered.as_slice();
    match progress {
        Progress::Command(line) => {
            assert!(!line.contains('\n'), "a command with a newline: {line:?}");
            assert!(
                line.len() <= MAX_LINE + 256,
                "a {}-byte command line",
                line.len()
            );
            assert!(
                delivered.starts_with(line.as_bytes()),
                "a command that is not what was sent: {line:?}"
            );
        }
        Progress::Done => {
            let w = c.stream().written.as_slice();
            assert!(
                w.is_empty()
                    || w == b"ERROR: command line too long\n"
                    || w == b"ERROR: the command is not UTF-8\n",
                "an unexpected answer: {:?}",
                String::from_utf8_lossy(w)
            );
        }
        Progress::Reading => {}
    }
}

// ----- seeds -----

/// The seed's whole story: a ping from D1 triggers TED, Main Mode and
/// Quick Mode; pings cross both ways.
fn exchange() -> Vec<Op> {
    vec![
        Op::Plaintext(0, Plain::Ping),
        Op::DeliverAll,
        Op::DeliverAll,
        Op::DeliverAll,
        Op::Plaintext(0, Plain::Ping),
        Op::Plaintext(0, Plain::Ping),
        Op::DeliverAll,
        Op::Plaintext(1, Plain::Ping),
        Op::DeliverAll,
    ]
}

/// The seed corpus of `peer_core`: file names and programs. The committed
/// files in `fuzz/corpus/peer_core/seed_*` are these programs encoded
/// (the replay test checks it).
pub fn core_seeds() -> Vec<(&'static str, Program)> {
    let program = |seed: u64, tail: Vec<Op>| {
        let mut ops = exchange();
        ops.extend(tail);
        Program { seed, ops }
    };
    vec![
        // The exchange, every command, shutdown (Delete notifies), then
        // fred's traffic at a router that stopped.
        (
            "seed_exchange_shutdown",
            program(
                1,
                vec![
                    Op::Command(0, 0, String::new()),
                    Op::Command(0, 1, String::new()),
                    Op::Command(0, 2, String::new()),
                    Op::Command(0, 3, String::new()),
                    Op::Command(1, 4, String::new()),
                    Op::Shutdown(0),
                    Op::DeliverAll,
                    Op::Plaintext(1, Plain::Ping),
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::Time(Clock::Seconds(5)),
                    Op::DeliverAll,
                    Op::Plaintext(1, Plain::Ping),
                    Op::DeliverAll,
                ],
            ),
        ),
        // Replays, reflections, corruption, truncation, forged and
        // garbage ESP.
        (
            "seed_replays",
            program(
                2,
                vec![
                    Op::Esp(
                        1,
                        RawEsp::Replay {
                            index: 0,
                            at: 0,
                            xor: 0,
                        },
                    ),
                    Op::Esp(
                        1,
                        RawEsp::Replay {
                            index: 1,
                            at: 30,
                            xor: 1,
                        },
                    ),
                    Op::Datagram(
                        1,
                        Dgram::Replay {
                            index: 0,
                            at: 0,
                            xor: 0,
                        },
                    ),
                    Op::Datagram(
                        0,
                        Dgram::Replay {
                            index: 3,
                            at: 40,
                            xor: 0x80,
                        },
                    ),
                    Op::Datagram(
                        0,
                        Dgram::Replay {
                            index: 9,
                            at: 0,
                            xor: 0,
                        },
                    ),
                    Op::DeliverAll,
                    Op::Plaintext(0, Plain::Ping),
                    Op::Duplicate(0),
                    Op::Duplicate(0),
                    Op::Corrupt {
                        index: 2,
                        at: 40,
                        xor: 4,
                    },
                    Op::DeliverAll,
                    Op::Plaintext(0, Plain::Ping),
                    Op::Truncate { index: 0, len: 30 },
                    Op::DeliverAll,
                    Op::Esp(
                        1,
                        RawEsp::Forged {
                            spi: 0,
                            sequence: 1,
                            body: vec![0; 40],
                        },
                    ),
                    Op::Esp(
                        1,
                        RawEsp::Forged {
                            spi: 255,
                            sequence: 0,
                            body: vec![1; 8],
                        },
                    ),
                    Op::Esp(
                        0,
                        RawEsp::Header {
                            version_ihl: 0x4f,
                            total_length: 20,
                            protocol: 50,
                            body: vec![0; 12],
                        },
                    ),
                    Op::Esp(
                        0,
                        RawEsp::Header {
                            version_ihl: 0x45,
                            total_length: 0xffff,
                            protocol: 50,
                            body: vec![0; 12],
                        },
                    ),
                    Op::Esp(0, RawEsp::Bytes(vec![0x45, 0, 0])),
                    Op::Datagram(
                        1,
                        Dgram::Bytes {
                            local: 3,
                            remote: 2,
                            port: 500,
                            payload: vec![0; 28],
                        },
                    ),
                    Op::Plaintext(
                        1,
                        Plain::Udp {
                            destination: 0,
                            source_port: 53,
                            destination_port: 53,
                            payload: b"x".to_vec(),
                        },
                    ),
                    Op::Plaintext(
                        0,
                        Plain::Flow {
                            source: 0,
                            destination: 11,
                            protocol: 6,
                            payload: vec![0; 20],
                        },
                    ),
                    Op::Plaintext(0, Plain::Raw(vec![0x45, 0, 0, 20])),
                    Op::DeliverAll,
                ],
            ),
        ),
        // Time: expiry and rekeying, huge jumps, rediscovery, clear.
        (
            "seed_time",
            program(
                3,
                vec![
                    Op::Time(Clock::Jump(5)),
                    Op::DeliverAll,
                    Op::Time(Clock::NextTimer),
                    Op::DeliverAll,
                    Op::Time(Clock::Jump(2)),
                    Op::DeliverAll,
                    Op::Plaintext(0, Plain::Ping),
                    Op::DeliverAll,
                    Op::Time(Clock::Hours(65535)),
                    Op::Plaintext(0, Plain::Ping),
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::Time(Clock::Millis(100)),
                    Op::Command(1, 5, String::new()),
                    Op::DeliverAll,
                    Op::Plaintext(1, Plain::Ping),
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::Shutdown(1),
                    Op::Shutdown(1),
                ],
            ),
        ),
        // Control lines: arbitrary arguments and text.
        (
            "seed_commands",
            program(
                4,
                vec![
                    Op::Command(0, 0, "detail".to_owned()),
                    Op::Command(1, 6, "now please".to_owned()),
                    Op::Line(0, String::new()),
                    Op::Line(0, "  show   crypto  map ".to_owned()),
                    Op::Line(1, "show crypto".to_owned()),
                    Op::Line(1, "\u{0}\u{7f}é clear".to_owned()),
                    Op::DeliverAll,
                    Op::Command(0, 5, String::new()),
                    Op::DeliverAll,
                ],
            ),
        ),
    ]
}

/// The seed corpus of `peer_cli`: the harness's command line, the `ctl`
/// client's, and a control line in pieces.
pub fn cli_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let word = |w: &str| u8::try_from(WORDS.iter().position(|x| *x == w).unwrap_or(0)).unwrap_or(0);
    let free = |out: &mut Vec<u8>, s: &str| {
        out.push(128 + u8::try_from(s.len().min(127)).unwrap_or(127));
        out.extend_from_slice(s.as_bytes().get(..s.len().min(127)).unwrap_or_default());
    };
    let mut run = vec![12];
    for w in [
        "--config",
        "vectors/seed/daphne.cfg",
        "--tun",
        "ikp0",
        "--ike",
        "11.11.11.1:4500",
        "--esp",
        "11.11.11.1",
        "--aggressive",
        "--no-debug",
    ] {
        run.push(word(w));
    }
    free(&mut run, "--out");
    free(&mut run, "/tmp/out");
    let mut ctl = vec![7, word("ctl"), word("--control")];
    free(&mut ctl, "/run/p.ctl");
    ctl.push(word("--"));
    free(&mut ctl, "show");
    free(&mut ctl, "crypto");
    free(&mut ctl, "map");
    // No arguments; a control line in three pieces, then the end.
    let mut line = vec![0, 1, 5];
    line.extend_from_slice(b"show ");
    line.push(7);
    line.extend_from_slice(b"crypto ");
    line.push(11);
    line.extend_from_slice(b"isakmp sa\r\n");
    vec![("seed_run", run), ("seed_ctl", ctl), ("seed_line", line)]
}
