//! What the engine reports: [`Event`]s (SAs up, down, failed; inputs
//! dropped, each with a [`DropReason`] naming the layer that refused it;
//! weak algorithms in use), the optional structured
//! [`TraceEvent`] stream that a caller renders as IOS `debug crypto
//! isakmp` lines, and the [`Counters`] of received input by cause.
//!
//! Secrets travel only in [`Phase2Established`]'s [`SaKeys`], whose keys
//! are [`SecretBytes`]: wiped on drop, redacted by `Debug`.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use isakmp_wire::mode_cfg::CfgAttributeType;
use isakmp_wire::nat_t::NatTVersion;
use isakmp_wire::{ExchangeType, NotifyType, PayloadType};

use crate::config::{EspTransform, Phase1Auth};
use crate::crypto::{DhGroup, EncryptionAlgorithm, HashAlgorithm, SecretBytes};
use crate::remote_access::{ModeCfgRequest, ModeConfig, XauthFailure, XauthRequest, XauthVerify};
use crate::types::{
    ExchangeMode, Identity, IsakmpSaId, IsakmpState, Lifetime, NegotiationId, ProxyId, Role, Spi,
};

/// The algorithms of an ISAKMP SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Phase1Suite {
    /// Encryption.
    pub encryption: EncryptionAlgorithm,
    /// Hash and PRF.
    pub hash: HashAlgorithm,
    /// Diffie-Hellman group.
    pub group: DhGroup,
    /// Authentication method (with XAUTH, the initiator's user is
    /// authenticated after phase 1).
    pub auth: Phase1Auth,
    /// Lifetime in seconds.
    pub lifetime: u32,
}

/// An ISAKMP SA came up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase1Established {
    /// The SA.
    pub sa: IsakmpSaId,
    /// IOS's connection id of the SA.
    pub conn_id: u32,
    /// Our IKE address.
    pub local: SocketAddr,
    /// The peer's IKE address.
    pub remote: SocketAddr,
    /// Whether we initiated it.
    pub role: Role,
    /// Main or Aggressive Mode.
    pub mode: ExchangeMode,
    /// The negotiated algorithms.
    pub suite: Phase1Suite,
    /// The identity the peer authenticated with.
    pub peer_identity: Identity,
    /// What NAT traversal found.
    pub nat: NatStatus,
}

/// What NAT traversal (RFC 3947) found for an ISAKMP SA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NatStatus {
    /// The NAT-T version both sides announced (`None`: NAT-T is not in use
    /// with this peer).
    pub version: Option<NatTVersion>,
    /// The peer's NAT-D said our address or port differs from what it
    /// sees (or NAT-T is forced on our side): we are behind a NAT, and
    /// send keepalives.
    pub local_behind_nat: bool,
    /// None of the peer's NAT-D matched its address and port as we see
    /// them: the peer is behind a NAT.
    pub remote_behind_nat: bool,
    /// IKE moved to the NAT-T port (with the non-ESP marker).
    pub floated: bool,
}

impl NatStatus {
    /// Whether a NAT was found on either side: IPsec SAs negotiated on
    /// this ISAKMP SA use UDP-encapsulated ESP.
    #[must_use]
    pub const fn nat_detected(&self) -> bool {
        self.local_behind_nat || self.remote_behind_nat
    }
}

/// How an IPsec SA pair's ESP travels when it is UDP-encapsulated (RFC
/// 3948): in UDP datagrams between the pair's `local` and `remote` socket
/// addresses (the NAT-T port, as IKE floated), UDP checksum zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UdpEncapsulation {
    /// The encapsulation mode value negotiated (3/4, or 61443/61444 under
    /// the drafts).
    pub mode: isakmp_wire::EncapsulationMode,
    /// Transport mode: the peer's own address as it sent it in NAT-OA (its
    /// address before the NAT), for the checksum fix-up of RFC 3948
    /// s.3.1.2.
    pub peer_original: Option<IpAddr>,
    /// Transport mode: our address as the peer sent it in NAT-OA (what it
    /// believes it sends to).
    pub local_as_seen: Option<IpAddr>,
}

/// Keys of one direction of an IPsec SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaKeys {
    /// The SPI (chosen by the receiving side of this direction).
    pub spi: Spi,
    /// Encryption key (for AES-GCM: key followed by the 4-byte salt).
    pub encryption_key: SecretBytes,
    /// Integrity key (empty with AES-GCM).
    pub integrity_key: SecretBytes,
}

/// A pair of IPsec SAs was negotiated: everything an ESP layer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase2Established {
    /// The ISAKMP SA that negotiated it.
    pub isakmp_sa: IsakmpSaId,
    /// Our negotiation handle, when we initiated it.
    pub negotiation: Option<NegotiationId>,
    /// Our IKE (and ESP tunnel) address.
    pub local: SocketAddr,
    /// The peer's IKE (and ESP tunnel) address.
    pub remote: SocketAddr,
    /// The SA the peer sends to us with (our SPI).
    pub inbound: SaKeys,
    /// The SA we send to the peer with (the peer's SPI).
    pub outbound: SaKeys,
    /// The ESP transform.
    pub transform: EspTransform,
    /// Our traffic.
    pub local_proxy: ProxyId,
    /// The peer's traffic.
    pub remote_proxy: ProxyId,
    /// Lifetimes in force (after any RESPONDER-LIFETIME).
    pub lifetime: Lifetime,
    /// PFS group, if PFS was used.
    pub pfs: Option<DhGroup>,
    /// Whether we initiated the Quick Mode.
    pub role: Role,
    /// The Quick Mode message ID.
    pub message_id: u32,
    /// The inbound SPI of the SA this one replaces, for a rekey.
    pub rekey_of: Option<Spi>,
    /// `Some` when the ESP of this pair is UDP-encapsulated (RFC 3948).
    pub udp_encapsulation: Option<UdpEncapsulation>,
}

