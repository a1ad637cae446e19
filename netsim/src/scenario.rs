//! The seed's network on the simulator, with two gateways: the topology
//! of docs/seed.md, shared by the seed replay test, the `seed` example and the
//! `ted_gateway` fuzz target.
//!
//! ```text
//!  D1 13.13.13.14                                        A1 12.12.12.13
//!   |  13.13.13.0/24                         12.12.12.0/24  |
//!   | .13 Fa0/1 [Daphne] Fa0/0 .1 --11.11.11.0/24-- .2 Fa0/0 [fred] Fa0/1 .12
//! ```
//!
//! Daphne's default route points at fred and fred's at Daphne, so fred is
//! on the path from D1 to A1 and intercepts the TED probe addressed to
//! A1. The configurations are the caller's (the seed's `daphne.cfg` and
//! `fred.cfg`, or variants for the negative scenarios), as are the entropy
//! sources: [`scripted_entropy`] wraps two generators so that the run
//! reproduces the seed's Quick Mode message ID and SPIs.
//!
//! [`run_seed`] is the whole replay in one call (the seed's configurations
//! [`DAPHNE_CFG`] and [`FRED_CFG`], [`seed_options`], ten pings from D1 to
//! A1), shared by the `seed` example and the workspace's seed tests: its
//! [`SeedRun`] checks that the replay reached its end ([`SeedRun::check`]:
//! nine echo replies through the tunnel) and gives the debug traces
//! rendered with the seed's clocks, the `show` views, the capture of the
//! 11.11.11.0/24 link as a pcap file, and Wireshark's key tables.
//!
//! ```
//! use std::time::Instant;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use ted::gateway::ShowCommand;
//! use netsim::scenario::{SeedRouter, run_seed};
//!
//! let run = run_seed(ChaCha20Rng::seed_from_u64(1), ChaCha20Rng::seed_from_u64(2), Instant::now())?;
//! run.check()?;
//! assert!(run.debug_trace(SeedRouter::Daphne).starts_with("*Mar  1 02:07:18.850: IPSEC(tunnel discover request)"));
//! assert!(run.show(SeedRouter::Daphne, ShowCommand::CryptoIpsecSa).contains("#pkts encaps: 9"));
//! assert!(run.ikev1_decryption_table().len() > 16);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs;
use std::io::{self, Write as _};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ike_sm::{Entropy, Purpose, ScriptedEntropy};

use ted::gateway::{Gateway, GatewayError, GatewayOptions, ShowCommand};

use crate::GatewayRouter;
use crate::{Host, LinkConfig, LinkId, Network, NodeId, RunOutcome, SimError, Stop};
use ted::config::Config;
use ted::config::ios::ParseError;
use ted::log::{Renderer, WallClock};

/// Daphne's configuration as the seed gives it, one command a line
/// (`vectors/seed/daphne.cfg`).
pub const DAPHNE_CFG: &str = include_str!("../../vectors/seed/daphne.cfg");
/// fred's configuration as the seed gives it (`vectors/seed/fred.cfg`).
pub const FRED_CFG: &str = include_str!("../../vectors/seed/fred.cfg");

/// Echo requests D1 sends in the replay; the first is dropped while TED
/// runs, as in the seed.
pub const PINGS: u32 = 10;
/// Time between two echo requests (Windows' ping).
pub const PING_INTERVAL: Duration = Duration::from_secs(1);
/// Echo replies a complete replay ends with (the seed's `#pkts encaps: 9`,
/// `#pkts decaps: 9`).
pub const EXPECTED_REPLIES: u64 = 9;
/// Virtual time the replay runs: the last request leaves 9 s after the
/// first; the rest is room for its reply.
pub const REPLAY_DURATION: Duration = Duration::from_secs(12);
/// A bound on the simulator's steps for the replay (a complete one takes
/// well under a hundred).
const MAX_STEPS: usize = 100_000;

/// The capture's timestamps start at 1993-03-01 02:07:18.850 UTC (seconds
/// since the Unix epoch): the seed's first debug line, on a router whose
/// clock was never set.
pub const PCAP_EPOCH: Duration = Duration::from_millis(730_951_638_850);

