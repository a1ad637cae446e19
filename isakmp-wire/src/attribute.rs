//! Data attributes (RFC 2408 s.3.3) and their typed decoding for the
//! phase-1 class (RFC 2409 Appendix A) and the IPsec DOI class
//! (RFC 2407 s.4.5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !A!       Attribute Type        !    AF=0  Attribute Length     !
//! !F!                             !    AF=1  Attribute Value      !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! .                   AF=0  Attribute Value                       .
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! An [`Attribute`] keeps the wire form (TV or TLV, and the TLV's exact
//! value length), so a message round-trips byte for byte: IOS sends a life
//! of 86400 s as a 4-byte TLV and 3600 s as a TV. Typed decoding is a
//! separate, fallible step ([`Attribute::phase1`], [`Attribute::ipsec`]);
//! building goes through [`Attribute::integer`], which picks TV when the
//! value fits 16 bits.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::chain::{Reader, Writer};
use crate::error::{Error, Result};
use crate::registry::{
    AuthAlgorithm, AuthMethod, EcnTunnel, EncapsulationMode, EncryptionAlgorithm, GroupDescription,
    GroupType, HashAlgorithm, IpsecAttributeType, LifeType, Phase1AttributeType, SaLifeType,
};

const AF_TV: u16 = 0x8000;

/// An attribute's value in its wire form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum AttributeValue<'a> {
    /// TV form (AF = 1): a 16-bit value.
    Basic(u16),
    /// TLV form (AF = 0): a value of 0 to 65535 bytes.
    Variable(Cow<'a, [u8]>),
}

/// One data attribute, in its wire form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct Attribute<'a> {
    /// The attribute type, without the AF bit (0..=0x7fff); its meaning
    /// depends on the class ([`Phase1AttributeType`] or
    /// [`IpsecAttributeType`]).
    pub attribute_type: u16,
    /// The value and its form.
    pub value: AttributeValue<'a>,
}

impl<'a> Attribute<'a> {
    /// A TV attribute.
    #[must_use]
    pub fn basic(attribute_type: u16, value: u16) -> Self {
        Self {
            attribute_type,
            value: AttributeValue::Basic(value),
        }
    }

    /// A TLV attribute borrowing its value.
    #[must_use]
    pub fn variable(attribute_type: u16, value: &'a [u8]) -> Self {
        Self {
            attribute_type,
            value: AttributeValue::Variable(Cow::Borrowed(value)),
        }
    }

