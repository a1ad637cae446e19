//! An IOS-style debug log: structured records, rendered like the output of
//! `debug crypto isakmp` / `debug crypto ipsec` on IOS 12.2 with `service
//! timestamps debug datetime msec`.
//!
//! Data and rendering are separate. A [`Record`] is a time (the caller's
//! [`Instant`], the same clock everything else runs on) and a [`LogEvent`]
//! holding the structured event as the crate produced it; a [`Renderer`]
//! turns records into text with a wall-clock base of the operator's
//! choosing, so that a simulated run can print `*Mar  1 02:07:18.850:` as
//! the seed does. [`DebugLog`] collects records and hands out the
//! connection IDs IOS prints as `ISAKMP (0:1)`.
//!
//! Present: the TED events of [`crate::discovery`]; the steps of the IKE
//! engine ([`ike_sm::TraceEvent`], `debug crypto isakmp`) in
//! [`LogEvent::Isakmp`]; and the IPsec SA events of the gateway (`debug
//! crypto ipsec`: "Creating IPSec SAs", `IPSEC(initialize_sas)`,
//! `IPSEC(create_sa)`, `IPSEC(delete_sa)`) in [`LogEvent::IpsecSas`]. The
//! crate-private `KeyEngineMessage` is the shared shape of IOS's multi-line
//! `IPSEC(...)` messages.
//!
//! Every line the seed shows for TED is rendered as the seed shows it
//! (whitespace restored to IOS's layout, which the seed document collapsed;
//! where IOS's exact indentation is not visible in the seed, this module
//! follows the layout of IOS 12.2 debug output as commonly reproduced).
//! Lines for events the seed does not show (retransmission, giving up, a
//! dropped probe or response) follow IOS's Main Mode wording where one
//! exists, otherwise they are this project's own and say so in their
//! rendering function's documentation.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ike_sm::{IsakmpState, TraceAttribute, TraceEvent, TraceValue, VendorKind};
use isakmp_wire::{EspTransformId, PayloadType};

use crate::acl::ProxyIdent;
use crate::config::{Transform, TransformKind};
use crate::discovery::{DiscoveryId, Event};

/// The month names IOS prints.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A wall-clock time with millisecond resolution, the base a log's
/// timestamps count from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallClock {
    /// Milliseconds since 0000-03-01 00:00:00 of the proleptic Gregorian
    /// calendar (a March-based era makes leap days fall at the end).
    millis: u64,
}

/// A date or time of day out of range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WallClockError {
    /// No such date or time.
    #[error(
        "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{millisecond:03} is not a valid time"
    )]
    Invalid {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
        /// Hour.
        hour: u8,
        /// Minute.
        minute: u8,
        /// Second.
        second: u8,
        /// Millisecond.
        millisecond: u16,
    },
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 0000-03-01 to the date (Howard Hinnant's `days_from_civil`,
/// shifted to a non-negative era).
pub(crate) const fn days_from_civil(year: u64, month: u8, day: u8) -> u64 {
    let (y, m) = if month <= 2 {
        (year.saturating_sub(1), month as u64 + 9)
    } else {
        (year, month as u64 - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day as u64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

/// The date of a day count from 0000-03-01: (year, month, day).
pub(crate) fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let era = days / 146_097;
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

impl WallClock {
    /// The clock an IOS router without a calendar starts with: March 1,
    /// 1993, midnight (shown with a `*`, "not authoritative").
    pub const IOS_DEFAULT: Self = Self {
        millis: days_from_civil(1993, 3, 1) * 86_400_000,
    };

    /// A wall-clock time.
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        millisecond: u16,
    ) -> Result<Self, WallClockError> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(u64::from(year), month)
            && hour < 24
            && minute < 60
            && second < 60
            && millisecond < 1000;
        if !valid {
            return Err(WallClockError::Invalid {
                year,
                month,
                day,
                hour,
                minute,
                second,
                millisecond,
            });
        }
        let days = days_from_civil(u64::from(year), month, day);
        let seconds = u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second);
        Ok(Self {
            millis: days * 86_400_000 + seconds * 1000 + u64::from(millisecond),
        })
    }

    /// The time `offset` later (sub-millisecond parts are dropped).
    #[must_use]
    pub fn after(self, offset: Duration) -> Self {
        let ms = u64::try_from(offset.as_millis()).unwrap_or(u64::MAX);
        Self {
            millis: self.millis.saturating_add(ms),
        }
    }

    /// (year, month, day, hour, minute, second, millisecond).
    pub fn parts(self) -> (u64, u8, u8, u8, u8, u8, u16) {
        let days = self.millis / 86_400_000;
        let rest = self.millis % 86_400_000;
        let (year, month, day) = civil_from_days(days);
        let ms = rest % 1000;
        let secs = rest / 1000;
        // Each value is below 24, 60, 60 or 1000 by construction.
        let small = |v: u64| u8::try_from(v).unwrap_or(0);
        (
            year,
            month,
            day,
            small(secs / 3600),
            small(secs / 60 % 60),
            small(secs % 60),
            u16::try_from(ms).unwrap_or(0),
        )
    }
}

impl fmt::Display for WallClock {
    /// IOS's `datetime msec` form: `Mar  1 02:07:18.850`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (_, month, day, h, m, s, ms) = self.parts();
        let name = MONTHS
            .get(usize::from(month).saturating_sub(1))
            .copied()
            .unwrap_or("???");
        write!(f, "{name} {day:>2} {h:02}:{m:02}:{s:02}.{ms:03}")
    }
}

/// The mark IOS puts before a timestamp: how far the clock can be trusted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClockMark {
    /// `*`: the clock was never set (the seed's routers).
    #[default]
    NotSet,
    /// `.`: the clock was set but lost synchronisation.
    Unsynchronized,
    /// No mark: synchronised.
    Synchronized,
}

impl ClockMark {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotSet => "*",
            Self::Unsynchronized => ".",
            Self::Synchronized => "",
        }
    }
}

/// Which side of an exchange a router is: the IKE engine's type, which
/// displays as IOS prints it, `(I)` or `(R)`.
pub use ike_sm::Role;