/// The host behind Daphne that pings (the seed's debug lines).
pub const D1: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 14);
/// The host behind fred that is pinged.
pub const A1: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 13);
/// Daphne's inside address (D1's gateway).
pub const DAPHNE_INSIDE: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 13);
/// fred's inside address (A1's gateway).
pub const FRED_INSIDE: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 12);
/// Daphne's outside address.
pub const DAPHNE: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
/// fred's outside address.
pub const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);
/// The Quick Mode message ID of the seed (docs/seed.md, Daphne 23.285).
pub const QM_MESSAGE_ID: u32 = 409_419_560;
/// Daphne's inbound SPI in the seed (fred's outbound).
pub const DAPHNE_INBOUND_SPI: u32 = 0xF800_D61F;
/// fred's inbound SPI in the seed (Daphne's outbound).
pub const FRED_INBOUND_SPI: u32 = 0xA479_0FA0;
/// The outside interface of both routers.
pub const OUTSIDE: &str = "FastEthernet0/0";
/// The inside interface of both routers.
pub const INSIDE: &str = "FastEthernet0/1";

/// Two entropy sources that serve the seed's values first: Daphne's
/// first Quick Mode message ID 409419560 and first SPI 0xF800D61F, fred's
/// first SPI 0xA4790FA0; everything else from the generators.
pub fn scripted_entropy<R>(daphne: R, fred: R) -> (Box<dyn Entropy + Send>, Box<dyn Entropy + Send>)
where
    R: rand_core::CryptoRng + Send + 'static,
{
    let d = ScriptedEntropy::new(daphne)
        .with(Purpose::MessageId, &QM_MESSAGE_ID.to_be_bytes())
        .with(Purpose::Spi, &DAPHNE_INBOUND_SPI.to_be_bytes());
    let f = ScriptedEntropy::new(fred).with(Purpose::Spi, &FRED_INBOUND_SPI.to_be_bytes());
    (Box::new(d), Box::new(f))
}

/// How to build the network.
pub struct SeedSetup {
    /// Daphne's configuration.
    pub daphne: Config,
    /// fred's configuration.
    pub fred: Config,
    /// Daphne's entropy.
    pub daphne_entropy: Box<dyn Entropy + Send>,
    /// fred's entropy.
    pub fred_entropy: Box<dyn Entropy + Send>,
    /// Options of both gateways.
    pub options: GatewayOptions,
    /// The 11.11.11.0/24 link.
    pub transit: LinkConfig,
    /// The two protected LANs.
    pub lan: LinkConfig,
    /// When the clock starts.
    pub start: Instant,
    /// The seed of the links' impairments.
    pub seed: u64,
}

impl SeedSetup {
    /// The two configurations with the options given, clean links of 1 ms
    /// (transit 5 ms), the clock starting at `start`.
    pub fn new(
        daphne: Config,
        fred: Config,
        (daphne_entropy, fred_entropy): (Box<dyn Entropy + Send>, Box<dyn Entropy + Send>),
        options: GatewayOptions,
        start: Instant,
    ) -> Self {
        Self {
            daphne,
            fred,
            daphne_entropy,
            fred_entropy,
            options,
            transit: LinkConfig::with_latency(Duration::from_millis(5)),
            lan: LinkConfig::default(),
            start,
            seed: 1,
        }
    }
}

/// Why the network could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A gateway refused its configuration.
    #[error("{router}: {source}")]
    Gateway {
        /// Which router.
        router: &'static str,
        /// Why.
        #[source]
        source: GatewayError,
    },
    /// The topology could not be wired.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A configuration text did not import.
    #[error("{router}'s configuration: {source}")]
    Config {
        /// Which router.
        router: &'static str,
        /// Why.
        #[source]
        source: ParseError,
    },
}

/// The seed's two configurations ([`DAPHNE_CFG`], [`FRED_CFG`]), imported.
pub fn seed_configs() -> Result<(Config, Config), ScenarioError> {
    let import = |router, text| {
        ted::config::ios::parse(text)
            .map(|p| p.config)
            .map_err(|source| ScenarioError::Config { router, source })
    };
    Ok((import("Daphne", DAPHNE_CFG)?, import("fred", FRED_CFG)?))
}