/// An SA named in an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaRef {
    /// An ISAKMP SA.
    Isakmp(IsakmpSaId),
    /// A pair of IPsec SAs, by SPI.
    Ipsec {
        /// Our SPI.
        inbound: Spi,
        /// The peer's SPI.
        outbound: Spi,
    },
}

/// Who ended an SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeletedBy {
    /// A local command.
    Local,
    /// A Delete payload from the peer.
    Peer,
    /// The peer's INITIAL-CONTACT (it restarted; its old SAs are gone).
    InitialContact,
    /// Dead Peer Detection declared the peer dead.
    DeadPeer,
}

/// Why a negotiation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// No offered proposal matched (ours or the peer's verdict).
    NoProposalChosen,
    /// The peer's HASH or authentication did not verify (a wrong
    /// pre-shared key shows as this, or as [`FailReason::Malformed`] when
    /// the message decrypts to garbage).
    AuthenticationFailed,
    /// An identity was refused (phase-1 identity or Quick Mode proxies).
    InvalidId,
    /// Certificate authentication failed: the peer's certificate or
    /// signature was refused, or we could not sign.
    Certificate(CertRefusal),
    /// No pre-shared key for the peer.
    NoPreSharedKey,
    /// A message decrypted to something that does not parse.
    Malformed,
    /// The peer's Diffie-Hellman public value was refused.
    InvalidKeyExchange,
    /// The derived DES/3DES key is weak (RFC 2409 Appendix B; about 2^-52
    /// per SA); the negotiation cannot continue.
    WeakKey,
    /// The peer sent an error notification.
    PeerNotified(NotifyType),
    /// No answer after every retransmission.
    Timeout,
    /// (Phase 2) the phase 1 it waited for failed.
    Phase1Failed,
    /// The ISAKMP SA was deleted while the negotiation ran.
    SaDeleted,
    /// A configured cap was reached.
    LimitReached,
    /// No SPI or message ID could be drawn (the entropy source keeps
    /// returning reserved or used values).
    EntropyExhausted,
}

/// A bad input, dropped, named by the layer that refused it; also the
/// counter keys of [`Counters`].
///
/// The layers, bottom up: the datagram's encoding ([`DropReason::Wire`]),
/// the exchange state it met ([`DropReason::State`]), its protection
/// ([`DropReason::Crypto`]), the local policy ([`DropReason::Policy`]) and
/// the resource caps ([`DropReason::Limit`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// The datagram or a decrypted body does not parse.
    #[error("malformed: {0}")]
    Wire(isakmp_wire::Error),
    /// The message does not fit the state of the SA or exchange it names.
    #[error(transparent)]
    State(StateDrop),
    /// The message's protection (encryption, HASH, authentication, key
    /// exchange) did not hold.
    #[error(transparent)]
    Crypto(CryptoDrop),
    /// The local policy refused what the message asked for.
    #[error(transparent)]
    Policy(PolicyDrop),
    /// A configured cap ([`Limits`](crate::Limits)) was reached.
    #[error(transparent)]
    Limit(LimitDrop),
    /// NAT traversal's framing or NAT-D did not hold (RFC 3947, RFC 3948).
    #[error(transparent)]
    NatT(NatTDrop),
    /// A Transaction exchange message (XAUTH, Mode-Config) that does not
    /// fit the SA's remote-access state or carries bad attributes.
    #[error(transparent)]
    RemoteAccess(RaDrop),
    /// An IKE fragment was not taken (see [`crate::fragment`]).
    #[error("IKE fragment: {0}")]
    Fragment(crate::fragment::FragmentDrop),
}

/// A Transaction exchange message the engine refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RaDrop {
    /// The ISAKMP SA is not established.
    #[error("Transaction exchange before phase 1 is complete")]
    NotEstablished,
    /// The SA does no remote access (and we answer no Mode-Config).
    #[error("Transaction exchange on an SA without remote access")]
    NotRemoteAccess,
    /// Mode-Config (or Quick Mode) before the user authenticated.
    #[error("before XAUTH is complete")]
    BeforeXauth,
    /// A SET, or XAUTH attributes, nobody asked for.
    #[error("unsolicited")]
    Unsolicited,
    /// A message of a type the SA does not wait for.
    #[error("unexpected in the remote-access state")]
    Unexpected,
    /// Mode-Config is off on this side.
    #[error("Mode-Config is not served")]
    ModeCfgOff,
    /// A single-valued attribute came more than once.
    #[error("attribute {0} repeated")]
    Repeated(CfgAttributeType),
    /// An attribute of the wrong length or form, too long, or missing.
    #[error("bad attribute: {0}")]
    BadAttribute(&'static str),
}