    /// An integer attribute: TV when the value fits 16 bits, otherwise a
    /// TLV of 4 bytes (8 if it does not fit 32 bits). Four bytes is what IOS
    /// and most stacks send for lifetimes (86400 s as `00 01 51 80`).
    #[must_use]
    pub fn integer(attribute_type: u16, value: u64) -> Attribute<'static> {
        if let Ok(v) = u16::try_from(value) {
            return Attribute::basic(attribute_type, v);
        }
        let bytes: Vec<u8> = match u32::try_from(value) {
            Ok(v) => v.to_be_bytes().to_vec(),
            Err(_) => value.to_be_bytes().to_vec(),
        };
        Attribute {
            attribute_type,
            value: AttributeValue::Variable(Cow::Owned(bytes)),
        }
    }

    /// Whether the attribute is in TV form.
    #[must_use]
    pub fn is_basic(&self) -> bool {
        matches!(self.value, AttributeValue::Basic(_))
    }

    /// The value as an unsigned integer: a TV value, or a TLV of at most 8
    /// significant bytes (leading zero bytes are allowed). `None` for an
    /// empty or longer TLV.
    #[must_use]
    pub fn integer_value(&self) -> Option<u64> {
        match &self.value {
            AttributeValue::Basic(v) => Some(u64::from(*v)),
            AttributeValue::Variable(bytes) => be_uint(bytes),
        }
    }

    /// Bytes this attribute takes on the wire.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match &self.value {
            AttributeValue::Basic(_) => 4,
            AttributeValue::Variable(v) => v.len().saturating_add(4),
        }
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if self.attribute_type >= AF_TV {
            return Err(Error::InvalidRepr {
                what: "attribute type above 0x7fff (the AF bit is the form)",
            });
        }
        match &self.value {
            AttributeValue::Basic(v) => {
                w.u16(self.attribute_type | AF_TV)?;
                w.u16(*v)
            }
            AttributeValue::Variable(value) => {
                let len = u16::try_from(value.len()).map_err(|_| Error::InvalidRepr {
                    what: "TLV attribute value longer than 65535 bytes",
                })?;
                w.u16(self.attribute_type)?;
                w.u16(len)?;
                w.put(value)
            }
        }
    }

    /// Parses a list of attributes filling `r` exactly.
    pub(crate) fn parse_list(r: &mut Reader<'a>) -> Result<Vec<Attribute<'a>>> {
        let mut out = Vec::new();
        while r.remaining() > 0 {
            let word = r.u16("attribute header truncated")?;
            let second = r.u16("attribute header truncated")?;
            if word & AF_TV != 0 {
                out.push(Attribute::basic(word & !AF_TV, second));
            } else {
                let value = r.take(
                    usize::from(second),
                    "TLV attribute value runs past its container",
                )?;
                out.push(Attribute::variable(word, value));
            }
        }
        Ok(out)
    }

    /// Decodes this attribute as one of the phase-1 class (RFC 2409
    /// Appendix A), used in ISAKMP (protocol 1) transforms.
    pub fn phase1(&self) -> Result<Phase1Attribute<'_>> {
        use Phase1Attribute as P;
        let t = Phase1AttributeType(self.attribute_type);
        Ok(match t {
            Phase1AttributeType::ENCRYPTION_ALGORITHM => {
                P::EncryptionAlgorithm(EncryptionAlgorithm(self.basic_value()?))
            }
            Phase1AttributeType::HASH_ALGORITHM => {
                P::HashAlgorithm(HashAlgorithm(self.basic_value()?))
            }
            Phase1AttributeType::AUTHENTICATION_METHOD => {
                P::AuthMethod(AuthMethod(self.basic_value()?))
            }
            Phase1AttributeType::GROUP_DESCRIPTION => {
                P::GroupDescription(GroupDescription(self.basic_value()?))
            }
            Phase1AttributeType::GROUP_TYPE => P::GroupType(GroupType(self.basic_value()?)),
            Phase1AttributeType::GROUP_PRIME => P::GroupPrime(self.bytes_value()?),
            Phase1AttributeType::GROUP_GENERATOR_ONE => P::GroupGeneratorOne(self.bytes_value()?),
            Phase1AttributeType::GROUP_GENERATOR_TWO => P::GroupGeneratorTwo(self.bytes_value()?),
            Phase1AttributeType::GROUP_CURVE_A => P::GroupCurveA(self.bytes_value()?),
            Phase1AttributeType::GROUP_CURVE_B => P::GroupCurveB(self.bytes_value()?),
            Phase1AttributeType::LIFE_TYPE => P::LifeType(LifeType(self.basic_value()?)),
            Phase1AttributeType::LIFE_DURATION => P::LifeDuration(self.uint_value()?),
            Phase1AttributeType::PRF => P::Prf(self.basic_value()?),
            Phase1AttributeType::KEY_LENGTH => P::KeyLength(self.basic_value()?),
            Phase1AttributeType::FIELD_SIZE => P::FieldSize(self.basic_value()?),
            Phase1AttributeType::GROUP_ORDER => P::GroupOrder(self.bytes_value()?),
            other => P::Unknown(other),
        })
    }

    /// Decodes this attribute as one of the IPsec DOI class (RFC 2407
    /// s.4.5), used in AH, ESP and IPCOMP transforms.
    pub fn ipsec(&self) -> Result<IpsecAttribute<'_>> {
        use IpsecAttribute as I;
        let t = IpsecAttributeType(self.attribute_type);
        Ok(match t {
            IpsecAttributeType::SA_LIFE_TYPE => I::SaLifeType(SaLifeType(self.basic_value()?)),
            IpsecAttributeType::SA_LIFE_DURATION => I::SaLifeDuration(self.uint_value()?),
            IpsecAttributeType::GROUP_DESCRIPTION => {
                I::GroupDescription(GroupDescription(self.basic_value()?))
            }
            IpsecAttributeType::ENCAPSULATION_MODE => {
                I::EncapsulationMode(EncapsulationMode(self.basic_value()?))
            }
            IpsecAttributeType::AUTHENTICATION_ALGORITHM => {
                I::AuthAlgorithm(AuthAlgorithm(self.basic_value()?))
            }
            IpsecAttributeType::KEY_LENGTH => I::KeyLength(self.basic_value()?),
            IpsecAttributeType::KEY_ROUNDS => I::KeyRounds(self.basic_value()?),
            IpsecAttributeType::COMPRESS_DICTIONARY_SIZE => {
                I::CompressDictionarySize(self.basic_value()?)
            }
            IpsecAttributeType::COMPRESS_PRIVATE_ALGORITHM => {
                I::CompressPrivateAlgorithm(self.bytes_value()?)
            }
            IpsecAttributeType::ECN_TUNNEL => I::EcnTunnel(EcnTunnel(self.basic_value()?)),
            IpsecAttributeType::EXTENDED_SEQUENCE_NUMBER => {
                I::ExtendedSequenceNumber(self.basic_value()?)
            }
            other => I::Unknown(other),
        })
    }

    fn err(&self, what: &'static str) -> Error {
        Error::Attribute {
            attribute_type: self.attribute_type,
            what,
        }
    }

    /// A basic-class value: RFC 2409 Appendix A says B attributes MUST NOT
    /// be encoded as variable.
    fn basic_value(&self) -> Result<u16> {
        match &self.value {
            AttributeValue::Basic(v) => Ok(*v),
            AttributeValue::Variable(_) => Err(self.err("basic attribute in variable (TLV) form")),
        }
    }

    /// A variable-class integer; V attributes MAY be sent as TV when the
    /// value fits (RFC 2409 Appendix A).
    fn uint_value(&self) -> Result<u64> {
        match &self.value {
            AttributeValue::Basic(v) => Ok(u64::from(*v)),
            AttributeValue::Variable(bytes) if bytes.is_empty() => {
                Err(self.err("empty variable-length integer"))
            }
            AttributeValue::Variable(bytes) => {
                be_uint(bytes).ok_or_else(|| self.err("variable-length integer wider than 64 bits"))
            }
        }
    }

    fn bytes_value(&self) -> Result<Cow<'_, [u8]>> {
        Ok(match &self.value {
            AttributeValue::Basic(v) => Cow::Owned(v.to_be_bytes().to_vec()),
            AttributeValue::Variable(bytes) => Cow::Borrowed(&**bytes),
        })
    }
}

