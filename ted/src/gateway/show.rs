//! The operator's views of a gateway, filled from its state and rendered
//! by [`crate::show`]: `show crypto isakmp sa` (the IKE engine's SAs),
//! `show crypto ipsec sa` (the ESP SAs with their counters and the
//! lifetime left), `show crypto map` (the configuration with the entries
//! TED derived) and `show crypto engine connections active` (ISAKMP SAs
//! with their algorithms, IPsec SAs with their packet counts).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use ike_sm::crypto::{EncryptionAlgorithm, HashAlgorithm};

use super::{Gateway, Tunnel, translate};
use crate::show::{
    CryptoMapRuntime, EngineConnection, IpsecCounters, IpsecFlow, IpsecInterface, IpsecSa,
    IsakmpSaRow, IsakmpState, PoolRow, SessionFlow, SessionIkeSa, SessionRow, SessionStatus,
    engine_algorithm,
};

/// The `show` commands a gateway answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShowCommand {
    /// `show crypto isakmp sa`.
    CryptoIsakmpSa,
    /// `show crypto ipsec sa`.
    CryptoIpsecSa,
    /// `show crypto map`.
    CryptoMap,
    /// `show crypto engine connections active`.
    CryptoEngineConnectionsActive,
    /// `show crypto isakmp policy` (and whether Aggressive Mode is
    /// answered).
    CryptoIsakmpPolicy,
    /// `show crypto session`: per peer, the XAUTH user, group, assigned
    /// address, IKE SA and IPsec flows (remote access).
    CryptoSession,
    /// `show ip local pool`: the Easy VPN address pools.
    IpLocalPool,
    /// `show crypto pki certificates`: our certificate and the trust
    /// anchors.
    CryptoPkiCertificates,
}

impl ShowCommand {
    /// Every command: the seed's, in the order it shows them, then
    /// `show crypto isakmp policy`.
    pub const ALL: [Self; 5] = [
        Self::CryptoIsakmpSa,
        Self::CryptoIpsecSa,
        Self::CryptoMap,
        Self::CryptoEngineConnectionsActive,
        Self::CryptoIsakmpPolicy,
    ];

    /// The remote-access views.
    pub const REMOTE_ACCESS: [Self; 2] = [Self::CryptoSession, Self::IpLocalPool];

    /// The certificate views.
    pub const PKI: [Self; 1] = [Self::CryptoPkiCertificates];

    /// The command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CryptoIsakmpSa => "show crypto isakmp sa",
            Self::CryptoIpsecSa => "show crypto ipsec sa",
            Self::CryptoMap => "show crypto map",
            Self::CryptoEngineConnectionsActive => "show crypto engine connections active",
            Self::CryptoIsakmpPolicy => "show crypto isakmp policy",
            Self::CryptoSession => "show crypto session",
            Self::IpLocalPool => "show ip local pool",
            Self::CryptoPkiCertificates => "show crypto pki certificates",
        }
    }

    /// The command a line names (whitespace-separated words, exactly).
    pub fn parse(line: &str) -> Option<Self> {
        let words: Vec<&str> = line.split_whitespace().collect();
        Self::ALL
            .into_iter()
            .chain(Self::REMOTE_ACCESS)
            .chain(Self::PKI)
            .find(|c| c.as_str().split_whitespace().eq(words.iter().copied()))
    }
}

impl fmt::Display for ShowCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn isakmp_state(s: ike_sm::IsakmpState) -> Option<IsakmpState> {
    use ike_sm::IsakmpState as S;
    Some(match s {
        S::MmNoState => IsakmpState::MmNoState,
        S::MmSaSetup => IsakmpState::MmSaSetup,
        S::MmKeyExch => IsakmpState::MmKeyExch,
        S::AgNoState => IsakmpState::AgNoState,
        S::AgInitExch => IsakmpState::AgInitExch,
        S::AgAuth => IsakmpState::AgAuth,
        S::QmIdle => IsakmpState::QmIdle,
        _ => return None,
    })
}

