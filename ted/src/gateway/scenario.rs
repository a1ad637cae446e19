//! The seed's network on the simulator, with two gateways: the topology
//! of TRACE.md, shared by the seed replay test, the `seed` example and the
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

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ike_sm::{Entropy, Purpose, ScriptedEntropy};

use super::{Gateway, GatewayError, GatewayOptions, GatewayRouter};
use crate::config::Config;
use crate::sim::{Host, LinkConfig, LinkId, Network, NodeId, SimError};

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
/// The Quick Mode message ID of the seed (TRACE.md, 23.285).
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
