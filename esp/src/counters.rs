//! Per-SA counters, named after Cisco IOS `show crypto ipsec sa`
//! (`#pkts encaps/encrypt/digest`, `#pkts decaps/decrypt/verify`,
//! `#send errors`, `#recv errors`), plus one counter per cause of failure.

use crate::error::{DecapError, EncapError};

/// Packet counters of one SA. Every failed call increments `send_errors`
/// or `recv_errors` and exactly one cause counter (dummy packets count only
/// in `dummy_packets`, as they are not errors).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Packets encapsulated (IOS `#pkts encaps`).
    pub pkts_encaps: u64,
    /// Packets encrypted: encapsulated with a cipher other than NULL
    /// (IOS `#pkts encrypt`).
    pub pkts_encrypt: u64,
    /// Packets given an ICV (HMAC or AEAD tag) (IOS `#pkts digest`).
    pub pkts_digest: u64,
    /// Packets decapsulated (IOS `#pkts decaps`).
    pub pkts_decaps: u64,
    /// Packets decrypted (IOS `#pkts decrypt`).
    pub pkts_decrypt: u64,
    /// Packets whose ICV verified (IOS `#pkts verify`).
    pub pkts_verify: u64,
    /// Inner bytes encapsulated (the quantity byte lifetimes count).
    pub bytes_encaps: u64,
    /// Inner bytes decapsulated.
    pub bytes_decaps: u64,
    /// Failed encapsulations (IOS `#send errors`).
    pub send_errors: u64,
    /// Failed decapsulations (IOS `#recv errors`).
    pub recv_errors: u64,

    /// Receive: duplicate sequence numbers.
    pub replay_duplicate: u64,
    /// Receive: sequence numbers left of the window (or zero).
    pub replay_too_old: u64,
    /// Receive: ICV or tag mismatch.
    pub auth_failures: u64,
    /// Receive: malformed outer header, not ESP, fragments, bad lengths,
    /// wrong SPI; for UDP encapsulation (RFC 3948) a bad UDP length or
    /// port, the non-ESP marker, a truncated marker, plain ESP where UDP
    /// was expected or the reverse.
    pub malformed: u64,
    /// Receive: bad padding.
    pub bad_padding: u64,
    /// Receive: malformed inner packet or unsupported next header.
    pub bad_inner: u64,
    /// Receive: inner packet outside the selectors.
    pub selector_failures: u64,
    /// Receive: refused because the SA expired.
    pub recv_expired: u64,
    /// Receive: an outbound SA asked to decapsulate.
    pub recv_wrong_direction: u64,
    /// Receive: dummy packets (next header 59), discarded silently; not
    /// counted in `recv_errors`.
    pub dummy_packets: u64,
    /// Receive: NAT keepalives (RFC 3948 s.2.3) handed to the SA, discarded
    /// silently; not counted in `recv_errors`.
    pub keepalives: u64,

    /// Send: refused because the sequence number would wrap.
    pub seq_exhausted: u64,
    /// Send: buffer too small, bad range, or result over 64 KiB.
    pub buffer_errors: u64,
    /// Send: malformed inner packet or fragment in transport mode.
    pub bad_plaintext: u64,
    /// Send: inner packet outside the selectors.
    pub send_selector_failures: u64,
    /// Send: refused because the SA expired.
    pub send_expired: u64,
    /// Send: an inbound SA asked to encapsulate.
    pub send_wrong_direction: u64,
}

impl Counters {
    pub(crate) fn count_send_error(&mut self, e: &EncapError) {
        self.send_errors += 1;
        let c = match e {
            EncapError::WrongDirection(_) => &mut self.send_wrong_direction,
            EncapError::Expired { .. } => &mut self.send_expired,
            EncapError::SequenceExhausted(_) => &mut self.seq_exhausted,
            EncapError::BadRange { .. }
            | EncapError::InsufficientHeadroom { .. }
            | EncapError::InsufficientTailroom { .. }
            | EncapError::TooLarge(_) => &mut self.buffer_errors,
            EncapError::MalformedInner(_) | EncapError::Fragment => &mut self.bad_plaintext,
            EncapError::SelectorMismatch { .. } => &mut self.send_selector_failures,
        };
        *c += 1;
    }

    pub(crate) fn count_recv_error(&mut self, e: &DecapError) {
        match e {
            DecapError::DummyPacket => {
                self.dummy_packets += 1;
                return;
            }
            DecapError::Keepalive => {
                self.keepalives += 1;
                return;
            }
            _ => {}
        }
        self.recv_errors += 1;
        let c = match e {
            DecapError::WrongDirection(_) => &mut self.recv_wrong_direction,
            DecapError::Expired { .. } => &mut self.recv_expired,
            DecapError::MalformedOuter(_)
            | DecapError::NotEsp(_)
            | DecapError::Fragment
            | DecapError::BadLength { .. }
            | DecapError::UnknownSpi(_)
            | DecapError::WrongSpi { .. }
            | DecapError::UdpLength { .. }
            | DecapError::UdpPort { .. }
            | DecapError::NonEspMarker
            | DecapError::TruncatedMarker { .. }
            | DecapError::NotUdpEncapsulated(_)
            | DecapError::UdpEncapsulationExpected(_)
            | DecapError::InsufficientHeadroom { .. } => &mut self.malformed,
            DecapError::Replay { reason, .. } => match reason {
                crate::replay::ReplayError::Duplicate => &mut self.replay_duplicate,
                _ => &mut self.replay_too_old,
            },
            DecapError::AuthenticationFailed => &mut self.auth_failures,
            DecapError::BadPadding => &mut self.bad_padding,
            DecapError::UnsupportedNextHeader(_) | DecapError::MalformedInner(_) => {
                &mut self.bad_inner
            }
            DecapError::SelectorMismatch { .. } => &mut self.selector_failures,
            DecapError::DummyPacket => &mut self.dummy_packets,
            DecapError::Keepalive => &mut self.keepalives,
        };
        *c += 1;
    }

    /// Sum of the receive cause counters (equals `recv_errors`).
    pub fn recv_causes(&self) -> u64 {
        self.replay_duplicate
            + self.replay_too_old
            + self.auth_failures
            + self.malformed
            + self.bad_padding
            + self.bad_inner
            + self.selector_failures
            + self.recv_expired
            + self.recv_wrong_direction
    }

    /// Sum of the send cause counters (equals `send_errors`).
    pub fn send_causes(&self) -> u64 {
        self.seq_exhausted
            + self.buffer_errors
            + self.bad_plaintext
            + self.send_selector_failures
            + self.send_expired
            + self.send_wrong_direction
    }
}