/// A datagram or payload that NAT traversal refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NatTDrop {
    /// A UDP payload on the NAT-T port that is neither an IKE message
    /// after the non-ESP marker, nor a keepalive, nor ESP.
    #[error("on the NAT-T port: {0}")]
    Udp4500(isakmp_wire::nat_t::Udp4500Error),
    /// An ESP packet handed to the IKE engine: the caller demultiplexes
    /// the NAT-T port ([`isakmp_wire::nat_t::classify`]) and gives ESP to
    /// its data plane.
    #[error("ESP handed to IKE (demultiplex the NAT-T port first)")]
    Esp,
    /// A NAT-D payload whose length is not the negotiated hash's.
    #[error("NAT-D payload of {len} bytes where the hash has {expected}")]
    NatDLength {
        /// Its length.
        len: usize,
        /// The hash's length.
        expected: usize,
    },
    /// Fewer than two NAT-D payloads (one for each end) where NAT-T was
    /// negotiated, or more than [`MAX_NAT_D`].
    #[error("{count} NAT-D payloads (2 to {MAX_NAT_D} expected)")]
    NatDCount {
        /// How many came.
        count: usize,
    },
}

/// The most NAT-D payloads a message may carry: one for the receiver
/// and one per address of the sender (RFC 3947 s.3.2); more is refused.
pub const MAX_NAT_D: usize = 8;

/// A message that the state it reached does not expect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateDrop {
    /// No SA with these cookies.
    #[error("no SA with these cookies")]
    UnknownSa,
    /// A message that this SA's state does not expect: names what the
    /// state waits for and what came.
    #[error("unexpected message: expected {expected}, received {received}")]
    UnexpectedMessage {
        /// What the state waits for.
        expected: &'static str,
        /// What came.
        received: Received,
    },
    /// A required payload is missing.
    #[error("{message} without its {payload} payload")]
    MissingPayload {
        /// The message.
        message: &'static str,
        /// The payload.
        payload: PayloadType,
    },
    /// An exchange type we do not handle.
    #[error("unsupported exchange type {0}")]
    UnsupportedExchange(ExchangeType),
    /// An SPI that names no SA of ours.
    #[error("no SA with this SPI")]
    UnknownSpi,
    /// A DPD sequence number that is old or unexpected.
    #[error("old or unexpected DPD sequence number")]
    DpdSequence,
}

/// What came, in a [`StateDrop::UnexpectedMessage`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Received {
    /// A message of this exchange type with these payloads, in order.
    #[error("{exchange} message with [{}]", payload_names(.payloads))]
    Message {
        /// Its exchange type.
        exchange: ExchangeType,
        /// Its payload types, in order.
        payloads: Vec<PayloadType>,
    },
    /// A message of this exchange type.
    #[error("{0} message")]
    Exchange(ExchangeType),
    /// A message of this exchange type from this address (not the SA's
    /// own exchange, or not from its peer).
    #[error("{exchange} from {from}")]
    ExchangeFrom {
        /// Its exchange type.
        exchange: ExchangeType,
        /// Its sender.
        from: SocketAddr,
    },
    /// A message from an address that is not the SA's peer.
    #[error("a message from {0}")]
    From(SocketAddr),
    /// A first message (zero responder cookie) with our own initiator
    /// cookie.
    #[error("a first message with our own initiator cookie")]
    OwnInitiatorCookie,
    /// A first message that differs from the one already answered under
    /// the same initiator cookie.
    #[error("a different first message with the same initiator cookie")]
    DifferentFirstMessage,
    /// An SA payload with a situation other than SIT_IDENTITY_ONLY.
    #[error("situation {0:#x}")]
    Situation(u32),
    /// A nonce of this many bytes.
    #[error("a nonce of {0} bytes")]
    NonceLength(usize),
    /// A Quick Mode message before phase 1 completed.
    #[error("a Quick Mode message")]
    QuickMode,
    /// A Quick Mode message with message ID 0.
    #[error("Quick Mode with message ID 0")]
    ZeroMessageId,
    /// A new message on the message ID of a completed Quick Mode.
    #[error("a new message on its message ID")]
    AfterCompletion,
    /// An encrypted Informational before phase 1 completed.
    #[error("an encrypted Informational")]
    EncryptedInformational,
}

/// A message whose protection did not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoDrop {
    /// A message that must be encrypted was not.
    #[error("not encrypted")]
    NotEncrypted,
    /// Decryption failed (not whole blocks).
    #[error("decryption failed")]
    DecryptFailed,
    /// A HASH payload did not verify.
    #[error("invalid HASH")]
    InvalidHash,
    /// Phase-1 authentication failed.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// Bad Diffie-Hellman public value (or a weak derived key).
    #[error("invalid key exchange")]
    InvalidKeyExchange,
}

/// What the local policy refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyDrop {
    /// No proposal acceptable.
    #[error("no proposal chosen")]
    NoProposalChosen,
    /// Identity refused.
    #[error("identity refused")]
    InvalidId,
    /// No pre-shared key for the peer.
    #[error("no pre-shared key for the peer")]
    NoPreSharedKey,
    /// An Aggressive Mode first message the
    /// [`AggressiveModePolicy`](crate::AggressiveModePolicy) does not answer.
    #[error("Aggressive Mode is not answered for this peer")]
    AggressiveModeRefused,
    /// The peer's certificate or signature was refused (the
    /// [`FailReason::Certificate`] of the failure says why).
    #[error("peer certificate refused")]
    CertificateRefused,
}

