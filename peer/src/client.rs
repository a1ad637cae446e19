//! The remote-access client (`ikev1-peer client`): its proposals, the IOS
//! configuration built from its command line, and what the [`Core`]
//! keeps for it while it runs ([`ClientSession`]).
//!
//! The client is the same [`ted::gateway::Gateway`] as the router, given
//! a small configuration in memory instead of a file
//! ([`ios_config`]): one `crypto isakmp policy` per IKE suite, one
//! transform set per ESP suite, an access list `permit ip any any`, a
//! crypto map entry whose `set peer` is the concentrator, and an outside
//! interface with our address and the map. [`GatewayOptions::client`]
//! makes that gateway a client of the map's peer: phase 1 under the
//! group's KEY_ID and key, XAUTH (the [`Core`] answers from the
//! credentials it was given), Mode-Config, then one SA pair per split
//! network from the assigned address.
//!
//! The defaults ([`IkeSuite::defaults`], [`EspSuite::defaults`]) are what
//! Cisco concentrators and vpnc agree on: AES with SHA-1 and MODP-1024.
//! The gateway reports SHA-1 and MODP-1024 as weak (a `warning` in
//! `events.jsonl`): they are used because the command line, or its
//! default, names them.
//!
//! [`Core`]: crate::core::Core
//! [`GatewayOptions::client`]: ted::gateway::GatewayOptions::client

use core::fmt;
use core::str::FromStr;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ike_sm::{IsakmpSaId, ModeConfig, XauthCredentials, XauthFailure};

use crate::hostnet::{HostNetwork, Underlay};

/// Where a session's messages for the person running the client go
/// (stderr in the binary).
pub type Console = Box<dyn std::io::Write + Send>;

/// The interface the client's configuration names as outside.
pub const OUTSIDE_INTERFACE: &str = "Outside0";

/// The crypto map of the client's configuration.
pub const CRYPTO_MAP: &str = "ra-client";

/// XAUTH requests answered on one connection; after that the client stops
/// answering (the same credentials would be refused again) and the
/// exchange times out.
pub const MAX_XAUTH_ANSWERS: u8 = 3;

/// A cipher of an IKE or ESP suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cipher {
    /// AES-CBC, 256-bit key.
    Aes256,
    /// AES-CBC, 192-bit key.
    Aes192,
    /// AES-CBC, 128-bit key.
    Aes128,
    /// 3DES-CBC (weak).
    TripleDes,
    /// DES-CBC (broken).
    Des,
}

impl Cipher {
    const ALL: [Self; 5] = [
        Self::Aes256,
        Self::Aes192,
        Self::Aes128,
        Self::TripleDes,
        Self::Des,
    ];

    /// The suite word (`aes256`, `3des`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256 => "aes256",
            Self::Aes192 => "aes192",
            Self::Aes128 => "aes128",
            Self::TripleDes => "3des",
            Self::Des => "des",
        }
    }

    /// The `crypto isakmp policy` line's words (`encryption ...`).
    pub fn isakmp(self) -> &'static str {
        match self {
            Self::Aes256 => "aes 256",
            Self::Aes192 => "aes 192",
            Self::Aes128 => "aes",
            Self::TripleDes => "3des",
            Self::Des => "des",
        }
    }

    /// The transform set's ESP encryption transform.
    pub fn esp(self) -> &'static str {
        match self {
            Self::Aes256 => "esp-aes 256",
            Self::Aes192 => "esp-aes 192",
            Self::Aes128 => "esp-aes",
            Self::TripleDes => "esp-3des",
            Self::Des => "esp-des",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        if word.eq_ignore_ascii_case("aes") {
            return Some(Self::Aes128);
        }
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(word))
    }
}

