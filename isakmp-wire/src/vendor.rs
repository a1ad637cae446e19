//! Well-known vendor IDs (RFC 2408 s.3.16) and a lookup that names them.
//!
//! Most vendor IDs are an MD5 hash of a string, sometimes truncated or
//! with version bytes appended; where that is so the string is noted and
//! the unit tests recompute the hash. Each value was also checked against
//! at least one public implementation's table (named per entry).

/// How a table entry matches a received vendor ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VendorMatch {
    /// The payload equals the bytes.
    Exact,
    /// The payload starts with the bytes.
    Prefix,
}

/// One entry of the vendor ID table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownVendorId {
    /// A stable name for the entry.
    pub name: &'static str,
    /// The bytes (or prefix) of the vendor ID.
    pub bytes: &'static [u8],
    /// How the bytes match.
    pub matching: VendorMatch,
}

impl KnownVendorId {
    /// Whether a received vendor ID payload body matches this entry.
    #[must_use]
    pub fn matches(&self, vid: &[u8]) -> bool {
        match self.matching {
            VendorMatch::Exact => vid == self.bytes,
            VendorMatch::Prefix => vid.starts_with(self.bytes),
        }
    }
}

/// The Cisco IOS vendor ID: receivers match the 4-byte prefix `3e984048`.
/// One full value seen from IOS routers (libreswan `vendor.c` comment
/// "From a Cisco 1800 IOS device"; nmap `ike-fingerprints.lua`;
/// docs/ted-wire.md, "Vendor IDs").
pub const CISCO_IOS_PREFIX: &[u8] = &[0x3e, 0x98, 0x40, 0x48];

/// A full Cisco IOS vendor ID as seen in the wild (see [`CISCO_IOS_PREFIX`]).
pub const CISCO_IOS: &[u8] = &[
    0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0, 0x02, 0xb0, 0xed, 0x36, 0x55,
];

/// Cisco Unity: MD5("CISCO-UNITY") with its last two bytes replaced by the
/// version 1.0 (`01 00`); as in Wireshark `packet-isakmp.c`, strongSwan and
/// libreswan.
pub const CISCO_UNITY: &[u8] = &[
    0x12, 0xf5, 0xf2, 0x8c, 0x45, 0x71, 0x68, 0xa9, 0x70, 0x2d, 0x9f, 0xe2, 0x74, 0xcc, 0x01, 0x00,
];

/// Dead Peer Detection 1.0, as printed in RFC 3706 s.7 (also ike-scan,
/// Wireshark).
pub const DPD: &[u8] = &[
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];

/// XAUTH: the first 8 bytes of MD5("draft-ietf-ipsra-isakmp-xauth-06.txt")
/// (Wireshark, ike-scan, strongSwan).
pub const XAUTH: &[u8] = &[0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12];