/// IOS's crypto engine name of a phase-1 suite: `HMAC_SHA+DES_56_CB` (the
/// seed's ISAKMP SA). The DES and 3DES names are IOS's; the AES and SHA-2
/// ones follow the same pattern and are this project's.
fn isakmp_algorithm(encryption: EncryptionAlgorithm, hash: HashAlgorithm) -> String {
    let hmac = match hash {
        HashAlgorithm::Md5 => "HMAC_MD5",
        HashAlgorithm::Sha1 => "HMAC_SHA",
        HashAlgorithm::Sha2_256 => "HMAC_SHA256",
        HashAlgorithm::Sha2_384 => "HMAC_SHA384",
        HashAlgorithm::Sha2_512 => "HMAC_SHA512",
        _ => "HMAC",
    };
    let cipher = match encryption {
        EncryptionAlgorithm::DesCbc => "DES_56_CB",
        EncryptionAlgorithm::TripleDesCbc => "3DES_56_CB",
        EncryptionAlgorithm::Aes128Cbc => "AES_128_CB",
        EncryptionAlgorithm::Aes192Cbc => "AES_192_CB",
        EncryptionAlgorithm::Aes256Cbc => "AES_256_CB",
        _ => "CIPHER",
    };
    format!("{hmac}+{cipher}")
}