/// The options of the replay: the debug log and the key log on, NAT
/// traversal off (the seed's routers run IOS 12.2, which predates it:
/// NAT-T came with 12.2(13)T, and the seed's trace has no NAT-T vendor ID
/// or NAT-D), the rest [`GatewayOptions::default`].
pub fn seed_options() -> GatewayOptions {
    let mut options = GatewayOptions::default();
    options.debug = true;
    options.key_log = true;
    options.ike.nat_t.mode = ike_sm::NatTMode::Disabled;
    options
}

/// The seed's network, built.
#[derive(Debug)]
pub struct SeedNetwork {
    /// The simulated network.
    pub net: Network,
    /// Daphne (TED initiator).
    pub daphne: NodeId,
    /// fred (TED responder).
    pub fred: NodeId,
    /// D1, 13.13.13.14.
    pub d1: NodeId,
    /// A1, 12.12.12.13.
    pub a1: NodeId,
    /// 13.13.13.0/24.
    pub lan_daphne: LinkId,
    /// 11.11.11.0/24.
    pub transit: LinkId,
    /// 12.12.12.0/24.
    pub lan_fred: LinkId,
}

impl SeedNetwork {
    /// Builds the topology; the transit link is captured.
    pub fn build(setup: SeedSetup) -> Result<Self, ScenarioError> {
        let SeedSetup {
            daphne,
            fred,
            daphne_entropy,
            fred_entropy,
            options,
            transit,
            lan,
            start,
            seed,
        } = setup;
        let d_gw = Gateway::new(daphne.clone(), OUTSIDE, daphne_entropy, options.clone()).map_err(
            |source| ScenarioError::Gateway {
                router: "Daphne",
                source,
            },
        )?;
        let f_gw =
            Gateway::new(fred.clone(), OUTSIDE, fred_entropy, options).map_err(|source| {
                ScenarioError::Gateway {
                    router: "fred",
                    source,
                }
            })?;
        let mut net = Network::new(start, seed);
        let lan_daphne = net.add_link("13.13.13.0/24", lan);
        let transit_link = net.add_link("11.11.11.0/24", transit);
        let lan_fred = net.add_link("12.12.12.0/24", lan);
        let d1 = net.add_node("D1", Host::new(D1, 24, Some(DAPHNE_INSIDE)));
        let a1 = net.add_node("A1", Host::new(A1, 24, Some(FRED_INSIDE)));
        let d = net.add_node("Daphne", GatewayRouter::new(d_gw));
        let f = net.add_node("fred", GatewayRouter::new(f_gw));
        net.attach(d1, Host::INTERFACE, D1, lan_daphne)?;
        net.attach(a1, Host::INTERFACE, A1, lan_fred)?;
        net.attach_interfaces(d, &daphne, &[(INSIDE, lan_daphne), (OUTSIDE, transit_link)])?;
        net.attach_interfaces(f, &fred, &[(OUTSIDE, transit_link), (INSIDE, lan_fred)])?;
        net.capture(transit_link);
        Ok(Self {
            net,
            daphne: d,
            fred: f,
            d1,
            a1,
            lan_daphne,
            transit: transit_link,
            lan_fred,
        })
    }

    /// The seed's network as the seed configures it ([`seed_configs`],
    /// [`seed_options`]), with [`scripted_entropy`] over the two
    /// generators, the clock starting at `start`.
    pub fn seed<R>(daphne_rng: R, fred_rng: R, start: Instant) -> Result<Self, ScenarioError>
    where
        R: rand_core::CryptoRng + Send + 'static,
    {
        let (daphne, fred) = seed_configs()?;
        Self::build(SeedSetup::new(
            daphne,
            fred,
            scripted_entropy(daphne_rng, fred_rng),
            seed_options(),
            start,
        ))
    }

    /// The seed's traffic: D1 pings A1 [`PINGS`] times, [`PING_INTERVAL`]
    /// apart, and the network runs for [`REPLAY_DURATION`] (bounded in
    /// steps).
    pub fn replay_ping(&mut self) -> RunOutcome {
        self.ping(PINGS, PING_INTERVAL);
        self.net.run_for(REPLAY_DURATION, MAX_STEPS)
    }

    /// D1 pings A1 `count` times, one request every `interval`, starting
    /// now.
    pub fn ping(&mut self, count: u32, interval: Duration) {
        let now = self.net.now();
        if let Some(h) = self.net.node_mut::<Host>(self.d1) {
            h.ping(now, A1, count, interval);
        }
    }