/// One structured log event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEvent {
    /// A TED event; `conn_id` is the connection ID IOS gives the TED "SA"
    /// (0 for a datagram that never got one).
    Discovery {
        /// The connection ID.
        conn_id: u32,
        /// The event.
        event: Event,
    },
    /// The TED "SA" is deleted once the exchange is over (IOS: "delete_me
    /// flag/throw"). The initiator logs it after Main Mode's first message
    /// has gone out, so the gateway records it then.
    DiscoverySaDeleted {
        /// The connection ID.
        conn_id: u32,
        /// Which side.
        role: Role,
        /// The peer IOS names: the probed host on the initiator, the
        /// initiator's address on the responder.
        peer: Ipv4Addr,
    },
    /// The initiator follows a discovery with IKE: "initiating IKE to
    /// 11.11.11.2 in response to probe", "created new SA after
    /// peer-discovery".
    DiscoveryFollowed {
        /// The TED exchange's connection ID.
        conn_id: u32,
        /// The discovered peer.
        peer: Ipv4Addr,
    },
    /// A step of the IKE engine (`debug crypto isakmp`), with the IOS
    /// connection ID of its ISAKMP SA (0 before one exists).
    Isakmp {
        /// The connection ID.
        conn_id: u32,
        /// Whether the step belongs to a Quick Mode (phase 2): IOS words
        /// "atts are acceptable" differently in the two phases.
        quick_mode: bool,
        /// The step.
        event: ike_sm::TraceEvent,
    },
    /// An IPsec SA pair event of the gateway (`debug crypto ipsec`).
    IpsecSas {
        /// What happened.
        kind: IpsecSaLogKind,
        /// The pair.
        pair: Box<IpsecSaPairLog>,
    },
}

/// What happened to an IPsec SA pair, for [`LogEvent::IpsecSas`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpsecSaLogKind {
    /// Quick Mode is done: "ISAKMP (0:2): Creating IPSec SAs" with both
    /// directions, their SPIs, crypto engine connection IDs and lifetimes.
    Creating,
    /// The crypto engine installed both SAs: `IPSEC(key_engine)`,
    /// `IPSEC(initialize_sas)` for each direction, `IPSEC(create_sa)` for
    /// each SA.
    Installed,
    /// Both SAs were removed (expiry, a Delete, an operator's clear):
    /// `IPSEC(delete_sa)` for each SA.
    Deleted,
}

/// One pair of IPsec SAs as the IPsec debug lines show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpsecSaPairLog {
    /// The connection ID of the ISAKMP SA that negotiated it.
    pub isakmp_conn_id: u32,
    /// This router's end (the crypto map's address).
    pub local: Ipv4Addr,
    /// The peer's end.
    pub remote: Ipv4Addr,
    /// The local proxy.
    pub local_proxy: ProxyIdent,
    /// The remote proxy.
    pub remote_proxy: ProxyIdent,
    /// The transforms as IOS names them (`esp-des esp-md5-hmac`).
    pub transforms: Vec<Transform>,
    /// Lifetime in seconds.
    pub seconds: u64,
    /// Lifetime in kilobytes.
    pub kilobytes: u64,
    /// The inbound SPI (this router's choice).
    pub inbound_spi: u32,
    /// The outbound SPI (the peer's choice).
    pub outbound_spi: u32,
    /// The crypto engine connection ID of the inbound SA (2000 in the seed).
    pub inbound_conn_id: u32,
    /// That of the outbound SA (2001 in the seed).
    pub outbound_conn_id: u32,
}

/// A log record: when and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// When (the caller's clock).
    pub at: Instant,
    /// What.
    pub event: LogEvent,
}

/// Collects records and hands out IOS connection IDs.
///
/// IOS numbers its ISAKMP "SAs" from 1, the TED exchange included (the
/// seed's discovery is `(0:1)`, the Main Mode after it `(0:2)`). One
/// counter serves both so that a gateway's log numbers them as IOS does.
#[derive(Clone, Debug)]
pub struct DebugLog {
    records: VecDeque<Record>,
    max_records: usize,
    dropped: u64,
    next_conn_id: u32,
    discovery_conn: BTreeMap<DiscoveryId, u32>,
}

impl Default for DebugLog {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_RECORDS)
    }
}

impl DebugLog {
    /// How many records a log keeps unless told otherwise.
    pub const DEFAULT_MAX_RECORDS: usize = 100_000;

    /// A log keeping the latest `max_records` records.
    pub fn new(max_records: usize) -> Self {
        Self {
            records: VecDeque::new(),
            max_records,
            dropped: 0,
            next_conn_id: 1,
            discovery_conn: BTreeMap::new(),
        }
    }

    /// A fresh connection ID.
    pub fn allocate_conn_id(&mut self) -> u32 {
        let id = self.next_conn_id;
        self.next_conn_id = self.next_conn_id.saturating_add(1);
        id
    }

    /// The connection ID of a discovery (allocated on first use).
    pub fn discovery_conn_id(&mut self, id: DiscoveryId) -> u32 {
        if let Some(c) = self.discovery_conn.get(&id) {
            return *c;
        }
        let c = self.allocate_conn_id();
        self.discovery_conn.insert(id, c);
        c
    }

    /// Records a TED event, with the connection ID of its discovery.
    pub fn record_discovery(&mut self, at: Instant, event: Event) {
        let conn_id = discovery_id(&event).map_or(0, |id| self.discovery_conn_id(id));
        self.push(Record {
            at,
            event: LogEvent::Discovery { conn_id, event },
        });
    }

