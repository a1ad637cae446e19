//! Remote access after phase 1: XAUTH (draft-beaulieu-ike-xauth-02) and
//! Mode-Config (draft-dukes-ike-mode-cfg-02) with the Cisco Unity
//! attributes, as Cisco-style clients and concentrators run them in the
//! Transaction exchange (type 6).
//!
//! # Who does what
//!
//! A phase 1 negotiated with [`Phase1Auth::XauthInitPreShared`]
//! (authentication method 65001: the group's pre-shared key
//! authenticates phase 1, then the *responder* authenticates the
//! *initiator's user*) makes the responder the XAUTH server (the
//! gateway, the concentrator) and the initiator the XAUTH client. The
//! order is the one IOS, strongSwan and libreswan use:
//!
//! ```text
//! server                                   client
//! REQUEST(type, user, password)   ->                          (XAUTH)
//!                                 <-   REPLY(user, password)
//! SET(STATUS = OK | FAIL)         ->
//!                                 <-   ACK(STATUS)
//!                                 <-   REQUEST(address, DNS, ...)  (Mode-Config pull)
//! REPLY(address, DNS, ...)        ->
//!   or, pushed:
//! SET(address, DNS, ...)          ->                          (Mode-Config push)
//!                                 <-   ACK(...)
//! ```
//!
//! Each pair is one Transaction exchange on its own message ID, every
//! message `HDR*, HASH, ATTR` with HASH = prf(SKEYID_a, M-ID | ATTR).
//!
//! # The caller decides
//!
//! The engine never holds a password it was not given and never decides
//! who may log in:
//!
//! - the **client** is asked for credentials with
//!   [`Event::XauthRequested`](crate::Event::XauthRequested) and answers
//!   with [`Endpoint::xauth_credentials`](crate::Endpoint::xauth_credentials)
//!   (a GUI may prompt a person in between; the server's timeout bounds
//!   how long), or gives up with
//!   [`Endpoint::xauth_cancel`](crate::Endpoint::xauth_cancel);
//! - the **server** hands the user name and password it received to the
//!   caller in [`Event::XauthVerify`](crate::Event::XauthVerify) and is
//!   told the outcome with [`Endpoint::xauth_verdict`](crate::Endpoint::xauth_verdict);
//!   it asks the caller for the client's configuration (address, DNS,
//!   split networks, ...) with [`Event::ModeCfgRequested`](crate::Event::ModeCfgRequested)
//!   and gets it with [`Endpoint::mode_cfg_reply`](crate::Endpoint::mode_cfg_reply)
//!   (or a refusal, [`Endpoint::mode_cfg_refuse`](crate::Endpoint::mode_cfg_refuse),
//!   when its pool is empty). The address pool lives with the caller
//!   (`ted::remote_access`); the engine reports when an SA holding an
//!   address goes ([`Event::AddressReleased`](crate::Event::AddressReleased)).
//!
//! The client reports what it was given in
//! [`Event::ModeCfgReceived`](crate::Event::ModeCfgReceived); the caller
//! then negotiates Quick Mode with the assigned address as its traffic
//! (the server refuses any other source for that SA).
//!
//! # Bounds
//!
//! Each wait has a deadline ([`RemoteAccessConfig::timeout`]), each of our
//! requests is retransmitted on the phase-1 schedule, a wrong password is
//! retried at most [`RemoteAccessConfig::xauth_attempts`] times in all,
//! and an SA whose user did not authenticate in time is deleted. Quick
//! Mode on an SA that requires XAUTH is refused until the user has
//! authenticated; Mode-Config before XAUTH, an unsolicited SET, repeated
//! or oversized attributes are dropped and counted.
//!
//! [`Phase1Auth::XauthInitPreShared`]: crate::Phase1Auth::XauthInitPreShared

use core::fmt;
use core::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use isakmp_wire::mode_cfg::CfgAttributeType;
pub use isakmp_wire::mode_cfg::SplitNetwork;

use crate::crypto::SecretBytes;
use crate::types::{Identity, IsakmpSaId};

/// The longest text attribute the engine accepts or sends (banner,
/// domain, user name, message): 4 KiB.
pub const MAX_TEXT: usize = 4096;

/// The most entries of one list (DNS servers, split networks, backup
/// servers) the engine keeps from one message.
pub const MAX_LIST: usize = 64;

/// Whether the server answers the client's Mode-Config REQUEST or pushes
/// a SET (IOS `crypto map M client configuration address respond |
/// initiate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeCfgServerMode {
    /// The client asks (REQUEST/REPLY); vpnc, strongSwan and the Cisco
    /// clients do by default (IOS `respond`).
    #[default]
    Pull,
    /// The server sends a SET after XAUTH and the client acknowledges
    /// (IOS `initiate`, libreswan's default).
    Push,
    /// No Mode-Config on this side: a client's REQUEST is refused.
    Off,
}

