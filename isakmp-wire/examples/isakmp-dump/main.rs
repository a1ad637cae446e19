//! `isakmp-dump`: print every ISAKMP message of a capture, field by field.
//!
//! ```text
//! cargo run -p isakmp-wire --example isakmp-dump -- [--json] FILE.pcap|FILE.pcapng
//! cargo run -p isakmp-wire --example isakmp-dump -- [--json] --hex < lines.txt
//! ```
//!
//! Input: a pcap or pcapng capture (link types Ethernet, BSD NULL/LOOP, raw
//! IP 101/228/229, Linux SLL; IPv4 and IPv6, fragments reassembled; UDP 500,
//! and UDP 4500 after the 4-byte non-ESP marker, NAT keepalives and
//! ESP-in-UDP skipped), or with `--hex` one hex-encoded ISAKMP message per
//! line on standard input (blank lines and lines starting with `#` are
//! skipped; the frame number is the line number).
//!
//! A malformed message prints what was decoded, then its error, and the
//! tool goes on. The exit status is 0 unless the input cannot be read
//! (1) or the command line is wrong (2).
//!
//! # Text format (stable)
//!
//! One block per message. The first line names the frame:
//!
//! ```text
//! frame N: SRC -> DST            (captures; "[natt]" appended on port 4500)
//! frame N                        (--hex)
//! ```
//!
//! then one line per element, indented two spaces per level, each a label
//! followed by `key=value` fields in a fixed order:
//!
//! ```text
//!   ISAKMP icookie=HEX rcookie=HEX next_payload=NAME(N) version=1.0 exchange=NAME(N) flags=0xHH[(E|C|A)] message_id=0xHHHHHHHH length=N
//!   SA type=SA(1) length=N doi=IPSEC(1) situation=0xHHHHHHHH
//!     proposal number=N length=N protocol=NAME(N) spi_size=N spi=HEX transforms_count=N
//!       transform number=N length=N id=NAME(N)
//!         attribute type=NAME(N) format=TV|TLV value=NAME(N)|N|HEX
//!   KE type=KE(4) length=N data_length=N data=HEX
//!   VID type=VID(13) length=N data_length=N data=HEX[ vendor=NAME]
//!   ID type=ID(5) length=N id_type=NAME(N) protocol=N port=N address=A[ mask=M]
//!   TED-PROXY type=TED-PROXY(16) length=N       (TED messages only)
//!     proxy role=initiator|responder id_type=NAME(N) protocol=N port=N address=A mask=M
//!   ...
//!   error: MESSAGE
//! ```
//!
//! A registered value prints as `NAME(number)`, an unregistered one as its
//! number; byte strings print as lower-case hex (`-` when empty). Encrypted
//! messages print `encrypted ciphertext_length=N ciphertext=HEX` instead of
//! payloads. Bytes after the header's length print as `trailing length=N`.
//!
//! # JSON format (stable)
//!
//! With `--json`, one object per line per message:
//! `{"frame", "src", "dst", "icookie", "rcookie", "next_payload", "version",
//! "exchange", "flags", "message_id", "length", "payloads": [{"type",
//! "length", ...}], "error"}`. Numbers are JSON numbers; a registered value
//! also gets a `KEY_name` string beside it (`"exchange": 2,
//! "exchange_name": "ID_PROT"`); byte strings are hex strings. An SA payload
//! carries `"proposals": [{"number", "protocol", "spi", "transforms":
//! [{"number", "id", "attributes": [{"type", "value"}]}]}]`, where an
//! attribute's value is a number, or a hex string for a variable value wider
//! than 64 bits. `"error"` is null or the error's text; `"encrypted"` is
//! true with `"ciphertext"` for an encrypted message; `"src"`/`"dst"` are
//! absent with `--hex`.

// A command-line tool: printing is its job.
#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    missing_docs
)]

mod capture;

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::net::SocketAddr;