    /// Records any event.
    pub fn push(&mut self, record: Record) {
        if self.max_records == 0 {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        while self.records.len() >= self.max_records {
            self.records.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.records.push_back(record);
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &Record> + '_ {
        self.records.iter()
    }

    /// How many records were discarded to stay within the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The discovery an event belongs to.
fn discovery_id(event: &Event) -> Option<DiscoveryId> {
    match event {
        Event::Started { id, .. } | Event::ProbeSent { id, .. } | Event::GaveUp { id, .. } => {
            Some(*id)
        }
        Event::Discovered(d) => Some(d.id),
        Event::ProbeReceived(p) => Some(p.id),
        Event::ProbeAnswered(a) => Some(a.id),
        Event::ResponseDropped { id, .. } | Event::ProbeDropped { id, .. } => *id,
    }
}

/// Turns records into IOS-style lines.
#[derive(Clone, Copy, Debug)]
pub struct Renderer {
    base: WallClock,
    origin: Instant,
    mark: ClockMark,
}

impl Renderer {
    /// A renderer printing `origin` as `base`, with IOS's `*` mark.
    pub fn new(base: WallClock, origin: Instant) -> Self {
        Self {
            base,
            origin,
            mark: ClockMark::NotSet,
        }
    }

    /// The same renderer with another clock mark.
    #[must_use]
    pub fn with_mark(mut self, mark: ClockMark) -> Self {
        self.mark = mark;
        self
    }

    /// The timestamp of an instant: `*Mar  1 02:07:18.850`. Instants before
    /// the origin print as the origin.
    pub fn timestamp(&self, at: Instant) -> String {
        let offset = at.saturating_duration_since(self.origin);
        format!("{}{}", self.mark.as_str(), self.base.after(offset))
    }

    /// The lines of one record. Each message starts with the timestamp;
    /// its continuation lines (IOS's indented ones) do not.
    pub fn render(&self, record: &Record) -> Vec<String> {
        let stamp = self.timestamp(record.at);
        let mut out = Vec::new();
        for message in messages(&record.event) {
            let mut lines = message.lines();
            if let Some(first) = lines.next() {
                out.push(format!("{stamp}: {first}"));
            }
            out.extend(lines.map(str::to_owned));
        }
        out
    }

    /// All records, one line each, newline-terminated.
    pub fn render_all<'a>(&self, records: impl IntoIterator<Item = &'a Record>) -> String {
        let mut text = String::new();
        for record in records {
            for line in self.render(record) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    }
}

/// The IOS messages (each possibly multi-line) an event stands for.
fn messages(event: &LogEvent) -> Vec<String> {
    match event {
        LogEvent::Discovery { conn_id, event } => discovery_messages(*conn_id, event),
        LogEvent::DiscoverySaDeleted {
            conn_id,
            role,
            peer,
        } => vec![
            format!("ISAKMP (0:{conn_id}): peer does not do paranoid keepalives."),
            format!(
                "ISAKMP (0:{conn_id}): deleting SA reason \"delete_me flag/throw\" state {role} PEER_DISCOVERY (peer {peer}) input queue 0"
            ),
        ],
        LogEvent::DiscoveryFollowed { conn_id, peer } => vec![
            format!("ISAKMP (0:{conn_id}): initiating IKE to {peer} in response to probe."),
            format!(
                "ISAKMP: local port {}, remote port {}",
                isakmp_wire::ted::IKE_PORT,
                isakmp_wire::ted::IKE_PORT
            ),
            format!("ISAKMP (0:{conn_id}): created new SA after peer-discovery with {peer}"),
        ],
        LogEvent::Isakmp {
            conn_id,
            quick_mode,
            event,
        } => isakmp_messages(*conn_id, *quick_mode, event),
        LogEvent::IpsecSas { kind, pair } => ipsec_messages(*kind, pair),
    }
}

/// `addr/mask/prot/port (type=N)` as IOS's key engine messages print a
/// proxy: type 1 for a host, 4 for a subnet.
fn proxy_with_type(p: &ProxyIdent) -> String {
    format!("{p} (type={})", id_type(p))
}

fn id_type(p: &ProxyIdent) -> u8 {
    if p.is_host() { 1 } else { 4 }
}

/// A multi-line `IPSEC(...)` key engine message, as IOS 12.2 prints
/// `tunnel discover request`, `validate_proposal_request` and
/// `initialize_sas`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyEngineMessage<'a> {
    /// `tunnel discover request`, `validate_proposal_request`, ...
    pub(crate) kind: &'a str,
    /// What follows the colon on the first line (`proposal part #1` or
    /// nothing).
    pub(crate) detail: &'a str,
    /// `INBOUND` or `OUTBOUND`.
    pub(crate) direction: &'a str,
    pub(crate) local: Ipv4Addr,
    pub(crate) remote: Ipv4Addr,
    pub(crate) local_proxy: ProxyIdent,
    pub(crate) remote_proxy: ProxyIdent,
    pub(crate) transforms: &'a [Transform],
    pub(crate) seconds: u64,
    pub(crate) kilobytes: u64,
    pub(crate) spi: u32,
    pub(crate) conn_id: u32,
    pub(crate) flags: u32,
    /// An extra continuation line (`dest=FastEthernet0/0:11.11.11.2`).
    pub(crate) trailer: Option<String>,
}

impl fmt::Display for KeyEngineMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = if self.transforms.iter().any(|t| {
            matches!(
                t.kind(),
                TransformKind::EspEncryption | TransformKind::EspAuthentication
            )
        }) {
            "ESP"
        } else if self
            .transforms
            .iter()
            .any(|t| t.kind() == TransformKind::Ah)
        {
            "AH"
        } else {
            "PCP"
        };
        writeln!(f, "IPSEC({}): {},", self.kind, self.detail)?;
        writeln!(
            f,
            "  (key eng. msg.) {} local= {}, remote= {},",
            self.direction, self.local, self.remote
        )?;
        writeln!(
            f,
            "    local_proxy= {},",
            proxy_with_type(&self.local_proxy)
        )?;
        writeln!(
            f,
            "    remote_proxy= {},",
            proxy_with_type(&self.remote_proxy)
        )?;
        f.write_str("    protocol= ")?;
        f.write_str(protocol)?;
        f.write_str(", transform= ")?;
        for t in self.transforms {
            write!(f, "{t} ")?;
        }
        writeln!(f, ",")?;
        writeln!(
            f,
            "    lifedur= {}s and {}kb,",
            self.seconds, self.kilobytes
        )?;
        write!(
            f,
            "    spi= 0x{:X}({}), conn_id= {}, keysize= 0, flags= 0x{:X}",
            self.spi, self.spi, self.conn_id, self.flags
        )?;
        if let Some(t) = &self.trailer {
            write!(f, "\n    {t}")?;
        }
        Ok(())
    }
}