/// Why certificate authentication failed (see
/// [`Phase1Auth::Signature`](crate::Phase1Auth::Signature)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertRefusal {
    /// The peer sent no X.509 certificate, and none is configured for it.
    #[error("the peer sent no certificate")]
    NoCertificate,
    /// The caller never gave the calendar time
    /// ([`Endpoint::set_calendar_time`](crate::Endpoint::set_calendar_time)).
    #[error("no calendar time to check certificates against")]
    NoClock,
    /// The certificate (or its chain) does not validate, or does not name
    /// the identity of the peer's ID payload.
    #[error(transparent)]
    Invalid(ike_pki::CertError),
    /// The certificate's key is not of the negotiated method's algorithm.
    #[error("the certificate's key is {key}, the method needs {method}")]
    WrongKeyType {
        /// The key's algorithm.
        key: &'static str,
        /// The negotiated method's.
        method: &'static str,
    },
    /// The SIG payload does not verify with the certificate's key.
    #[error("the signature does not verify")]
    BadSignature,
    /// The message has no SIG payload.
    #[error("no signature payload")]
    NoSignature,
    /// We have no credentials (certificate and key) to sign with.
    #[error("no local certificate and key to sign with")]
    NoCredentials,
}

impl CertRefusal {
    /// A short stable name for logs and events (`expired`,
    /// `unknown-issuer`, `bad-signature`, ...).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoCertificate => "no-certificate",
            Self::NoClock => "no-clock",
            Self::Invalid(e) => e.kind(),
            Self::WrongKeyType { .. } => "wrong-key-type",
            Self::BadSignature => "bad-signature",
            Self::NoSignature => "no-signature",
            Self::NoCredentials => "no-credentials",
        }
    }
}

/// Which cap was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum LimitDrop {
    /// The half-open phase-1 cap.
    #[error("half-open phase-1 cap reached")]
    HalfOpen,
    /// The cap on established ISAKMP SAs (per peer or in total): no new
    /// phase 1 until one goes.
    #[error("ISAKMP SA cap reached")]
    IsakmpSa,
    /// The per-SA Quick Mode cap.
    #[error("phase-2 cap reached")]
    Phase2,
}

/// Payload types by name, comma-separated (for [`Received`]'s `Display`).
fn payload_names(payloads: &[PayloadType]) -> String {
    let names: Vec<String> = payloads.iter().map(ToString::to_string).collect();
    names.join(", ")
}

impl DropReason {
    /// A required payload is missing from `message`.
    pub(crate) fn missing(message: &'static str, payload: PayloadType) -> Self {
        DropReason::State(StateDrop::MissingPayload { message, payload })
    }

    /// The "wrong message here" helper: a message that the state does not
    /// expect, naming what it waits for and what came.
    pub(crate) fn unexpected(expected: &'static str, received: Received) -> Self {
        DropReason::State(StateDrop::UnexpectedMessage { expected, received })
    }
}

impl From<isakmp_wire::Error> for DropReason {
    fn from(e: isakmp_wire::Error) -> Self {
        DropReason::Wire(e)
    }
}

impl From<StateDrop> for DropReason {
    fn from(d: StateDrop) -> Self {
        DropReason::State(d)
    }
}

impl From<CryptoDrop> for DropReason {
    fn from(d: CryptoDrop) -> Self {
        DropReason::Crypto(d)
    }
}

impl From<PolicyDrop> for DropReason {
    fn from(d: PolicyDrop) -> Self {
        DropReason::Policy(d)
    }
}

impl From<LimitDrop> for DropReason {
    fn from(d: LimitDrop) -> Self {
        DropReason::Limit(d)
    }
}

/// One SA attribute, as a trace shows it (IOS prints TV values as
/// "(basic) of N" and TLV values as "(VPI) of 0x0 0x1 0x51 0x80").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceAttribute {
    /// Attribute type (class per context: phase 1 or IPsec DOI).
    pub attribute_type: u16,
    /// The value.
    pub value: TraceValue,
}

/// An attribute value in its wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceValue {
    /// TV.
    Basic(u16),
    /// TLV bytes.
    Variable(Vec<u8>),
}

impl TraceAttribute {
    pub(crate) fn from_attr(a: &isakmp_wire::Attribute<'_>) -> Self {
        Self {
            attribute_type: a.attribute_type,
            value: match &a.value {
                isakmp_wire::AttributeValue::Basic(v) => TraceValue::Basic(*v),
                isakmp_wire::AttributeValue::Variable(v) => TraceValue::Variable(v.to_vec()),
            },
        }
    }
}

/// What a vendor ID payload said.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VendorKind {
    /// Cisco IOS ("speaking to another IOS box!").
    CiscoIos,
    /// RFC 3706 DPD.
    Dpd,
    /// A NAT traversal version (RFC 3947 or one of its drafts).
    NatT(NatTVersion),
    /// IKE fragmentation (see [`crate::fragment`]).
    Fragmentation,
    /// Another known one, by name.
    Known(&'static str),
    /// Unknown bytes.
    Unknown(Vec<u8>),
}

