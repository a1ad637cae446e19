//! IKEv1 fragmentation, Sans-IO: cutting an outgoing message into fragment
//! messages ([`split`]) and putting received ones back together within
//! fixed bounds ([`Reassembler`]).
//!
//! The extension is Cisco's (documented by Microsoft in \[MS-IKEE\]
//! s.2.2.3.1, implemented by strongSwan, libreswan, racoon and Windows);
//! [`isakmp_wire::fragment`] describes the wire format and what each
//! implementation puts in the fragment message's header. In short: the
//! whole original message, ISAKMP header included and body encrypted as
//! it would be sent, is cut into slices; each slice travels in a message of
//! its own, an ISAKMP header with the original's cookies followed by one
//! fragmentation payload (type 132: fragment ID, number from 1, a LAST
//! flag on the final one). Support is announced with a vendor ID
//! ([`isakmp_wire::vendor::fragmentation_support`]).
//!
//! [`crate::Endpoint`] uses both (see
//! [`FragmentationConfig`](crate::FragmentationConfig)): it announces
//! support in MM1/MM2 and AM1/AM2, cuts a Main or Aggressive Mode message
//! of ours that exceeds the fragment size when the peer announced support
//! (first sends, retransmissions and answers to duplicates alike), and
//! feeds every received fragment message
//! ([`isakmp_wire::FragmentMessage::is_fragment`]) to its [`Reassembler`],
//! handing a whole message on as if it had come in one datagram. The
//! functions stay public for tools that fragment or reassemble captures.
//!
//! # Bounds
//!
//! Anyone who can send UDP datagrams can send fragments, with spoofed
//! addresses and any cookies, so the reassembler's memory is bounded by
//! [`FragmentLimits`] whatever arrives: fragments per message, bytes per
//! message, messages at once per peer and in total, data bytes held in
//! total, and a lifetime counted from a message's first fragment (later
//! fragments do not extend it, so a slow drip cannot keep an entry
//! alive). A fragment that would exceed a cap is refused and counted,
//! the messages already held are kept: a flood of new messages cannot
//! evict one being reassembled, it can only wait for the timeout to free
//! room. Every refusal is a [`FragmentDrop`] and a count in
//! [`FragmentCounters`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use isakmp_wire::fragment::{FRAGMENT_OVERHEAD, FragmentMessage, FragmentRepr};
use isakmp_wire::{Cookie, Flags, HeaderRepr, Message, PayloadType};

/// The most fragments one message can be cut into: the fragment number is
/// one byte and starts at 1.
pub const MAX_FRAGMENTS: usize = 255;

/// The most data one fragment payload can carry (its 16-bit length field
/// counts its 8 fixed bytes too).
pub const MAX_FRAGMENT_DATA: usize = 65_535 - 8;

/// Why [`split`] could not cut a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// The bytes are not an ISAKMP message (the header does not check).
    #[error("not an ISAKMP message: {0}")]
    NotIsakmp(isakmp_wire::Error),
    /// The limit leaves no room for fragment data after the 28-byte
    /// ISAKMP header and the 8-byte fragment payload header.
    #[error("a fragment message limit of {limit} bytes leaves no room for data (at least {min})")]
    LimitTooSmall {
        /// The limit given.
        limit: usize,
        /// The smallest limit that works.
        min: usize,
    },
    /// The message needs more than [`MAX_FRAGMENTS`] fragments at this
    /// limit.
    #[error("a {len}-byte message needs {needed} fragments at this size (at most 255)")]
    TooManyFragments {
        /// The message's length.
        len: usize,
        /// Fragments it would take.
        needed: usize,
    },
    /// A fragment message could not be encoded (cannot happen for a
    /// message that passed the checks above; kept rather than a panic).
    #[error("fragment message could not be encoded: {0}")]
    Encode(isakmp_wire::Error),
}

/// Cuts an ISAKMP message into fragment messages of at most
/// `max_fragment_message_len` bytes each (ISAKMP header and fragment
/// payload included; the caller subtracts the IP and UDP headers and the
/// non-ESP marker from its path MTU, as strongSwan does).
///
/// `message` is the message exactly as it would be sent, header included
/// and body encrypted if it is (its header's length decides where it
/// ends). Each fragment message copies the original's header (cookies,
/// version, exchange type, message ID, flags) with the E flag cleared, as
/// libreswan does; it carries the fragment ID given, numbers from 1, and
/// the LAST flag on the final fragment. Every fragment but the last is
/// exactly `max_fragment_message_len` bytes. A message that fits in one
/// fragment still gives one fragment message: whether to fragment at all
/// is the caller's choice.
pub fn split(
    message: &[u8],
    max_fragment_message_len: usize,
    fragment_id: u16,
) -> Result<Vec<Vec<u8>>, SplitError> {
    let view = Message::new_checked(message).map_err(SplitError::NotIsakmp)?;
    let original = view.message_bytes();
    let per_fragment = max_fragment_message_len
        .checked_sub(FRAGMENT_OVERHEAD)
        .filter(|n| *n > 0)
        .ok_or(SplitError::LimitTooSmall {
            limit: max_fragment_message_len,
            min: FRAGMENT_OVERHEAD + 1,
        })?
        .min(MAX_FRAGMENT_DATA);
    let needed = original.len().div_ceil(per_fragment);
    if needed > MAX_FRAGMENTS {
        return Err(SplitError::TooManyFragments {
            len: original.len(),
            needed,
        });
    }
    let mut header = HeaderRepr::from_header(&view.header());
    header.flags.remove(Flags::ENCRYPTION);
    let mut out = Vec::with_capacity(needed);
    for (number, chunk) in (1..=u8::MAX).zip(original.chunks(per_fragment)) {
        let last = usize::from(number) == needed;
        let fragment = FragmentMessage {
            header,
            fragment: FragmentRepr::new(fragment_id, number, last, chunk),
        };
        out.push(fragment.to_vec().map_err(SplitError::Encode)?);
    }
    Ok(out)
}

/// The bounds of a [`Reassembler`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentLimits {
    /// Fragments per message: a fragment numbered above it is refused
    /// (libreswan accepts 16).
    pub max_fragments: u8,
    /// Bytes of one reassembled message (the sum of its fragments' data).
    pub max_message_len: usize,
    /// Messages being reassembled at once from one peer (one address and
    /// port).
    pub max_messages_per_peer: usize,
    /// Messages being reassembled at once in total.
    pub max_messages: usize,
    /// Fragment data held at once in total, all messages together.
    pub max_bytes: usize,
    /// How long a message may take to complete, from its first fragment.
    pub timeout: Duration,
}