/// IOS's numbers for a transform set in "protocol 3, transform 2, hmac 1":
/// the IPsec DOI protocol (RFC 2407 s.4.4.1: AH 2, ESP 3), the ESP (or AH)
/// transform ID (s.4.4.4 / s.4.4.3) and the authentication algorithm
/// (s.4.5: HMAC-MD5 1, HMAC-SHA 2; RFC 4868: SHA2-256 5, -384 6, -512 7).
fn doi_numbers(transforms: &[Transform]) -> (u8, u8, u8) {
    let mut protocol = 0;
    let mut transform = 0;
    let mut hmac = 0;
    for t in transforms {
        match t {
            Transform::EspDes => (protocol, transform) = (3, 2),
            Transform::Esp3des => (protocol, transform) = (3, 3),
            Transform::EspNull => (protocol, transform) = (3, 11),
            Transform::EspAes(_) => (protocol, transform) = (3, 12),
            Transform::EspGcm(_) => (protocol, transform) = (3, 20),
            Transform::EspMd5Hmac => hmac = 1,
            Transform::EspShaHmac => hmac = 2,
            Transform::EspSha256Hmac => hmac = 5,
            Transform::EspSha384Hmac => hmac = 6,
            Transform::EspSha512Hmac => hmac = 7,
            _ => {}
        }
        if protocol == 0 {
            match t {
                Transform::AhMd5Hmac => (protocol, transform, hmac) = (2, 2, 1),
                Transform::AhShaHmac => (protocol, transform, hmac) = (2, 3, 2),
                Transform::AhSha256Hmac => (protocol, transform, hmac) = (2, 5, 5),
                Transform::AhSha384Hmac => (protocol, transform, hmac) = (2, 6, 6),
                Transform::AhSha512Hmac => (protocol, transform, hmac) = (2, 7, 7),
                _ => {}
            }
        }
    }
    (protocol, transform, hmac)
}

/// IOS's multi-line dump of an ID payload it builds (IPv4 address, UDP
/// port 500: body 8 bytes, payload 12).
fn id_payload_dump(conn_id: u32, next_payload: u8, port: u16) -> [String; 2] {
    id_payload_dump_with(conn_id, next_payload, 1, 17, port, 8)
}

/// The same for any ID: `length` is the ID body's (identification data
/// plus 4), the payload adds its 4-byte generic header.
fn id_payload_dump_with(
    conn_id: u32,
    next_payload: u8,
    id_type: u8,
    protocol: u8,
    port: u16,
    length: usize,
) -> [String; 2] {
    [
        format!(
            "ISAKMP ({conn_id}): ID payload\n\
             \tnext-payload : {next_payload}\n\
             \ttype         : {id_type}\n\
             \tprotocol     : {protocol}\n\
             \tport         : {port}\n\
             \tlength       : {length}"
        ),
        format!(
            "ISAKMP ({conn_id}): Total payload length: {}",
            length.saturating_add(4)
        ),
    ]
}

fn net(p: &ProxyIdent) -> String {
    format!("{}/{}", p.address, p.mask)
}