/// NAT-Traversal, RFC 3947 s.3: MD5("RFC 3947").
pub const NAT_T_RFC3947: &[u8] = &[
    0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-00") (libreswan, Wireshark).
pub const NAT_T_DRAFT_00: &[u8] = &[
    0x44, 0x85, 0x15, 0x2d, 0x18, 0xb6, 0xbb, 0xcd, 0x0b, 0xe8, 0xa8, 0x46, 0x95, 0x79, 0xdd, 0xcc,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-02") (libreswan, Wireshark).
pub const NAT_T_DRAFT_02: &[u8] = &[
    0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-02\n"), with the trailing newline some
/// implementations hashed (libreswan, Wireshark, ike-scan).
pub const NAT_T_DRAFT_02_N: &[u8] = &[
    0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-03") (libreswan, Wireshark).
pub const NAT_T_DRAFT_03: &[u8] = &[
    0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17, 0x9d, 0x92, 0x15, 0x52, 0x9d, 0x56,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-01") (libreswan, Wireshark).
pub const NAT_T_DRAFT_01: &[u8] = &[
    0x16, 0xf6, 0xca, 0x16, 0xe4, 0xa4, 0x06, 0x6d, 0x83, 0x82, 0x1a, 0x0f, 0x0a, 0xea, 0xa8, 0x62,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-04") (libreswan, Wireshark).
pub const NAT_T_DRAFT_04: &[u8] = &[
    0x99, 0x09, 0xb6, 0x4e, 0xed, 0x93, 0x7c, 0x65, 0x73, 0xde, 0x52, 0xac, 0xe9, 0x52, 0xfa, 0x6b,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-05") (libreswan, Wireshark).
pub const NAT_T_DRAFT_05: &[u8] = &[
    0x80, 0xd0, 0xbb, 0x3d, 0xef, 0x54, 0x56, 0x5e, 0xe8, 0x46, 0x45, 0xd4, 0xc8, 0x5c, 0xe3, 0xee,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-06") (libreswan, Wireshark).
pub const NAT_T_DRAFT_06: &[u8] = &[
    0x4d, 0x1e, 0x0e, 0x13, 0x6d, 0xea, 0xfa, 0x34, 0xc4, 0xf3, 0xea, 0x9f, 0x02, 0xec, 0x72, 0x85,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-07") (libreswan, Wireshark).
pub const NAT_T_DRAFT_07: &[u8] = &[
    0x43, 0x9b, 0x59, 0xf8, 0xba, 0x67, 0x6c, 0x4c, 0x77, 0x37, 0xae, 0x22, 0xea, 0xb8, 0xf5, 0x82,
];

/// MD5("draft-ietf-ipsec-nat-t-ike-08") (libreswan, Wireshark).
pub const NAT_T_DRAFT_08: &[u8] = &[
    0x8f, 0x8d, 0x83, 0x82, 0x6d, 0x24, 0x6b, 0x6f, 0xc7, 0xa8, 0xa6, 0xa4, 0x28, 0xc1, 0x1d, 0xe8,
];

/// The IKEv1 fragmentation vendor ID: MD5("FRAGMENTATION") (ike-scan,
/// libreswan, strongSwan's `isakmp_vendor.c`). Windows sends these 16
/// bytes alone; Cisco, strongSwan and libreswan append a 4-byte
/// capability word (see [`fragmentation_support`]), so receivers match it
/// as a prefix.
pub const IKE_FRAGMENTATION: &[u8] = &[
    0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3,
];

/// The fragmentation vendor ID with the capability word `80000000`
/// ([`FRAGMENTATION_CAP_PHASE1`]): what strongSwan sends (its
/// `isakmp_vendor.c` table) and Wireshark names VID_CISCO_FRAG. Cisco
/// devices send `c0000000` (strongSwan's comment, after racoon); match
/// with [`fragmentation_support`], not byte for byte.
pub const CISCO_FRAGMENTATION: &[u8] = &[
    0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3,
    0x80, 0x00, 0x00, 0x00,
];

/// Capability bit of the fragmentation vendor ID: Main and Aggressive
/// Mode messages may be fragmented (racoon's reading, which strongSwan
/// follows: it requires this bit in a 20-byte vendor ID).
pub const FRAGMENTATION_CAP_PHASE1: u32 = 0x8000_0000;

/// Capability bit of the fragmentation vendor ID: messages of the base
/// ISAKMP exchange may be fragmented (racoon's reading; Cisco sets it).
pub const FRAGMENTATION_CAP_BASE: u32 = 0x4000_0000;

/// What a received fragmentation vendor ID announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentationSupport {
    /// The capability word after the 16-byte hash, or `None` for the
    /// bare 16-byte form Windows sends.
    pub capabilities: Option<u32>,
}

impl FragmentationSupport {
    /// Whether the peer takes fragmented Main and Aggressive Mode
    /// messages: the bare form, or the [`FRAGMENTATION_CAP_PHASE1`] bit
    /// (strongSwan's rule, `is_known_vid`).
    #[must_use]
    pub fn phase1(&self) -> bool {
        self.capabilities
            .is_none_or(|c| c & FRAGMENTATION_CAP_PHASE1 != 0)
    }
}

/// Reads a fragmentation vendor ID: [`IKE_FRAGMENTATION`] alone (16
/// bytes) or followed by a big-endian capability word (20 bytes); any
/// other length is not one (as strongSwan decides).
#[must_use]
pub fn fragmentation_support(vid: &[u8]) -> Option<FragmentationSupport> {
    let rest = vid.strip_prefix(IKE_FRAGMENTATION)?;
    if rest.is_empty() {
        return Some(FragmentationSupport { capabilities: None });
    }
    let word = <[u8; 4]>::try_from(rest).ok()?;
    Some(FragmentationSupport {
        capabilities: Some(u32::from_be_bytes(word)),
    })
}

/// The 20-byte fragmentation vendor ID with the given capability word.
#[must_use]
pub fn fragmentation_vendor_id(capabilities: u32) -> [u8; 20] {
    let mut v = [0u8; 20];
    let (hash, word) = v.split_at_mut(16);
    hash.copy_from_slice(IKE_FRAGMENTATION);
    word.copy_from_slice(&capabilities.to_be_bytes());
    v
}

/// strongSwan: MD5("strongSwan") (strongSwan, nmap).
pub const STRONGSWAN: &[u8] = &[
    0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc, 0x22, 0x51, 0x61, 0x3b, 0x2e, 0xbe, 0x5b, 0xeb,
];

/// libreswan sends the ASCII string "OE-Libreswan-" followed by its
/// version (libreswan `lswversion.c`).
pub const LIBRESWAN_PREFIX: &[u8] = b"OE-Libreswan-";

/// Openswan and its descendants start their vendor IDs with ASCII "OE"
/// (Openswan `vendor.c`).
pub const OPENSWAN_PREFIX: &[u8] = b"OE";

/// The table, most specific entries first (a longer prefix or exact value
/// before a shorter prefix it overlaps).
pub const KNOWN_VENDOR_IDS: &[KnownVendorId] = &[
    KnownVendorId {
        name: "Cisco IOS",
        bytes: CISCO_IOS_PREFIX,
        matching: VendorMatch::Prefix,
    },
    KnownVendorId {
        name: "Cisco Unity",
        bytes: CISCO_UNITY,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "Dead Peer Detection (RFC 3706)",
        bytes: DPD,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "XAUTH",
        bytes: XAUTH,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "NAT-T (RFC 3947)",
        bytes: NAT_T_RFC3947,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-00",
        bytes: NAT_T_DRAFT_00,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-02",
        bytes: NAT_T_DRAFT_02,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-02\\n",
        bytes: NAT_T_DRAFT_02_N,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-03",
        bytes: NAT_T_DRAFT_03,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-01",
        bytes: NAT_T_DRAFT_01,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-04",
        bytes: NAT_T_DRAFT_04,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-05",
        bytes: NAT_T_DRAFT_05,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-06",
        bytes: NAT_T_DRAFT_06,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-07",
        bytes: NAT_T_DRAFT_07,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "draft-ietf-ipsec-nat-t-ike-08",
        bytes: NAT_T_DRAFT_08,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "IKE Fragmentation",
        bytes: IKE_FRAGMENTATION,
        matching: VendorMatch::Prefix,
    },
    KnownVendorId {
        name: "strongSwan",
        bytes: STRONGSWAN,
        matching: VendorMatch::Exact,
    },
    KnownVendorId {
        name: "libreswan",
        bytes: LIBRESWAN_PREFIX,
        matching: VendorMatch::Prefix,
    },
    KnownVendorId {
        name: "Openswan/libreswan",
        bytes: OPENSWAN_PREFIX,
        matching: VendorMatch::Prefix,
    },
];

/// The first table entry matching a vendor ID payload body.
#[must_use]
pub fn lookup(vid: &[u8]) -> Option<&'static KnownVendorId> {
    KNOWN_VENDOR_IDS.iter().find(|k| k.matches(vid))
}

/// The name of a vendor ID, if known.
#[must_use]
pub fn name(vid: &[u8]) -> Option<&'static str> {
    lookup(vid).map(|k| k.name)
}

/// Whether a vendor ID is Cisco IOS's (4-byte prefix match).
#[must_use]
pub fn is_cisco_ios(vid: &[u8]) -> bool {
    vid.starts_with(CISCO_IOS_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn md5(s: &[u8]) -> [u8; 16] {
        Md5::digest(s).into()
    }

    // Recompute every MD5-derived value from its defining string.
    #[test]
    fn hashes_recomputed() {
        assert_eq!(NAT_T_RFC3947, md5(b"RFC 3947"));
        assert_eq!(NAT_T_DRAFT_00, md5(b"draft-ietf-ipsec-nat-t-ike-00"));
        assert_eq!(NAT_T_DRAFT_02, md5(b"draft-ietf-ipsec-nat-t-ike-02"));
        assert_eq!(NAT_T_DRAFT_02_N, md5(b"draft-ietf-ipsec-nat-t-ike-02\n"));
        assert_eq!(NAT_T_DRAFT_03, md5(b"draft-ietf-ipsec-nat-t-ike-03"));
        // Every draft entry is the MD5 of its own name.
        for k in KNOWN_VENDOR_IDS {
            if k.name.starts_with("draft-ietf-ipsec-nat-t-ike-") && !k.name.ends_with("\\n") {
                assert_eq!(k.bytes, md5(k.name.as_bytes()), "{}", k.name);
            }
        }
        assert_eq!(IKE_FRAGMENTATION, md5(b"FRAGMENTATION"));
        assert_eq!(STRONGSWAN, md5(b"strongSwan"));
        assert_eq!(&CISCO_UNITY[..14], &md5(b"CISCO-UNITY")[..14]);
        assert_eq!(&CISCO_UNITY[14..], &[1, 0]);
        assert_eq!(XAUTH, &md5(b"draft-ietf-ipsra-isakmp-xauth-06.txt")[..8]);
        assert_eq!(&CISCO_FRAGMENTATION[..16], IKE_FRAGMENTATION);
    }

    #[test]
    fn lookups() {
        assert_eq!(name(CISCO_IOS), Some("Cisco IOS"));
        assert_eq!(name(&[0x3e, 0x98, 0x40, 0x48, 0xff]), Some("Cisco IOS"));
        assert!(is_cisco_ios(CISCO_IOS));
        assert!(!is_cisco_ios(&[0x3e, 0x98, 0x40]));
        assert_eq!(name(CISCO_FRAGMENTATION), Some("IKE Fragmentation"));
        assert_eq!(name(IKE_FRAGMENTATION), Some("IKE Fragmentation"));
        assert_eq!(name(DPD), Some("Dead Peer Detection (RFC 3706)"));
        assert_eq!(name(b"OE-Libreswan-4.12"), Some("libreswan"));
        assert_eq!(name(b"OEabcdef"), Some("Openswan/libreswan"));
        assert_eq!(name(&DPD[..15]), None);
        assert_eq!(name(&[]), None);
    }

    // strongSwan's rule (isakmp_vendor.c, is_known_vid): the bare hash, or
    // the hash and a capability word with bit 0x80000000.
    #[test]
    fn fragmentation_capabilities() {
        let bare = fragmentation_support(IKE_FRAGMENTATION).unwrap();
        assert_eq!(bare.capabilities, None);
        assert!(bare.phase1());
        let strongswan = fragmentation_support(CISCO_FRAGMENTATION).unwrap();
        assert_eq!(strongswan.capabilities, Some(FRAGMENTATION_CAP_PHASE1));
        assert!(strongswan.phase1());
        let cisco = fragmentation_vendor_id(FRAGMENTATION_CAP_PHASE1 | FRAGMENTATION_CAP_BASE);
        assert_eq!(&cisco[16..], &[0xc0, 0, 0, 0]);
        assert_eq!(name(&cisco), Some("IKE Fragmentation"));
        assert!(fragmentation_support(&cisco).unwrap().phase1());
        let base_only = fragmentation_vendor_id(FRAGMENTATION_CAP_BASE);
        assert!(!fragmentation_support(&base_only).unwrap().phase1());
        assert_eq!(
            fragmentation_vendor_id(FRAGMENTATION_CAP_PHASE1),
            CISCO_FRAGMENTATION
        );
        assert_eq!(fragmentation_support(&CISCO_FRAGMENTATION[..18]), None);
        assert_eq!(
            fragmentation_support(&[CISCO_FRAGMENTATION, &[0]].concat()),
            None
        );
        assert_eq!(fragmentation_support(&IKE_FRAGMENTATION[..15]), None);
        assert_eq!(fragmentation_support(DPD), None);
    }
}
