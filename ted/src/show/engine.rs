//! `show crypto engine connections active` (IOS 12.2: one line per crypto
//! engine connection, ISAKMP and IPsec SAs alike, with packet counters).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::config::Transform;

/// One crypto engine connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EngineConnection {
    /// The connection ID (the ISAKMP SA's, or an IPsec SA's from 2000).
    pub id: u32,
    /// The interface, for an IPsec SA (`<none>` for an ISAKMP SA).
    pub interface: Option<String>,
    /// The interface's address.
    pub address: Option<Ipv4Addr>,
    /// The state (`set`).
    pub state: String,
    /// The algorithm name, e.g. `HMAC_MD5+DES_56_CB` (see
    /// [`engine_algorithm`]).
    pub algorithm: String,
    /// Packets encrypted.
    pub encrypted: u64,
    /// Packets decrypted.
    pub decrypted: u64,
}

/// The algorithm column IOS 12.2 prints for a cipher and an HMAC:
/// `HMAC_SHA+DES_56_CB` (the seed's ISAKMP SA), `HMAC_MD5+DES_56_CB` (its
/// esp-des esp-md5-hmac SAs). Known for DES and 3DES with MD5 or SHA-1 (IOS
/// calls 3DES `3DES_56_CB`, which its 18-column field shows as
/// `3DES_56_C`); `None` for the rest, whose IOS names are not known here.
pub fn engine_algorithm(transforms: &[Transform]) -> Option<String> {
    let mut cipher = None;
    let mut hmac = None;
    for t in transforms {
        match t {
            Transform::EspDes => cipher = Some("DES_56_CB"),
            Transform::Esp3des => cipher = Some("3DES_56_CB"),
            Transform::EspMd5Hmac => hmac = Some("HMAC_MD5"),
            Transform::EspShaHmac => hmac = Some("HMAC_SHA"),
            _ => return None,
        }
    }
    Some(format!("{}+{}", hmac?, cipher?))
}

/// `show crypto engine connections active`:
///
/// ```text
///   ID Interface       IP-Address      State  Algorithm           Encrypt  Decrypt
///    2 <none>          <none>          set    HMAC_SHA+DES_56_CB        0        0
/// 2000 FastEthernet0/0 11.11.11.1      set    HMAC_MD5+DES_56_CB        0        9
/// ```
///
/// The algorithm column is 18 characters wide and longer names are cut,
/// as IOS does.
pub fn engine_connections_active(connections: &[EngineConnection]) -> String {
    let mut out = String::new();
    out.push('\n');
    let _ = writeln!(
        out,
        "{:>4} {:<15} {:<15} {:<6} {:<18} {:>8} {:>8}",
        "ID", "Interface", "IP-Address", "State", "Algorithm", "Encrypt", "Decrypt"
    );
    for c in connections {
        let address = c
            .address
            .map_or_else(|| "<none>".to_owned(), |a| a.to_string());
        let _ = writeln!(
            out,
            "{:>4} {:<15} {:<15} {:<6} {:<18.18} {:>8} {:>8}",
            c.id,
            c.interface.as_deref().unwrap_or("<none>"),
            address,
            c.state,
            c.algorithm,
            c.encrypted,
            c.decrypted
        );
    }
    out.push('\n');
    out
}
