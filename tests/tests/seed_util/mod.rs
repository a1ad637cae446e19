//! Shared by the seed tests: the seed's network with two gateways, and the
//! structural form of their debug records that `vectors/seed/expected_*.txt`
//! are written in.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use ike_sm::{TraceAttribute, TraceEvent, TraceValue, VendorKind};
pub use netsim::scenario::{DAPHNE_CFG, FRED_CFG};
use netsim::scenario::{SeedNetwork, SeedSetup, scripted_entropy, seed_configs, seed_options};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::Config;
use ted::discovery::Event as Ted;
use ted::gateway::GatewayOptions;
use ted::log::{IpsecSaLogKind, LogEvent, Record};

pub const SEED: &str = include_str!("../../../vectors/seed/seed_excerpt.txt");

/// The generators of the replay: Daphne's and fred's.
pub fn generators() -> (ChaCha20Rng, ChaCha20Rng) {
    (ChaCha20Rng::seed_from_u64(1), ChaCha20Rng::seed_from_u64(2))
}

pub fn daphne_cfg() -> Config {
    seed_configs().unwrap().0
}

pub fn fred_cfg() -> Config {
    seed_configs().unwrap().1
}

/// Options with the debug log and the key log on.
pub fn options() -> GatewayOptions {
    seed_options()
}

/// The seed's network with the given configurations and options, the
/// seed's scripted values, [`generators`].
pub fn network_with(daphne: Config, fred: Config, options: GatewayOptions) -> SeedNetwork {
    let (d, f) = generators();
    SeedNetwork::build(SeedSetup::new(
        daphne,
        fred,
        scripted_entropy(d, f),
        options,
        Instant::now(),
    ))
    .unwrap()
}

/// The seed's network as configured in the seed.
pub fn network() -> SeedNetwork {
    let (d, f) = generators();
    SeedNetwork::seed(d, f, Instant::now()).unwrap()
}

/// D1 pings A1 ten times a second apart (the first echo request is the one
/// TED drops), and the network runs until the last reply is back.
pub fn ping_ten(s: &mut SeedNetwork) {
    s.replay_ping();
}