impl Default for FragmentLimits {
    /// 16 fragments and 64 KiB per message, 4 messages per peer, 64 in
    /// total, 1 MiB held, 30 s to complete.
    fn default() -> Self {
        Self {
            max_fragments: 16,
            max_message_len: 64 * 1024,
            max_messages_per_peer: 4,
            max_messages: 64,
            max_bytes: 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why [`Reassembler::insert`] did not take a fragment. Each says whether
/// the message it belonged to is kept (the fragment alone is refused) or
/// dropped whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FragmentDrop {
    /// Fragmentation is off ([`FragmentationConfig::enabled`](crate::FragmentationConfig::enabled)):
    /// no fragment is taken.
    #[error("IKE fragmentation is off")]
    Disabled,
    /// Not a fragment message (see [`FragmentMessage::parse`]).
    #[error("not a fragment message: {0}")]
    Malformed(isakmp_wire::Error),
    /// Fragment number 0 (numbers start at 1).
    #[error("fragment number 0")]
    ZeroNumber,
    /// A number above [`FragmentLimits::max_fragments`].
    #[error("fragment number {number} above the limit of {max}")]
    TooManyFragments {
        /// The fragment's number.
        number: u8,
        /// The limit.
        max: u8,
    },
    /// A number above the last fragment's; the message is kept.
    #[error("fragment number {number} after the last fragment {last}")]
    BeyondLast {
        /// The fragment's number.
        number: u8,
        /// The last fragment's number.
        last: u8,
    },
    /// The same fragment again (same data, same LAST flag): ignored, the
    /// message is kept.
    #[error("duplicate fragment {number}")]
    Duplicate {
        /// The fragment's number.
        number: u8,
    },
    /// A fragment whose number is held with other data or another LAST
    /// flag: the message is dropped whole (a retransmission can rebuild
    /// it).
    #[error("fragment {number} conflicts with the one held; message dropped")]
    ConflictingData {
        /// The fragment's number.
        number: u8,
    },
    /// A LAST flag that contradicts the fragments held (a second last
    /// fragment with another number, or a last fragment below a number
    /// already held): the message is dropped whole.
    #[error("last fragment {number} contradicts the fragments held; message dropped")]
    ConflictingLast {
        /// The fragment's number.
        number: u8,
    },
    /// The message would exceed [`FragmentLimits::max_message_len`]: it is
    /// dropped whole.
    #[error("reassembled message would exceed {max} bytes; message dropped")]
    MessageTooLarge {
        /// The limit.
        max: usize,
    },
    /// The peer already has [`FragmentLimits::max_messages_per_peer`]
    /// messages being reassembled: a new one is refused.
    #[error("too many messages being reassembled from this peer")]
    PeerLimit,
    /// [`FragmentLimits::max_messages`] messages are being reassembled: a
    /// new one is refused.
    #[error("too many messages being reassembled")]
    TableFull,
    /// Taking the fragment would hold more than
    /// [`FragmentLimits::max_bytes`]: the fragment is refused.
    #[error("fragment data held would exceed {max} bytes")]
    MemoryFull {
        /// The limit.
        max: usize,
    },
    /// The fragments are all there but do not make an ISAKMP message with
    /// the fragments' initiator cookie (or they make another fragment
    /// message): dropped.
    #[error("reassembled bytes are not a message of this SA: {what}")]
    BadReassembly {
        /// What is wrong.
        what: &'static str,
    },
}

/// What a [`Reassembler`] did, by outcome. Every fragment given to
/// [`Reassembler::insert`] counts once in `fragments` and at most once in
/// one of the drop counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragmentCounters {
    /// Datagrams given to `insert`.
    pub fragments: u64,
    /// Messages reassembled and returned.
    pub reassembled: u64,
    /// Datagrams that were not fragment messages.
    pub malformed: u64,
    /// Fragments numbered 0, above the limit or after the last one.
    pub bad_number: u64,
    /// Identical duplicates, ignored.
    pub duplicates: u64,
    /// Messages dropped whole for conflicting data or LAST flags.
    pub conflicts: u64,
    /// Messages dropped whole for exceeding the per-message byte limit.
    pub too_large: u64,
    /// Fragments refused by the per-peer, total-message or total-byte caps.
    pub refused: u64,
    /// Complete messages that were not a message of the fragments' SA.
    pub bad_reassembly: u64,
    /// Messages dropped by the timeout.
    pub expired: u64,
}

/// Which message a fragment belongs to: the sender's address, the
/// initiator cookie of the fragment message and the fragment ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    peer: SocketAddr,
    cookie: Cookie,
    id: u16,
}

/// A message being reassembled.
#[derive(Debug)]
struct Partial {
    deadline: Instant,
    /// (number, data), sorted by number, numbers distinct.
    fragments: Vec<(u8, Vec<u8>)>,
    /// The number of the fragment with the LAST flag, once held.
    last: Option<u8>,
    /// Sum of the data lengths.
    bytes: usize,
}

impl Partial {
    fn get(&self, number: u8) -> Option<&[u8]> {
        self.fragments
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .and_then(|i| self.fragments.get(i))
            .map(|(_, d)| d.as_slice())
    }

    fn highest(&self) -> u8 {
        self.fragments.last().map_or(0, |(n, _)| *n)
    }

    /// Whether a new fragment agrees with those held (the byte caps
    /// aside).
    fn fits(&self, f: &FragmentRepr<'_>) -> Result<(), FragmentDrop> {
        let number = f.number;
        if let Some(held) = self.get(number) {
            return if held == f.data && f.is_last() == (self.last == Some(number)) {
                Err(FragmentDrop::Duplicate { number })
            } else {
                Err(FragmentDrop::ConflictingData { number })
            };
        }
        match self.last {
            // The last fragment is held, so this one (another number)
            // cannot be last too.
            Some(_) if f.is_last() => Err(FragmentDrop::ConflictingLast { number }),
            Some(last) if number > last => Err(FragmentDrop::BeyondLast { number, last }),
            None if f.is_last() && self.highest() > number => {
                Err(FragmentDrop::ConflictingLast { number })
            }
            _ => Ok(()),
        }
    }

    fn is_complete(&self) -> bool {
        self.last
            .is_some_and(|l| self.fragments.len() == usize::from(l))
    }
}