use isakmp_wire::{
    Attribute, AttributeValue, Flags, HEADER_LEN, IdData, IdRepr, IpsecAttributeType, Message,
    ParseConfig, PayloadRepr, Phase1AttributeType, ProtocolId, vendor,
};
use isakmp_wire::{
    AuthAlgorithm, AuthMethod, EcnTunnel, EncapsulationMode, EncryptionAlgorithm, GroupDescription,
    GroupType, HashAlgorithm, LifeType, SaLifeType,
};
use serde_json::{Map, Value, json};

/// A field value.
enum Val {
    Num(u64),
    /// A number printed in hex in text, a number in JSON.
    HexNum(u64, usize),
    /// A registered value: number and name.
    Named(u64, Option<&'static str>),
    Hex(Vec<u8>),
    Text(String),
    HexList(Vec<Vec<u8>>),
    /// Header flags: the byte and the names of the set flags.
    Flags(u8, Vec<&'static str>),
}

fn named<T: Into<u64>>(v: T, name: Option<&'static str>) -> Val {
    Val::Named(v.into(), name)
}

/// A node of the dump tree.
struct Node {
    label: String,
    fields: Vec<(&'static str, Val)>,
    children: Vec<(&'static str, Vec<Node>)>,
}

impl Node {
    fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            fields: Vec::new(),
            children: Vec::new(),
        }
    }
    fn f(mut self, key: &'static str, v: Val) -> Self {
        self.fields.push((key, v));
        self
    }
    fn kids(mut self, key: &'static str, nodes: Vec<Node>) -> Self {
        self.children.push((key, nodes));
        self
    }

    fn text(&self, indent: usize, out: &mut String) {
        let _ = write!(out, "{:indent$}{}", "", self.label);
        for (k, v) in &self.fields {
            let _ = write!(out, " {k}=");
            match v {
                Val::Num(n) => {
                    let _ = write!(out, "{n}");
                }
                Val::HexNum(n, w) => {
                    let _ = write!(out, "0x{n:0w$x}");
                }
                Val::Named(n, Some(name)) => {
                    let _ = write!(out, "{name}({n})");
                }
                Val::Named(n, None) => {
                    let _ = write!(out, "{n}");
                }
                Val::Hex(b) if b.is_empty() => out.push('-'),
                Val::Hex(b) => out.push_str(&hex::encode(b)),
                Val::Text(s) => out.push_str(s),
                Val::HexList(l) => {
                    let v: Vec<String> = l.iter().map(hex::encode).collect();
                    out.push_str(&v.join(","));
                }
                Val::Flags(b, names) if names.is_empty() => {
                    let _ = write!(out, "0x{b:02x}");
                }
                Val::Flags(b, names) => {
                    let _ = write!(out, "0x{b:02x}({})", names.join("|"));
                }
            }
        }
        out.push('\n');
        for (_, nodes) in &self.children {
            for n in nodes {
                n.text(indent + 2, out);
            }
        }
    }

    fn json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v) in &self.fields {
            match v {
                Val::Num(n) | Val::HexNum(n, _) => {
                    m.insert((*k).into(), json!(n));
                }
                Val::Named(n, name) => {
                    m.insert((*k).into(), json!(n));
                    if let Some(name) = name {
                        m.insert(format!("{k}_name"), json!(name));
                    }
                }
                Val::Hex(b) => {
                    m.insert((*k).into(), json!(hex::encode(b)));
                }
                Val::Text(s) => {
                    m.insert((*k).into(), json!(s));
                }
                Val::HexList(l) => {
                    let v: Vec<String> = l.iter().map(hex::encode).collect();
                    m.insert((*k).into(), json!(v));
                }
                Val::Flags(b, names) => {
                    m.insert((*k).into(), json!(b));
                    m.insert(format!("{k}_names"), json!(names));
                }
            }
        }
        for (k, nodes) in &self.children {
            let v: Vec<Value> = nodes.iter().map(|n| Value::Object(n.json())).collect();
            m.insert((*k).into(), Value::Array(v));
        }
        m
    }
}