/// The messages of a TED event, as the seed's trace shows them.
fn discovery_messages(c: u32, event: &Event) -> Vec<String> {
    let mut m = Vec::new();
    match event {
        Event::Started {
            trigger,
            source,
            destination,
            ..
        } => {
            let (protocol, transform, hmac) = doi_numbers(&trigger.transforms);
            let host = ProxyIdent {
                address: trigger.local_address,
                mask: Ipv4Addr::BROADCAST,
                protocol: crate::acl::IpProtocol(0),
                port: 0,
            };
            // IOS's quirk, kept: the request names this router's own
            // address as the remote proxy, and the next hop as `dest`.
            m.push(
                KeyEngineMessage {
                    kind: "tunnel discover request",
                    detail: "",
                    direction: "INBOUND",
                    local: trigger.packet_source,
                    remote: trigger.packet_destination,
                    local_proxy: trigger.local_proxy,
                    remote_proxy: host,
                    transforms: &trigger.transforms,
                    seconds: u64::from(trigger.lifetime.seconds),
                    kilobytes: trigger.lifetime.kilobytes,
                    spi: 0,
                    conn_id: 0,
                    flags: 0x4004,
                    trailer: trigger
                        .via
                        .as_ref()
                        .map(|v| format!("dest={}:{}", v.interface, v.next_hop)),
                }
                .to_string(),
            );
            m.push("ISAKMP: received ke message (1/1)".into());
            m.push("ISAKMP: GOT A PEER DISCOVERY MESSAGE FROM THE SA MANAGER!!!".into());
            m.push(format!(
                "src = {} to {}, protocol {protocol}, transform {transform}, hmac {hmac}",
                trigger.packet_source, trigger.packet_destination
            ));
            m.push(format!(
                "proxy source is {} and my address (not used now) is {}",
                net(&trigger.local_proxy),
                trigger.local_address
            ));
            m.push(format!(
                "ISAKMP: local port {}, remote port {}",
                source.port(),
                destination.port()
            ));
            m.push(format!("ISAKMP (0:{c}): no idb in request"));
            m.extend(id_payload_dump(c, 5, source.port()));
            m.push(format!("1st ID is {}", trigger.local_address));
            m.push(format!("2nd ID is {}", net(&trigger.local_proxy)));
            m.push(format!("ISAKMP (0:{c}): beginning peer discovery exchange"));
        }
        Event::ProbeSent {
            destination,
            attempt,
            via,
            ..
        } => {
            if *attempt > 0 {
                // IOS's wording for a phase-1 retransmission.
                m.push(format!(
                    "ISAKMP (0:{c}): retransmitting phase 1 PEER_DISCOVERY..."
                ));
                m.push(format!(
                    "ISAKMP (0:{c}): incrementing error counter on sa: retransmit phase 1"
                ));
                m.push(format!(
                    "ISAKMP (0:{c}): retransmitting phase 1 PEER_DISCOVERY"
                ));
            }
            let mut line = format!(
                "ISAKMP (0:{c}): sending packet to {} (I) PEER_DISCOVERY",
                destination.ip()
            );
            if let Some(v) = via {
                let _ = write!(line, " via {}:{}", v.interface, v.next_hop);
            }
            m.push(line);
        }
        Event::Discovered(d) => {
            m.push(format!(
                "ISAKMP (0:{c}): received packet from {} (I) PEER_DISCOVERY",
                d.response_source.ip()
            ));
            m.push(format!("ISAKMP (0:{c}): processing vendor id payload"));
            if d.ios_vendor {
                m.push(format!("ISAKMP (0:{c}): speaking to another IOS box!"));
            }
            m.push(format!(
                "ISAKMP (0:{c}): processing ID payload. message ID = 0"
            ));
            m.push(format!(
                "ISAKMP:received payload type {}",
                d.proxy_payload_type.0
            ));
            m.push(format!(
                "ISAKMP (0:{c}): received response to my peer discovery probe!"
            ));
            m.push(format!(
                "ISAKMP (0:{c}): ted negotiated proxies: {} {}:{}, {}:{}",
                d.local_proxy.protocol.0,
                net(&d.local_proxy),
                d.local_proxy.port,
                net(&d.remote_proxy),
                d.remote_proxy.port
            ));
        }
        Event::GaveUp { destination, .. } => {
            // IOS's wording for a phase-1 exchange that ran out of
            // retransmissions.
            m.push(format!(
                "ISAKMP (0:{c}): deleting SA reason \"death by retransmission P1\" state (I) PEER_DISCOVERY (peer {destination}) input queue 0"
            ));
        }
        Event::ResponseDropped { source, reason, .. } => {
            m.push(format!(
                "ISAKMP (0:{c}): received packet from {} (I) PEER_DISCOVERY",
                source.ip()
            ));
            // This project's own line: IOS's wording is not known.
            m.push(format!(
                "ISAKMP (0:{c}): dropping peer discovery response: {reason}"
            ));
        }
        Event::ProbeReceived(p) => {
            m.push(format!(
                "ISAKMP (0:0): received packet from {} (N) NEW SA",
                p.source.ip()
            ));
            m.push(format!(
                "ISAKMP: local port {}, remote port {}",
                p.destination.port(),
                p.source.port()
            ));
            m.push(format!("ISAKMP (0:{c}): processing vendor id payload"));
            if p.ios_vendor {
                m.push(format!("ISAKMP (0:{c}): speaking to another IOS box!"));
            }
            // The seed prints a garbage message ID for the second ID; both
            // are 0 on the wire.
            for _ in 0..2 {
                m.push(format!(
                    "ISAKMP (0:{c}): processing ID payload. message ID = 0"
                ));
            }
            if let Some(proxy) = &p.proxy {
                let kind = if proxy.is_host() {
                    "ID_IPV4_ADDR"
                } else {
                    "ID_IPV4_ADDR_SUBNET"
                };
                let shown = if proxy.is_host() {
                    proxy.address.to_string()
                } else {
                    net(proxy)
                };
                m.push(format!(
                    "ISAKMP ({c}): {kind} src {shown} prot {} port {}",
                    proxy.protocol.0, proxy.port
                ));
            }
            for _ in 0..p.extra_vendor_ids {
                m.push(format!("ISAKMP (0:{c}): processing vendor id payload"));
            }
        }
        Event::ProbeAnswered(a) => {
            let peer = a.response_destination.ip();
            m.push(format!(
                "ISAKMP (0:{c}): responding to peer discovery probe!"
            ));
            m.push(format!("peer's address is {peer}"));
            // The probe carries no destination proxy: IOS prints type 0.
            m.push(format!(
                "src (him) {}, {} to dst (me) 0, 0.0.0.0/0.0.0.0",
                id_type(&a.initiator_proxy),
                net(&a.initiator_proxy)
            ));
            // IOS names the addresses from the exchange's point of view:
            // "source" is the peer, "dest" this router.
            m.push(format!(
                "ISAKMP (0:{c}): peer can handle TED V3: changing source to {peer} and dest to {}",
                a.response_source.ip()
            ));
            m.extend(id_payload_dump(
                c,
                a.proxy_payload_type.0,
                a.response_source.port(),
            ));
            m.push(format!(
                "ISAKMP (0:{c}): sending packet to {peer} (R) PEER_DISCOVERY"
            ));
            m.push(format!(
                "ISAKMP (0:{c}): peer does not do paranoid keepalives."
            ));
            m.push(format!(
                "ISAKMP (0:{c}): deleting SA reason \"delete_me flag/throw\" state (R) PEER_DISCOVERY (peer {peer}) input queue 0"
            ));
            m.push(format!(
                "ISAKMP (0:{c}): deleting node 0 error TRUE reason \"delete_me flag/throw\""
            ));
        }
        Event::ProbeDropped {
            id,
            source,
            destination,
            reason,
        } => {
            if id.is_none() {
                m.push(format!(
                    "ISAKMP (0:0): received packet from {} (N) NEW SA",
                    source.ip()
                ));
            }
            // This project's own line: IOS's wording is not known.
            m.push(format!(
                "ISAKMP (0:{c}): not responding to peer discovery probe from {} for {}: {reason}",
                source.ip(),
                destination.ip()
            ));
        }
    }
    m
}

/// A 32-bit value as IOS's `%d` prints it: message IDs and outbound SPIs
/// above 2^31 come out negative (the seed's "has spi -1535570016").
fn signed(value: u32) -> i32 {
    i32::from_be_bytes(value.to_be_bytes())
}

/// The payload names of IOS's "processing X payload" lines.
fn payload_name(payload: PayloadType) -> String {
    match payload {
        PayloadType::SA => "SA".into(),
        PayloadType::KEY_EXCHANGE => "KE".into(),
        PayloadType::IDENTIFICATION => "ID".into(),
        PayloadType::CERTIFICATE => "CERT".into(),
        PayloadType::CERTIFICATE_REQUEST => "CERT_REQ".into(),
        PayloadType::HASH => "HASH".into(),
        PayloadType::SIGNATURE => "SIG".into(),
        PayloadType::NONCE => "NONCE".into(),
        PayloadType::NOTIFICATION => "NOTIFY".into(),
        PayloadType::DELETE => "DELETE".into(),
        PayloadType::VENDOR_ID => "vendor id".into(),
        other => other.to_string(),
    }
}