/// Whether the client asks for its configuration or waits for the
/// server's SET.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeCfgClientMode {
    /// Send a REQUEST once XAUTH is done (strongSwan's `modeconfig=pull`,
    /// vpnc); a SET the server pushes instead is accepted as well.
    #[default]
    Pull,
    /// Wait for the server's SET (strongSwan's `modeconfig=push`).
    Push,
    /// No Mode-Config: the client keeps its own address (XAUTH only).
    Off,
}

/// Remote-access settings of an [`Endpoint`](crate::Endpoint), used on SAs
/// negotiated with [`Phase1Auth::XauthInitPreShared`](crate::Phase1Auth::XauthInitPreShared)
/// (see the [module documentation](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteAccessConfig {
    /// How long each side waits for the other's next step: the server for
    /// the user's credentials (a person may be typing; IOS `crypto isakmp
    /// xauth timeout`, 60 s), the client for the server's next message.
    /// An SA whose remote-access exchange stalls this long is deleted.
    pub timeout: Duration,
    /// Attempts a user gets before the server gives up (IOS and
    /// strongSwan: 3). After a wrong password with attempts left, the
    /// server asks again; after the last, it sends STATUS = FAIL and
    /// deletes the SA.
    pub xauth_attempts: u8,
    /// Server side: how Mode-Config runs.
    pub server_mode_cfg: ModeCfgServerMode,
    /// Client side: how Mode-Config runs.
    pub client_mode_cfg: ModeCfgClientMode,
    /// Client side: the attributes a Mode-Config REQUEST asks for.
    pub client_request: Vec<CfgAttributeType>,
    /// Client side: the APPLICATION_VERSION sent in the REQUEST.
    pub application_version: Option<String>,
}

impl Default for RemoteAccessConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            xauth_attempts: 3,
            server_mode_cfg: ModeCfgServerMode::Pull,
            client_mode_cfg: ModeCfgClientMode::Pull,
            client_request: vec![
                CfgAttributeType::INTERNAL_IP4_ADDRESS,
                CfgAttributeType::INTERNAL_IP4_NETMASK,
                CfgAttributeType::INTERNAL_IP4_DNS,
                CfgAttributeType::INTERNAL_IP4_NBNS,
                CfgAttributeType::UNITY_BANNER,
                CfgAttributeType::UNITY_DEF_DOMAIN,
                CfgAttributeType::UNITY_SPLITDNS_NAME,
                CfgAttributeType::UNITY_SPLIT_INCLUDE,
                CfgAttributeType::UNITY_LOCAL_LAN,
                CfgAttributeType::UNITY_PFS,
                CfgAttributeType::UNITY_SAVE_PASSWD,
                CfgAttributeType::UNITY_BACKUP_SERVERS,
            ],
            application_version: Some(concat!("ike-sm ", env!("CARGO_PKG_VERSION")).to_owned()),
        }
    }
}

/// What an XAUTH server asks the client for (client side, in
/// [`Event::XauthRequested`](crate::Event::XauthRequested)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XauthRequest {
    /// The ISAKMP SA.
    pub sa: IsakmpSaId,
    /// The server.
    pub peer: SocketAddr,
    /// XAUTH_TYPE (0: generic user name and password; 1 RADIUS-CHAP,
    /// 2 OTP, 3 S/KEY).
    pub xauth_type: u32,
    /// A user name is asked for.
    pub user_name: bool,
    /// A password is asked for.
    pub password: bool,
    /// A token passcode is asked for.
    pub passcode: bool,
    /// The server's XAUTH_MESSAGE (for a person to read; untrusted text,
    /// at most [`MAX_TEXT`] bytes, lossily decoded).
    pub message: Option<String>,
    /// The server's challenge, if any.
    pub challenge: Option<Vec<u8>>,
    /// Which request this is on the SA (1 for the first; a server that
    /// asks again after a wrong password sends 2, 3, ...).
    pub attempt: u8,
}

/// The client's answer to an [`XauthRequest`]: wiped on drop, the
/// password never shown by `Debug`.
#[derive(Clone)]
pub struct XauthCredentials {
    /// The user name.
    pub user: String,
    /// The password (or passcode, when that was asked for).
    pub password: SecretBytes,
}

impl XauthCredentials {
    /// Credentials from a user name and password.
    #[must_use]
    pub fn new(user: &str, password: &[u8]) -> Self {
        Self {
            user: user.to_owned(),
            password: SecretBytes::new(password),
        }
    }
}