    /// Daphne's router.
    pub fn daphne(&self) -> Option<&GatewayRouter> {
        self.net.node::<GatewayRouter>(self.daphne)
    }

    /// fred's router.
    pub fn fred(&self) -> Option<&GatewayRouter> {
        self.net.node::<GatewayRouter>(self.fred)
    }

    /// D1.
    pub fn d1(&self) -> Option<&Host> {
        self.net.node::<Host>(self.d1)
    }

    /// A1.
    pub fn a1(&self) -> Option<&Host> {
        self.net.node::<Host>(self.a1)
    }
}

/// One of the seed's two routers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeedRouter {
    /// Daphne, the TED initiator (11.11.11.1).
    Daphne,
    /// fred, the TED responder on the path (11.11.11.2).
    Fred,
}

impl SeedRouter {
    /// The router's hostname (its IOS prompt).
    pub fn name(self) -> &'static str {
        match self {
            Self::Daphne => "Daphne",
            Self::Fred => "fred",
        }
    }

    /// The wall clock of the router's first debug line in the seed:
    /// Daphne's `*Mar  1 02:07:18.850`, fred's `*Mar  1 02:07:45.763` (the
    /// two routers' clocks were never set nor synchronised).
    pub fn seed_clock(self) -> WallClock {
        let (second, millisecond) = match self {
            Self::Daphne => (18, 850),
            Self::Fred => (45, 763),
        };
        WallClock::new(1993, 3, 1, 2, 7, second, millisecond).unwrap_or(WallClock::IOS_DEFAULT)
    }
}

/// Why a replay did not reach its end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayShortfall {
    /// The simulator hit its step bound (something loops).
    #[error("the simulation stopped at its step limit after {steps} steps")]
    StepLimit {
        /// Steps taken.
        steps: usize,
    },
    /// D1 did not get the echo replies expected.
    #[error("D1 received {got} echo replies, {expected} expected")]
    EchoReplies {
        /// Replies received.
        got: u64,
        /// [`EXPECTED_REPLIES`].
        expected: u64,
    },
    /// A router did not encapsulate or decapsulate the packets expected.
    #[error(
        "{router} encapsulated {encapsulated} and decapsulated {decapsulated} packets, {expected} each expected"
    )]
    Tunnel {
        /// Which router.
        router: &'static str,
        /// Packets encapsulated.
        encapsulated: u64,
        /// Packets decapsulated.
        decapsulated: u64,
        /// [`EXPECTED_REPLIES`].
        expected: u64,
    },
}

/// A finished seed replay (see [`run_seed`]).
#[derive(Debug)]
pub struct SeedRun {
    network: SeedNetwork,
    outcome: RunOutcome,
}

/// Runs the seed replay: the seed's network ([`SeedNetwork::seed`]) and
/// its ten pings ([`SeedNetwork::replay_ping`]). Whether it reached its
/// end is [`SeedRun::check`]'s answer; this only fails when the network
/// cannot be built.
pub fn run_seed<R>(daphne_rng: R, fred_rng: R, start: Instant) -> Result<SeedRun, ScenarioError>
where
    R: rand_core::CryptoRng + Send + 'static,
{
    Ok(SeedRun::replay(SeedNetwork::seed(
        daphne_rng, fred_rng, start,
    )?))
}

impl SeedRun {
    /// Replays the seed's traffic ([`SeedNetwork::replay_ping`]) on a
    /// network built otherwise (another configuration, other options).
    pub fn replay(mut network: SeedNetwork) -> Self {
        let outcome = network.replay_ping();
        Self { network, outcome }
    }

    /// The network, as the replay left it.
    pub fn network(&self) -> &SeedNetwork {
        &self.network
    }

    /// The network, to go on with it.
    pub fn into_network(self) -> SeedNetwork {
        self.network
    }

    /// How the simulation's run ended.
    pub fn outcome(&self) -> RunOutcome {
        self.outcome
    }

    /// Echo replies D1 received.
    pub fn echo_replies(&self) -> u64 {
        self.network.d1().map_or(0, |h| {
            u64::try_from(h.echo_replies().len()).unwrap_or(u64::MAX)
        })
    }