/// One step of the engine's work, with enough data for `ted` to render
/// IOS `debug crypto isakmp` / `debug crypto ipsec` lines. Emitted only
/// when [`Config::trace`](crate::Config::trace) is on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// "received packet from X (N) NEW SA" (`state` None) or "(I)
    /// MM_NO_STATE".
    ReceivedPacket {
        /// Sender.
        from: SocketAddr,
        /// Our role, `None` for a new SA.
        role: Option<Role>,
        /// SA state, `None` for a new SA.
        state: Option<IsakmpState>,
    },
    /// "sending packet to X (I) MM_NO_STATE".
    SendingPacket {
        /// Destination.
        to: SocketAddr,
        /// Our role.
        role: Role,
        /// SA state.
        state: IsakmpState,
        /// Whether this is a retransmission.
        retransmission: bool,
    },
    /// "received packet ... is a retransmission; resending our reply".
    DuplicateAnswered {
        /// Message ID of the duplicate.
        message_id: u32,
    },
    /// "processing SA payload. message ID = 0".
    ProcessingPayload {
        /// Payload type.
        payload: PayloadType,
        /// Message ID.
        message_id: u32,
    },
    /// "processing vendor id payload" + its meaning.
    VendorId(VendorKind),
    /// The peer's NAT-D payloads were checked (RFC 3947 s.3.2): IOS's
    /// "NAT found" / "NAT not found for self or peer".
    NatDetected {
        /// We are behind a NAT (or NAT-T is forced).
        local_behind_nat: bool,
        /// The peer is behind a NAT.
        remote_behind_nat: bool,
    },
    /// "found peer pre-shared key matching X".
    FoundPsk {
        /// The peer.
        peer: IpAddr,
    },
    /// "No pre-shared key with X!".
    NoPsk {
        /// The peer.
        peer: IpAddr,
    },
    /// "Checking ISAKMP transform N against priority P policy", then one
    /// line per attribute.
    CheckingIsakmpTransform {
        /// Transform number.
        transform: u8,
        /// Policy priority.
        priority: u32,
        /// The transform's attributes.
        attributes: Vec<TraceAttribute>,
    },
    /// "atts are acceptable" / "atts are not acceptable".
    AttributesAcceptable {
        /// Verdict.
        acceptable: bool,
        /// Why not, when not.
        reason: Option<&'static str>,
    },
    /// "SA is doing pre-shared key authentication using id type X".
    PreSharedKeyAuth {
        /// ID type name.
        id_type: &'static str,
    },
    /// "SKEYID state generated".
    SkeyidGenerated,
    /// "ID payload next-payload : 8 type : 1 protocol : 17 port : 500
    /// length : 8".
    IdPayload {
        /// Next payload field.
        next_payload: u8,
        /// ID type.
        id_type: u8,
        /// Protocol.
        protocol: u8,
        /// Port.
        port: u16,
        /// Identification data length plus 4.
        length: usize,
    },
    /// "SA has been authenticated with X".
    Authenticated {
        /// Peer address.
        peer: IpAddr,
    },
    /// "beginning Quick Mode exchange, M-ID of N".
    BeginningQuickMode {
        /// Message ID.
        message_id: u32,
    },
    /// "getting spi N for SA from X to Y for prot 3".
    SpiAllocated {
        /// The SPI.
        spi: Spi,
        /// The SA's source.
        from: IpAddr,
        /// The SA's destination (us).
        to: IpAddr,
    },
    /// "Checking IPSec proposal N", "transform N, ESP_DES", attributes.
    CheckingIpsecProposal {
        /// Proposal number.
        proposal: u8,
        /// Transform number.
        transform: u8,
        /// ESP transform ID.
        transform_id: u8,
        /// Attributes.
        attributes: Vec<TraceAttribute>,
    },
    /// "Creating IPSec SAs" with both directions.
    CreatingIpsecSas {
        /// Our SPI.
        inbound_spi: Spi,
        /// Peer's SPI.
        outbound_spi: Spi,
        /// Our IKE address.
        local: IpAddr,
        /// Peer's IKE address.
        remote: IpAddr,
        /// Our proxy.
        local_proxy: ProxyId,
        /// Peer's proxy.
        remote_proxy: ProxyId,
        /// Lifetimes.
        lifetime: Lifetime,
    },
    /// "deleting node N error FALSE reason ...".
    DeletingNode {
        /// Message ID.
        message_id: u32,
        /// Whether it ended in error.
        error: bool,
        /// Why.
        reason: &'static str,
    },
    /// "deleting SA reason ... state (I) X".
    DeletingSa {
        /// Why.
        reason: &'static str,
        /// State at deletion.
        state: IsakmpState,
    },
    /// A notification we sent.
    NotifySent(NotifyType),
    /// A notification we received (authenticated or not).
    NotifyReceived {
        /// Its type.
        notify: NotifyType,
        /// Whether it came protected by an ISAKMP SA.
        authenticated: bool,
    },
    /// A Delete payload we sent.
    DeleteSent {
        /// Protocol ID.
        protocol: u8,
        /// SPIs.
        spis: Vec<Vec<u8>>,
    },
    /// A Delete payload we received and acted on.
    DeleteReceived {
        /// Protocol ID.
        protocol: u8,
        /// SPIs.
        spis: Vec<Vec<u8>>,
    },
    /// DPD: R-U-THERE sent or received, ACK sent or received.
    Dpd {
        /// Notify type (R-U-THERE or its ACK).
        notify: NotifyType,
        /// Sequence number.
        sequence: u32,
        /// Whether we sent it.
        sent: bool,
    },
}