/// A hash (IKE) or HMAC (ESP) of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-1 (HMAC-SHA1-96 in ESP).
    Sha1,
    /// MD5 (HMAC-MD5-96 in ESP; weak).
    Md5,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Digest {
    const ALL: [Self; 5] = [
        Self::Sha1,
        Self::Md5,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
    ];

    /// The suite word (`sha1`, `md5`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Md5 => "md5",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The `crypto isakmp policy` `hash` keyword.
    pub fn isakmp(self) -> &'static str {
        match self {
            Self::Sha1 => "sha",
            Self::Md5 => "md5",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The transform set's ESP authentication transform.
    pub fn esp(self) -> &'static str {
        match self {
            Self::Sha1 => "esp-sha-hmac",
            Self::Md5 => "esp-md5-hmac",
            Self::Sha256 => "esp-sha256-hmac",
            Self::Sha384 => "esp-sha384-hmac",
            Self::Sha512 => "esp-sha512-hmac",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        if word.eq_ignore_ascii_case("sha") {
            return Some(Self::Sha1);
        }
        Self::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(word))
    }
}

/// A MODP Diffie-Hellman group (RFC 2409 s.6, RFC 3526).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModpGroup {
    /// Group 1, 768 bits (broken).
    Modp768,
    /// Group 2, 1024 bits (weak; what Cisco clients use).
    Modp1024,
    /// Group 5, 1536 bits.
    Modp1536,
    /// Group 14, 2048 bits.
    Modp2048,
    /// Group 15, 3072 bits.
    Modp3072,
    /// Group 16, 4096 bits.
    Modp4096,
}

impl ModpGroup {
    const ALL: [Self; 6] = [
        Self::Modp768,
        Self::Modp1024,
        Self::Modp1536,
        Self::Modp2048,
        Self::Modp3072,
        Self::Modp4096,
    ];

    /// The suite word (`modp1024`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Modp768 => "modp768",
            Self::Modp1024 => "modp1024",
            Self::Modp1536 => "modp1536",
            Self::Modp2048 => "modp2048",
            Self::Modp3072 => "modp3072",
            Self::Modp4096 => "modp4096",
        }
    }

    /// The group number (`group N` in a policy).
    pub fn number(self) -> u8 {
        match self {
            Self::Modp768 => 1,
            Self::Modp1024 => 2,
            Self::Modp1536 => 5,
            Self::Modp2048 => 14,
            Self::Modp3072 => 15,
            Self::Modp4096 => 16,
        }
    }

    fn parse(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(word))
    }
}

/// A suite that does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a suite")]
pub struct BadSuite;

/// An IKE proposal: `ENCR-HASH-GROUP` (`aes256-sha1-modp1024`), one
/// `crypto isakmp policy` with pre-shared keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IkeSuite {
    /// The cipher.
    pub cipher: Cipher,
    /// The hash (and PRF).
    pub hash: Digest,
    /// The Diffie-Hellman group.
    pub group: ModpGroup,
}

impl IkeSuite {
    /// What the client proposes when no `--ike` is given:
    /// `aes256-sha1-modp1024`, then `aes128-sha1-modp1024`.
    pub fn defaults() -> Vec<Self> {
        [Cipher::Aes256, Cipher::Aes128]
            .into_iter()
            .map(|cipher| Self {
                cipher,
                hash: Digest::Sha1,
                group: ModpGroup::Modp1024,
            })
            .collect()
    }
}

impl FromStr for IkeSuite {
    type Err = BadSuite;

    fn from_str(s: &str) -> Result<Self, BadSuite> {
        let mut words = s.trim().split('-');
        let (Some(c), Some(h), Some(g), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(BadSuite);
        };
        Ok(Self {
            cipher: Cipher::parse(c).ok_or(BadSuite)?,
            hash: Digest::parse(h).ok_or(BadSuite)?,
            group: ModpGroup::parse(g).ok_or(BadSuite)?,
        })
    }
}

impl fmt::Display for IkeSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.cipher.name(),
            self.hash.name(),
            self.group.name()
        )
    }
}

/// An ESP proposal: `ENCR-INTEG` (`aes256-sha1`), one transform set in
/// tunnel mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EspSuite {
    /// The cipher.
    pub cipher: Cipher,
    /// The HMAC.
    pub integrity: Digest,
}

impl EspSuite {
    /// What the client proposes when no `--esp` is given: `aes256-sha1`.
    pub fn defaults() -> Vec<Self> {
        vec![Self {
            cipher: Cipher::Aes256,
            integrity: Digest::Sha1,
        }]
    }
}

impl FromStr for EspSuite {
    type Err = BadSuite;

