//! `show crypto isakmp sa` (IOS 12.2: destination, source, state,
//! connection ID, slot).

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;

/// The state of an ISAKMP SA as IOS 12.2 names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsakmpState {
    /// Main Mode, nothing agreed yet.
    MmNoState,
    /// Main Mode, SA parameters agreed.
    MmSaSetup,
    /// Main Mode, keys exchanged.
    MmKeyExch,
    /// Main Mode, authenticated.
    MmKeyAuth,
    /// Aggressive Mode, nothing agreed yet.
    AgNoState,
    /// Aggressive Mode, first exchange done.
    AgInitExch,
    /// Aggressive Mode, authenticated.
    AgAuth,
    /// Phase 1 done: ready for Quick Mode.
    QmIdle,
    /// A TED exchange.
    PeerDiscovery,
}

impl IsakmpState {
    /// IOS's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MmNoState => "MM_NO_STATE",
            Self::MmSaSetup => "MM_SA_SETUP",
            Self::MmKeyExch => "MM_KEY_EXCH",
            Self::MmKeyAuth => "MM_KEY_AUTH",
            Self::AgNoState => "AG_NO_STATE",
            Self::AgInitExch => "AG_INIT_EXCH",
            Self::AgAuth => "AG_AUTH",
            Self::QmIdle => "QM_IDLE",
            Self::PeerDiscovery => "PEER_DISCOVERY",
        }
    }
}

impl fmt::Display for IsakmpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ISAKMP SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IsakmpSaRow {
    /// The peer's address (`dst`).
    pub destination: Ipv4Addr,
    /// This router's address (`src`).
    pub source: Ipv4Addr,
    /// The state.
    pub state: IsakmpState,
    /// The connection ID.
    pub conn_id: u32,
    /// The crypto engine slot (0 for the software engine).
    pub slot: u32,
}

/// `show crypto isakmp sa`:
///
/// ```text
/// dst             src             state          conn-id slot
/// 11.11.11.2      11.11.11.1      QM_IDLE              2    0
/// ```
pub fn isakmp_sa(rows: &[IsakmpSaRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<15} {:<15} {:<15}conn-id slot",
        "dst", "src", "state"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<15} {:<15} {:<15}{:>7}{:>5}",
            r.destination.to_string(),
            r.source.to_string(),
            r.state.as_str(),
            r.conn_id,
            r.slot
        );
    }
    out.push('\n');
    out
}