fn attribute_node(a: &Attribute<'_>, protocol: ProtocolId) -> Node {
    let phase1 = protocol == ProtocolId::ISAKMP;
    let t = a.attribute_type;
    let type_name = if phase1 {
        Phase1AttributeType(t).name()
    } else {
        IpsecAttributeType(t).name()
    };
    let mut n = Node::new("attribute").f("type", named(t, type_name));
    let format = if a.is_basic() { "TV" } else { "TLV" };
    n = n.f("format", Val::Text(format.into()));
    let value = match &a.value {
        AttributeValue::Basic(v) => {
            let name = if phase1 {
                match Phase1AttributeType(t) {
                    Phase1AttributeType::ENCRYPTION_ALGORITHM => EncryptionAlgorithm(*v).name(),
                    Phase1AttributeType::HASH_ALGORITHM => HashAlgorithm(*v).name(),
                    Phase1AttributeType::AUTHENTICATION_METHOD => AuthMethod(*v).name(),
                    Phase1AttributeType::GROUP_DESCRIPTION => GroupDescription(*v).name(),
                    Phase1AttributeType::GROUP_TYPE => GroupType(*v).name(),
                    Phase1AttributeType::LIFE_TYPE => LifeType(*v).name(),
                    _ => None,
                }
            } else {
                match IpsecAttributeType(t) {
                    IpsecAttributeType::SA_LIFE_TYPE => SaLifeType(*v).name(),
                    IpsecAttributeType::GROUP_DESCRIPTION => GroupDescription(*v).name(),
                    IpsecAttributeType::ENCAPSULATION_MODE => EncapsulationMode(*v).name(),
                    IpsecAttributeType::AUTHENTICATION_ALGORITHM => AuthAlgorithm(*v).name(),
                    IpsecAttributeType::ECN_TUNNEL => EcnTunnel(*v).name(),
                    _ => None,
                }
            };
            named(*v, name)
        }
        AttributeValue::Variable(bytes) => match a.integer_value() {
            Some(v) => Val::Num(v),
            None => Val::Hex(bytes.to_vec()),
        },
    };
    n.f("value", value)
}

fn id_node(label: &str, id: &IdRepr<'_>) -> Node {
    let t = id.data.id_type();
    let mut n = Node::new(label)
        .f("id_type", named(t.0, t.name()))
        .f("protocol", Val::Num(id.protocol.into()))
        .f("port", Val::Num(id.port.into()));
    match id.data {
        IdData::Ipv4Addr(a) => n = n.f("address", Val::Text(a.to_string())),
        IdData::Ipv6Addr(a) => n = n.f("address", Val::Text(a.to_string())),
        IdData::Ipv4Subnet { address, mask } => {
            n = n
                .f("address", Val::Text(address.to_string()))
                .f("mask", Val::Text(mask.to_string()));
        }
        IdData::Ipv6Subnet { address, mask } => {
            n = n
                .f("address", Val::Text(address.to_string()))
                .f("mask", Val::Text(mask.to_string()));
        }
        IdData::Ipv4Range { start, end } => {
            n = n
                .f("start", Val::Text(start.to_string()))
                .f("end", Val::Text(end.to_string()));
        }
        IdData::Ipv6Range { start, end } => {
            n = n
                .f("start", Val::Text(start.to_string()))
                .f("end", Val::Text(end.to_string()));
        }
        IdData::Fqdn(d) | IdData::UserFqdn(d) => {
            n = n.f(
                "name",
                Val::Text(String::from_utf8_lossy(d).escape_debug().to_string()),
            );
        }
        IdData::DerAsn1Dn(d) | IdData::DerAsn1Gn(d) | IdData::KeyId(d) => {
            n = n.f("data", Val::Hex(d.to_vec()));
        }
        IdData::Other { data, .. } => n = n.f("data", Val::Hex(data.to_vec())),
        _ => {}
    }
    n
}