/// A trace event with its SA context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The ISAKMP SA, if any.
    pub sa: Option<IsakmpSaId>,
    /// IOS's conn-id of that SA (0 before one exists).
    pub conn_id: u32,
    /// The event.
    pub event: TraceEvent,
}

/// Everything the engine reports. Drain with
/// [`Endpoint::poll_event`](crate::Endpoint::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An ISAKMP SA is up.
    Phase1Established(Phase1Established),
    /// A phase-1 negotiation failed.
    Phase1Failed {
        /// The SA.
        sa: IsakmpSaId,
        /// The peer.
        peer: SocketAddr,
        /// Why.
        reason: FailReason,
    },
    /// A pair of IPsec SAs is up (boxed: it carries keys and proxies).
    Phase2Established(Box<Phase2Established>),
    /// A Quick Mode negotiation failed.
    Phase2Failed {
        /// Our handle, when we initiated.
        negotiation: Option<NegotiationId>,
        /// The ISAKMP SA, when one was involved.
        sa: Option<IsakmpSaId>,
        /// The peer.
        peer: SocketAddr,
        /// Why.
        reason: FailReason,
    },
    /// An SA was deleted (by a command, the peer, INITIAL-CONTACT or DPD).
    Deleted {
        /// Which.
        sa: SaRef,
        /// The peer.
        peer: SocketAddr,
        /// By whom.
        by: DeletedBy,
    },
    /// An SA reached its hard lifetime and is gone (a Delete was sent).
    Expired {
        /// Which.
        sa: SaRef,
        /// The peer.
        peer: SocketAddr,
    },
    /// An SA reached its soft lifetime; a replacement is being negotiated.
    RekeyStarted {
        /// The SA being replaced.
        old: SaRef,
        /// The phase-2 negotiation of the replacement (for IPsec SAs).
        negotiation: Option<NegotiationId>,
        /// The new ISAKMP SA (for ISAKMP SAs).
        new_sa: Option<IsakmpSaId>,
    },
    /// A message was retransmitted every scheduled time without answer.
    RetransmitGaveUp {
        /// The ISAKMP SA.
        sa: IsakmpSaId,
        /// The peer.
        peer: SocketAddr,
        /// 0 in phase 1, the Quick Mode message ID otherwise.
        message_id: u32,
    },
    /// DPD got no answer: the peer is declared dead and its SAs removed.
    DpdTimeout {
        /// The ISAKMP SA.
        sa: IsakmpSaId,
        /// The peer.
        peer: SocketAddr,
    },
    /// The peer sent an error notification about an established SA or a
    /// negotiation (reported; the engine acts on the ones it knows).
    PeerNotification {
        /// The ISAKMP SA it came with, if any.
        sa: Option<IsakmpSaId>,
        /// The peer.
        peer: SocketAddr,
        /// The notify type.
        notify: NotifyType,
        /// Whether it was protected by an ISAKMP SA.
        authenticated: bool,
    },
    /// An input was dropped.
    InputDropped {
        /// Why.
        reason: DropReason,
        /// Sender.
        peer: SocketAddr,
    },
    /// A weak algorithm is in use on an SA (once per SA and algorithm).
    WeakAlgorithm {
        /// The SA.
        sa: SaRef,
        /// The algorithm, e.g. "DES-CBC", "MODP-768", "esp-md5-hmac".
        algorithm: String,
    },
    /// The peer's address or port changed under an established ISAKMP SA
    /// (its NAT made a new mapping): an authenticated message came from
    /// `to`, or the caller reported authenticated ESP from it
    /// ([`Endpoint::peer_moved`](crate::Endpoint::peer_moved)). IKE now
    /// sends to `to`, and so must the data plane for every IPsec SA pair
    /// in `ipsec`. Unauthenticated input never moves an SA.
    PeerMoved {
        /// The ISAKMP SA.
        sa: IsakmpSaId,
        /// The address it used.
        from: SocketAddr,
        /// The address it uses now.
        to: SocketAddr,
        /// Our address on the SA (unchanged).
        local: SocketAddr,
        /// The IPsec SA pairs negotiated on it, which follow.
        ipsec: Vec<SaRef>,
    },
    /// Client: the XAUTH server asks for credentials; answer with
    /// [`Endpoint::xauth_credentials`](crate::Endpoint::xauth_credentials)
    /// (or [`Endpoint::xauth_cancel`](crate::Endpoint::xauth_cancel))
    /// before [`RemoteAccessConfig::timeout`](crate::RemoteAccessConfig::timeout).
    XauthRequested(XauthRequest),
    /// Server: a user's credentials to check; answer with
    /// [`Endpoint::xauth_verdict`](crate::Endpoint::xauth_verdict).
    XauthVerify(XauthVerify),
    /// XAUTH succeeded on an SA (both roles: the server got the client's
    /// ACK of STATUS = OK; the client was told OK).
    XauthCompleted {
        /// The ISAKMP SA.
        sa: IsakmpSaId,
        /// The peer.
        peer: SocketAddr,
        /// The user.
        user: String,
        /// Our role in phase 1 (responder: we are the server).
        role: Role,
    },
    /// XAUTH failed on an SA, which is deleted.
    XauthFailed {
        /// The ISAKMP SA.
        sa: IsakmpSaId,
        /// The peer.
        peer: SocketAddr,
        /// The user, when one was named.
        user: Option<String>,
        /// Our role in phase 1 (responder: we are the server).
        role: Role,
        /// Why.
        reason: XauthFailure,
    },
    /// Server: a client's configuration is wanted; answer with
    /// [`Endpoint::mode_cfg_reply`](crate::Endpoint::mode_cfg_reply) or
    /// [`Endpoint::mode_cfg_refuse`](crate::Endpoint::mode_cfg_refuse).
    ModeCfgRequested(ModeCfgRequest),
    /// Client: what Mode-Config gave us. Negotiate Quick Mode with
    /// `config.address` as our traffic.
    ModeCfgReceived {
        /// The ISAKMP SA.
        sa: IsakmpSaId,
        /// The server.
        peer: SocketAddr,
        /// The configuration.
        config: Box<ModeConfig>,
    },
    /// Server: an address went to a client (in a REPLY or SET).
    AddressAssigned {
        /// The ISAKMP SA that holds it.
        sa: IsakmpSaId,
        /// The client.
        peer: SocketAddr,
        /// The XAUTH user, when XAUTH ran.
        user: Option<String>,
        /// The address.
        address: Ipv4Addr,
    },
    /// Server: the SA holding an assigned address is gone (deleted,
    /// expired, failed); the caller's pool may take the address back
    /// (unless another SA of the same user holds it: a phase-1 rekey).
    AddressReleased {
        /// The ISAKMP SA that held it.
        sa: IsakmpSaId,
        /// The client.
        peer: SocketAddr,
        /// The address.
        address: Ipv4Addr,
    },
    /// The peer's certificate validated and its signature verified
    /// (certificate authentication); the SA comes up next.
    PeerCertificate {
        /// The SA.
        sa: IsakmpSaId,
        /// The peer.
        peer: SocketAddr,
        /// The certificate's subject (RFC 4514 form).
        subject: String,
        /// Its issuer.
        issuer: String,
        /// Its serial number, in hex.
        serial: String,
        /// Its end of validity, Unix seconds.
        not_after: u64,
        /// The trust anchor the path ended at.
        anchor: String,
    },
    /// A trace step (only with [`Config::trace`](crate::Config::trace)).
    Trace(Trace),
}