/// A variable-length attribute value as IOS prints it: "0x0 0x1 0x51 0x80".
fn vpi(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One phase-1 attribute line (RFC 2409 Appendix A classes), worded as IOS
/// 12.2 words them after "Checking ISAKMP transform".
fn phase1_attribute(a: &TraceAttribute) -> String {
    let basic = match a.value {
        TraceValue::Basic(v) => Some(v),
        TraceValue::Variable(_) => None,
    };
    let text = match (a.attribute_type, basic) {
        (1, Some(v)) => format!(
            "encryption {}",
            match v {
                1 => "DES-CBC".to_owned(),
                2 => "IDEA-CBC".to_owned(),
                3 => "BLOWFISH-CBC".to_owned(),
                4 => "RC5-R16-B64-CBC".to_owned(),
                5 => "3DES-CBC".to_owned(),
                6 => "CAST-CBC".to_owned(),
                7 => "AES-CBC".to_owned(),
                other => other.to_string(),
            }
        ),
        (2, Some(v)) => format!(
            "hash {}",
            match v {
                1 => "MD5".to_owned(),
                2 => "SHA".to_owned(),
                3 => "Tiger".to_owned(),
                4 => "SHA256".to_owned(),
                5 => "SHA384".to_owned(),
                6 => "SHA512".to_owned(),
                other => other.to_string(),
            }
        ),
        (3, Some(v)) => format!(
            "auth {}",
            match v {
                1 => "pre-share".to_owned(),
                2 => "DSS".to_owned(),
                3 => "RSA sig".to_owned(),
                4 => "RSA encr".to_owned(),
                5 => "RSA revised encr".to_owned(),
                other => other.to_string(),
            }
        ),
        (4, Some(v)) => format!("default group {v}"),
        (11, Some(1)) => "life type in seconds".to_owned(),
        (11, Some(2)) => "life type in kilobytes".to_owned(),
        (12, Some(v)) => format!("life duration (basic) of {v}"),
        (14, Some(v)) => format!("keylength of {v}"),
        (t, _) => match &a.value {
            TraceValue::Variable(bytes) if t == 12 => {
                format!("life duration (VPI) of  {}", vpi(bytes))
            }
            TraceValue::Variable(bytes) => format!("attribute {t} (VPI) of  {}", vpi(bytes)),
            TraceValue::Basic(v) => format!("attribute {t} of {v}"),
        },
    };
    format!("ISAKMP:      {text}")
}

/// One IPsec DOI attribute line (RFC 2407 s.4.5), worded as IOS 12.2 words
/// them under "attributes in transform".
fn ipsec_attribute(a: &TraceAttribute) -> String {
    let basic = match a.value {
        TraceValue::Basic(v) => Some(v),
        TraceValue::Variable(_) => None,
    };
    let text = match (a.attribute_type, basic) {
        (1, Some(1)) => "SA life type in seconds".to_owned(),
        (1, Some(2)) => "SA life type in kilobytes".to_owned(),
        (2, Some(v)) => format!("SA life duration (basic) of {v}"),
        (3, Some(v)) => format!("group is {v}"),
        (4, Some(v)) => format!("encaps is {v}"),
        (5, Some(v)) => format!(
            "authenticator is {}",
            match v {
                1 => "HMAC-MD5".to_owned(),
                2 => "HMAC-SHA".to_owned(),
                5 => "HMAC-SHA256".to_owned(),
                6 => "HMAC-SHA384".to_owned(),
                7 => "HMAC-SHA512".to_owned(),
                other => other.to_string(),
            }
        ),
        (6, Some(v)) => format!("key length is {v}"),
        (t, _) => match &a.value {
            TraceValue::Variable(bytes) if t == 2 => {
                format!("SA life duration (VPI) of  {}", vpi(bytes))
            }
            TraceValue::Variable(bytes) => format!("attribute {t} (VPI) of  {}", vpi(bytes)),
            TraceValue::Basic(v) => format!("attribute {t} of {v}"),
        },
    };
    format!("ISAKMP:      {text}")
}

/// Whether an IOS state name belongs to Quick Mode (phase 2).
fn is_phase2_state(state: IsakmpState) -> bool {
    state == IsakmpState::QmIdle
}

/// Hex of a Delete payload's SPIs.
fn spi_list(spis: &[Vec<u8>]) -> String {
    spis.iter()
        .map(|s| s.iter().map(|b| format!("{b:02X}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The messages of an IKE engine step, as IOS 12.2's `debug crypto isakmp`
/// prints them. Where the seed shows the message, its wording is the
/// seed's; the others (retransmissions, notifications, deletes, DPD)
/// follow IOS 12.2's wording as commonly reproduced, or are this
/// project's own where that is not known (noted at each arm).
fn isakmp_messages(c: u32, quick_mode: bool, event: &TraceEvent) -> Vec<String> {
    let mut m = Vec::new();
    match event {
        TraceEvent::ReceivedPacket { from, role, state } => match (role, state) {
            (Some(role), Some(state)) => m.push(format!(
                "ISAKMP (0:{c}): received packet from {} {} {}",
                from.ip(),
                role,
                state.ios_name()
            )),
            _ => {
                m.push(format!(
                    "ISAKMP (0:0): received packet from {} (N) NEW SA",
                    from.ip()
                ));
                m.push(format!(
                    "ISAKMP: local port {}, remote port {}",
                    isakmp_wire::ted::IKE_PORT,
                    from.port()
                ));
            }
        },
        TraceEvent::SendingPacket {
            to,
            role,
            state,
            retransmission,
        } => {
            if *retransmission {
                let phase = if is_phase2_state(*state) { 2 } else { 1 };
                let name = state.ios_name();
                m.push(format!(
                    "ISAKMP (0:{c}): retransmitting phase {phase} {name}..."
                ));
                m.push(format!(
                    "ISAKMP (0:{c}): incrementing error counter on sa: retransmit phase {phase}"
                ));
                m.push(format!(
                    "ISAKMP (0:{c}): retransmitting phase {phase} {name}"
                ));
            }
            m.push(format!(
                "ISAKMP (0:{c}): sending packet to {} {} {}",
                to.ip(),
                role,
                state.ios_name()
            ));
        }
        TraceEvent::DuplicateAnswered { message_id } => {
            // IOS's wording for a retransmitted peer message.
            let phase = if *message_id == 0 { 1 } else { 2 };
            m.push(format!(
                "ISAKMP (0:{c}): phase {phase} packet is a duplicate of a previous packet."
            ));
            m.push(format!(
                "ISAKMP (0:{c}): retransmitting due to retransmit phase {phase}"
            ));
        }
        TraceEvent::ProcessingPayload {
            payload,
            message_id,
        } => m.push(format!(
            "ISAKMP (0:{c}): processing {} payload. message ID = {}",
            payload_name(*payload),
            signed(*message_id)
        )),
        TraceEvent::VendorId(kind) => {
            m.push(format!("ISAKMP (0:{c}): processing vendor id payload"));
            match kind {
                VendorKind::CiscoIos => {
                    m.push(format!("ISAKMP (0:{c}): speaking to another IOS box!"));
                }
                VendorKind::Dpd => m.push(format!("ISAKMP (0:{c}): vendor ID is DPD")),
                VendorKind::NatT(v) => m.push(format!(
                    "ISAKMP (0:{c}): vendor ID is NAT-T {}",
                    match v {
                        ike_sm::NatTVersion::Rfc3947 => "RFC 3947",
                        ike_sm::NatTVersion::Draft03 => "v3",
                        ike_sm::NatTVersion::Draft02 => "v2",
                        _ => "v1",
                    }
                )),
                VendorKind::Known(name) => {
                    m.push(format!("ISAKMP (0:{c}): vendor ID is {name}"));
                }
                VendorKind::Fragmentation => {
                    m.push(format!("ISAKMP (0:{c}): vendor ID is IKE fragmentation"));
                }
                _ => {}
            }
        }
        TraceEvent::FoundPsk { peer } => m.push(format!(
            "ISAKMP (0:{c}): found peer pre-shared key matching {peer}"
        )),
        TraceEvent::NatDetected {
            local_behind_nat,
            remote_behind_nat,
        } => m.push(match (local_behind_nat, remote_behind_nat) {
            (false, false) => format!("ISAKMP (0:{c}): NAT not found for self or peer"),
            (true, false) => format!("ISAKMP (0:{c}): NAT found, the node inside NAT"),
            (false, true) => format!("ISAKMP (0:{c}): NAT found, the node outside NAT"),
            (true, true) => format!("ISAKMP (0:{c}): NAT found, both nodes inside NAT"),
        }),
        TraceEvent::NoPsk { peer } => {
            m.push(format!("ISAKMP (0:{c}): No pre-shared key with {peer}!"));
        }
        TraceEvent::CheckingIsakmpTransform {
            transform,
            priority,
            attributes,
        } => {
            m.push(format!(
                "ISAKMP (0:{c}): Checking ISAKMP transform {transform} against priority {priority} policy"
            ));
            m.extend(attributes.iter().map(phase1_attribute));
        }
        TraceEvent::AttributesAcceptable { acceptable, reason } => {
            let verdict = if *acceptable {
                "atts are acceptable."
            } else {
                "atts are not acceptable."
            };
            if quick_mode {
                m.push(format!("ISAKMP (0:{c}): {verdict}"));
            } else {
                m.push(format!("ISAKMP (0:{c}): {verdict} Next payload is 0"));
            }
            if let (false, Some(reason)) = (acceptable, reason) {
                // This project's own line: why, which IOS does not say.
                m.push(format!("ISAKMP (0:{c}): ({reason})"));
            }
        }
        TraceEvent::PreSharedKeyAuth { id_type } => m.push(format!(
            "ISAKMP (0:{c}): SA is doing pre-shared key authentication using id type {id_type}"
        )),
        TraceEvent::SkeyidGenerated => {
            m.push(format!("ISAKMP (0:{c}): SKEYID state generated"));
        }
        TraceEvent::IdPayload {
            next_payload,
            id_type,
            protocol,
            port,
            length,
        } => m.extend(id_payload_dump_with(
            c,
            *next_payload,
            *id_type,
            *protocol,
            *port,
            *length,
        )),
        TraceEvent::Authenticated { peer } => m.push(format!(
            "ISAKMP (0:{c}): SA has been authenticated with {peer}"
        )),
        TraceEvent::BeginningQuickMode { message_id } => m.push(format!(
            "ISAKMP (0:{c}): beginning Quick Mode exchange, M-ID of {}",
            signed(*message_id)
        )),
        TraceEvent::SpiAllocated { spi, from, to } => {
            m.push(format!("ISAKMP (0:{c}): asking for 1 spis from ipsec"));
            m.push("IPSEC(key_engine): got a queue event...".to_owned());
            // IOS names the SA by the exchange's direction, this router
            // first (the seed's Daphne: "for SA from 11.11.11.1 to
            // 11.11.11.2" for its inbound SA): `to` is this router.
            m.push(format!(
                "IPSEC(spi_response): getting spi {} for SA from {to} to {from} for prot 3",
                spi.0
            ));
            m.push("ISAKMP: received ke message (2/1)".to_owned());
        }
        TraceEvent::CheckingIpsecProposal {
            proposal,
            transform,
            transform_id,
            attributes,
        } => {
            m.push(format!(
                "ISAKMP (0:{c}): Checking IPSec proposal {proposal}"
            ));
            m.push(format!(
                "ISAKMP: transform {transform}, {}",
                EspTransformId(*transform_id)
            ));
            m.push("ISAKMP:   attributes in transform:".to_owned());
            m.extend(attributes.iter().map(ipsec_attribute));
        }
        TraceEvent::CreatingIpsecSas { .. } => {
            // The gateway records this step as `LogEvent::IpsecSas` with
            // the crypto engine's connection IDs; alone it says only this.
            m.push(format!("ISAKMP (0:{c}): Creating IPSec SAs"));
        }
        TraceEvent::DeletingNode {
            message_id,
            error,
            reason,
        } => m.push(format!(
            "ISAKMP (0:{c}): deleting node {} error {} reason \"{reason}\"",
            signed(*message_id),
            if *error { "TRUE" } else { "FALSE" }
        )),
        TraceEvent::DeletingSa { reason, state } => m.push(format!(
            "ISAKMP (0:{c}): deleting SA reason \"{reason}\" state {}",
            state.ios_name()
        )),
        TraceEvent::NotifySent(notify) => {
            m.push(format!("ISAKMP (0:{c}): sending NOTIFY {notify}"));
        }
        TraceEvent::NotifyReceived {
            notify,
            authenticated,
        } => {
            m.push(format!(
                "ISAKMP (0:{c}): processing NOTIFY {notify} protocol 1"
            ));
            if !*authenticated {
                // This project's own line.
                m.push(format!(
                    "ISAKMP (0:{c}): (the notification was not protected by an ISAKMP SA)"
                ));
            }
        }
        TraceEvent::DeleteSent { protocol, spis } => {
            // This project's own line.
            m.push(format!(
                "ISAKMP (0:{c}): sending DELETE protocol {protocol} spi {}",
                spi_list(spis)
            ));
        }
        TraceEvent::DeleteReceived { protocol, spis } => {
            m.push(format!("ISAKMP (0:{c}): processing DELETE payload"));
            // This project's own line.
            m.push(format!(
                "ISAKMP (0:{c}): deleting protocol {protocol} spi {}",
                spi_list(spis)
            ));
        }
        TraceEvent::Dpd {
            notify,
            sequence,
            sent,
        } => {
            // This project's own line.
            m.push(format!(
                "ISAKMP (0:{c}): DPD {notify} sequence {sequence} {}",
                if *sent { "sent" } else { "received" }
            ));
        }
        _ => m.push(format!("ISAKMP (0:{c}): {event:?}")),
    }
    m
}

fn addresses_only(p: &ProxyIdent) -> Ipv4Addr {
    p.address
}

/// The messages of an IPsec SA pair event (`debug crypto ipsec`), as the
/// seed shows them: "Creating IPSec SAs" (an ISAKMP line with the inbound
/// SPI in hex and the outbound one as IOS's signed `%d`), then the key
/// engine's `initialize_sas` and `create_sa`.
fn ipsec_messages(kind: IpsecSaLogKind, p: &IpsecSaPairLog) -> Vec<String> {
    let mut m = Vec::new();
    let c = p.isakmp_conn_id;
    let create_sa = |dest: Ipv4Addr, spi: u32, conn: u32, what: &str| {
        let mut t = String::new();
        for x in &p.transforms {
            let _ = write!(t, "{x} ");
        }
        format!(
            "IPSEC({what}): {},\n  (sa) sa_dest= {dest}, sa_prot= 50,\n    sa_spi= 0x{spi:X}({spi}),\n    sa_trans= {t}, sa_conn_id= {conn}",
            if what == "create_sa" {
                "sa created"
            } else {
                "deleting SA"
            }
        )
    };
    match kind {
        IpsecSaLogKind::Creating => {
            m.push(format!("ISAKMP (0:{c}): Creating IPSec SAs"));
            m.push(format!(
                "        inbound SA from {} to {} (proxy {} to {})",
                p.remote,
                p.local,
                addresses_only(&p.remote_proxy),
                addresses_only(&p.local_proxy)
            ));
            // Inbound flags 4, outbound C: as the seed prints them.
            m.push(format!(
                "        has spi 0x{:X} and conn_id {} and flags 4",
                p.inbound_spi, p.inbound_conn_id
            ));
            m.push(format!("        lifetime of {} seconds", p.seconds));
            m.push(format!("        lifetime of {} kilobytes", p.kilobytes));
            m.push(format!(
                "        outbound SA from {} to {} (proxy {} to {} )",
                p.local,
                p.remote,
                addresses_only(&p.local_proxy),
                addresses_only(&p.remote_proxy)
            ));
            m.push(format!(
                "        has spi {} and conn_id {} and flags C",
                signed(p.outbound_spi),
                p.outbound_conn_id
            ));
            m.push(format!("        lifetime of {} seconds", p.seconds));
            m.push(format!("        lifetime of {} kilobytes", p.kilobytes));
        }
        IpsecSaLogKind::Installed => {
            m.push("IPSEC(key_engine): got a queue event...".to_owned());
            for (direction, spi, conn, flags) in [
                ("INBOUND", p.inbound_spi, p.inbound_conn_id, 0x4),
                ("OUTBOUND", p.outbound_spi, p.outbound_conn_id, 0xC),
            ] {
                m.push(
                    KeyEngineMessage {
                        kind: "initialize_sas",
                        detail: "",
                        direction,
                        local: p.local,
                        remote: p.remote,
                        local_proxy: p.local_proxy,
                        remote_proxy: p.remote_proxy,
                        transforms: &p.transforms,
                        seconds: p.seconds,
                        kilobytes: p.kilobytes,
                        spi,
                        conn_id: conn,
                        flags,
                        trailer: None,
                    }
                    .to_string(),
                );
            }
            m.push(create_sa(
                p.local,
                p.inbound_spi,
                p.inbound_conn_id,
                "create_sa",
            ));
            m.push(create_sa(
                p.remote,
                p.outbound_spi,
                p.outbound_conn_id,
                "create_sa",
            ));
        }
        IpsecSaLogKind::Deleted => {
            m.push(create_sa(
                p.local,
                p.inbound_spi,
                p.inbound_conn_id,
                "delete_sa",
            ));
            m.push(create_sa(
                p.remote,
                p.outbound_spi,
                p.outbound_conn_id,
                "delete_sa",
            ));
        }
    }
    m
}