/// The expected lines of a transcript file (comments and blank lines
/// dropped).
pub fn expected(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Whether `want` occurs in `have` in order (other lines may come in
/// between); the error names the first line that does not.
pub fn check_in_order(who: &str, want: &[String], have: &[String]) -> Result<(), String> {
    let mut at = 0;
    for (n, w) in want.iter().enumerate() {
        match have.iter().skip(at).position(|h| h == w) {
            Some(i) => at += i + 1,
            None => {
                let context: Vec<&String> =
                    have.iter().skip(at.saturating_sub(3)).take(12).collect();
                let anywhere = have.iter().position(|h| h == w);
                return Err(format!(
                    "{who}: expected line {} not found in order (found anywhere: {anywhere:?}):\n  {w}\nafter position {at}; the records around there:\n{}",
                    n + 1,
                    context
                        .iter()
                        .map(|l| format!("  {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
        }
    }
    Ok(())
}

/// Panics unless [`check_in_order`] holds.
pub fn assert_in_order(who: &str, want: &[String], have: &[String]) {
    if let Err(e) = check_in_order(who, want, have) {
        panic!("{e}");
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// RFC 2409 Appendix A names of the phase-1 attributes the seed shows.
fn phase1_attribute(a: &TraceAttribute) -> String {
    let value = match &a.value {
        TraceValue::Basic(v) => *v,
        TraceValue::Variable(b) => return format!("life_duration={}", hex_bytes(b)),
    };
    match (a.attribute_type, value) {
        (1, 1) => "encryption=DES-CBC".into(),
        (1, v) => format!("encryption={v}"),
        (2, 1) => "hash=MD5".into(),
        (2, 2) => "hash=SHA".into(),
        (2, v) => format!("hash={v}"),
        (3, 1) => "auth=pre-share".into(),
        (3, v) => format!("auth={v}"),
        (4, v) => format!("group={v}"),
        (11, 1) => "life_type=seconds".into(),
        (11, 2) => "life_type=kilobytes".into(),
        (12, v) => format!("life_duration={v}"),
        (t, v) => format!("attribute{t}={v}"),
    }
}

/// RFC 2407 s.4.5 names of the IPsec attributes the seed shows.
fn ipsec_attribute(a: &TraceAttribute) -> String {
    let value = match &a.value {
        TraceValue::Basic(v) => *v,
        TraceValue::Variable(b) => return format!("life_duration={}", hex_bytes(b)),
    };
    match (a.attribute_type, value) {
        (1, 1) => "life_type=seconds".into(),
        (1, 2) => "life_type=kilobytes".into(),
        (2, v) => format!("life_duration={v}"),
        (4, v) => format!("encaps={v}"),
        (5, 1) => "auth=HMAC-MD5".into(),
        (5, 2) => "auth=HMAC-SHA".into(),
        (t, v) => format!("attribute{t}={v}"),
    }
}

fn role(r: ike_sm::Role) -> &'static str {
    match r {
        ike_sm::Role::Initiator => "I",
        ike_sm::Role::Responder => "R",
    }
}

fn log_role(r: ted::log::Role) -> &'static str {
    match r {
        ted::log::Role::Initiator => "I",
        ted::log::Role::Responder => "R",
    }
}

/// The structural lines of one record (see `expected_daphne.txt`).
pub fn structural(record: &Record) -> Vec<String> {
    let mut out = Vec::new();
    match &record.event {
        LogEvent::Discovery { conn_id: c, event } => match event {
            Ted::Started {
                trigger,
                source,
                destination,
                ..
            } => out.push(format!(
                "discover-request conn={c} local={} remote={} local_proxy={} my_address={} transforms={} seconds={} kilobytes={} dest={} ports={}/{}",
                trigger.packet_source,
                trigger.packet_destination,
                trigger.local_proxy,
                trigger.local_address,
                trigger
                    .transforms
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                trigger.lifetime.seconds,
                trigger.lifetime.kilobytes,
                trigger
                    .via
                    .as_ref()
                    .map(|v| format!("{}:{}", v.interface, v.next_hop))
                    .unwrap_or_default(),
                source.port(),
                destination.port()
            )),
            Ted::ProbeSent {
                destination,
                attempt,
                via,
                ..
            } => out.push(format!(
                "probe-sent conn={c} to={} via={} attempt={attempt}",
                destination.ip(),
                via.as_ref()
                    .map(|v| format!("{}:{}", v.interface, v.next_hop))
                    .unwrap_or_default()
            )),
            Ted::Discovered(d) => out.push(format!(
                "discovered conn={c} from={} ios={} proxy_payload={} peer={} local_proxy={} remote_proxy={}",
                d.response_source.ip(),
                yes(d.ios_vendor),
                d.proxy_payload_type.0,
                d.peer,
                d.local_proxy,
                d.remote_proxy
            )),
            Ted::GaveUp {
                destination,
                probes_sent,
                ..
            } => out.push(format!(
                "discovery-gave-up conn={c} destination={destination} probes={probes_sent}"
            )),
            Ted::ProbeReceived(p) => out.push(format!(
                "probe-received conn={c} from={} to={} ios={} initiator_address={} proxy={}",
                p.source.ip(),
                p.destination.ip(),
                yes(p.ios_vendor),
                p.initiator_address,
                p.proxy.map(|x| x.to_string()).unwrap_or_default()
            )),
            Ted::ProbeAnswered(a) => out.push(format!(
                "probe-answered conn={c} his_proxy={} source={} destination={} proxy_payload={}",
                a.initiator_proxy, a.response_source, a.response_destination, a.proxy_payload_type.0
            )),
            Ted::ProbeDropped { source, reason, .. } => out.push(format!(
                "probe-dropped conn={c} from={} reason={reason:?}",
                source.ip()
            )),
            Ted::ResponseDropped { source, reason, .. } => out.push(format!(
                "response-dropped conn={c} from={} reason={reason:?}",
                source.ip()
            )),
            other => out.push(format!("ted {other:?}")),
        },
        LogEvent::DiscoverySaDeleted {
            conn_id,
            role: r,
            peer,
        } => out.push(format!(
            "ted-sa-deleted conn={conn_id} role={} peer={peer}",
            log_role(*r)
        )),
        LogEvent::DiscoveryFollowed { conn_id, peer } => {
            out.push(format!("initiate-ike conn={conn_id} peer={peer}"));
        }
        LogEvent::Isakmp {
            conn_id: c,
            quick_mode,
            event,
        } => out.push(match event {
            TraceEvent::ReceivedPacket {
                from,
                role: Some(r),
                state: Some(s),
            } => format!(
                "receive conn={c} from={} role={} state={}",
                from.ip(),
                role(*r),
                s.ios_name()
            ),
            TraceEvent::ReceivedPacket { from, .. } => format!("receive-new from={}", from.ip()),
            TraceEvent::SendingPacket {
                to,
                role: r,
                state,
                retransmission,
            } => format!(
                "{} conn={c} to={} role={} state={}",
                if *retransmission { "resend" } else { "send" },
                to.ip(),
                role(*r),
                state.ios_name()
            ),
            TraceEvent::ProcessingPayload {
                payload,
                message_id,
            } => format!("processing conn={c} payload={payload} message_id={message_id}"),
            TraceEvent::FoundPsk { peer } => format!("found-psk conn={c} peer={peer}"),
            TraceEvent::NoPsk { peer } => format!("no-psk conn={c} peer={peer}"),
            TraceEvent::CheckingIsakmpTransform {
                transform,
                priority,
                attributes,
            } => {
                let mut l = format!(
                    "checking-isakmp-transform conn={c} transform={transform} priority={priority}"
                );
                for a in attributes {
                    l.push(' ');
                    l.push_str(&phase1_attribute(a));
                }
                l
            }
            TraceEvent::CheckingIpsecProposal {
                proposal,
                transform,
                transform_id,
                attributes,
            } => {
                let mut l = format!(
                    "checking-ipsec-proposal conn={c} proposal={proposal} transform={transform} transform_id={}",
                    isakmp_wire::EspTransformId(*transform_id)
                );
                for a in attributes {
                    l.push(' ');
                    l.push_str(&ipsec_attribute(a));
                }
                l
            }
            TraceEvent::AttributesAcceptable { acceptable, .. } => format!(
                "acceptable conn={c} phase={} verdict={}",
                if *quick_mode { 2 } else { 1 },
                yes(*acceptable)
            ),
            TraceEvent::SkeyidGenerated => format!("skeyid conn={c}"),
            TraceEvent::VendorId(k) => format!(
                "vendor conn={c} kind={}",
                match k {
                    VendorKind::CiscoIos => "ios".to_owned(),
                    VendorKind::Dpd => "dpd".to_owned(),
                    other => format!("{other:?}"),
                }
            ),
            TraceEvent::IdPayload {
                next_payload,
                id_type,
                protocol,
                port,
                length,
            } => format!(
                "id-payload conn={c} next_payload={next_payload} type={id_type} protocol={protocol} port={port} length={length}"
            ),
            TraceEvent::Authenticated { peer } => format!("authenticated conn={c} peer={peer}"),
            TraceEvent::BeginningQuickMode { message_id } => {
                format!("begin-quick-mode conn={c} message_id={message_id}")
            }
            TraceEvent::SpiAllocated { spi, from, to } => {
                format!("spi conn={c} spi={:X} local={to} remote={from}", spi.0)
            }
            TraceEvent::DeletingNode {
                message_id, error, ..
            } => format!(
                "deleting-node conn={c} message_id={message_id} error={}",
                yes(*error)
            ),
            TraceEvent::DeletingSa { reason, .. } => {
                format!("deleting-sa conn={c} reason={reason}")
            }
            TraceEvent::NotifySent(n) => format!("notify-sent conn={c} type={n}"),
            TraceEvent::NotifyReceived { notify, .. } => {
                format!("notify-received conn={c} type={notify}")
            }
            other => format!("isakmp conn={c} {other:?}"),
        }),
        LogEvent::IpsecSas { kind, pair: p } => {
            let transforms = p
                .transforms
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            match kind {
                IpsecSaLogKind::Creating => out.push(format!(
                    "creating-ipsec-sas conn={} local={} remote={} local_proxy={} remote_proxy={} inbound_spi={:X} inbound_conn={} outbound_spi={:X} outbound_conn={} seconds={} kilobytes={}",
                    p.isakmp_conn_id,
                    p.local,
                    p.remote,
                    p.local_proxy,
                    p.remote_proxy,
                    p.inbound_spi,
                    p.inbound_conn_id,
                    p.outbound_spi,
                    p.outbound_conn_id,
                    p.seconds,
                    p.kilobytes
                )),
                IpsecSaLogKind::Installed => {
                    for (dir, spi, conn) in [
                        ("INBOUND", p.inbound_spi, p.inbound_conn_id),
                        ("OUTBOUND", p.outbound_spi, p.outbound_conn_id),
                    ] {
                        out.push(format!(
                            "initialize-sas direction={dir} local={} remote={} spi={spi:X} conn={conn} transforms={transforms} seconds={} kilobytes={}",
                            p.local, p.remote, p.seconds, p.kilobytes
                        ));
                    }
                    out.push(format!(
                        "sa-created dest={} spi={:X} conn={}",
                        p.local, p.inbound_spi, p.inbound_conn_id
                    ));
                    out.push(format!(
                        "sa-created dest={} spi={:X} conn={}",
                        p.remote, p.outbound_spi, p.outbound_conn_id
                    ));
                }
                IpsecSaLogKind::Deleted => {
                    out.push(format!(
                        "sa-deleted dest={} spi={:X} conn={}",
                        p.local, p.inbound_spi, p.inbound_conn_id
                    ));
                    out.push(format!(
                        "sa-deleted dest={} spi={:X} conn={}",
                        p.remote, p.outbound_spi, p.outbound_conn_id
                    ));
                }
                _ => out.push(format!("ipsec {kind:?}")),
            }
        }
        other => out.push(format!("other {other:?}")),
    }
    out
}

/// The structural lines of a whole log.
pub fn structural_log<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<String> {
    records.into_iter().flat_map(structural).collect()
}

pub fn strip(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The seed's text of one router's trace (`Daphne#show debug ...`),
/// whitespace removed.
pub fn seed_trace(prompt: &str) -> String {
    let line = SEED
        .lines()
        .find(|l| l.starts_with(&format!("{prompt}#show debug")))
        .unwrap();
    strip(line)
}

/// The messages of a rendering (a timestamped line and its continuation
/// lines), without their timestamps.
pub fn messages(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with('*') {
            let (_, rest) = line.split_once(": ").unwrap();
            out.push(rest.to_owned());
        } else if let Some(last) = out.last_mut() {
            last.push('\n');
            last.push_str(line);
        }
    }
    out
}