/// Counters of received input and of what was done with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Datagrams handed to the endpoint.
    pub received: u64,
    /// Datagrams queued for sending (retransmissions included).
    pub sent: u64,
    /// Retransmissions we sent on timeout.
    pub retransmitted: u64,
    /// Duplicates of peer messages answered by resending our reply.
    pub duplicates_answered: u64,
    /// Duplicates not answered (rate limit).
    pub duplicates_suppressed: u64,
    /// Dropped: malformed.
    pub malformed: u64,
    /// Dropped: no SA for the cookies.
    pub unknown_sa: u64,
    /// Dropped: unexpected in the current state.
    pub unexpected: u64,
    /// Dropped: a required payload was missing.
    pub missing_payload: u64,
    /// Dropped: should have been encrypted.
    pub not_encrypted: u64,
    /// Dropped: could not be decrypted.
    pub decrypt_failed: u64,
    /// Dropped: HASH did not verify.
    pub invalid_hash: u64,
    /// Dropped: phase-1 authentication failed.
    pub authentication_failed: u64,
    /// Refused: no proposal chosen.
    pub no_proposal_chosen: u64,
    /// Refused: identity.
    pub invalid_id: u64,
    /// Refused: no pre-shared key.
    pub no_psk: u64,
    /// Refused: bad KE.
    pub invalid_ke: u64,
    /// Dropped: half-open cap.
    pub half_open_limit: u64,
    /// Dropped: established ISAKMP SA cap.
    pub isakmp_sa_limit: u64,
    /// Dropped: Quick Mode cap.
    pub phase2_limit: u64,
    /// Dropped: unsupported exchange type.
    pub unsupported_exchange: u64,
    /// Dropped: unknown SPI.
    pub unknown_spi: u64,
    /// Dropped: DPD sequence.
    pub dpd_sequence: u64,
    /// Datagrams not queued because [`Limits::max_queued_transmits`](crate::Limits::max_queued_transmits)
    /// were waiting.
    pub transmits_dropped: u64,
    /// Events not queued because [`Limits::max_queued_events`](crate::Limits::max_queued_events)
    /// were waiting.
    pub events_dropped: u64,
    /// Dropped: NAT-T framing or NAT-D ([`NatTDrop`]).
    pub nat_t: u64,
    /// Refused: an Aggressive Mode first message the policy does not
    /// answer.
    pub aggressive_refused: u64,
    /// Refused: a peer's certificate or signature ([`CertRefusal`]).
    pub certificate_refused: u64,
    /// NAT keepalives received on the NAT-T port (discarded, RFC 3948
    /// s.2.3).
    pub keepalives_received: u64,
    /// NAT keepalives sent.
    pub keepalives_sent: u64,
    /// Dropped: a Transaction exchange message ([`RaDrop`]).
    pub remote_access: u64,
    /// XAUTH attempts the server's caller refused (wrong credentials).
    pub xauth_rejected: u64,
    /// SAs deleted because XAUTH failed (refused, exhausted, timed out,
    /// cancelled).
    pub xauth_failed: u64,
    /// Mode-Config requests the server's caller refused (an empty pool).
    pub mode_cfg_refused: u64,
    /// Dropped: IKE fragments not taken ([`crate::fragment::FragmentDrop`];
    /// the reassembler's own counts are in
    /// [`Endpoint::fragment_counters`](crate::Endpoint::fragment_counters)).
    pub fragments_dropped: u64,
    /// Fragment messages we sent (a message cut in three counts three).
    pub fragments_sent: u64,
    /// Messages sent whole although the peer takes fragments, because the
    /// fragment size left no room to cut them.
    pub fragmentation_failed: u64,
    /// Messages put back together from fragments and handed on.
    pub fragments_reassembled: u64,
}