    fn from_str(s: &str) -> Result<Self, BadSuite> {
        let mut words = s.trim().split('-');
        let (Some(c), Some(i), None) = (words.next(), words.next(), words.next()) else {
            return Err(BadSuite);
        };
        Ok(Self {
            cipher: Cipher::parse(c).ok_or(BadSuite)?,
            integrity: Digest::parse(i).ok_or(BadSuite)?,
        })
    }
}

impl fmt::Display for EspSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.cipher.name(), self.integrity.name())
    }
}

/// The IOS configuration of a client of `gateway`, whose outside address
/// is `local`: `crypto isakmp aggressive-mode disable` (a client answers
/// no Aggressive Mode), policies 10, 20, ... in the order of `ike`, transform sets
/// `ra-esp-1`, `ra-esp-2`, ... in the order of `esp`, access list 150
/// `permit ip any any`, crypto map [`CRYPTO_MAP`] 10 with `set peer
/// gateway`, and interface [`OUTSIDE_INTERFACE`] with `local` and the map.
/// It holds no secret (the group key goes in
/// [`ClientOptions`](ted::gateway::ClientOptions)).
pub fn ios_config(
    gateway: Ipv4Addr,
    local: Ipv4Addr,
    ike: &[IkeSuite],
    esp: &[EspSuite],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "! ikev1-peer client of {gateway}, built from its command line"
    );
    s.push_str("hostname ikev1-peer\n!\n");
    // A client never answers phase 1: an Aggressive Mode answer would hand
    // a hash keyed with the group key to whoever asked.
    s.push_str("crypto isakmp aggressive-mode disable\n!\n");
    let mut priority = 0u32;
    for suite in ike {
        priority = priority.saturating_add(10);
        let _ = writeln!(s, "! --ike {suite}");
        let _ = writeln!(s, "crypto isakmp policy {priority}");
        let _ = writeln!(s, " encryption {}", suite.cipher.isakmp());
        let _ = writeln!(s, " hash {}", suite.hash.isakmp());
        s.push_str(" authentication pre-share\n");
        let _ = writeln!(s, " group {}", suite.group.number());
    }
    s.push_str("!\n");
    let mut sets = Vec::new();
    for (i, suite) in esp.iter().enumerate() {
        let name = format!("ra-esp-{}", i.saturating_add(1));
        let _ = writeln!(s, "! --esp {suite}");
        let _ = writeln!(
            s,
            "crypto ipsec transform-set {name} {} {}",
            suite.cipher.esp(),
            suite.integrity.esp()
        );
        s.push_str(" mode tunnel\n");
        sets.push(name);
    }
    s.push_str("!\naccess-list 150 permit ip any any\n!\n");
    let _ = writeln!(s, "crypto map {CRYPTO_MAP} 10 ipsec-isakmp");
    let _ = writeln!(s, " set peer {gateway}");
    let _ = writeln!(s, " set transform-set {}", sets.join(" "));
    s.push_str(" match address 150\n!\n");
    let _ = writeln!(s, "interface {OUTSIDE_INTERFACE}");
    let _ = writeln!(s, " ip address {local} 255.255.255.255");
    let _ = writeln!(s, " crypto map {CRYPTO_MAP}");
    s.push_str("!\nend\n");
    s
}

/// How a client's run ended on its own (not by a signal).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEnd {
    /// XAUTH failed: the concentrator refused the credentials, or the
    /// exchange timed out.
    XauthFailed(XauthFailure),
    /// Phase 1 could not be set up, or the concentrator ended the
    /// session.
    Failed(String),
}

impl fmt::Display for ClientEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::XauthFailed(r) => write!(f, "XAUTH failed: {r}"),
            Self::Failed(why) => f.write_str(why),
        }
    }
}