fn v4(a: IpAddr) -> Option<Ipv4Addr> {
    match a {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

impl Gateway {
    /// The rows of `show crypto isakmp sa`, by connection ID.
    pub fn isakmp_sa_rows(&self, now: Instant) -> Vec<IsakmpSaRow> {
        let mut rows: Vec<IsakmpSaRow> = self
            .endpoint
            .isakmp_sas(now)
            .iter()
            .filter_map(|s| {
                Some(IsakmpSaRow {
                    destination: v4(s.remote.ip())?,
                    source: v4(s.local.ip())?,
                    state: isakmp_state(s.state)?,
                    conn_id: s.conn_id,
                    slot: 0,
                })
            })
            .collect();
        rows.sort_by_key(|r| r.conn_id);
        rows
    }

    fn ipsec_sa_entry(&self, t: &Tunnel, inbound: bool, now: Instant) -> Option<IpsecSa> {
        let handle = if inbound { t.inbound } else { t.outbound };
        let sa = self.esp.get(handle)?;
        let c = sa.counters();
        let bytes = if inbound {
            c.bytes_decaps
        } else {
            c.bytes_encaps
        };
        let age = now.saturating_duration_since(t.created).as_secs();
        Some(IpsecSa {
            spi: sa.spi().0,
            transforms: translate::ios_transforms(&t.transform),
            mode: match t.transform.mode {
                ike_sm::EspMode::Transport => crate::config::EncapsulationMode::Transport,
                _ => crate::config::EncapsulationMode::Tunnel,
            },
            slot: 0,
            conn_id: if inbound {
                t.ids.conn_in
            } else {
                t.ids.conn_out
            },
            flow_id: if inbound {
                t.ids.flow_in
            } else {
                t.ids.flow_out
            },
            crypto_map: self.map.clone(),
            remaining_kilobytes: t
                .lifetime
                .kilobytes
                .map_or(0, |kb| kb.saturating_sub(bytes / 1024)),
            remaining_seconds: u64::from(t.lifetime.seconds).saturating_sub(age),
            iv_size: u32::try_from(sa.encryption().iv_len()).unwrap_or(0),
            replay_detection: sa.integrity() != esp::Integrity::None || sa.encryption().is_aead(),
        })
    }

    /// `show crypto ipsec sa`: the outside interface with one block per
    /// pair of proxies (a rekeyed pair lists its old and new SAs together).
    pub fn ipsec_sa_view(&self, now: Instant) -> Vec<IpsecInterface> {
        let mut flows: BTreeMap<(String, String, Ipv4Addr), IpsecFlow> = BTreeMap::new();
        let mut tunnels: Vec<&Tunnel> = self.tunnels.values().collect();
        tunnels.sort_by_key(|t| (t.created, t.ids.conn_in));
        for t in tunnels {
            let (Some(local), Some(remote)) = (
                translate::proxy_from_ike(&t.local_proxy),
                translate::proxy_from_ike(&t.remote_proxy),
            ) else {
                continue;
            };
            let key = (local.to_string(), remote.to_string(), t.peer);
            let flow = flows.entry(key).or_insert_with(|| IpsecFlow {
                protected_vrf: String::new(),
                local_ident: local,
                remote_ident: remote,
                current_peer: t.peer,
                flags: String::new(),
                counters: IpsecCounters::default(),
                local_endpoint: self.address,
                remote_endpoint: t.peer,
                path_mtu: self.options.mtu,
                media_mtu: self.options.mtu,
                current_outbound_spi: 0,
                inbound_esp: Vec::new(),
                inbound_ah: Vec::new(),
                inbound_pcp: Vec::new(),
                outbound_esp: Vec::new(),
                outbound_ah: Vec::new(),
                outbound_pcp: Vec::new(),
            });
            if let Some(sa) = self.esp.get(t.outbound) {
                let c = sa.counters();
                let k = &mut flow.counters;
                k.encaps = k.encaps.saturating_add(c.pkts_encaps);
                k.encrypt = k.encrypt.saturating_add(c.pkts_encrypt);
                k.digest = k.digest.saturating_add(c.pkts_digest);
                k.send_errors = k.send_errors.saturating_add(c.send_errors);
            }
            if let Some(sa) = self.esp.get(t.inbound) {
                let c = sa.counters();
                let k = &mut flow.counters;
                k.decaps = k.decaps.saturating_add(c.pkts_decaps);
                k.decrypt = k.decrypt.saturating_add(c.pkts_decrypt);
                k.verify = k.verify.saturating_add(c.pkts_verify);
                k.receive_errors = k.receive_errors.saturating_add(c.recv_errors);
            }
            // The newest pair carries the traffic (see `tunnel_for`).
            flow.current_outbound_spi = t.outbound_spi;
            flow.inbound_esp.extend(self.ipsec_sa_entry(t, true, now));
            flow.outbound_esp.extend(self.ipsec_sa_entry(t, false, now));
        }
        vec![IpsecInterface {
            interface: self.outside.to_string(),
            crypto_map: self.map.clone(),
            local_address: self.address,
            flows: flows.into_values().collect(),
        }]
    }

    /// `show crypto engine connections active`: ISAKMP SAs (no interface,
    /// no packet counts) and IPsec SAs (the outside interface, packets
    /// encrypted or decrypted), by connection ID.
    pub fn engine_connections(&self, now: Instant) -> Vec<EngineConnection> {
        let mut out: Vec<EngineConnection> = self
            .endpoint
            .isakmp_sas(now)
            .iter()
            .filter(|s| s.state == ike_sm::IsakmpState::QmIdle)
            .filter_map(|s| {
                let suite = s.suite?;
                Some(EngineConnection {
                    id: s.conn_id,
                    interface: None,
                    address: None,
                    state: "set".into(),
                    algorithm: isakmp_algorithm(suite.encryption, suite.hash),
                    encrypted: 0,
                    decrypted: 0,
                })
            })
            .collect();
        for t in self.tunnels.values() {
            let transforms = translate::ios_transforms(&t.transform);
            let algorithm = engine_algorithm(&transforms).unwrap_or_else(|| {
                transforms
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("+")
            });
            let count = |h: esp::SaHandle, inbound: bool| {
                self.esp.get(h).map_or(0, |sa| {
                    if inbound {
                        sa.counters().pkts_decaps
                    } else {
                        sa.counters().pkts_encaps
                    }
                })
            };
            for (id, inbound, handle) in [
                (t.ids.conn_in, true, t.inbound),
                (t.ids.conn_out, false, t.outbound),
            ] {
                out.push(EngineConnection {
                    id,
                    interface: Some(self.outside.to_string()),
                    address: Some(self.address),
                    state: "set".into(),
                    algorithm: algorithm.clone(),
                    encrypted: if inbound { 0 } else { count(handle, false) },
                    decrypted: if inbound { count(handle, true) } else { 0 },
                });
            }
        }
        out.sort_by_key(|c| c.id);
        out
    }

    /// What `show crypto map` prints beyond the configuration: the peer in
    /// use per entry.
    pub fn crypto_map_runtime(&self) -> CryptoMapRuntime {
        let mut runtime = CryptoMapRuntime::default();
        for (seq, u) in &self.derived {
            runtime
                .current_peers
                .insert((self.map.clone(), *seq), u.peer);
        }
        runtime
    }

    /// The output of a `show` command, as IOS prints it.
    pub fn show(&self, now: Instant, command: ShowCommand) -> String {
        match command {
            ShowCommand::CryptoIsakmpSa => crate::show::isakmp_sa(&self.isakmp_sa_rows(now)),
            ShowCommand::CryptoIpsecSa => crate::show::ipsec_sa(&self.ipsec_sa_view(now)),
            ShowCommand::CryptoMap => {
                crate::show::crypto_map_with(&self.config, &self.crypto_map_runtime())
            }
            ShowCommand::CryptoEngineConnectionsActive => {
                crate::show::engine_connections_active(&self.engine_connections(now))
            }
            ShowCommand::CryptoIsakmpPolicy => crate::show::isakmp_policy(&self.config.isakmp),
            ShowCommand::CryptoSession => crate::show::crypto_session(&self.session_rows(now)),
            ShowCommand::IpLocalPool => crate::show::ip_local_pool(&self.pool_rows()),
            ShowCommand::CryptoPkiCertificates => {
                crate::show::pki_certificates(&self.pki_certificate_rows())
            }
        }
    }

    /// The blocks of `show crypto pki certificates`: ours (with the chain
    /// we send) first, then the trust anchors.
    pub fn pki_certificate_rows(&self) -> Vec<crate::show::PkiCertificateRow> {
        use crate::show::{PkiCertificateKind, PkiCertificateRow};
        let pki = &self.endpoint.config().pki;
        let row = |kind, c: &ike_sm::ike_pki::Certificate| PkiCertificateRow {
            kind,
            serial: c.serial_hex(),
            issuer: c.issuer(),
            subject: c.subject(),
            not_before: c.not_before(),
            not_after: c.not_after(),
            trustpoint: "ikev1-peer".to_owned(),
        };
        let mut rows = Vec::new();
        if let Some(cred) = &pki.credentials {
            rows.push(row(PkiCertificateKind::Own, &cred.certificate));
            rows.extend(cred.chain.iter().map(|c| row(PkiCertificateKind::Ca, c)));
        }
        rows.extend(
            pki.trust
                .anchors()
                .iter()
                .map(|c| row(PkiCertificateKind::Ca, c)),
        );
        rows
    }

    /// The blocks of `show crypto session`, one per peer (address and IKE
    /// port), in address order.
    pub fn session_rows(&self, now: Instant) -> Vec<SessionRow> {
        let mut rows: BTreeMap<(Ipv4Addr, u16), SessionRow> = BTreeMap::new();
        let new_row = |peer: (Ipv4Addr, u16)| SessionRow {
            interface: self.outside.to_string(),
            user: None,
            group: None,
            assigned: None,
            status: SessionStatus::Negotiating,
            peer,
            ike: Vec::new(),
            flows: Vec::new(),
        };
        for s in self.endpoint.isakmp_sas(now) {
            let (Some(remote), Some(local)) = (v4(s.remote.ip()), v4(s.local.ip())) else {
                continue;
            };
            let key = (remote, s.remote.port());
            let row = rows.entry(key).or_insert_with(|| new_row(key));
            let active = s.state == ike_sm::IsakmpState::QmIdle;
            row.ike.push(SessionIkeSa {
                local: (local, s.local.port()),
                remote: key,
                active,
            });
            if s.user.is_some() {
                row.user.clone_from(&s.user);
            }
            if let Some(ike_sm::Identity::KeyId(g)) = &s.peer_identity {
                row.group = Some(String::from_utf8_lossy(g).into_owned());
            }
            if s.mode_cfg_address.is_some() {
                row.assigned = s.mode_cfg_address;
            }
            if active {
                row.status = SessionStatus::UpIdle;
            }
        }
        let mut tunnels: Vec<&Tunnel> = self.tunnels.values().collect();
        tunnels.sort_by_key(|t| (t.created, t.ids.conn_in));
        for t in tunnels {
            let port = t.udp_peer.map_or(500, |p| p.port());
            let key = rows
                .keys()
                .find(|(a, _)| *a == t.peer)
                .copied()
                .unwrap_or((t.peer, port));
            let origin = if t.derived.is_some() || self.ra_server.is_some() {
                "dynamic crypto map"
            } else {
                "crypto map"
            };
            let row = rows.entry(key).or_insert_with(|| new_row(key));
            let (Some(local), Some(remote)) = (
                translate::proxy_from_ike(&t.local_proxy),
                translate::proxy_from_ike(&t.remote_proxy),
            ) else {
                continue;
            };
            match row
                .flows
                .iter_mut()
                .find(|f| f.local == local && f.remote == remote)
            {
                Some(f) => f.active_sas = f.active_sas.saturating_add(2),
                None => row.flows.push(SessionFlow {
                    local,
                    remote,
                    active_sas: 2,
                    origin,
                }),
            }
            row.status = if row.ike.iter().any(|i| i.active) {
                SessionStatus::UpActive
            } else {
                SessionStatus::UpNoIke
            };
        }
        rows.into_values().collect()
    }

    /// The rows of `show ip local pool`: each range of each pool.
    pub fn pool_rows(&self) -> Vec<PoolRow> {
        let mut out = Vec::new();
        for pool in self.address_pools() {
            for r in pool.ranges() {
                let in_use = pool.leases().filter(|l| r.contains(l.address)).count();
                let in_use = u64::try_from(in_use).unwrap_or(u64::MAX);
                out.push(PoolRow {
                    name: pool.name().to_owned(),
                    begin: r.start(),
                    end: r.end(),
                    free: r.size().saturating_sub(in_use),
                    in_use,
                });
            }
        }
        out
    }
}