impl Counters {
    pub(crate) fn count(&mut self, reason: &DropReason) {
        let c = match reason {
            DropReason::Wire(_) => &mut self.malformed,
            DropReason::State(d) => match d {
                StateDrop::UnknownSa => &mut self.unknown_sa,
                StateDrop::UnexpectedMessage { .. } => &mut self.unexpected,
                StateDrop::MissingPayload { .. } => &mut self.missing_payload,
                StateDrop::UnsupportedExchange(_) => &mut self.unsupported_exchange,
                StateDrop::UnknownSpi => &mut self.unknown_spi,
                StateDrop::DpdSequence => &mut self.dpd_sequence,
            },
            DropReason::Crypto(d) => match d {
                CryptoDrop::NotEncrypted => &mut self.not_encrypted,
                CryptoDrop::DecryptFailed => &mut self.decrypt_failed,
                CryptoDrop::InvalidHash => &mut self.invalid_hash,
                CryptoDrop::AuthenticationFailed => &mut self.authentication_failed,
                CryptoDrop::InvalidKeyExchange => &mut self.invalid_ke,
            },
            DropReason::Policy(d) => match d {
                PolicyDrop::NoProposalChosen => &mut self.no_proposal_chosen,
                PolicyDrop::InvalidId => &mut self.invalid_id,
                PolicyDrop::NoPreSharedKey => &mut self.no_psk,
                PolicyDrop::AggressiveModeRefused => &mut self.aggressive_refused,
                PolicyDrop::CertificateRefused => &mut self.certificate_refused,
            },
            DropReason::Limit(d) => match d {
                LimitDrop::HalfOpen => &mut self.half_open_limit,
                LimitDrop::IsakmpSa => &mut self.isakmp_sa_limit,
                LimitDrop::Phase2 => &mut self.phase2_limit,
            },
            DropReason::NatT(_) => &mut self.nat_t,
            DropReason::RemoteAccess(_) => &mut self.remote_access,
            DropReason::Fragment(_) => &mut self.fragments_dropped,
        };
        *c = c.saturating_add(1);
    }

    /// Every input dropped, whatever the cause.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        [
            self.malformed,
            self.unknown_sa,
            self.unexpected,
            self.missing_payload,
            self.not_encrypted,
            self.decrypt_failed,
            self.invalid_hash,
            self.authentication_failed,
            self.no_proposal_chosen,
            self.invalid_id,
            self.no_psk,
            self.invalid_ke,
            self.half_open_limit,
            self.isakmp_sa_limit,
            self.phase2_limit,
            self.unsupported_exchange,
            self.unknown_spi,
            self.dpd_sequence,
            self.nat_t,
            self.aggressive_refused,
            self.certificate_refused,
            self.remote_access,
            self.fragments_dropped,
        ]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_count_by_layer_and_kind() {
        let mut c = Counters::default();
        c.count(&DropReason::Limit(LimitDrop::Phase2));
        c.count(&DropReason::Crypto(CryptoDrop::InvalidHash));
        c.count(&DropReason::missing("QM1", PayloadType::SA));
        c.count(&DropReason::unexpected(
            "MM2 (SA)",
            Received::Exchange(ExchangeType::QUICK_MODE),
        ));
        assert_eq!(c.phase2_limit, 1);
        assert_eq!(c.invalid_hash, 1);
        assert_eq!(c.missing_payload, 1);
        assert_eq!(c.unexpected, 1);
        assert_eq!(c.dropped(), 4);
    }

    #[test]
    fn drops_name_what_was_expected_and_what_came() {
        let d = DropReason::unexpected(
            "MM4 (KE, NONCE)",
            Received::Message {
                exchange: ExchangeType::IDENTITY_PROTECTION,
                payloads: vec![PayloadType::SA, PayloadType::VENDOR_ID],
            },
        );
        assert_eq!(
            d.to_string(),
            "unexpected message: expected MM4 (KE, NONCE), received \
             ID_PROT message with [SA, VID]"
        );
        assert_eq!(
            DropReason::Policy(PolicyDrop::NoPreSharedKey).to_string(),
            "no pre-shared key for the peer"
        );
    }
}