/// Reassembles IKEv1 fragment messages, one table for every peer, within
/// [`FragmentLimits`].
///
/// Sans-IO: the caller passes the time with each call and drives the
/// timeout with [`Reassembler::poll_timeout`] and
/// [`Reassembler::expire`] (which [`Reassembler::insert`] also runs
/// first).
///
/// ```
/// use std::time::Instant;
/// use ike_sm::fragment::{split, Reassembler};
///
/// // A 100-byte ISAKMP message (header only matters here).
/// let mut message = vec![0u8; 100];
/// message[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
/// message[17] = 0x10; // version 1.0
/// message[18] = 2; // Main Mode
/// message[27] = 100; // length
/// let fragments = split(&message, 64, 1)?;
/// assert_eq!(fragments.len(), 4); // 28 data bytes per 64-byte fragment
///
/// let now = Instant::now();
/// let peer = "192.0.2.1:500".parse()?;
/// let mut r = Reassembler::default();
/// let mut whole = None;
/// for f in fragments.iter().rev() {
///     whole = r.insert(now, peer, f)?;
/// }
/// assert_eq!(whole, Some(message));
/// assert_eq!(r.held_messages(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reassembler {
    limits: FragmentLimits,
    messages: BTreeMap<Key, Partial>,
    /// (deadline, key) of every message held, earliest first.
    deadlines: BTreeSet<(Instant, Key)>,
    /// Messages held per peer (entries only for peers with at least one).
    per_peer: BTreeMap<SocketAddr, usize>,
    bytes: usize,
    fragments: usize,
    counters: FragmentCounters,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(FragmentLimits::default())
    }
}

impl Reassembler {
    /// An empty reassembler with these bounds.
    #[must_use]
    pub fn new(limits: FragmentLimits) -> Self {
        Self {
            limits,
            messages: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            per_peer: BTreeMap::new(),
            bytes: 0,
            fragments: 0,
            counters: FragmentCounters::default(),
        }
    }

    /// The bounds.
    #[must_use]
    pub fn limits(&self) -> &FragmentLimits {
        &self.limits
    }

    /// The counters.
    #[must_use]
    pub fn counters(&self) -> FragmentCounters {
        self.counters
    }

    /// Messages being reassembled.
    #[must_use]
    pub fn held_messages(&self) -> usize {
        self.messages.len()
    }

    /// Fragments held, all messages together.
    #[must_use]
    pub fn held_fragments(&self) -> usize {
        self.fragments
    }

    /// Fragment data bytes held, all messages together.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// Messages being reassembled from one peer.
    #[must_use]
    pub fn held_messages_from(&self, peer: SocketAddr) -> usize {
        self.per_peer.get(&peer).copied().unwrap_or(0)
    }

    /// When the earliest message being reassembled times out, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// Drops the messages whose time is up (deadline at or before `now`);
    /// returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0usize;
        while let Some((deadline, key)) = self.deadlines.first().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.remove(&(deadline, key));
            self.remove(&key);
            n = n.saturating_add(1);
        }
        self.counters.expired = self
            .counters
            .expired
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        n
    }

    /// Takes one received datagram from `peer`: a fragment message
    /// ([`FragmentMessage::is_fragment`] tells them apart). Returns the
    /// reassembled original message once its last missing fragment
    /// arrives, `None` while fragments are missing, or why the fragment
    /// was not taken. Messages whose time is up are dropped first.
    ///
    /// The returned message is an ISAKMP message (its header checks) with
    /// the fragments' initiator cookie; it is not authenticated: it goes to
    /// the engine like any received datagram.
    pub fn insert(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
    ) -> Result<Option<Vec<u8>>, FragmentDrop> {
        self.counters.fragments = self.counters.fragments.saturating_add(1);
        self.expire(now);
        let result = self.take(now, peer, datagram);
        let c = &mut self.counters;
        let counter = match &result {
            Ok(None) => None,
            Ok(Some(_)) => Some(&mut c.reassembled),
            Err(FragmentDrop::Malformed(_) | FragmentDrop::Disabled) => Some(&mut c.malformed),
            Err(
                FragmentDrop::ZeroNumber
                | FragmentDrop::TooManyFragments { .. }
                | FragmentDrop::BeyondLast { .. },
            ) => Some(&mut c.bad_number),
            Err(FragmentDrop::Duplicate { .. }) => Some(&mut c.duplicates),
            Err(FragmentDrop::ConflictingData { .. } | FragmentDrop::ConflictingLast { .. }) => {
                Some(&mut c.conflicts)
            }
            Err(FragmentDrop::MessageTooLarge { .. }) => Some(&mut c.too_large),
            Err(
                FragmentDrop::PeerLimit | FragmentDrop::TableFull | FragmentDrop::MemoryFull { .. },
            ) => Some(&mut c.refused),
            Err(FragmentDrop::BadReassembly { .. }) => Some(&mut c.bad_reassembly),
        };
        if let Some(counter) = counter {
            *counter = counter.saturating_add(1);
        }
        result
    }

    fn take(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
    ) -> Result<Option<Vec<u8>>, FragmentDrop> {
        let message = FragmentMessage::parse(datagram).map_err(FragmentDrop::Malformed)?;
        let f = message.fragment;
        let number = f.number;
        if number == 0 {
            return Err(FragmentDrop::ZeroNumber);
        }
        if number > self.limits.max_fragments {
            return Err(FragmentDrop::TooManyFragments {
                number,
                max: self.limits.max_fragments,
            });
        }
        let key = Key {
            peer,
            cookie: message.header.initiator_cookie,
            id: f.id,
        };
        if self.messages.contains_key(&key) {
            self.add(key, &f)
        } else {
            self.start(now, key, &f)
        }
    }

    /// A fragment of a message not held yet.
    fn start(
        &mut self,
        now: Instant,
        key: Key,
        f: &FragmentRepr<'_>,
    ) -> Result<Option<Vec<u8>>, FragmentDrop> {
        let len = f.data.len();
        if len > self.limits.max_message_len {
            return Err(FragmentDrop::MessageTooLarge {
                max: self.limits.max_message_len,
            });
        }
        if f.number == 1 && f.is_last() {
            // A message in one fragment: nothing to hold.
            return check_reassembled(key.cookie, f.data.to_vec()).map(Some);
        }
        if self.held_messages_from(key.peer) >= self.limits.max_messages_per_peer {
            return Err(FragmentDrop::PeerLimit);
        }
        if self.messages.len() >= self.limits.max_messages {
            return Err(FragmentDrop::TableFull);
        }
        if self.bytes.saturating_add(len) > self.limits.max_bytes {
            return Err(FragmentDrop::MemoryFull {
                max: self.limits.max_bytes,
            });
        }
        // A timeout so long that the deadline does not fit the clock:
        // refuse rather than hold an entry that would never expire.
        let Some(deadline) = now.checked_add(self.limits.timeout) else {
            return Err(FragmentDrop::TableFull);
        };
        let fragments = vec![(f.number, f.data.to_vec())];
        self.messages.insert(
            key,
            Partial {
                deadline,
                fragments,
                last: f.is_last().then_some(f.number),
                bytes: len,
            },
        );
        self.deadlines.insert((deadline, key));
        let count = self.per_peer.entry(key.peer).or_insert(0);
        *count = count.saturating_add(1);
        self.bytes = self.bytes.saturating_add(len);
        self.fragments = self.fragments.saturating_add(1);
        Ok(None)
    }

    /// A fragment of a message held.
    fn add(&mut self, key: Key, f: &FragmentRepr<'_>) -> Result<Option<Vec<u8>>, FragmentDrop> {
        let len = f.data.len();
        let max_message_len = self.limits.max_message_len;
        let Some(p) = self.messages.get(&key) else {
            return Ok(None);
        };
        let held = p.bytes;
        if let Err(drop) = p.fits(f) {
            if matches!(
                drop,
                FragmentDrop::ConflictingData { .. } | FragmentDrop::ConflictingLast { .. }
            ) {
                self.remove(&key);
            }
            return Err(drop);
        }
        if held.saturating_add(len) > max_message_len {
            self.remove(&key);
            return Err(FragmentDrop::MessageTooLarge {
                max: max_message_len,
            });
        }
        if self.bytes.saturating_add(len) > self.limits.max_bytes {
            return Err(FragmentDrop::MemoryFull {
                max: self.limits.max_bytes,
            });
        }
        let Some(p) = self.messages.get_mut(&key) else {
            return Ok(None);
        };
        let at = p.fragments.partition_point(|(n, _)| *n < f.number);
        p.fragments.reserve_exact(1);
        p.fragments.insert(at, (f.number, f.data.to_vec()));
        p.bytes = p.bytes.saturating_add(len);
        if f.is_last() {
            p.last = Some(f.number);
        }
        let complete = p.is_complete();
        self.bytes = self.bytes.saturating_add(len);
        self.fragments = self.fragments.saturating_add(1);
        if !complete {
            return Ok(None);
        }
        let Some(p) = self.remove(&key) else {
            return Ok(None);
        };
        let mut whole = Vec::with_capacity(p.bytes);
        for (_, data) in &p.fragments {
            whole.extend_from_slice(data);
        }
        check_reassembled(key.cookie, whole).map(Some)
    }

    /// Forgets a message, returning it.
    fn remove(&mut self, key: &Key) -> Option<Partial> {
        let p = self.messages.remove(key)?;
        self.deadlines.remove(&(p.deadline, *key));
        if let Some(count) = self.per_peer.get_mut(&key.peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_peer.remove(&key.peer);
            }
        }
        self.bytes = self.bytes.saturating_sub(p.bytes);
        self.fragments = self.fragments.saturating_sub(p.fragments.len());
        Some(p)
    }

    /// Checks every bound and the bookkeeping against the tables; panics
    /// when one does not hold (tests and fuzzing only).
    #[cfg(any(test, feature = "fuzzing"))]
    #[allow(clippy::panic)]
    fn check_invariants(&self) {
        let l = &self.limits;
        assert!(self.messages.len() <= l.max_messages, "message cap");
        assert_eq!(self.deadlines.len(), self.messages.len(), "deadline index");
        assert!(self.bytes <= l.max_bytes, "byte cap");
        let mut bytes = 0usize;
        let mut fragments = 0usize;
        let mut per_peer: BTreeMap<SocketAddr, usize> = BTreeMap::new();
        for (key, p) in &self.messages {
            assert!(
                self.deadlines.contains(&(p.deadline, *key)),
                "deadline index"
            );
            assert!(p.bytes <= l.max_message_len, "message length cap");
            assert!(
                p.fragments.len() <= usize::from(l.max_fragments),
                "fragment cap"
            );
            assert!(!p.fragments.is_empty(), "empty entry");
            assert!(!p.is_complete(), "complete message left in the table");
            assert!(
                p.fragments.windows(2).all(|w| match w {
                    [(a, _), (b, _)] => a < b,
                    _ => true,
                }),
                "fragment order"
            );
            assert!(
                p.fragments
                    .iter()
                    .all(|(n, _)| *n >= 1 && p.last.is_none_or(|last| *n <= last)),
                "fragment numbers"
            );
            assert_eq!(
                p.bytes,
                p.fragments.iter().map(|(_, d)| d.len()).sum::<usize>(),
                "message byte count"
            );
            bytes = bytes.saturating_add(p.bytes);
            fragments = fragments.saturating_add(p.fragments.len());
            *per_peer.entry(key.peer).or_insert(0) += 1;
        }
        assert_eq!(bytes, self.bytes, "byte count");
        assert_eq!(fragments, self.fragments, "fragment count");
        assert_eq!(per_peer, self.per_peer, "per-peer counts");
        assert!(
            per_peer.values().all(|n| *n <= l.max_messages_per_peer),
            "per-peer cap"
        );
    }
}