fn data_node(n: Node, d: &[u8]) -> Node {
    n.f("data_length", Val::Num(d.len() as u64))
        .f("data", Val::Hex(d.to_vec()))
}

fn payload_node(p: &PayloadRepr<'_>, length: u16) -> Node {
    let t = p.payload_type();
    // Payload 16 is GDOI's SAT by registry, the TED proxy inside a TED message.
    let name = match p {
        PayloadRepr::TedProxy(_) => Some("TED-PROXY"),
        _ => t.name(),
    };
    let n = Node::new(name.map_or_else(|| t.to_string(), str::to_string))
        .f("type", named(t.0, name))
        .f("length", Val::Num(length.into()));
    match p {
        PayloadRepr::Sa(sa) => {
            let proposals = sa
                .proposals
                .iter()
                .map(|prop| {
                    let transforms = prop
                        .transforms
                        .iter()
                        .map(|tr| {
                            let attrs = tr
                                .attributes
                                .iter()
                                .map(|a| attribute_node(a, prop.protocol))
                                .collect();
                            Node::new("transform")
                                .f("number", Val::Num(tr.number.into()))
                                .f("length", Val::Num(tr.buffer_len() as u64))
                                .f("id", named(tr.id.0, tr.id.name_for(prop.protocol)))
                                .kids("attributes", attrs)
                        })
                        .collect();
                    Node::new("proposal")
                        .f("number", Val::Num(prop.number.into()))
                        .f("length", Val::Num(prop.buffer_len() as u64))
                        .f("protocol", named(prop.protocol.0, prop.protocol.name()))
                        .f("spi_size", Val::Num(prop.spi.len() as u64))
                        .f("spi", Val::Hex(prop.spi.to_vec()))
                        .f("transforms_count", Val::Num(prop.transforms.len() as u64))
                        .kids("transforms", transforms)
                })
                .collect();
            n.f("doi", named(1u32, Some("IPSEC")))
                .f("situation", Val::HexNum(sa.situation.into(), 8))
                .kids("proposals", proposals)
        }
        PayloadRepr::KeyExchange(d)
        | PayloadRepr::Hash(d)
        | PayloadRepr::Signature(d)
        | PayloadRepr::Nonce(d) => data_node(n, d),
        PayloadRepr::VendorId(d) => {
            let n = data_node(n, d);
            match vendor::name(d) {
                Some(name) => n.f("vendor", Val::Text(name.into())),
                None => n,
            }
        }
        PayloadRepr::Id(id) => {
            let inner = id_node("", id);
            let mut n = n;
            n.fields.extend(inner.fields);
            n
        }
        PayloadRepr::Cert(c) | PayloadRepr::CertRequest(c) => data_node(
            n.f("encoding", named(c.encoding.0, c.encoding.name())),
            c.data,
        ),
        PayloadRepr::Notification(nt) => {
            let mut n = n
                .f("doi", named(nt.doi.0, nt.doi.name()))
                .f("protocol", named(nt.protocol.0, nt.protocol.name()))
                .f("spi_size", Val::Num(nt.spi.len() as u64))
                .f(
                    "notify_type",
                    named(nt.notify_type.0, nt.notify_type.name()),
                )
                .f("spi", Val::Hex(nt.spi.to_vec()));
            n = data_node(n, nt.data);
            if let Some(seq) = nt.dpd_sequence() {
                n = n.f("dpd_sequence", Val::Num(seq.into()));
            }
            n
        }
        PayloadRepr::Delete(d) => n
            .f("doi", named(d.doi.0, d.doi.name()))
            .f("protocol", named(d.protocol.0, d.protocol.name()))
            .f("spi_size", Val::Num(d.spi_size.into()))
            .f("spi_count", Val::Num(d.spis.len() as u64))
            .f(
                "spis",
                Val::HexList(d.spis.iter().map(|s| s.to_vec()).collect()),
            ),
        PayloadRepr::NatD { hash, .. } => n.f("hash", Val::Hex(hash.to_vec())),
        PayloadRepr::NatOa { address, .. } => n.f("address", Val::Text(address.to_string())),
        PayloadRepr::TedProxy(t) => {
            let mut kids = Vec::new();
            let proxy = |role: &str, id: &IdRepr<'_>| {
                let mut n = id_node("proxy", id);
                n.fields.insert(0, ("role", Val::Text(role.into())));
                n
            };
            if let Some(i) = &t.initiator_proxy {
                kids.push(proxy("initiator", i));
            }
            kids.push(proxy("responder", &t.responder_proxy));
            n.kids("proxies", kids)
        }
        PayloadRepr::Fragment(f) => data_node(
            n.f("fragment_id", Val::Num(f.id.into()))
                .f("fragment_number", Val::Num(f.number.into()))
                .f("flags", Val::HexNum(f.flags.bits().into(), 2))
                .f("last", Val::Text(f.is_last().to_string())),
            f.data,
        ),
        PayloadRepr::Opaque(o) => data_node(n, o.body),
        _ => n,
    }
}