/// A big-endian unsigned integer of at most 8 significant bytes.
fn be_uint(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let significant = bytes.get(first..)?;
    if significant.len() > 8 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

/// A phase-1 attribute, typed (RFC 2409 Appendix A).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase1Attribute<'b> {
    /// Encryption algorithm.
    EncryptionAlgorithm(EncryptionAlgorithm),
    /// Hash algorithm.
    HashAlgorithm(HashAlgorithm),
    /// Authentication method.
    AuthMethod(AuthMethod),
    /// Group description (a predefined group).
    GroupDescription(GroupDescription),
    /// Group type.
    GroupType(GroupType),
    /// Group prime or irreducible polynomial, big-endian.
    GroupPrime(Cow<'b, [u8]>),
    /// Group generator one, big-endian.
    GroupGeneratorOne(Cow<'b, [u8]>),
    /// Group generator two, big-endian.
    GroupGeneratorTwo(Cow<'b, [u8]>),
    /// Group curve A, big-endian.
    GroupCurveA(Cow<'b, [u8]>),
    /// Group curve B, big-endian.
    GroupCurveB(Cow<'b, [u8]>),
    /// Life type (what the next life duration counts).
    LifeType(LifeType),
    /// Life duration, in the unit of the preceding life type.
    LifeDuration(u64),
    /// PRF (no values defined by RFC 2409).
    Prf(u16),
    /// Key length in bits, for variable-key-length ciphers.
    KeyLength(u16),
    /// Field size in bits.
    FieldSize(u16),
    /// Group order, big-endian.
    GroupOrder(Cow<'b, [u8]>),
    /// An attribute type this crate does not type; its value stays in the
    /// [`Attribute`] it was decoded from (`to_attribute` gives an empty TLV).
    Unknown(Phase1AttributeType),
}

impl Phase1Attribute<'_> {
    /// The attribute in wire form, TV where the class allows it and the
    /// value fits.
    #[must_use]
    pub fn to_attribute(&self) -> Attribute<'static> {
        use Phase1Attribute as P;
        let b = |t: Phase1AttributeType, v: u16| Attribute::basic(t.0, v);
        let v = |t: Phase1AttributeType, bytes: &[u8]| Attribute {
            attribute_type: t.0,
            value: AttributeValue::Variable(Cow::Owned(bytes.to_vec())),
        };
        match self {
            P::EncryptionAlgorithm(x) => b(Phase1AttributeType::ENCRYPTION_ALGORITHM, x.0),
            P::HashAlgorithm(x) => b(Phase1AttributeType::HASH_ALGORITHM, x.0),
            P::AuthMethod(x) => b(Phase1AttributeType::AUTHENTICATION_METHOD, x.0),
            P::GroupDescription(x) => b(Phase1AttributeType::GROUP_DESCRIPTION, x.0),
            P::GroupType(x) => b(Phase1AttributeType::GROUP_TYPE, x.0),
            P::GroupPrime(x) => v(Phase1AttributeType::GROUP_PRIME, x),
            P::GroupGeneratorOne(x) => v(Phase1AttributeType::GROUP_GENERATOR_ONE, x),
            P::GroupGeneratorTwo(x) => v(Phase1AttributeType::GROUP_GENERATOR_TWO, x),
            P::GroupCurveA(x) => v(Phase1AttributeType::GROUP_CURVE_A, x),
            P::GroupCurveB(x) => v(Phase1AttributeType::GROUP_CURVE_B, x),
            P::LifeType(x) => b(Phase1AttributeType::LIFE_TYPE, x.0),
            P::LifeDuration(x) => Attribute::integer(Phase1AttributeType::LIFE_DURATION.0, *x),
            P::Prf(x) => b(Phase1AttributeType::PRF, *x),
            P::KeyLength(x) => b(Phase1AttributeType::KEY_LENGTH, *x),
            P::FieldSize(x) => b(Phase1AttributeType::FIELD_SIZE, *x),
            P::GroupOrder(x) => v(Phase1AttributeType::GROUP_ORDER, x),
            P::Unknown(t) => v(*t, &[]),
        }
    }
}

/// An IPsec DOI SA attribute, typed (RFC 2407 s.4.5, RFC 3168, RFC 4304).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpsecAttribute<'b> {
    /// SA life type.
    SaLifeType(SaLifeType),
    /// SA life duration, in the unit of the preceding life type.
    SaLifeDuration(u64),
    /// PFS group.
    GroupDescription(GroupDescription),
    /// Encapsulation mode.
    EncapsulationMode(EncapsulationMode),
    /// Authentication algorithm.
    AuthAlgorithm(AuthAlgorithm),
    /// Key length in bits.
    KeyLength(u16),
    /// Key rounds.
    KeyRounds(u16),
    /// Compress dictionary size (log2 of bytes).
    CompressDictionarySize(u16),
    /// Compress private algorithm.
    CompressPrivateAlgorithm(Cow<'b, [u8]>),
    /// ECN tunnel (RFC 3168 s.9.2.1).
    EcnTunnel(EcnTunnel),
    /// Extended sequence numbers (RFC 4304 s.2; 1 = 64-bit).
    ExtendedSequenceNumber(u16),
    /// An attribute type this crate does not type; its value stays in the
    /// [`Attribute`] it was decoded from (`to_attribute` gives an empty TLV).
    Unknown(IpsecAttributeType),
}

impl IpsecAttribute<'_> {
    /// The attribute in wire form, TV where the class allows it and the
    /// value fits.
    #[must_use]
    pub fn to_attribute(&self) -> Attribute<'static> {
        use IpsecAttribute as I;
        let b = |t: IpsecAttributeType, v: u16| Attribute::basic(t.0, v);
        match self {
            I::SaLifeType(x) => b(IpsecAttributeType::SA_LIFE_TYPE, x.0),
            I::SaLifeDuration(x) => Attribute::integer(IpsecAttributeType::SA_LIFE_DURATION.0, *x),
            I::GroupDescription(x) => b(IpsecAttributeType::GROUP_DESCRIPTION, x.0),
            I::EncapsulationMode(x) => b(IpsecAttributeType::ENCAPSULATION_MODE, x.0),
            I::AuthAlgorithm(x) => b(IpsecAttributeType::AUTHENTICATION_ALGORITHM, x.0),
            I::KeyLength(x) => b(IpsecAttributeType::KEY_LENGTH, *x),
            I::KeyRounds(x) => b(IpsecAttributeType::KEY_ROUNDS, *x),
            I::CompressDictionarySize(x) => b(IpsecAttributeType::COMPRESS_DICTIONARY_SIZE, *x),
            I::CompressPrivateAlgorithm(x) => Attribute {
                attribute_type: IpsecAttributeType::COMPRESS_PRIVATE_ALGORITHM.0,
                value: AttributeValue::Variable(Cow::Owned(x.to_vec())),
            },
            I::EcnTunnel(x) => b(IpsecAttributeType::ECN_TUNNEL, x.0),
            I::ExtendedSequenceNumber(x) => b(IpsecAttributeType::EXTENDED_SEQUENCE_NUMBER, *x),
            I::Unknown(t) => Attribute {
                attribute_type: t.0,
                value: AttributeValue::Variable(Cow::Borrowed(&[])),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::PayloadType;

    fn emit_all(attrs: &[Attribute<'_>]) -> Vec<u8> {
        let len: usize = attrs.iter().map(Attribute::buffer_len).sum();
        let mut buf = alloc::vec![0u8; len];
        let mut w = Writer::new(&mut buf, len);
        for a in attrs {
            a.emit(&mut w).unwrap();
        }
        buf
    }

    // The seed trace (docs/seed.md, Daphne 20.608): IOS encodes the 86400 s phase-1
    // lifetime as a 4-byte variable value 0x00015180; RFC 2408 s.3.3 layout.
    #[test]
    fn life_duration_86400_as_four_byte_tlv() {
        let wire = [
            0x80, 0x0b, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80,
        ];
        let mut r = Reader::new(&wire, 0, PayloadType::TRANSFORM);
        let attrs = Attribute::parse_list(&mut r).unwrap();
        assert_eq!(attrs.len(), 2);
        assert_eq!(
            attrs[0].phase1().unwrap(),
            Phase1Attribute::LifeType(LifeType::SECONDS)
        );
        assert_eq!(
            attrs[1].phase1().unwrap(),
            Phase1Attribute::LifeDuration(86400)
        );
        assert!(!attrs[1].is_basic());
        assert_eq!(emit_all(&attrs), wire);
        // The builder picks the same 4-byte TLV form.
        assert_eq!(
            Phase1Attribute::LifeDuration(86400).to_attribute(),
            attrs[1]
        );
        // and TV for 3600 (0x0e10).
        assert_eq!(
            emit_all(&[Phase1Attribute::LifeDuration(3600).to_attribute()]),
            [0x80, 0x0c, 0x0e, 0x10]
        );
    }

    // docs/seed.md, Daphne 23.958: IPsec life 4608000 KB encoded as 0x00465000.
    #[test]
    fn ipsec_kilobytes() {
        let wire = [
            0x80, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x04, 0x00, 0x46, 0x50, 0x00,
        ];
        let mut r = Reader::new(&wire, 0, PayloadType::TRANSFORM);
        let attrs = Attribute::parse_list(&mut r).unwrap();
        assert_eq!(
            attrs[0].ipsec().unwrap(),
            IpsecAttribute::SaLifeType(SaLifeType::KILOBYTES)
        );
        assert_eq!(
            attrs[1].ipsec().unwrap(),
            IpsecAttribute::SaLifeDuration(4_608_000)
        );
        assert_eq!(
            IpsecAttribute::SaLifeDuration(4_608_000).to_attribute(),
            attrs[1]
        );
    }

    #[test]
    fn integer_forms() {
        assert_eq!(
            Attribute::integer(2, 0xffff).value,
            AttributeValue::Basic(0xffff)
        );
        assert_eq!(
            Attribute::integer(2, 0x1_0000).value,
            AttributeValue::Variable(Cow::Owned(alloc::vec![0, 1, 0, 0]))
        );
        assert_eq!(
            Attribute::integer(2, 0x1_0000_0000).value,
            AttributeValue::Variable(Cow::Owned(alloc::vec![0, 0, 0, 1, 0, 0, 0, 0]))
        );
        let nine = Attribute::variable(12, &[0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(nine.integer_value(), Some(0x0102_0304_0506_0708));
        let wide = Attribute::variable(12, &[1, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(wide.integer_value(), None);
        assert!(matches!(
            wide.phase1(),
            Err(Error::Attribute {
                attribute_type: 12,
                ..
            })
        ));
        assert!(matches!(
            Attribute::variable(12, &[]).phase1(),
            Err(Error::Attribute {
                attribute_type: 12,
                ..
            })
        ));
    }

    #[test]
    fn basic_class_in_tlv_form_is_an_error() {
        let a = Attribute::variable(1, &[0, 7]);
        assert_eq!(
            a.phase1(),
            Err(Error::Attribute {
                attribute_type: 1,
                what: "basic attribute in variable (TLV) form"
            })
        );
        assert!(a.ipsec().is_err());
    }

    #[test]
    fn truncated_lists() {
        // TLV claims 4 bytes, 2 present; offsets are absolute.
        let wire = [0x00, 0x0c, 0x00, 0x04, 0x00, 0x01];
        let mut r = Reader::new(&wire, 100, PayloadType::TRANSFORM);
        assert_eq!(
            Attribute::parse_list(&mut r),
            Err(Error::Malformed {
                payload: PayloadType::TRANSFORM,
                offset: 104,
                what: "TLV attribute value runs past its container"
            })
        );
        let wire = [0x80, 0x01, 0x00];
        let mut r = Reader::new(&wire, 0, PayloadType::TRANSFORM);
        assert!(Attribute::parse_list(&mut r).is_err());
    }

    #[test]
    fn emit_rejects_af_bit_in_type() {
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf, 4);
        assert!(matches!(
            Attribute::basic(0x8001, 1).emit(&mut w),
            Err(Error::InvalidRepr { .. })
        ));
    }
}