/// The reassembled bytes must be an ISAKMP message (a header that checks)
/// of the fragments' SA, and not itself a fragment message.
fn check_reassembled(cookie: Cookie, whole: Vec<u8>) -> Result<Vec<u8>, FragmentDrop> {
    let message = Message::new_checked(&whole[..]).map_err(|_| FragmentDrop::BadReassembly {
        what: "not an ISAKMP message",
    })?;
    let header = message.header();
    if header.initiator_cookie() != cookie {
        return Err(FragmentDrop::BadReassembly {
            what: "initiator cookie differs from the fragments'",
        });
    }
    if header.next_payload() == PayloadType::FRAGMENT {
        return Err(FragmentDrop::BadReassembly {
            what: "a fragment message inside fragments",
        });
    }
    Ok(whole)
}

/// Limits small enough for a fuzzer to reach every cap.
#[cfg(feature = "fuzzing")]
fn fuzz_limits() -> FragmentLimits {
    FragmentLimits {
        max_fragments: 8,
        max_message_len: 1024,
        max_messages_per_peer: 2,
        max_messages: 6,
        max_bytes: 2048,
        timeout: Duration::from_secs(30),
    }
}

/// An ISAKMP message of `len` bytes (at least 28) with this initiator
/// cookie, its body filled with a pattern.
#[cfg(any(test, feature = "fuzzing"))]
fn test_message(cookie: Cookie, len: usize, seed: u8) -> Vec<u8> {
    let mut m: Vec<u8> = (0..len)
        .map(|i| seed.wrapping_add(u8::try_from(i % 251).unwrap_or(0)))
        .collect();
    if let Some(h) = m.get_mut(..28) {
        h.fill(0);
        if let Some(c) = h.get_mut(..8) {
            c.copy_from_slice(&cookie);
        }
        if let Some(v) = h.get_mut(16..20) {
            v.copy_from_slice(&[8, 0x10, 2, 0]);
        }
        if let Some(l) = h.get_mut(24..28) {
            l.copy_from_slice(&u32::try_from(len).unwrap_or(0).to_be_bytes());
        }
    }
    m
}