struct Dump {
    frame: usize,
    addrs: Option<(SocketAddr, SocketAddr, bool)>,
    header: Option<Node>,
    payloads: Vec<Node>,
    encrypted: Option<Vec<u8>>,
    trailing: usize,
    error: Option<String>,
}

fn dump(
    frame: usize,
    addrs: Option<(SocketAddr, SocketAddr, bool)>,
    bytes: &[u8],
    config: &ParseConfig,
) -> Dump {
    let mut d = Dump {
        frame,
        addrs,
        header: None,
        payloads: Vec::new(),
        encrypted: None,
        trailing: 0,
        error: None,
    };
    let message = Message::new_unchecked(bytes);
    let h = message.header();
    if bytes.len() >= HEADER_LEN {
        let flags = h.flags();
        let mut names = Vec::new();
        for (bit, name) in [
            (Flags::ENCRYPTION, "E"),
            (Flags::COMMIT, "C"),
            (Flags::AUTH_ONLY, "A"),
        ] {
            if flags.contains(bit) {
                names.push(name);
            }
        }
        let np = h.next_payload();
        let ex = h.exchange_type();
        d.header = Some(
            Node::new("ISAKMP")
                .f("icookie", Val::Hex(h.initiator_cookie().to_vec()))
                .f("rcookie", Val::Hex(h.responder_cookie().to_vec()))
                .f("next_payload", named(np.0, np.name()))
                .f(
                    "version",
                    Val::Text(format!("{}.{}", h.major_version(), h.minor_version())),
                )
                .f("exchange", named(ex.0, ex.name()))
                .f("flags", Val::Flags(flags.bits(), names))
                .f("message_id", Val::HexNum(h.message_id().into(), 8))
                .f("length", Val::Num(h.length().into())),
        );
    }
    if let Err(e) = message.check_len() {
        d.error = Some(e.to_string());
        return d;
    }
    d.trailing = message.trailing().len();
    if message.is_encrypted() {
        d.encrypted = Some(message.body().to_vec());
        return d;
    }
    let ted = config.is_ted(h.exchange_type());
    for p in message.payloads() {
        match p.and_then(|p| PayloadRepr::parse(&p, ted).map(|r| (r, p.length()))) {
            Ok((repr, len)) => d.payloads.push(payload_node(&repr, len)),
            Err(e) => {
                d.error = Some(e.to_string());
                break;
            }
        }
    }
    d
}

fn render_text(d: &Dump) -> String {
    let mut out = String::new();
    match d.addrs {
        Some((s, t, natt)) => {
            let _ = writeln!(
                out,
                "frame {}: {} -> {}{}",
                d.frame,
                s,
                t,
                if natt { " [natt]" } else { "" }
            );
        }
        None => {
            let _ = writeln!(out, "frame {}", d.frame);
        }
    }
    if let Some(h) = &d.header {
        h.text(2, &mut out);
    }
    if let Some(c) = &d.encrypted {
        let _ = writeln!(
            out,
            "  encrypted ciphertext_length={} ciphertext={}",
            c.len(),
            hex::encode(c)
        );
    }
    for p in &d.payloads {
        p.text(2, &mut out);
    }
    if d.trailing > 0 {
        let _ = writeln!(out, "  trailing length={}", d.trailing);
    }
    if let Some(e) = &d.error {
        let _ = writeln!(out, "  error: {e}");
    }
    out
}