/// What the [`Core`](crate::core::Core) keeps for a remote-access client:
/// the credentials it answers XAUTH with, where to configure the assigned
/// address and routes, and what it configured (undone on shutdown).
pub struct ClientSession {
    pub(crate) credentials: XauthCredentials,
    pub(crate) answers: u8,
    pub(crate) gateway: Ipv4Addr,
    pub(crate) tun: String,
    pub(crate) routes: bool,
    pub(crate) underlay: Option<Underlay>,
    pub(crate) host: Box<dyn HostNetwork>,
    /// The configuration applied to the host, and the commands that undo
    /// it (in the order to run them).
    pub(crate) applied: Option<(ModeConfig, Vec<Vec<String>>)>,
    pub(crate) console: Option<Console>,
    pub(crate) banner_shown: bool,
    pub(crate) sa: Option<IsakmpSaId>,
    pub(crate) end: Option<ClientEnd>,
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("credentials", &self.credentials)
            .field("answers", &self.answers)
            .field("gateway", &self.gateway)
            .field("tun", &self.tun)
            .field("routes", &self.routes)
            .field("underlay", &self.underlay)
            .field("applied", &self.applied.as_ref().map(|(c, _)| c.address))
            .field("sa", &self.sa)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// A session that answers XAUTH with `credentials`, and puts the
    /// assigned address (and, with `routes`, the routes) on TUN device
    /// `tun` through `host`. `underlay` is how the concentrator
    /// `gateway` is reached before the tunnel: a host route to it keeps
    /// IKE and ESP out of the tunnel when the tunnel takes every
    /// destination. `console` gets the messages for the person running
    /// the client (the banner, XAUTH's messages).
    pub fn new(
        credentials: XauthCredentials,
        gateway: Ipv4Addr,
        tun: &str,
        routes: bool,
        underlay: Option<Underlay>,
        host: Box<dyn HostNetwork>,
        console: Option<Console>,
    ) -> Self {
        Self {
            credentials,
            answers: 0,
            gateway,
            tun: tun.to_owned(),
            routes,
            underlay,
            host,
            applied: None,
            console,
            banner_shown: false,
            sa: None,
            end: None,
        }
    }

    /// How the run ended on its own, if it has.
    pub fn end(&self) -> Option<&ClientEnd> {
        self.end.as_ref()
    }