/// The fuzz entry point of `fuzz/fuzz_targets/ike_fragments.rs` and of the
/// corpus replay (`tests/tests/fuzz_corpus_fragments.rs`): feeds a
/// [`Reassembler`] with small limits a sequence of operations read from
/// the bytes, checks every bound and the bookkeeping after each, and
/// returns the counters. Panics only when an invariant breaks.
///
/// Records, each starting with an operation byte `op` (`op % 4`):
/// - 0: `[step]`: the clock advances `step` × 250 ms and expired messages
///   go;
/// - 1: `[peer][len u16][bytes]`: a raw datagram from peer `peer % 4`;
/// - 2: `[peer][cookie][id u16][number][flags][len][bytes]`: a fragment
///   message built from those fields (cookie: eight bytes `cookie`);
/// - 3: `[peer][cookie][size u16][limit][order][id u16]`: a message of
///   `28 + size % 1024` bytes is split at `37 + limit` bytes and its
///   fragments (the first ten at most: the rest are above the fragment
///   limit) delivered in an order chosen by `order` (rotated, reversed if
///   bit 0, the first one twice if bit 1). Whatever completes must be
///   that message; when nothing else stood in its way (no message held
///   under the same key, room under every cap) it must complete.
///
/// The limits are small (8 fragments and 1 KiB per message, 2 messages
/// per peer, 6 in total, 2 KiB held, 30 s) so that short inputs reach
/// every cap.
///
/// Every message returned must check as an ISAKMP message with the
/// fragments' cookie and fit the per-message limit.
#[cfg(feature = "fuzzing")]
#[allow(clippy::panic)]
pub fn fuzz_reassembler(base: Instant, data: &[u8]) -> FragmentCounters {
    struct Cursor<'a>(&'a [u8]);
    impl<'a> Cursor<'a> {
        fn u8(&mut self) -> Option<u8> {
            let (b, rest) = self.0.split_first()?;
            self.0 = rest;
            Some(*b)
        }
        fn u16(&mut self) -> Option<u16> {
            Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
        }
        fn take(&mut self, n: usize) -> &'a [u8] {
            let n = n.min(self.0.len());
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            a
        }
    }
    let peer_of = |b: u8| {
        let (ip, port) = match b % 4 {
            0 => ([192, 0, 2, 1], 500),
            1 => ([192, 0, 2, 1], 4500),
            2 => ([198, 51, 100, 7], 500),
            _ => ([203, 0, 113, 9], 40001),
        };
        SocketAddr::from((ip, port))
    };
    let mut r = Reassembler::new(fuzz_limits());
    let limits = r.limits().clone();
    let mut now = base;
    let mut c = Cursor(data);
    let check_out = |out: &Result<Option<Vec<u8>>, FragmentDrop>, cookie: Option<Cookie>| {
        if let Ok(Some(m)) = out {
            assert!(m.len() <= limits.max_message_len, "message over the limit");
            let header = match Message::new_checked(&m[..]) {
                Ok(v) => v.header(),
                Err(e) => panic!("reassembled message does not check: {e}"),
            };
            if let Some(cookie) = cookie {
                assert_eq!(header.initiator_cookie(), cookie, "cookie");
            }
        }
    };
    while let Some(op) = c.u8() {
        match op % 4 {
            0 => {
                let step = c.u8().unwrap_or(0);
                now = now
                    .checked_add(Duration::from_millis(u64::from(step) * 250))
                    .unwrap_or(now);
                r.expire(now);
            }
            1 => {
                let peer = peer_of(c.u8().unwrap_or(0));
                let len = usize::from(c.u16().unwrap_or(0));
                let bytes = c.take(len);
                let out = r.insert(now, peer, bytes);
                let cookie = bytes.get(..8).and_then(|b| Cookie::try_from(b).ok());
                check_out(&out, cookie);
            }
            2 => {
                let peer = peer_of(c.u8().unwrap_or(0));
                let cookie = [c.u8().unwrap_or(0); 8];
                let id = c.u16().unwrap_or(0);
                let number = c.u8().unwrap_or(0);
                let flags = c.u8().unwrap_or(0);
                let len = usize::from(c.u8().unwrap_or(0));
                let data = c.take(len);
                let message = FragmentMessage {
                    header: HeaderRepr {
                        initiator_cookie: cookie,
                        exchange_type: isakmp_wire::ExchangeType::IDENTITY_PROTECTION,
                        ..HeaderRepr::default()
                    },
                    fragment: FragmentRepr {
                        id,
                        number,
                        flags: isakmp_wire::FragmentFlags::from_bits_retain(flags),
                        data,
                    },
                };
                if let Ok(bytes) = message.to_vec() {
                    let out = r.insert(now, peer, &bytes);
                    check_out(&out, Some(cookie));
                }
            }
            _ => {
                let peer = peer_of(c.u8().unwrap_or(0));
                let cookie = [c.u8().unwrap_or(0); 8];
                let size = 28 + usize::from(c.u16().unwrap_or(0)) % 1024;
                let limit = 37 + usize::from(c.u8().unwrap_or(0));
                let order = c.u8().unwrap_or(0);
                let id = c.u16().unwrap_or(0);
                let original = test_message(cookie, size, order);
                let Ok(mut fragments) = split(&original, limit, id) else {
                    r.check_invariants();
                    continue;
                };
                let key = Key { peer, cookie, id };
                let must_complete = !r.messages.contains_key(&key)
                    && fragments.len() <= usize::from(limits.max_fragments)
                    && size <= limits.max_message_len
                    && (fragments.len() == 1
                        || (r.held_messages_from(peer) < limits.max_messages_per_peer
                            && r.held_messages() < limits.max_messages
                            && r.held_bytes() + size <= limits.max_bytes));
                fragments.truncate(usize::from(limits.max_fragments) + 2);
                let n = fragments.len();
                fragments.rotate_left(usize::from(order >> 2) % n.max(1));
                if order & 1 != 0 {
                    fragments.reverse();
                }
                if order & 2 != 0
                    && let Some(first) = fragments.first().cloned()
                {
                    fragments.insert(1.min(n), first);
                }
                let mut completed = false;
                for f in &fragments {
                    let out = r.insert(now, peer, f);
                    check_out(&out, Some(cookie));
                    if let Ok(Some(m)) = out {
                        assert_eq!(m, original, "reassembled other than the original");
                        completed = true;
                    }
                }
                if must_complete {
                    assert!(completed, "a message with room did not complete");
                }
            }
        }
        r.check_invariants();
        if let Some(t) = r.poll_timeout() {
            assert!(t > now, "an expired message is still held");
        }
    }
    r.counters()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: Cookie = [0xc0, 0x0c, 0x1e, 0, 1, 2, 3, 4];

    fn peer(i: u32) -> SocketAddr {
        SocketAddr::from((std::net::Ipv4Addr::from(0x0a00_0000 + i), 500))
    }

    /// A small deterministic generator (xorshift64*), seeded.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
        }
        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                let j = self.below(i + 1);
                v.swap(i, j);
            }
        }
    }

    fn frag(cookie: Cookie, id: u16, number: u8, last: bool, data: &[u8]) -> Vec<u8> {
        FragmentMessage {
            header: HeaderRepr {
                initiator_cookie: cookie,
                exchange_type: isakmp_wire::ExchangeType::IDENTITY_PROTECTION,
                ..HeaderRepr::default()
            },
            fragment: FragmentRepr::new(id, number, last, data),
        }
        .to_vec()
        .unwrap()
    }

    #[test]
    fn split_layout() {
        // A 100-byte encrypted Quick Mode message with a message ID.
        let mut m = test_message(COOKIE, 100, 7);
        m[18] = 32;
        m[19] = 0x03; // E and C
        m[20..24].copy_from_slice(&0xdead_beefu32.to_be_bytes());
        m.extend_from_slice(&[0xee; 5]); // beyond the header's length
        let fragments = split(&m, 64, 0x0102).unwrap();
        assert_eq!(fragments.len(), 4, "28 data bytes per 64-byte fragment");
        let mut joined = Vec::new();
        for (i, f) in fragments.iter().enumerate() {
            let last = i == 3;
            assert_eq!(f.len(), if last { 36 + 16 } else { 64 });
            // The original's header, next payload 132, E cleared, C kept.
            assert_eq!(&f[..16], &m[..16]);
            assert_eq!(&f[16..20], &[132, 0x10, 32, 0x02]);
            assert_eq!(&f[20..24], &0xdead_beefu32.to_be_bytes());
            assert_eq!(&f[24..28], &u32::try_from(f.len()).unwrap().to_be_bytes());
            // Generic header: next 0, reserved 0, length; then ID, number, flags.
            let plen = u16::try_from(f.len() - 28).unwrap().to_be_bytes();
            assert_eq!(&f[28..32], &[0, 0, plen[0], plen[1]]);
            let number = u8::try_from(i + 1).unwrap();
            assert_eq!(&f[32..36], &[1, 2, number, u8::from(last)]);
            joined.extend_from_slice(&f[36..]);
        }
        assert_eq!(joined, &m[..100]);
        // One fragment when it fits.
        let one = split(&m, 200, 1).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].len(), 136);
        assert_eq!(one[0][35], 1);
    }

    #[test]
    fn split_errors() {
        let m = test_message(COOKIE, 255, 0);
        assert!(matches!(
            split(&m[..27], 100, 1),
            Err(SplitError::NotIsakmp(_))
        ));
        assert_eq!(
            split(&m, 36, 1),
            Err(SplitError::LimitTooSmall { limit: 36, min: 37 })
        );
        assert_eq!(
            split(&m, 0, 1),
            Err(SplitError::LimitTooSmall { limit: 0, min: 37 })
        );
        // One data byte per fragment: 255 bytes make 255 fragments...
        let max = split(&m, 37, 1).unwrap();
        assert_eq!(max.len(), 255);
        assert_eq!(max[254][34..36], [255, 1]);
        // ... 256 bytes are one too many.
        let m = test_message(COOKIE, 256, 0);
        assert_eq!(
            split(&m, 37, 1),
            Err(SplitError::TooManyFragments {
                len: 256,
                needed: 256
            })
        );
        // A huge limit is capped by the fragment payload's length field.
        let m = test_message(COOKIE, 70_000, 0);
        let f = split(&m, usize::MAX, 1).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].len(), 36 + MAX_FRAGMENT_DATA);
    }

    fn reassemble_shuffled(r: &mut Reassembler, rng: &mut Rng, m: &[u8], limit: usize) {
        let mut fragments = split(m, limit, 1).unwrap();
        rng.shuffle(&mut fragments);
        let now = Instant::now();
        let (last, rest) = fragments.split_last().unwrap();
        for f in rest {
            assert_eq!(r.insert(now, peer(1), f), Ok(None));
        }
        assert_eq!(
            r.insert(now, peer(1), last).unwrap().as_deref(),
            Some(m),
            "size {} limit {limit}",
            m.len()
        );
        assert_eq!(r.held_messages(), 0);
        assert_eq!(r.held_bytes(), 0);
        r.check_invariants();
    }

    // Property: split then reassemble in any order gives the original, for
    // every message size from the smallest ISAKMP message to the
    // per-message limit and fragment counts from 1 to the fragment limit.
    #[test]
    fn split_then_reassemble_in_any_order() {
        let mut rng = Rng(0x5eed_f4a9_0000_0001);
        let limits = FragmentLimits::default();
        let mut r = Reassembler::new(limits.clone());
        let max_fragments = usize::from(limits.max_fragments);
        // Every size up to 1500 bytes, with a random fragment size that
        // needs at most the fragment limit.
        for size in 28..=1500 {
            let m = test_message(COOKIE, size, u8::try_from(size % 256).unwrap());
            let min_data = size.div_ceil(max_fragments);
            let data = min_data + rng.below(size - min_data + 1);
            reassemble_shuffled(&mut r, &mut rng, &m, data + 36);
        }
        // Larger sizes up to the limit, sampled, and the limit itself.
        let mut sizes: Vec<usize> = (0..200)
            .map(|_| 1500 + rng.below(limits.max_message_len - 1500))
            .collect();
        sizes.push(limits.max_message_len);
        for size in sizes {
            let m = test_message(COOKIE, size, 3);
            let min_data = size.div_ceil(max_fragments);
            let data = min_data + rng.below(4 * min_data);
            reassemble_shuffled(&mut r, &mut rng, &m, data + 36);
        }
        // Exactly 1..=16 fragments.
        for count in 1..=max_fragments {
            let m = test_message(COOKIE, 28 * count, 9);
            let fragments = split(&m, 28 + 36, 1).unwrap();
            assert_eq!(fragments.len(), count);
            reassemble_shuffled(&mut r, &mut rng, &m, 28 + 36);
        }
        // All 255 fragments with a reassembler that allows them.
        let mut wide = Reassembler::new(FragmentLimits {
            max_fragments: 255,
            ..FragmentLimits::default()
        });
        for _ in 0..4 {
            let m = test_message(COOKIE, 255, 1);
            reassemble_shuffled(&mut wide, &mut rng, &m, 37);
        }
        assert_eq!(r.counters().malformed + r.counters().refused, 0);
    }

    // Property: several messages from several peers, interleaved and with
    // identical duplicates, all come out whole and nothing else does (a
    // duplicate arriving after its message completed starts a stale entry,
    // which the timeout removes).
    #[test]
    fn interleaved_messages_with_duplicates() {
        let mut rng = Rng(42);
        let mut r = Reassembler::default();
        let t0 = Instant::now();
        let mut now = t0;
        for round in 0..50u16 {
            now += Duration::from_secs(31);
            let mut wire = Vec::new();
            let mut originals = std::collections::BTreeSet::new();
            for p in 0..4u32 {
                let cookie = [u8::try_from(p).unwrap(); 8];
                let m = test_message(cookie, 400 + rng.below(800), 5);
                // At most 16 fragments, at least 2.
                for f in split(&m, 36 + 75 + rng.below(200), round).unwrap() {
                    if rng.below(4) == 0 {
                        wire.push((peer(p), f.clone()));
                    }
                    wire.push((peer(p), f));
                }
                originals.insert(m);
            }
            rng.shuffle(&mut wire);
            let mut out = std::collections::BTreeSet::new();
            for (from, f) in &wire {
                match r.insert(now, *from, f) {
                    Ok(Some(m)) => {
                        out.insert(m);
                    }
                    Ok(None) | Err(FragmentDrop::Duplicate { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
                r.check_invariants();
            }
            assert_eq!(out, originals);
        }
        r.expire(now + Duration::from_secs(30));
        assert_eq!(r.held_messages(), 0);
        assert!(r.counters().duplicates > 0);
        assert!(r.counters().reassembled >= 200);
    }

    #[test]
    fn drops_are_typed_and_counted() {
        let now = Instant::now();
        let m = test_message(COOKIE, 60, 0);
        let parts: Vec<&[u8]> = m.chunks(20).collect(); // 3 parts
        let f = |n: u8, last: bool, d: &[u8]| frag(COOKIE, 1, n, last, d);
        let mut r = Reassembler::default();
        let p = peer(1);

        assert!(matches!(
            r.insert(now, p, &m),
            Err(FragmentDrop::Malformed(_))
        ));
        assert_eq!(
            r.insert(now, p, &f(0, false, parts[0])),
            Err(FragmentDrop::ZeroNumber)
        );
        assert_eq!(
            r.insert(now, p, &f(17, false, parts[0])),
            Err(FragmentDrop::TooManyFragments {
                number: 17,
                max: 16
            })
        );
        assert_eq!(r.held_messages(), 0);

        // Fragment 3 (last) first, then an identical duplicate.
        assert_eq!(r.insert(now, p, &f(3, true, parts[2])), Ok(None));
        assert_eq!(
            r.insert(now, p, &f(3, true, parts[2])),
            Err(FragmentDrop::Duplicate { number: 3 })
        );
        // Beyond the last: refused, message kept.
        assert_eq!(
            r.insert(now, p, &f(4, false, b"x")),
            Err(FragmentDrop::BeyondLast { number: 4, last: 3 })
        );
        assert_eq!(r.held_messages(), 1);
        // A second last with another number: the message is dropped.
        assert_eq!(
            r.insert(now, p, &f(2, true, parts[1])),
            Err(FragmentDrop::ConflictingLast { number: 2 })
        );
        assert_eq!(r.held_messages(), 0);
        assert_eq!(r.held_bytes(), 0);

        // Different data for a number held: dropped whole.
        assert_eq!(r.insert(now, p, &f(1, false, parts[0])), Ok(None));
        assert_eq!(
            r.insert(now, p, &f(1, false, b"other")),
            Err(FragmentDrop::ConflictingData { number: 1 })
        );
        assert_eq!(r.held_messages(), 0);
        // The same number and data but now with LAST: a conflict too.
        assert_eq!(r.insert(now, p, &f(1, false, parts[0])), Ok(None));
        assert_eq!(
            r.insert(now, p, &f(1, true, parts[0])),
            Err(FragmentDrop::ConflictingData { number: 1 })
        );
        // A last fragment below one held.
        assert_eq!(r.insert(now, p, &f(3, false, parts[2])), Ok(None));
        assert_eq!(
            r.insert(now, p, &f(2, true, parts[1])),
            Err(FragmentDrop::ConflictingLast { number: 2 })
        );
        assert_eq!(r.held_messages(), 0);

        // A retransmission after the drops completes the message.
        for n in [2u8, 1] {
            assert_eq!(
                r.insert(now, p, &f(n, false, parts[usize::from(n) - 1])),
                Ok(None)
            );
        }
        assert_eq!(r.insert(now, p, &f(3, true, parts[2])), Ok(Some(m.clone())));

        // Reassembled bytes that are not a message of this cookie.
        assert_eq!(r.insert(now, p, &f(1, false, &[0u8; 20])), Ok(None));
        assert_eq!(
            r.insert(now, p, &f(2, true, &[0u8; 20])),
            Err(FragmentDrop::BadReassembly {
                what: "not an ISAKMP message"
            })
        );
        let other = test_message([9; 8], 40, 0);
        assert_eq!(
            r.insert(now, p, &f(1, true, &other)),
            Err(FragmentDrop::BadReassembly {
                what: "initiator cookie differs from the fragments'"
            })
        );
        let nested = frag(COOKIE, 1, 1, true, b"x");
        assert_eq!(
            r.insert(now, p, &f(1, true, &nested)),
            Err(FragmentDrop::BadReassembly {
                what: "a fragment message inside fragments"
            })
        );
        // A one-fragment message needs no table space.
        assert_eq!(r.insert(now, p, &f(1, true, &m)), Ok(Some(m.clone())));
        assert_eq!(r.held_messages(), 0);

        let c = r.counters();
        assert_eq!(c.fragments, 21);
        assert_eq!(c.malformed, 1);
        assert_eq!(c.bad_number, 3);
        assert_eq!(c.duplicates, 1);
        assert_eq!(c.conflicts, 4);
        assert_eq!(c.reassembled, 2);
        assert_eq!(c.bad_reassembly, 3);
        r.check_invariants();
    }

    #[test]
    fn size_and_table_caps() {
        let now = Instant::now();
        let limits = FragmentLimits {
            max_fragments: 4,
            max_message_len: 100,
            max_messages_per_peer: 2,
            max_messages: 3,
            max_bytes: 150,
            timeout: Duration::from_secs(30),
        };
        let mut r = Reassembler::new(limits);
        let big = [0u8; 60];
        // Over the per-message size: dropped whole.
        assert_eq!(
            r.insert(now, peer(1), &frag(COOKIE, 1, 1, false, &big)),
            Ok(None)
        );
        assert_eq!(
            r.insert(now, peer(1), &frag(COOKIE, 1, 2, false, &big)),
            Err(FragmentDrop::MessageTooLarge { max: 100 })
        );
        assert_eq!(r.held_messages(), 0);
        assert_eq!(
            r.insert(now, peer(1), &frag(COOKIE, 1, 2, false, &[0; 101])),
            Err(FragmentDrop::MessageTooLarge { max: 100 })
        );
        // Per peer: two messages, the third refused.
        for id in 1..=2 {
            assert_eq!(
                r.insert(now, peer(1), &frag(COOKIE, id, 1, false, &big)),
                Ok(None)
            );
        }
        assert_eq!(
            r.insert(now, peer(1), &frag(COOKIE, 3, 1, false, b"x")),
            Err(FragmentDrop::PeerLimit)
        );
        assert_eq!(r.held_messages_from(peer(1)), 2);
        // Total bytes: 120 held, 40 more would be 160 > 150.
        assert_eq!(
            r.insert(now, peer(2), &frag(COOKIE, 1, 1, false, &[0; 40])),
            Err(FragmentDrop::MemoryFull { max: 150 })
        );
        assert_eq!(
            r.insert(now, peer(1), &frag(COOKIE, 1, 2, false, &[0; 40])),
            Err(FragmentDrop::MemoryFull { max: 150 })
        );
        assert_eq!(
            r.insert(now, peer(2), &frag(COOKIE, 1, 1, false, &[0; 30])),
            Ok(None)
        );
        // Total messages: three held, a fourth refused.
        assert_eq!(
            r.insert(now, peer(3), &frag(COOKIE, 1, 1, false, b"")),
            Err(FragmentDrop::TableFull)
        );
        assert_eq!(r.counters().refused, 4);
        assert_eq!(r.counters().too_large, 2);
        assert_eq!(
            (r.held_messages(), r.held_bytes(), r.held_fragments()),
            (3, 150, 3)
        );
        r.check_invariants();
    }

    #[test]
    fn timeout_from_the_first_fragment() {
        let t0 = Instant::now();
        let mut r = Reassembler::default();
        let m = test_message(COOKIE, 90, 0);
        let parts = split(&m, 66, 1).unwrap(); // 30 data bytes each: 3 fragments
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.insert(t0, peer(1), &parts[0]), Ok(None));
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        // A later fragment does not extend the deadline.
        let t1 = t0 + Duration::from_secs(20);
        assert_eq!(r.insert(t1, peer(1), &parts[1]), Ok(None));
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        assert_eq!(r.expire(t0 + Duration::from_millis(29_999)), 0);
        assert_eq!(r.held_messages(), 1);
        // The last fragment after the deadline starts a new message.
        let t2 = t0 + Duration::from_secs(30);
        assert_eq!(r.insert(t2, peer(1), &parts[2]), Ok(None));
        assert_eq!(r.counters().expired, 1);
        assert_eq!(r.held_fragments(), 1);
        assert_eq!(r.poll_timeout(), Some(t2 + Duration::from_secs(30)));
        assert_eq!(r.expire(t2 + Duration::from_secs(30)), 1);
        assert_eq!(r.poll_timeout(), None);
        assert_eq!((r.held_messages(), r.held_bytes()), (0, 0));
        assert_eq!(r.counters().expired, 2);
    }

    // A million fragments from spoofed peers, with random cookies, IDs,
    // numbers and sizes, never hold more than the caps allow; a message
    // under way before the flood still completes, and once the flood's
    // entries time out a new message goes through again.
    #[test]
    fn flood_of_spoofed_fragments_stays_bounded() {
        let limits = FragmentLimits::default();
        let mut r = Reassembler::new(limits.clone());
        let mut rng = Rng(0xf100_d000_0000_0001);
        let t0 = Instant::now();
        let legit = test_message(COOKIE, 3000, 1);
        let legit_fragments = split(&legit, 1000, 1).unwrap();
        let legit_peer = SocketAddr::from(([192, 0, 2, 1], 500));
        assert_eq!(r.insert(t0, legit_peer, &legit_fragments[0]), Ok(None));

        let mut template = frag(COOKIE, 0, 1, false, &[0x5a; 1200]);
        let mut max_messages = 0;
        let mut max_bytes = 0;
        let mut max_fragments = 0;
        let mut accepted = 0u64;
        for i in 0..1_000_000u32 {
            let now = t0 + Duration::from_millis(u64::from(i / 100));
            let from = SocketAddr::from((
                std::net::Ipv4Addr::from(u32::try_from(rng.next() >> 32).unwrap()),
                u16::try_from(rng.below(65536)).unwrap(),
            ));
            let len = rng.below(1201);
            let total = 36 + len;
            template.truncate(total);
            template.resize(total, 0x5a);
            let cookie = rng.next().to_be_bytes();
            template[..8].copy_from_slice(&cookie);
            template[24..28].copy_from_slice(&u32::try_from(total).unwrap().to_be_bytes());
            template[30..32].copy_from_slice(&u16::try_from(total - 28).unwrap().to_be_bytes());
            let id = u16::try_from(rng.below(4)).unwrap();
            template[32..34].copy_from_slice(&id.to_be_bytes());
            template[34] = u8::try_from(rng.below(20)).unwrap();
            template[35] = u8::try_from(rng.below(2)).unwrap();
            if r.insert(now, from, &template).is_ok() {
                accepted += 1;
            }
            max_messages = max_messages.max(r.held_messages());
            max_bytes = max_bytes.max(r.held_bytes());
            max_fragments = max_fragments.max(r.held_fragments());
            if i % 50_000 == 0 {
                r.check_invariants();
            }
        }
        r.check_invariants();
        assert!(max_messages <= limits.max_messages);
        assert!(max_bytes <= limits.max_bytes);
        assert!(max_fragments <= limits.max_messages * usize::from(limits.max_fragments));
        assert_eq!(
            max_messages, limits.max_messages,
            "the flood reached the cap"
        );
        assert!(r.counters().refused > 700_000, "{:?}", r.counters());
        assert!(accepted > 0);
        assert_eq!(r.counters().fragments, 1_000_001);

        // The message under way since before the flood completes (its
        // deadline is t0 + 30 s; the flood ran 10 s of clock).
        let t1 = t0 + Duration::from_secs(10);
        let mut out = None;
        for f in &legit_fragments[1..] {
            out = r.insert(t1, legit_peer, f).unwrap();
        }
        assert_eq!(out, Some(legit.clone()));
        // One more spoofed message takes the freed slot; a new message is
        // then refused while the table is full, and goes through once the
        // flood's entries have timed out.
        let spoof = frag([7; 8], 9, 2, false, b"spoof");
        assert_eq!(r.insert(t1, peer(77), &spoof), Ok(None));
        assert_eq!(r.held_messages(), limits.max_messages);
        let fresh = split(&legit, 1000, 2).unwrap();
        assert_eq!(
            r.insert(t1, legit_peer, &fresh[0]),
            Err(FragmentDrop::TableFull)
        );
        let t2 = t1 + Duration::from_secs(31);
        let mut out = None;
        for f in &fresh {
            out = r.insert(t2, legit_peer, f).unwrap();
        }
        assert_eq!(out, Some(legit));
        assert_eq!(
            (r.held_messages(), r.held_bytes(), r.held_fragments()),
            (0, 0, 0)
        );
    }
}