fn render_json(d: &Dump) -> String {
    let mut m = Map::new();
    m.insert("frame".into(), json!(d.frame));
    if let Some((s, t, natt)) = d.addrs {
        m.insert("src".into(), json!(s.to_string()));
        m.insert("dst".into(), json!(t.to_string()));
        m.insert("natt".into(), json!(natt));
    }
    if let Some(h) = &d.header {
        for (k, v) in h.json() {
            let k = match k.as_str() {
                "icookie" | "rcookie" | "next_payload" | "next_payload_name" | "version"
                | "exchange" | "exchange_name" | "flags" | "message_id" | "length"
                | "flags_names" => k,
                _ => continue,
            };
            m.insert(k, v);
        }
    }
    let payloads: Vec<Value> = d.payloads.iter().map(|p| Value::Object(p.json())).collect();
    m.insert("payloads".into(), Value::Array(payloads));
    if let Some(c) = &d.encrypted {
        m.insert("encrypted".into(), json!(true));
        m.insert("ciphertext_length".into(), json!(c.len()));
        m.insert("ciphertext".into(), json!(hex::encode(c)));
    }
    if d.trailing > 0 {
        m.insert("trailing".into(), json!(d.trailing));
    }
    m.insert(
        "error".into(),
        d.error.as_ref().map_or(Value::Null, |e| json!(e)),
    );
    Value::Object(m).to_string() + "\n"
}

fn usage() -> ! {
    eprintln!(
        "usage: isakmp-dump [--json] FILE.pcap|FILE.pcapng\n       isakmp-dump [--json] --hex < lines"
    );
    std::process::exit(2);
}

fn main() {
    let mut json_out = false;
    let mut hex_in = false;
    let mut file = None;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--json" => json_out = true,
            "--hex" => hex_in = true,
            "-h" | "--help" => usage(),
            s if s.starts_with('-') => usage(),
            s => {
                if file.replace(s.to_string()).is_some() {
                    usage();
                }
            }
        }
    }
    let config = ParseConfig::default();
    let render = |d: &Dump| {
        if json_out {
            render_json(d)
        } else {
            render_text(d)
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if hex_in {
        if file.is_some() {
            usage();
        }
        let stdin = std::io::stdin();
        for (i, line) in stdin.lock().lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("isakmp-dump: cannot read standard input: {e}");
                    std::process::exit(1);
                }
            };
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let cleaned: String = t
                .chars()
                .filter(|c| !c.is_whitespace() && *c != ':')
                .collect();
            let d = match hex::decode(&cleaned) {
                Ok(bytes) => dump(i + 1, None, &bytes, &config),
                Err(e) => Dump {
                    frame: i + 1,
                    addrs: None,
                    header: None,
                    payloads: Vec::new(),
                    encrypted: None,
                    trailing: 0,
                    error: Some(format!("invalid hex: {e}")),
                },
            };
            let _ = out.write_all(render(&d).as_bytes());
        }
        return;
    }
    let Some(path) = file else { usage() };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("isakmp-dump: cannot read {path}: {e}");
            std::process::exit(1);
        }
    };
    let datagrams = match capture::isakmp_datagrams(&bytes) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("isakmp-dump: {path}: {e}");
            std::process::exit(1);
        }
    };
    for dg in datagrams {
        let d = dump(
            dg.frame,
            Some((dg.src, dg.dst, dg.natt)),
            &dg.isakmp,
            &config,
        );
        let _ = out.write_all(render(&d).as_bytes());
    }
}
