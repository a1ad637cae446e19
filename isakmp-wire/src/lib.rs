//! ISAKMP wire codec: bytes to and from IKEv1 messages.
//!
//! This crate reads and writes the RFC 2408 ISAKMP header and payloads,
//! the RFC 2407 IPsec DOI values, attributes and identities, the RFC 2409
//! IKE attributes, the RFC 3947 NAT-T payloads (and, in [`nat_t`], the
//! NAT-T versions and the RFC 3948 framing of UDP port 4500: non-ESP
//! marker, keepalive, ESP), the Attribute payload of Mode-Config, XAUTH and
//! Cisco Unity ([`mode_cfg`]), the IKEv1 fragmentation payload and its
//! fragment messages ([`fragment`]), and the Cisco Tunnel
//! Endpoint Discovery (TED) probe and response shapes of the project's
//! `docs/ted-wire.md`. It holds no keys, no state and no clock: `ike-sm` builds
//! on it.
//!
//! # Model
//!
//! Following smoltcp's wire module, there are two layers:
//!
//! * **Views** borrow the datagram: [`Message`] validates the header
//!   ([`Message::new_checked`]) and iterates the payload chain as
//!   `Result`s ([`Message::payloads`], stopping after the first error);
//!   each [`Payload`] exposes its raw bytes (for IKE's hashes) and body.
//! * **Reprs** are the owned, typed form: [`MessageRepr`] is a
//!   [`HeaderRepr`] plus a `Vec` of [`PayloadRepr`], whose variable data
//!   borrows from the datagram. `emit` computes every next-payload and
//!   length field from the chain; `buffer_len` says how many bytes `emit`
//!   writes; a too-small buffer is [`Error::BufferTooSmall`], never a
//!   panic.
//!
//! Encrypted messages decode in two phases (see [`message`]):
//! [`ParsedMessage::parse`] yields an [`EncryptedRepr`] with the opaque
//! ciphertext; after decryption, [`DecryptedBody::parse`] reads the
//! payloads and returns the RFC 2409 s.5.3 padding.
//!
//! # Round-trip laws
//!
//! * For every *well-formed* message `b`, `emit(parse(b)) == b`, where
//!   well-formed means: it parses; the datagram ends at the header's
//!   length; every reserved field (generic payload header byte 2, the
//!   transform's 2 reserved bytes, NAT-OA's 3) is zero. Parsing accepts
//!   non-zero reserved bytes and `emit` writes zeros; cleartext messages
//!   round-trip as a whole, encrypted ones as header plus ciphertext.
//! * For every message `b` that parses, `parse(emit(parse(b))) == parse(b)`.
//! * For every repr `r` that `emit` accepts, `parse(emit(r)) == r`, given
//!   that `r` has no [`PayloadRepr::Opaque`] payload of a type this crate
//!   types in that message (an opaque payload of type 5 would come back as
//!   an ID). `emit` rejects what the wire cannot carry or would read back
//!   differently (lengths over 65535, SPIs over 255 bytes, attribute types
//!   with the AF bit, an `IdData::Other` of a typed ID type, ...).
//!
//! The same laws hold for a whole fragment message ([`FragmentMessage`]):
//! with a zero reserved byte in its payload header it re-emits byte for
//! byte.
//!
//! The fuzz targets (`fuzz/`, through the `fuzzing` module behind the
//! `fuzzing` feature) check all of them.
//!
//! # Example: parse and build
//!
//! ```
//! use isakmp_wire::{
//!     Attribute, ExchangeType, Flags, HeaderRepr, Message, MessageRepr, ParseConfig,
//!     PayloadRepr, Phase1Attribute, ProposalRepr, ProtocolId, SaRepr, TransformId,
//!     TransformRepr, EncryptionAlgorithm, HashAlgorithm, AuthMethod, GroupDescription,
//!     LifeType,
//! };
//!
//! // Build a Main Mode message 1: one SA offering DES/SHA/PSK/group 1, life 86400 s.
//! let attributes: Vec<Attribute> = [
//!     Phase1Attribute::EncryptionAlgorithm(EncryptionAlgorithm::DES_CBC),
//!     Phase1Attribute::HashAlgorithm(HashAlgorithm::SHA),
//!     Phase1Attribute::AuthMethod(AuthMethod::PRE_SHARED_KEY),
//!     Phase1Attribute::GroupDescription(GroupDescription::MODP_768),
//!     Phase1Attribute::LifeType(LifeType::SECONDS),
//!     Phase1Attribute::LifeDuration(86400), // sent as a 4-byte TLV, as IOS does
//! ]
//! .iter()
//! .map(Phase1Attribute::to_attribute)
//! .collect();
//! let mm1 = MessageRepr {
//!     header: HeaderRepr {
//!         initiator_cookie: [1, 2, 3, 4, 5, 6, 7, 8],
//!         exchange_type: ExchangeType::IDENTITY_PROTECTION,
//!         ..HeaderRepr::default()
//!     },
//!     payloads: vec![PayloadRepr::Sa(SaRepr {
//!         situation: 1, // SIT_IDENTITY_ONLY
//!         proposals: vec![ProposalRepr {
//!             number: 1,
//!             protocol: ProtocolId::ISAKMP,
//!             spi: &[],
//!             transforms: vec![TransformRepr {
//!                 number: 1,
//!                 id: TransformId(1), // KEY_IKE
//!                 attributes,
//!             }],
//!         }],
//!     })],
//! };
//! let mut buf = vec![0u8; mm1.buffer_len()];
//! let n = mm1.emit(&mut buf)?;
//! assert_eq!(n, 28 + 4 + 8 + 8 + 8 + 5 * 4 + 8);
//!
//! // Parse it back: the view checks the header, the repr types every payload.
//! let message = Message::new_checked(&buf[..])?;
//! assert_eq!(message.header().exchange_type(), ExchangeType::IDENTITY_PROTECTION);
//! let parsed = MessageRepr::parse(&message, &ParseConfig::default())?;
//! assert_eq!(parsed, mm1);
//! let PayloadRepr::Sa(sa) = &parsed.payloads[0] else { unreachable!() };
//! let life = sa.proposals[0].transforms[0].attributes[5].phase1()?;
//! assert_eq!(life, Phase1Attribute::LifeDuration(86400));
//! # Ok::<(), isakmp_wire::Error>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
// The `arbitrary` derive names `std`; only the fuzzing build links it.
#[cfg(feature = "fuzzing")]
extern crate std;