    /// The configuration applied to the host, if any.
    pub fn applied(&self) -> Option<&ModeConfig> {
        self.applied.as_ref().map(|(c, _)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_parse_and_print_back() {
        for text in [
            "aes256-sha1-modp1024",
            "aes128-sha256-modp2048",
            "3des-md5-modp1024",
            "aes192-sha512-modp4096",
            "des-md5-modp768",
        ] {
            let s: IkeSuite = text.parse().unwrap();
            assert_eq!(s.to_string(), text);
        }
        let s: IkeSuite = "AES-SHA-MODP1536".parse().unwrap();
        assert_eq!(s.to_string(), "aes128-sha1-modp1536");
        for bad in [
            "",
            "aes256-sha1",
            "aes256-sha1-modp1024-x",
            "aes512-sha1-modp1024",
            "aes256-sha3-modp1024",
            "aes256-sha1-ecp256",
        ] {
            assert_eq!(bad.parse::<IkeSuite>(), Err(BadSuite), "{bad}");
        }
        let e: EspSuite = "3des-md5".parse().unwrap();
        assert_eq!(
            (e.cipher.esp(), e.integrity.esp()),
            ("esp-3des", "esp-md5-hmac")
        );
        assert_eq!(e.to_string(), "3des-md5");
        for bad in ["aes256", "aes256-sha1-modp1024", "null-sha1", "aes256-"] {
            assert_eq!(bad.parse::<EspSuite>(), Err(BadSuite), "{bad}");
        }
    }

    #[test]
    fn the_defaults_are_what_concentrators_accept() {
        let ike: Vec<String> = IkeSuite::defaults().iter().map(|s| s.to_string()).collect();
        assert_eq!(ike, ["aes256-sha1-modp1024", "aes128-sha1-modp1024"]);
        let esp: Vec<String> = EspSuite::defaults().iter().map(|s| s.to_string()).collect();
        assert_eq!(esp, ["aes256-sha1"]);
    }

    fn parsed(ike: &[&str], esp: &[&str]) -> ted::config::Config {
        let ike: Vec<IkeSuite> = ike.iter().map(|s| s.parse().unwrap()).collect();
        let esp: Vec<EspSuite> = esp.iter().map(|s| s.parse().unwrap()).collect();
        let text = ios_config(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(192, 0, 2, 2),
            &ike,
            &esp,
        );
        let p = ted::config::ios::parse(&text).unwrap();
        p.config
    }

    #[test]
    fn the_configuration_parses_with_every_suite_in_order() {
        use ted::config::{AesKeySize, CryptoMapEntry, IsakmpEncryption, IsakmpHash, Transform};
        let config = parsed(
            &[
                "aes256-sha1-modp1024",
                "aes128-sha256-modp2048",
                "3des-md5-modp1536",
            ],
            &["aes256-sha1", "3des-md5", "aes128-sha256"],
        );
        let policies: Vec<_> = config.isakmp.policies().collect();
        assert_eq!(policies.len(), 3);
        let p = |i: usize| policies.get(i).copied().unwrap();
        assert_eq!(
            (
                p(0).priority,
                p(0).encryption,
                p(0).hash,
                p(0).group.number()
            ),
            (
                10,
                IsakmpEncryption::Aes(AesKeySize::Aes256),
                IsakmpHash::Sha,
                2
            )
        );
        assert_eq!(
            (
                p(1).priority,
                p(1).encryption,
                p(1).hash,
                p(1).group.number()
            ),
            (
                20,
                IsakmpEncryption::Aes(AesKeySize::Aes128),
                IsakmpHash::Sha256,
                14
            )
        );
        assert_eq!(
            (p(2).encryption, p(2).hash, p(2).group.number()),
            (IsakmpEncryption::TripleDes, IsakmpHash::Md5, 5)
        );
        assert!(
            policies
                .iter()
                .all(|p| p.authentication == ted::config::IsakmpAuthentication::PreShare)
        );

        let ts = |name: &str| -> Vec<Transform> {
            config.transform_set(name).unwrap().transforms().to_vec()
        };
        assert_eq!(
            ts("ra-esp-1"),
            [Transform::EspAes(AesKeySize::Aes256), Transform::EspShaHmac]
        );
        assert_eq!(ts("ra-esp-2"), [Transform::Esp3des, Transform::EspMd5Hmac]);
        assert_eq!(
            ts("ra-esp-3"),
            [
                Transform::EspAes(AesKeySize::Aes128),
                Transform::EspSha256Hmac
            ]
        );

        let map = config.crypto_map(CRYPTO_MAP).unwrap();
        let entries: Vec<_> = map.entries().collect();
        assert_eq!(entries.len(), 1);
        let Some((10, CryptoMapEntry::IpsecIsakmp(params))) = entries.first().copied() else {
            panic!("not one ipsec-isakmp entry 10: {entries:?}")
        };
        assert_eq!(params.peers, [Ipv4Addr::new(192, 0, 2, 1)]);
        assert_eq!(params.transform_sets, ["ra-esp-1", "ra-esp-2", "ra-esp-3"]);
        let iface = config.interface(OUTSIDE_INTERFACE).unwrap();
        assert_eq!(iface.crypto_map.as_deref(), Some(CRYPTO_MAP));
        assert_eq!(
            iface.address.as_ref().map(|a| a.address),
            Some(Ipv4Addr::new(192, 0, 2, 2))
        );
    }

    #[test]
    fn the_configuration_makes_a_client_gateway() {
        use rand_core::SeedableRng;
        let config = parsed(&["aes256-sha1-modp1024"], &["aes256-sha1"]);
        let mut options = ted::gateway::GatewayOptions::default();
        options.client = Some(ted::gateway::ClientOptions::new("ragroup", b"k"));
        let gw = ted::gateway::Gateway::new(
            config,
            OUTSIDE_INTERFACE,
            Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1)),
            options,
        )
        .unwrap();
        assert_eq!(gw.address(), Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(gw.crypto_map(), CRYPTO_MAP);
        // It answers no Aggressive Mode (its own is its initiator's).
        assert!(!gw.ike().config().aggressive_mode.answer);
        let mut gw = gw;
        while let Some(e) = gw.poll_event() {
            assert!(
                !matches!(e, ted::gateway::Event::AggressiveModeAnswered { .. }),
                "{e:?}"
            );
        }
    }
}