    /// Whether the replay reached the seed's end: nine echo replies at D1,
    /// nine packets encapsulated and nine decapsulated by each router.
    pub fn check(&self) -> Result<(), ReplayShortfall> {
        if self.outcome.stop == Stop::StepLimit {
            return Err(ReplayShortfall::StepLimit {
                steps: self.outcome.steps,
            });
        }
        let got = self.echo_replies();
        if got != EXPECTED_REPLIES {
            return Err(ReplayShortfall::EchoReplies {
                got,
                expected: EXPECTED_REPLIES,
            });
        }
        for router in [SeedRouter::Daphne, SeedRouter::Fred] {
            let (encapsulated, decapsulated) = self.router(router).map_or((0, 0), |r| {
                let c = r.gateway().counters();
                (c.plaintext_encrypted, c.esp_decrypted)
            });
            if encapsulated != EXPECTED_REPLIES || decapsulated != EXPECTED_REPLIES {
                return Err(ReplayShortfall::Tunnel {
                    router: router.name(),
                    encapsulated,
                    decapsulated,
                    expected: EXPECTED_REPLIES,
                });
            }
        }
        Ok(())
    }

    /// A router.
    pub fn router(&self, router: SeedRouter) -> Option<&GatewayRouter> {
        match router {
            SeedRouter::Daphne => self.network.daphne(),
            SeedRouter::Fred => self.network.fred(),
        }
    }

    /// The router's debug log (`debug crypto isakmp`, `debug crypto
    /// ipsec`) as IOS prints it, timestamped with the router's clock in the
    /// seed ([`SeedRouter::seed_clock`]) at its first record.
    pub fn debug_trace(&self, router: SeedRouter) -> String {
        let Some(log) = self.router(router).and_then(|r| r.gateway().log()) else {
            return String::new();
        };
        let origin = log
            .records()
            .next()
            .map_or(self.network.net.start(), |r| r.at);
        Renderer::new(router.seed_clock(), origin).render_all(log.records())
    }

    /// A router's `show` command, at the end of the run.
    pub fn show(&self, router: SeedRouter, command: ShowCommand) -> String {
        self.router(router)
            .map(|r| r.gateway().show(self.network.net.now(), command))
            .unwrap_or_default()
    }

    /// Every packet that crossed the 11.11.11.0/24 link, as a classic pcap
    /// file (link type RAW: IPv4 without a link layer), timestamps from
    /// [`PCAP_EPOCH`].
    pub fn transit_pcap(&self) -> io::Result<Vec<u8>> {
        self.network
            .net
            .write_pcap(self.network.transit, Vec::new(), PCAP_EPOCH)
    }

    /// Wireshark's `ikev1_decryption_table` for the run: the ISAKMP SA's
    /// initiator cookie and encryption key, from Daphne's key log (the
    /// initiator's; fred's holds the same SA).
    pub fn ikev1_decryption_table(&self) -> String {
        self.key_log()
            .map(ted::gateway::KeyLog::ikev1_decryption_table)
            .unwrap_or_default()
    }

    /// Wireshark's `esp_sa` table for the run: both directions of the
    /// IPsec SA pair, from Daphne's key log.
    pub fn esp_sa_table(&self) -> String {
        self.key_log()
            .map(ted::gateway::KeyLog::esp_sa_table)
            .unwrap_or_default()
    }

    /// Writes [`ikev1_decryption_table`](Self::ikev1_decryption_table) and
    /// [`esp_sa_table`](Self::esp_sa_table) into `dir` (created if
    /// missing) as the files `ikev1_decryption_table` and `esp_sa`, which a
    /// Wireshark profile directory takes as they are. They hold keys: on
    /// Unix they are created readable by their owner only. Returns the two
    /// paths.
    pub fn write_key_tables(&self, dir: &Path) -> io::Result<[PathBuf; 2]> {
        fs::create_dir_all(dir)?;
        let tables = dir.join("ikev1_decryption_table");
        let esp = dir.join("esp_sa");
        write_secret(&tables, &self.ikev1_decryption_table())?;
        write_secret(&esp, &self.esp_sa_table())?;
        Ok([tables, esp])
    }

    fn key_log(&self) -> Option<&ted::gateway::KeyLog> {
        self.network.daphne().and_then(|r| r.gateway().key_log())
    }
}

/// Writes a file only its owner can read (where the platform says so).
fn write_secret(path: &Path, contents: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.flush()
}