impl fmt::Debug for XauthCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XauthCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A user's credentials for the server's caller to check (server side, in
/// [`Event::XauthVerify`](crate::Event::XauthVerify)); answer with
/// [`Endpoint::xauth_verdict`](crate::Endpoint::xauth_verdict).
#[derive(Clone)]
pub struct XauthVerify {
    /// The ISAKMP SA.
    pub sa: IsakmpSaId,
    /// The client.
    pub peer: SocketAddr,
    /// The phase-1 identity the client authenticated with the group key
    /// (a Cisco group name is a KEY_ID).
    pub group: Identity,
    /// The user name (lossily decoded, at most [`MAX_TEXT`] bytes).
    pub user: String,
    /// The password as received (wiped on drop; not shown by `Debug`).
    pub password: SecretBytes,
    /// Which attempt this is (1, 2, ... up to
    /// [`RemoteAccessConfig::xauth_attempts`]).
    pub attempt: u8,
}

impl fmt::Debug for XauthVerify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XauthVerify")
            .field("sa", &self.sa)
            .field("peer", &self.peer)
            .field("group", &self.group)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl PartialEq for XauthVerify {
    fn eq(&self, other: &Self) -> bool {
        self.sa == other.sa
            && self.peer == other.peer
            && self.group == other.group
            && self.user == other.user
            && self.password == other.password
            && self.attempt == other.attempt
    }
}

impl Eq for XauthVerify {}

/// Why XAUTH failed on an SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum XauthFailure {
    /// The server refused the credentials (client side: STATUS = FAIL).
    #[error("credentials refused")]
    Rejected,
    /// Every attempt was spent on wrong credentials (server side).
    #[error("attempts exhausted")]
    AttemptsExhausted,
    /// The other side did not take its next step in time.
    #[error("timed out")]
    Timeout,
    /// Our caller gave up ([`Endpoint::xauth_cancel`](crate::Endpoint::xauth_cancel)).
    #[error("cancelled")]
    Cancelled,
    /// The server does not offer generic user name and password
    /// authentication, the only XAUTH type the engine speaks.
    #[error("unsupported XAUTH type")]
    UnsupportedType,
    /// The client deleted the SA before its user authenticated (server
    /// side; vpnc does this after a wrong password when it cannot ask a
    /// person again).
    #[error("abandoned by the client")]
    Abandoned,
}

/// A client's configuration as Mode-Config carries it: what the server's
/// caller assigns ([`Endpoint::mode_cfg_reply`](crate::Endpoint::mode_cfg_reply))
/// and what the client receives ([`Event::ModeCfgReceived`](crate::Event::ModeCfgReceived)).
/// Empty lists and `None` are not sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModeConfig {
    /// INTERNAL_IP4_ADDRESS: the client's address inside the tunnel.
    pub address: Option<Ipv4Addr>,
    /// INTERNAL_IP4_NETMASK.
    pub netmask: Option<Ipv4Addr>,
    /// INTERNAL_IP4_DNS, in order.
    pub dns: Vec<Ipv4Addr>,
    /// INTERNAL_IP4_NBNS (WINS), in order.
    pub nbns: Vec<Ipv4Addr>,
    /// INTERNAL_ADDRESS_EXPIRY, seconds.
    pub address_expiry: Option<u32>,
    /// INTERNAL_IP4_SUBNET: networks protected behind the server.
    pub subnets: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// UNITY_DEF_DOMAIN.
    pub domain: Option<String>,
    /// UNITY_SPLITDNS_NAME: domains resolved through the tunnel's DNS.
    pub split_dns: Vec<String>,
    /// UNITY_SPLIT_INCLUDE: the networks to send through the tunnel
    /// (none: all traffic).
    pub split_include: Vec<SplitNetwork>,
    /// UNITY_LOCAL_LAN: networks that stay outside the tunnel.
    pub local_lan: Vec<SplitNetwork>,
    /// UNITY_BANNER: text to show the user.
    pub banner: Option<String>,
    /// UNITY_SAVE_PASSWD: whether the client may store the password.
    pub save_password: Option<bool>,
    /// UNITY_PFS: whether Quick Mode must use PFS.
    pub pfs: Option<bool>,
    /// UNITY_BACKUP_SERVERS: other concentrators (names or addresses).
    pub backup_servers: Vec<String>,
    /// APPLICATION_VERSION of the other side.
    pub application_version: Option<String>,
}

/// What a client asked for, for the server's caller to answer (server
/// side, in [`Event::ModeCfgRequested`](crate::Event::ModeCfgRequested)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeCfgRequest {
    /// The ISAKMP SA.
    pub sa: IsakmpSaId,
    /// The client.
    pub peer: SocketAddr,
    /// The phase-1 identity (the group).
    pub group: Identity,
    /// The XAUTH user, when XAUTH ran.
    pub user: Option<String>,
    /// The attribute types the client asked for (empty when we push).
    pub requested: Vec<CfgAttributeType>,
    /// An address the client asked to keep (a phase-1 rekey asks for
    /// the address it has).
    pub requested_address: Option<Ipv4Addr>,
    /// Whether the answer is pushed (SET) rather than a REPLY.
    pub push: bool,
}