pub mod attribute;
pub mod chain;
mod error;
pub mod fragment;
pub mod header;
pub mod id;
pub mod message;
pub mod mode_cfg;
pub mod nat_t;
pub mod payload;
pub mod registry;
pub mod ted;
pub mod vendor;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use attribute::{Attribute, AttributeValue, IpsecAttribute, Phase1Attribute};
pub use chain::{Payload, Payloads};
pub use error::{Error, Result};
pub use fragment::{FragmentFlags, FragmentMessage, FragmentRepr};
pub use header::{Cookie, Flags, GenericPayloadHeader, HEADER_LEN, Header, HeaderRepr};
pub use id::{IdData, IdRepr};
pub use message::{
    DecryptedBody, EncryptedRepr, Message, MessagePayloads, MessageRepr, ParsedMessage,
};
pub use payload::{
    CertRepr, DeleteRepr, NatTNumbering, NotificationRepr, OpaquePayload, ParseConfig, PayloadRepr,
    ProposalRepr, SaRepr, TedProxyNumbering, TedProxyRepr, TransformRepr, chain_len,
};
pub use registry::{
    AhTransformId, AuthAlgorithm, AuthMethod, CertEncoding, Doi, EcnTunnel, EncapsulationMode,
    EncryptionAlgorithm, EspTransformId, ExchangeRange, ExchangeType, GroupDescription, GroupType,
    HashAlgorithm, IdType, IpcompTransformId, IpsecAttributeType, IsakmpTransformId, LifeType,
    NotifyType, PayloadType, Phase1AttributeType, ProtocolId, SaLifeType, TransformId,
};
pub use ted::{TedMessage, TedProbe, TedResponse};
