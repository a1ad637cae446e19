//! The Transaction exchange (type 6) of an established ISAKMP SA: XAUTH
//! and Mode-Config, both roles (see [`crate::remote_access`] for the flow
//! and the caller's part).
//!
//! ```text
//! HDR*, HASH, ATTR         HASH = prf(SKEYID_a, M-ID | ATTR)
//! ```
//!
//! A request and its answer (REQUEST/REPLY, SET/ACK) share a message ID
//! and its CBC chain (which starts, as Quick Mode's, at hash(last phase-1
//! block | M-ID)). The remote-access progress of an SA is one [`Ra`]
//! record in the SA, whose [`Step`] says what it waits for; each handler
//! moves it on. Our requests are retransmitted on the phase-1 schedule,
//! our answers are resent when the request they answer comes again
//! (rate limited), and each wait ends at a deadline.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use isakmp_wire::mode_cfg::{AttributesRepr, CfgAttributeType, CfgType, CfgValue, SplitNetwork};
use isakmp_wire::{Attribute, ExchangeType, Message, OpaquePayload, PayloadRepr, PayloadType};

use super::{IsakmpSa, Retx};
use crate::context::Context;
use crate::crypto::IvChain;
use crate::entropy::Purpose;
use crate::event::{CryptoDrop, DropReason, Event, RaDrop};
use crate::message::{Inbound, chain_bytes, decrypt};
use crate::remote_access::{
    MAX_LIST, MAX_TEXT, ModeCfgClientMode, ModeCfgRequest, ModeCfgServerMode, ModeConfig,
    XauthCredentials, XauthFailure, XauthRequest, XauthVerify,
};
use crate::types::{Identity, Role};

/// XAUTH_TYPE generic (user name and password).
const XAUTH_GENERIC: u32 = 0;
/// The most attributes one Attribute payload may carry.
const MAX_ATTRIBUTES: usize = 256;
/// The most XAUTH REQUESTs a client answers on one SA (a server asks
/// again after a wrong password; one that never stops is cut off).
const MAX_CLIENT_PROMPTS: u8 = 8;

/// Our last message of the current transaction.
struct Out {
    bytes: Vec<u8>,
    /// Armed for a request (it expects an answer); `None` for an answer,
    /// which is only resent when its request comes again.
    retx: Option<Retx>,
    sent_at: Option<Instant>,
}

/// What an SA's remote-access exchange waits for.
enum Step {
    // ----- server -----
    /// Our XAUTH REQUEST is out; waiting for the REPLY.
    XauthAsked { mid: u32, iv: IvChain, id: u16 },
    /// The REPLY came; waiting for the caller's verdict.
    XauthVerifying,
    /// Our SET(STATUS) is out; waiting for the ACK.
    StatusSent { mid: u32, iv: IvChain, ok: bool },
    /// XAUTH is done (or was not required); a client REQUEST may come.
    CfgIdle,
    /// The caller is asked for the client's configuration.
    CfgAsking {
        /// The REQUEST's message ID, chain and identifier (pull); `None`
        /// when we push.
        request: Option<(u32, IvChain, u16)>,
    },
    /// Our Mode-Config SET is out; waiting for the ACK.
    CfgSetSent { mid: u32, iv: IvChain },
    // ----- client -----
    /// Waiting for the server's XAUTH REQUEST.
    AwaitXauth,
    /// The caller is asked for credentials.
    Prompting {
        mid: u32,
        iv: IvChain,
        id: u16,
        xauth_type: Option<u32>,
    },
    /// Our REPLY is out; waiting for the server's SET(STATUS) or another
    /// REQUEST.
    Replied { mid: u32 },
    /// Our Mode-Config REQUEST is out; waiting for the REPLY.
    CfgRequested { mid: u32, iv: IvChain, id: u16 },
    /// Waiting for the server's Mode-Config SET.
    AwaitCfgSet,
    // ----- both -----
    /// Nothing more to do.
    Done,
}

/// The remote-access progress of one ISAKMP SA.
pub(crate) struct Ra {
    /// Responder: we are the server; initiator: the client.
    pub(crate) role: Role,
    step: Step,
    out: Option<Out>,
    /// The last message of the peer we acted on (to spot its duplicates).
    last_in: Option<Vec<u8>>,
    /// The message ID of the last transaction and its chain after its
    /// last message: libreswan 4 pushes its Mode-Config SET on the
    /// message ID of the XAUTH status exchange, continuing its chain.
    chain: Option<(u32, IvChain)>,
    /// When the current wait ends (`None`: no wait).
    pub(crate) deadline: Option<Instant>,
    /// XAUTH requests sent (server) or received (client).
    attempts: u8,
    /// Whether this SA requires XAUTH.
    pub(crate) xauth: bool,
    /// The user has authenticated (or XAUTH is not required).
    pub(crate) authenticated: bool,
    /// The XAUTH user name.
    pub(crate) user: Option<String>,
    /// The client's address: assigned (server) or received (client).
    pub(crate) address: Option<Ipv4Addr>,
    /// Client: the address to ask for again (a phase-1 rekey keeps it).
    pub(crate) wanted_address: Option<Ipv4Addr>,
}

/// What a remote-access step asks of the dispatcher.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Followup {
    /// Nothing more.
    Continue,
    /// The user authenticated (server: INITIAL-CONTACT may now purge the
    /// user's older SAs) and, on a client, the SA may now run Quick Mode.
    Ready,
    /// The SA must go (XAUTH failed or timed out): the dispatcher sends a
    /// Delete and removes it.
    Delete(XauthFailure),
}

impl Ra {
    fn new(role: Role, xauth: bool, now: Instant, cx: &Context) -> Self {
        Ra {
            role,
            step: Step::Done,
            out: None,
            last_in: None,
            chain: None,
            deadline: Some(now + cx.config.remote_access.timeout),
            attempts: 0,
            xauth,
            authenticated: !xauth,
            user: None,
            address: None,
            wanted_address: None,
        }
    }

    /// Whether Quick Mode may run on the SA: the user has authenticated
    /// and (client) Mode-Config is done.
    pub(crate) fn ready(&self) -> bool {
        match self.role {
            Role::Responder => self.authenticated,
            Role::Initiator => self.authenticated && matches!(self.step, Step::Done),
        }
    }

    /// When the SA's remote-access timers want to run.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let r = self.out.as_ref().and_then(|o| o.retx).map(|r| r.next);
        match (r, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The message ID of the transaction in progress and its chain, if
    /// one is (for the fuzzing hook that plays the peer).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn current(&self) -> Option<(u32, IvChain)> {
        self.current_with_id().map(|(m, iv, _)| (m, iv))
    }

    /// [`Ra::current`] with the identifier of the request in progress
    /// (0 where there is none).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn current_with_id(&self) -> Option<(u32, IvChain, u16)> {
        match &self.step {
            Step::XauthAsked { mid, iv, id }
            | Step::CfgRequested { mid, iv, id }
            | Step::Prompting { mid, iv, id, .. } => Some((*mid, iv.clone(), *id)),
            Step::StatusSent { mid, iv, .. } | Step::CfgSetSent { mid, iv } => {
                Some((*mid, iv.clone(), 0))
            }
            Step::CfgAsking {
                request: Some((mid, iv, id)),
            } => Some((*mid, iv.clone(), *id)),
            _ => self.chain.as_ref().map(|(m, iv)| (*m, iv.clone(), 0)),
        }
    }

    fn wait(&mut self, cx: &Context, now: Instant) {
        self.deadline = Some(now + cx.config.remote_access.timeout);
    }
}

/// Phase 1 is up on `sa` with an XAUTH authentication method: the
/// responder starts XAUTH as the server; the initiator waits for it.
pub(crate) fn start(cx: &mut Context, now: Instant, sa: &mut IsakmpSa) {
    let mut ra = Ra::new(sa.role, true, now, cx);
    if sa.role == Role::Initiator {
        ra.step = Step::AwaitXauth;
        ra.wanted_address = sa.ra_wanted_address;
        sa.ra = Some(ra);
        return;
    }
    sa.ra = Some(ra);
    send_xauth_request(cx, now, sa);
}

/// Server: sends an XAUTH REQUEST (generic: user name and password) on a
/// new message ID.
fn send_xauth_request(cx: &mut Context, now: Instant, sa: &mut IsakmpSa) {
    let id = identifier(cx);
    let attrs = AttributesRepr {
        cfg_type: CfgType::REQUEST,
        identifier: id,
        attributes: vec![
            Attribute::basic(CfgAttributeType::XAUTH_TYPE.0, 0),
            Attribute::variable(CfgAttributeType::XAUTH_USER_NAME.0, &[]),
            Attribute::variable(CfgAttributeType::XAUTH_USER_PASSWORD.0, &[]),
        ],
    };
    if let Some((mid, iv)) = send_new(cx, now, sa, &attrs)
        && let Some(ra) = sa.ra.as_mut()
    {
        ra.attempts = ra.attempts.saturating_add(1);
        ra.step = Step::XauthAsked { mid, iv, id };
        ra.wait(cx, now);
    }
}

/// A Transaction message on an established SA.
pub(crate) fn input(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    remote: SocketAddr,
    m: &Message<&[u8]>,
) -> Result<Followup, DropReason> {
    if !sa.is_established() {
        return Err(DropReason::RemoteAccess(RaDrop::NotEstablished));
    }
    if !m.is_encrypted() {
        return Err(DropReason::Crypto(CryptoDrop::NotEncrypted));
    }
    // A duplicate of the peer's last message: resend our answer.
    if let Some(ra) = sa.ra.as_mut()
        && ra.last_in.as_deref() == Some(m.message_bytes())
    {
        if let Some(out) = ra.out.as_mut()
            && cx.may_answer(&mut out.sent_at, now)
        {
            let bytes = out.bytes.clone();
            cx.transmit(sa.local, sa.remote, bytes);
        }
        return Ok(Followup::Continue);
    }
    let Some(est) = sa.established() else {
        return Err(DropReason::RemoteAccess(RaDrop::NotEstablished));
    };
    let mid = m.header().message_id();
    // The chain of the transaction in progress, or a new one.
    let mut iv = match sa.ra.as_ref().map(|r| &r.step) {
        Some(
            Step::XauthAsked { mid: m2, iv, .. }
            | Step::StatusSent { mid: m2, iv, .. }
            | Step::CfgSetSent { mid: m2, iv }
            | Step::CfgRequested { mid: m2, iv, .. },
        ) if *m2 == mid => iv.clone(),
        _ => match sa.ra.as_ref().and_then(|r| r.chain.as_ref()) {
            Some((m2, iv)) if *m2 == mid => iv.clone(),
            _ => est.iv.for_message_id(mid),
        },
    };
    let (plain, pending) = decrypt(m, &est.cipher, &iv)?;
    let h = m.header();
    let inb = Inbound::decrypted(
        isakmp_wire::HeaderRepr::from_header(&h),
        h.next_payload(),
        &plain,
    )?;
    let Some((hash, rest)) = inb.leading_hash() else {
        return Err(DropReason::missing("Transaction", PayloadType::HASH));
    };
    if !est.keys.informational_hash(mid, rest).verify(hash) {
        return Err(DropReason::Crypto(CryptoDrop::InvalidHash));
    }
    let Some(attr) = inb.raw(PayloadType::ATTRIBUTE) else {
        return Err(DropReason::missing("Transaction", PayloadType::ATTRIBUTE));
    };
    let attrs = parse_attributes(attr.body())?;
    if attrs.attributes.len() > MAX_ATTRIBUTES {
        return Err(DropReason::RemoteAccess(RaDrop::BadAttribute(
            "more attributes than the engine accepts",
        )));
    }
    let _ = pending.commit(&mut iv);
    sa.dpd.last_heard = now;
    let ra = match sa.ra.take() {
        Some(ra) => ra,
        None => {
            // No remote access on this SA yet: a client's Mode-Config
            // REQUEST on a phase 1 without XAUTH, which a server may
            // answer.
            if sa.role != Role::Responder
                || cx.config.remote_access.server_mode_cfg == ModeCfgServerMode::Off
            {
                return Err(DropReason::RemoteAccess(RaDrop::NotRemoteAccess));
            }
            let mut ra = Ra::new(Role::Responder, false, now, cx);
            ra.step = Step::CfgIdle;
            ra.deadline = None;
            ra
        }
    };
    let raw = m.message_bytes().to_vec();
    let mut ra = ra;
    // Where this transaction's chain stands now (an answer we send moves
    // it on).
    ra.chain = Some((mid, iv.clone()));
    let (ra, result) = step(cx, now, sa, ra, remote, mid, iv, &attrs);
    sa.ra = Some(ra);
    if result.is_ok()
        && let Some(ra) = sa.ra.as_mut()
    {
        ra.last_in = Some(raw);
    }
    result
}

/// Moves the SA's remote-access record on with one authentic message.
#[allow(clippy::too_many_arguments)]
fn step(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    mut ra: Ra,
    remote: SocketAddr,
    mid: u32,
    iv: IvChain,
    attrs: &AttributesRepr<'_>,
) -> (Ra, Result<Followup, DropReason>) {
    let unexpected = |what| Err(DropReason::RemoteAccess(what));
    let t = attrs.cfg_type;
    let step = std::mem::replace(&mut ra.step, Step::Done);
    let (step, result) = match (ra.role, step, t) {
        // ----- server -----
        (
            Role::Responder,
            Step::XauthAsked {
                mid: m2,
                id,
                iv: old,
            },
            CfgType::REPLY,
        ) if m2 == mid => {
            // The identifier is not checked: strongSwan answers with 0;
            // the message ID and the HASH pair the answer with our request.
            match xauth_reply(attrs) {
                Ok((user, password)) => {
                    ra.out = None;
                    ra.wait(cx, now);
                    ra.user = Some(user.clone());
                    let group = sa
                        .established()
                        .map_or(Identity::Address(sa.remote.ip()), |e| {
                            e.peer_identity.clone()
                        });
                    cx.events.push_back(Event::XauthVerify(XauthVerify {
                        sa: sa.id,
                        peer: remote,
                        group,
                        user,
                        password,
                        attempt: ra.attempts,
                    }));
                    (Step::XauthVerifying, Ok(Followup::Continue))
                }
                Err(e) => (
                    Step::XauthAsked {
                        mid: m2,
                        iv: old,
                        id,
                    },
                    Err(e),
                ),
            }
        }
        (Role::Responder, Step::StatusSent { mid: m2, ok, .. }, CfgType::ACK) if m2 == mid => {
            ra.out = None;
            if ok {
                ra.authenticated = true;
                cx.events.push_back(Event::XauthCompleted {
                    sa: sa.id,
                    peer: remote,
                    user: ra.user.clone().unwrap_or_default(),
                    role: Role::Responder,
                });
                match cx.config.remote_access.server_mode_cfg {
                    ModeCfgServerMode::Push => {
                        ask_config(cx, now, sa, &mut ra, remote, None, attrs);
                        (Step::CfgAsking { request: None }, Ok(Followup::Ready))
                    }
                    _ => {
                        ra.deadline = None;
                        (Step::CfgIdle, Ok(Followup::Ready))
                    }
                }
            } else {
                (
                    Step::Done,
                    Ok(Followup::Delete(XauthFailure::AttemptsExhausted)),
                )
            }
        }
        (Role::Responder, s @ (Step::CfgIdle | Step::Done), CfgType::REQUEST) => {
            if cx.config.remote_access.server_mode_cfg == ModeCfgServerMode::Off {
                (s, unexpected(RaDrop::ModeCfgOff))
            } else if !ra.authenticated {
                (s, unexpected(RaDrop::BeforeXauth))
            } else if has_xauth(attrs) {
                (s, unexpected(RaDrop::Unsolicited))
            } else {
                let request = Some((mid, iv, attrs.identifier));
                ask_config(cx, now, sa, &mut ra, remote, request.clone(), attrs);
                (Step::CfgAsking { request }, Ok(Followup::Continue))
            }
        }
        (Role::Responder, Step::CfgSetSent { mid: m2, .. }, CfgType::ACK) if m2 == mid => {
            ra.out = None;
            ra.deadline = None;
            (Step::Done, Ok(Followup::Continue))
        }
        (Role::Responder, s, CfgType::REQUEST)
            if !ra.authenticated
                && matches!(
                    s,
                    Step::XauthAsked { .. } | Step::XauthVerifying | Step::StatusSent { .. }
                ) =>
        {
            (s, unexpected(RaDrop::BeforeXauth))
        }
        // ----- client -----
        (
            Role::Initiator,
            s @ (Step::AwaitXauth | Step::Replied { .. } | Step::Prompting { .. }),
            CfgType::REQUEST,
        ) if has_xauth(attrs) => match xauth_request(attrs) {
            Ok((xauth_type, mut req)) => {
                if xauth_type.unwrap_or(XAUTH_GENERIC) != XAUTH_GENERIC {
                    (
                        Step::Done,
                        Ok(Followup::Delete(XauthFailure::UnsupportedType)),
                    )
                } else if ra.attempts >= MAX_CLIENT_PROMPTS {
                    // A server that keeps asking: bounded on our side too.
                    (
                        Step::Done,
                        Ok(Followup::Delete(XauthFailure::AttemptsExhausted)),
                    )
                } else {
                    ra.attempts = ra.attempts.saturating_add(1);
                    ra.out = None;
                    ra.wait(cx, now);
                    req.sa = sa.id;
                    req.peer = remote;
                    req.attempt = ra.attempts;
                    cx.events.push_back(Event::XauthRequested(req));
                    (
                        Step::Prompting {
                            mid,
                            iv,
                            id: attrs.identifier,
                            xauth_type,
                        },
                        Ok(Followup::Continue),
                    )
                }
            }
            Err(e) => (s, Err(e)),
        },
        (Role::Initiator, Step::Replied { mid: m2 }, CfgType::SET) => {
            match status(attrs) {
                Some(ok) => {
                    // ACK the status on the SET's message ID.
                    let ack = AttributesRepr {
                        cfg_type: CfgType::ACK,
                        identifier: attrs.identifier,
                        attributes: vec![Attribute::basic(
                            CfgAttributeType::XAUTH_STATUS.0,
                            u16::from(ok),
                        )],
                    };
                    let mut iv = iv;
                    answer(cx, now, sa, &mut ra, mid, &mut iv, &ack);
                    if ok {
                        ra.authenticated = true;
                        cx.events.push_back(Event::XauthCompleted {
                            sa: sa.id,
                            peer: remote,
                            user: ra.user.clone().unwrap_or_default(),
                            role: Role::Initiator,
                        });
                        client_mode_cfg(cx, now, sa, &mut ra)
                    } else {
                        (Step::Done, Ok(Followup::Delete(XauthFailure::Rejected)))
                    }
                }
                None => (
                    Step::Replied { mid: m2 },
                    unexpected(RaDrop::BadAttribute("XAUTH SET without XAUTH_STATUS")),
                ),
            }
        }
        (
            Role::Initiator,
            Step::CfgRequested {
                mid: m2,
                id,
                iv: old,
            },
            CfgType::REPLY,
        ) if m2 == mid => {
            // The identifier is not checked: strongSwan answers with 0;
            // the message ID and the HASH pair the answer with our request.
            match mode_config(attrs) {
                Ok(config) => {
                    ra.out = None;
                    received(cx, sa, &mut ra, remote, config);
                    (Step::Done, Ok(Followup::Ready))
                }
                Err(e) => (
                    Step::CfgRequested {
                        mid: m2,
                        iv: old,
                        id,
                    },
                    Err(e),
                ),
            }
        }
        (Role::Initiator, s @ (Step::AwaitCfgSet | Step::CfgRequested { .. }), CfgType::SET)
            if !has_xauth(attrs) =>
        {
            match mode_config(attrs) {
                Ok(config) => {
                    let ack = AttributesRepr {
                        cfg_type: CfgType::ACK,
                        identifier: attrs.identifier,
                        attributes: attrs
                            .attributes
                            .iter()
                            .map(|a| Attribute::variable(a.attribute_type, &[]))
                            .collect(),
                    };
                    let mut iv = iv;
                    answer(cx, now, sa, &mut ra, mid, &mut iv, &ack);
                    received(cx, sa, &mut ra, remote, config);
                    (Step::Done, Ok(Followup::Ready))
                }
                Err(e) => (s, Err(e)),
            }
        }
        (_, s, CfgType::SET) => (s, unexpected(RaDrop::Unsolicited)),
        (_, s, _) => (s, unexpected(RaDrop::Unexpected)),
    };
    ra.step = step;
    (ra, result)
}

/// Client: XAUTH succeeded; Mode-Config as configured.
fn client_mode_cfg(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    ra: &mut Ra,
) -> (Step, Result<Followup, DropReason>) {
    match cx.config.remote_access.client_mode_cfg {
        ModeCfgClientMode::Pull => {
            let id = identifier(cx);
            let mut attributes: Vec<Attribute<'_>> = Vec::new();
            let wanted = ra.wanted_address.map(|a| a.octets().to_vec());
            for t in &cx.config.remote_access.client_request {
                match (t, &wanted) {
                    (&CfgAttributeType::INTERNAL_IP4_ADDRESS, Some(a)) => {
                        attributes.push(Attribute::variable(t.0, a));
                    }
                    _ => attributes.push(Attribute::variable(t.0, &[])),
                }
            }
            let version = cx.config.remote_access.application_version.clone();
            if let Some(v) = &version {
                let v = v.as_bytes();
                attributes.push(Attribute::variable(
                    CfgAttributeType::APPLICATION_VERSION.0,
                    clip(v),
                ));
            }
            let req = AttributesRepr {
                cfg_type: CfgType::REQUEST,
                identifier: id,
                attributes,
            };
            match send_new_for(cx, now, sa, ra, &req) {
                Some((mid, iv)) => {
                    ra.wait(cx, now);
                    (Step::CfgRequested { mid, iv, id }, Ok(Followup::Continue))
                }
                None => (Step::Done, Ok(Followup::Delete(XauthFailure::Timeout))),
            }
        }
        ModeCfgClientMode::Push => {
            ra.wait(cx, now);
            (Step::AwaitCfgSet, Ok(Followup::Continue))
        }
        ModeCfgClientMode::Off => {
            ra.deadline = None;
            (Step::Done, Ok(Followup::Ready))
        }
    }
}

fn to_owned_attr(a: &Attribute<'_>) -> Attribute<'static> {
    match &a.value {
        isakmp_wire::AttributeValue::Basic(v) => Attribute::basic(a.attribute_type, *v),
        isakmp_wire::AttributeValue::Variable(b) => Attribute {
            attribute_type: a.attribute_type,
            value: isakmp_wire::AttributeValue::Variable(std::borrow::Cow::Owned(b.to_vec())),
        },
    }
}

/// Client: what Mode-Config gave is recorded and reported.
fn received(cx: &mut Context, sa: &IsakmpSa, ra: &mut Ra, remote: SocketAddr, config: ModeConfig) {
    ra.address = config.address;
    ra.wanted_address = config.address.or(ra.wanted_address);
    ra.deadline = None;
    cx.events.push_back(Event::ModeCfgReceived {
        sa: sa.id,
        peer: remote,
        config: Box::new(config),
    });
}

/// Server: asks the caller for the client's configuration.
fn ask_config(
    cx: &mut Context,
    now: Instant,
    sa: &IsakmpSa,
    ra: &mut Ra,
    remote: SocketAddr,
    request: Option<(u32, IvChain, u16)>,
    attrs: &AttributesRepr<'_>,
) {
    let push = request.is_none();
    let (requested, requested_address) = if push {
        (Vec::new(), None)
    } else {
        let mut types: Vec<CfgAttributeType> = Vec::new();
        let mut addr = None;
        for a in &attrs.attributes {
            let t = CfgAttributeType(a.attribute_type);
            if !types.contains(&t) && types.len() < MAX_LIST {
                types.push(t);
            }
            if t == CfgAttributeType::INTERNAL_IP4_ADDRESS
                && let Ok(CfgValue::Ipv4(x)) = a.cfg()
                && !x.is_unspecified()
            {
                addr = Some(x);
            }
        }
        (types, addr)
    };
    ra.out = None;
    ra.wait(cx, now);
    cx.events.push_back(Event::ModeCfgRequested(ModeCfgRequest {
        sa: sa.id,
        peer: remote,
        group: sa
            .established()
            .map_or(Identity::Address(sa.remote.ip()), |e| {
                e.peer_identity.clone()
            }),
        user: ra.user.clone(),
        requested,
        requested_address,
        push,
    }));
}

/// Whether an Attribute payload carries XAUTH attributes.
fn has_xauth(attrs: &AttributesRepr<'_>) -> bool {
    attrs
        .attributes
        .iter()
        .any(|a| (16520..=16529).contains(&a.attribute_type))
}

/// The XAUTH_STATUS of a SET, if it carries one.
fn status(attrs: &AttributesRepr<'_>) -> Option<bool> {
    attrs
        .attributes
        .iter()
        .find(|a| a.attribute_type == CfgAttributeType::XAUTH_STATUS.0)
        .and_then(|a| match a.cfg() {
            Ok(CfgValue::Number(n)) => Some(n == 1),
            _ => None,
        })
}

fn single<'a, 'b>(
    attrs: &'b AttributesRepr<'a>,
    t: CfgAttributeType,
) -> Result<Option<&'b Attribute<'a>>, DropReason> {
    let mut it = attrs.attributes.iter().filter(|a| a.attribute_type == t.0);
    let first = it.next();
    if it.next().is_some() {
        return Err(DropReason::RemoteAccess(RaDrop::Repeated(t)));
    }
    Ok(first)
}

fn text(a: &Attribute<'_>) -> Result<String, DropReason> {
    match a.cfg() {
        Ok(CfgValue::Bytes(b)) if b.len() <= MAX_TEXT => {
            Ok(String::from_utf8_lossy(b).into_owned())
        }
        Ok(CfgValue::Requested) => Ok(String::new()),
        Ok(CfgValue::Bytes(_)) => Err(DropReason::RemoteAccess(RaDrop::BadAttribute(
            "a text attribute longer than the engine accepts",
        ))),
        Ok(_) | Err(_) => Err(DropReason::RemoteAccess(RaDrop::BadAttribute(
            "a text attribute in the wrong form",
        ))),
    }
}

/// Client: reads an XAUTH REQUEST.
fn xauth_request(attrs: &AttributesRepr<'_>) -> Result<(Option<u32>, XauthRequest), DropReason> {
    let bad = |w| DropReason::RemoteAccess(RaDrop::BadAttribute(w));
    let xauth_type = match single(attrs, CfgAttributeType::XAUTH_TYPE)? {
        Some(a) => match a.cfg() {
            Ok(CfgValue::Number(n)) => Some(n),
            _ => return Err(bad("XAUTH_TYPE that is not a number")),
        },
        None => None,
    };
    let message = single(attrs, CfgAttributeType::XAUTH_MESSAGE)?
        .map(text)
        .transpose()?
        .filter(|m| !m.is_empty());
    let challenge = match single(attrs, CfgAttributeType::XAUTH_CHALLENGE)? {
        Some(a) => match a.cfg() {
            Ok(CfgValue::Bytes(b)) if b.len() <= MAX_TEXT => Some(b.to_vec()),
            Ok(CfgValue::Requested) => None,
            _ => return Err(bad("XAUTH_CHALLENGE in the wrong form")),
        },
        None => None,
    };
    let asks = |t: CfgAttributeType| attrs.attributes.iter().any(|a| a.attribute_type == t.0);
    let req = XauthRequest {
        sa: crate::types::IsakmpSaId(0),
        peer: SocketAddr::from(([0, 0, 0, 0], 0)),
        xauth_type: xauth_type.unwrap_or(XAUTH_GENERIC),
        user_name: asks(CfgAttributeType::XAUTH_USER_NAME),
        password: asks(CfgAttributeType::XAUTH_USER_PASSWORD),
        passcode: asks(CfgAttributeType::XAUTH_PASSCODE),
        message,
        challenge,
        attempt: 0,
    };
    if !(req.user_name || req.password || req.passcode) {
        return Err(bad("an XAUTH REQUEST that asks for nothing"));
    }
    Ok((xauth_type, req))
}

/// Server: reads the user name and password of an XAUTH REPLY.
fn xauth_reply(
    attrs: &AttributesRepr<'_>,
) -> Result<(String, crate::crypto::SecretBytes), DropReason> {
    let bad = |w| DropReason::RemoteAccess(RaDrop::BadAttribute(w));
    let user = single(attrs, CfgAttributeType::XAUTH_USER_NAME)?
        .ok_or(bad("an XAUTH REPLY without XAUTH_USER_NAME"))
        .and_then(text)?;
    let secret = match single(attrs, CfgAttributeType::XAUTH_USER_PASSWORD)? {
        Some(a) => Some(a),
        None => single(attrs, CfgAttributeType::XAUTH_PASSCODE)?,
    };
    let Some(secret) = secret else {
        return Err(bad("an XAUTH REPLY without a password"));
    };
    let password = match &secret.value {
        isakmp_wire::AttributeValue::Variable(b) if b.len() <= MAX_TEXT => {
            crate::crypto::SecretBytes::new(b)
        }
        _ => return Err(bad("an XAUTH password in the wrong form")),
    };
    Ok((user, password))
}

/// Client: reads a Mode-Config REPLY or SET.
fn mode_config(attrs: &AttributesRepr<'_>) -> Result<ModeConfig, DropReason> {
    let bad = |w| DropReason::RemoteAccess(RaDrop::BadAttribute(w));
    let mut c = ModeConfig::default();
    let ipv4 = |a: &Attribute<'_>| match a.cfg() {
        Ok(CfgValue::Ipv4(x)) => Ok(Some(x)),
        Ok(CfgValue::Requested) => Ok(None),
        _ => Err(bad("an address attribute that is not 4 bytes")),
    };
    let flag = |a: &Attribute<'_>| match a.cfg() {
        Ok(CfgValue::Number(n)) => Ok(Some(n != 0)),
        Ok(CfgValue::Requested) => Ok(None),
        _ => Err(bad("a flag attribute in the wrong form")),
    };
    let networks = |a: &Attribute<'_>| -> Result<Vec<SplitNetwork>, DropReason> {
        match a.cfg() {
            Ok(CfgValue::Networks(n)) => Ok(n),
            Ok(CfgValue::Requested) => Ok(Vec::new()),
            _ => Err(bad("a split network list in the wrong form")),
        }
    };
    let bounded = |len: usize| {
        if len >= MAX_LIST {
            Err(bad("a list longer than the engine accepts"))
        } else {
            Ok(())
        }
    };
    for t in [
        CfgAttributeType::INTERNAL_IP4_ADDRESS,
        CfgAttributeType::INTERNAL_IP4_NETMASK,
        CfgAttributeType::INTERNAL_ADDRESS_EXPIRY,
        CfgAttributeType::UNITY_DEF_DOMAIN,
        CfgAttributeType::UNITY_BANNER,
        CfgAttributeType::UNITY_SAVE_PASSWD,
        CfgAttributeType::UNITY_PFS,
        CfgAttributeType::APPLICATION_VERSION,
    ] {
        single(attrs, t)?;
    }
    for a in &attrs.attributes {
        match CfgAttributeType(a.attribute_type) {
            CfgAttributeType::INTERNAL_IP4_ADDRESS => c.address = ipv4(a)?,
            CfgAttributeType::INTERNAL_IP4_NETMASK => c.netmask = ipv4(a)?,
            CfgAttributeType::INTERNAL_IP4_DNS => {
                if let Some(x) = ipv4(a)? {
                    bounded(c.dns.len())?;
                    c.dns.push(x);
                }
            }
            CfgAttributeType::INTERNAL_IP4_NBNS => {
                if let Some(x) = ipv4(a)? {
                    bounded(c.nbns.len())?;
                    c.nbns.push(x);
                }
            }
            CfgAttributeType::INTERNAL_ADDRESS_EXPIRY => match a.cfg() {
                Ok(CfgValue::Number(n)) => c.address_expiry = Some(n),
                Ok(CfgValue::Requested) => {}
                _ => return Err(bad("INTERNAL_ADDRESS_EXPIRY in the wrong form")),
            },
            CfgAttributeType::INTERNAL_IP4_SUBNET => match a.cfg() {
                Ok(CfgValue::Ipv4Subnet { address, mask }) => {
                    bounded(c.subnets.len())?;
                    c.subnets.push((address, mask));
                }
                Ok(CfgValue::Requested) => {}
                _ => return Err(bad("INTERNAL_IP4_SUBNET in the wrong form")),
            },
            CfgAttributeType::UNITY_DEF_DOMAIN => {
                c.domain = Some(text(a)?).filter(|s| !s.is_empty());
            }
            CfgAttributeType::UNITY_BANNER => {
                c.banner = Some(text(a)?).filter(|s| !s.is_empty());
            }
            CfgAttributeType::APPLICATION_VERSION => {
                c.application_version = Some(text(a)?).filter(|s| !s.is_empty());
            }
            CfgAttributeType::UNITY_SPLITDNS_NAME => {
                for d in text(a)?.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    bounded(c.split_dns.len())?;
                    c.split_dns.push(d.to_owned());
                }
            }
            CfgAttributeType::UNITY_BACKUP_SERVERS => {
                for d in text(a)?.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    bounded(c.backup_servers.len())?;
                    c.backup_servers.push(d.to_owned());
                }
            }
            CfgAttributeType::UNITY_SPLIT_INCLUDE => {
                for n in networks(a)? {
                    bounded(c.split_include.len())?;
                    c.split_include.push(n);
                }
            }
            CfgAttributeType::UNITY_LOCAL_LAN => {
                for n in networks(a)? {
                    bounded(c.local_lan.len())?;
                    c.local_lan.push(n);
                }
            }
            CfgAttributeType::UNITY_SAVE_PASSWD => c.save_password = flag(a)?,
            CfgAttributeType::UNITY_PFS => c.pfs = flag(a)?,
            // Other types (IPv6, DHCP, unknown) are ignored, as the
            // drafts allow.
            _ => {}
        }
    }
    Ok(c)
}

/// The attributes that carry `c` (server side), for the types the client
/// asked for (`requested`; empty: everything `c` has).
pub(crate) fn config_attributes(
    c: &ModeConfig,
    requested: &[CfgAttributeType],
) -> Vec<Attribute<'static>> {
    let wants = |t: CfgAttributeType| requested.is_empty() || requested.contains(&t);
    let mut out: Vec<Attribute<'static>> = Vec::new();
    let v4 =
        |t: CfgAttributeType, a: Ipv4Addr| to_owned_attr(&Attribute::variable(t.0, &a.octets()));
    let txt = |t: CfgAttributeType, s: &str| {
        let b = s.as_bytes();
        to_owned_attr(&Attribute::variable(t.0, clip(b)))
    };
    if let Some(a) = c.address {
        // The address is always sent: it is what Mode-Config is for.
        out.push(v4(CfgAttributeType::INTERNAL_IP4_ADDRESS, a));
    }
    if let (Some(m), true) = (c.netmask, wants(CfgAttributeType::INTERNAL_IP4_NETMASK)) {
        out.push(v4(CfgAttributeType::INTERNAL_IP4_NETMASK, m));
    }
    if wants(CfgAttributeType::INTERNAL_IP4_DNS) {
        for d in c.dns.iter().take(MAX_LIST) {
            out.push(v4(CfgAttributeType::INTERNAL_IP4_DNS, *d));
        }
    }
    if wants(CfgAttributeType::INTERNAL_IP4_NBNS) {
        for d in c.nbns.iter().take(MAX_LIST) {
            out.push(v4(CfgAttributeType::INTERNAL_IP4_NBNS, *d));
        }
    }
    if let (Some(e), true) = (
        c.address_expiry,
        wants(CfgAttributeType::INTERNAL_ADDRESS_EXPIRY),
    ) {
        out.push(to_owned_attr(&Attribute::variable(
            CfgAttributeType::INTERNAL_ADDRESS_EXPIRY.0,
            &e.to_be_bytes(),
        )));
    }
    if wants(CfgAttributeType::INTERNAL_IP4_SUBNET) {
        for (a, m) in c.subnets.iter().take(MAX_LIST) {
            let mut b = a.octets().to_vec();
            b.extend_from_slice(&m.octets());
            out.push(to_owned_attr(&Attribute::variable(
                CfgAttributeType::INTERNAL_IP4_SUBNET.0,
                &b,
            )));
        }
    }
    if let (Some(d), true) = (&c.domain, wants(CfgAttributeType::UNITY_DEF_DOMAIN)) {
        out.push(txt(CfgAttributeType::UNITY_DEF_DOMAIN, d));
    }
    if !c.split_dns.is_empty() && wants(CfgAttributeType::UNITY_SPLITDNS_NAME) {
        out.push(txt(
            CfgAttributeType::UNITY_SPLITDNS_NAME,
            &c.split_dns.join(","),
        ));
    }
    let nets = |t: CfgAttributeType, n: &[SplitNetwork]| {
        let b: Vec<u8> = n
            .iter()
            .take(MAX_LIST)
            .flat_map(SplitNetwork::to_bytes)
            .collect();
        to_owned_attr(&Attribute::variable(t.0, &b))
    };
    if !c.split_include.is_empty() && wants(CfgAttributeType::UNITY_SPLIT_INCLUDE) {
        out.push(nets(
            CfgAttributeType::UNITY_SPLIT_INCLUDE,
            &c.split_include,
        ));
    }
    if !c.local_lan.is_empty() && wants(CfgAttributeType::UNITY_LOCAL_LAN) {
        out.push(nets(CfgAttributeType::UNITY_LOCAL_LAN, &c.local_lan));
    }
    if let (Some(b), true) = (&c.banner, wants(CfgAttributeType::UNITY_BANNER)) {
        out.push(txt(CfgAttributeType::UNITY_BANNER, b));
    }
    if let (Some(s), true) = (c.save_password, wants(CfgAttributeType::UNITY_SAVE_PASSWD)) {
        out.push(Attribute::basic(
            CfgAttributeType::UNITY_SAVE_PASSWD.0,
            u16::from(s),
        ));
    }
    if let (Some(p), true) = (c.pfs, wants(CfgAttributeType::UNITY_PFS)) {
        out.push(Attribute::basic(
            CfgAttributeType::UNITY_PFS.0,
            u16::from(p),
        ));
    }
    if !c.backup_servers.is_empty() && wants(CfgAttributeType::UNITY_BACKUP_SERVERS) {
        out.push(txt(
            CfgAttributeType::UNITY_BACKUP_SERVERS,
            &c.backup_servers.join(","),
        ));
    }
    if let (Some(v), true) = (
        &c.application_version,
        wants(CfgAttributeType::APPLICATION_VERSION),
    ) {
        out.push(txt(CfgAttributeType::APPLICATION_VERSION, v));
    }
    out
}

/// At most [`MAX_TEXT`] bytes of `b` (what the engine sends of a text).
fn clip(b: &[u8]) -> &[u8] {
    b.get(..b.len().min(MAX_TEXT)).unwrap_or_default()
}

fn identifier(cx: &mut Context) -> u16 {
    let mut b = [0u8; 2];
    cx.fill(Purpose::MessageId, &mut b);
    u16::from_be_bytes(b)
}

/// Fuzzing: `body` as the Attribute payload of a Transaction message on
/// `sa`, as this side would send it: on the transaction in progress (its
/// message ID and chain) when `mid` is `None`, else on `mid` with a fresh
/// chain.
#[cfg(feature = "fuzzing")]
pub(crate) fn seal_raw(
    cx: &Context,
    sa: &IsakmpSa,
    mid: Option<u32>,
    body: &[u8],
) -> Option<Vec<u8>> {
    let est = sa.established()?;
    let (mid, mut iv) = match mid {
        Some(m) => (m, est.iv.for_message_id(m)),
        None => sa.ra.as_ref()?.current()?,
    };
    let attr = PayloadRepr::Opaque(OpaquePayload {
        payload_type: PayloadType::ATTRIBUTE,
        body,
    });
    let rest = chain_bytes(core::slice::from_ref(&attr)).ok()?;
    let hash = est.keys.informational_hash(mid, &rest);
    let payloads = [PayloadRepr::Hash(hash.as_bytes()), attr];
    let (bytes, pending) = sa
        .seal(cx, est, ExchangeType::TRANSACTION, mid, &payloads, &iv)
        .ok()?;
    pending.commit(&mut iv).ok()?;
    Some(bytes)
}

/// Builds `HDR*, HASH, ATTR` on message ID `mid` with the chain `iv`
/// (which moves past the message), or `None` when it cannot be built.
fn seal(
    cx: &Context,
    sa: &IsakmpSa,
    mid: u32,
    iv: &mut IvChain,
    attrs: &AttributesRepr<'_>,
) -> Option<Vec<u8>> {
    let est = sa.established()?;
    let body = attrs.to_vec().ok()?;
    let attr = PayloadRepr::Opaque(OpaquePayload {
        payload_type: PayloadType::ATTRIBUTE,
        body: &body,
    });
    let rest = chain_bytes(core::slice::from_ref(&attr)).ok()?;
    let hash = est.keys.informational_hash(mid, &rest);
    let payloads = [PayloadRepr::Hash(hash.as_bytes()), attr];
    let (bytes, pending) = sa
        .seal(cx, est, ExchangeType::TRANSACTION, mid, &payloads, iv)
        .ok()?;
    pending.commit(iv).ok()?;
    Some(bytes)
}

/// Sends a request on a new message ID (retransmitted until answered);
/// its message ID and chain.
fn send_new(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    attrs: &AttributesRepr<'_>,
) -> Option<(u32, IvChain)> {
    let mut ra = sa.ra.take()?;
    let r = send_new_for(cx, now, sa, &mut ra, attrs);
    sa.ra = Some(ra);
    r
}

/// [`send_new`] with the record out of the SA.
fn send_new_for(
    cx: &mut Context,
    now: Instant,
    sa: &IsakmpSa,
    ra: &mut Ra,
    attrs: &AttributesRepr<'_>,
) -> Option<(u32, IvChain)> {
    let mid = cx.new_message_id_in(|m| sa.qm.contains_key(&m))?;
    let mut iv = sa.established()?.iv.for_message_id(mid);
    let bytes = seal(cx, sa, mid, &mut iv, attrs)?;
    cx.transmit(sa.local, sa.remote, bytes.clone());
    ra.out = Some(Out {
        bytes,
        retx: Some(Retx {
            next: now + cx.first_delay(),
            count: 0,
        }),
        sent_at: Some(now),
    });
    Some((mid, iv))
}

/// Sends an answer on the request's message ID (resent only when the
/// request comes again).
fn answer(
    cx: &mut Context,
    now: Instant,
    sa: &IsakmpSa,
    ra: &mut Ra,
    mid: u32,
    iv: &mut IvChain,
    attrs: &AttributesRepr<'_>,
) {
    if let Some(bytes) = seal(cx, sa, mid, iv, attrs) {
        cx.transmit(sa.local, sa.remote, bytes.clone());
        ra.chain = Some((mid, iv.clone()));
        ra.out = Some(Out {
            bytes,
            retx: None,
            sent_at: Some(now),
        });
    }
}

/// The Attribute payload's body. libreswan 4 pads it to a multiple of four
/// bytes with zeros inside the payload length (fixed in libreswan 5.2):
/// one to three trailing zero bytes, which cannot be an attribute (whose
/// header alone is four bytes), are tolerated when the body does not
/// parse with them.
fn parse_attributes(body: &[u8]) -> Result<AttributesRepr<'_>, DropReason> {
    let first = match AttributesRepr::parse(body) {
        Ok(a) => return Ok(a),
        Err(e) => e,
    };
    for pad in 1..=3usize {
        let Some(cut) = body.len().checked_sub(pad) else {
            break;
        };
        let (head, tail) = body.split_at(cut);
        if tail.iter().any(|b| *b != 0) {
            break;
        }
        if let Ok(a) = AttributesRepr::parse(head) {
            return Ok(a);
        }
    }
    Err(DropReason::Wire(first))
}

/// What a caller's command on the remote-access record did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CommandOutcome {
    /// Done; the dispatcher acts on the followup.
    Done(Followup),
    /// The SA does not wait for this command.
    NotWaiting,
}

/// Client: the caller's credentials for the pending XAUTH REQUEST.
pub(crate) fn credentials(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    creds: &XauthCredentials,
) -> CommandOutcome {
    let Some(mut ra) = sa.ra.take() else {
        return CommandOutcome::NotWaiting;
    };
    let out = match std::mem::replace(&mut ra.step, Step::Done) {
        Step::Prompting {
            mid,
            mut iv,
            id,
            xauth_type,
        } => {
            let user = creds.user.as_bytes();
            let user = clip(user);
            let pw = creds.password.expose();
            let mut attributes = Vec::new();
            if let Some(t) = xauth_type {
                attributes.push(Attribute::basic(
                    CfgAttributeType::XAUTH_TYPE.0,
                    u16::try_from(t).unwrap_or(0),
                ));
            }
            attributes.push(Attribute::variable(
                CfgAttributeType::XAUTH_USER_NAME.0,
                user,
            ));
            attributes.push(Attribute::variable(
                CfgAttributeType::XAUTH_USER_PASSWORD.0,
                clip(pw),
            ));
            let reply = AttributesRepr {
                cfg_type: CfgType::REPLY,
                identifier: id,
                attributes,
            };
            answer(cx, now, sa, &mut ra, mid, &mut iv, &reply);
            ra.user = Some(creds.user.clone());
            ra.wait(cx, now);
            ra.step = Step::Replied { mid };
            CommandOutcome::Done(Followup::Continue)
        }
        other => {
            ra.step = other;
            CommandOutcome::NotWaiting
        }
    };
    sa.ra = Some(ra);
    out
}

/// Client: the caller gives up on the pending XAUTH REQUEST.
pub(crate) fn cancel(sa: &mut IsakmpSa) -> CommandOutcome {
    let Some(ra) = sa.ra.as_mut() else {
        return CommandOutcome::NotWaiting;
    };
    if ra.role != Role::Initiator || ra.authenticated {
        return CommandOutcome::NotWaiting;
    }
    ra.step = Step::Done;
    ra.out = None;
    CommandOutcome::Done(Followup::Delete(XauthFailure::Cancelled))
}

/// Server: the caller's verdict on the credentials of
/// [`Event::XauthVerify`].
pub(crate) fn verdict(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    accepted: bool,
) -> CommandOutcome {
    let Some(mut ra) = sa.ra.take() else {
        return CommandOutcome::NotWaiting;
    };
    let Step::XauthVerifying = ra.step else {
        sa.ra = Some(ra);
        return CommandOutcome::NotWaiting;
    };
    let max = cx.config.remote_access.xauth_attempts.max(1);
    if !accepted {
        cx.counters.xauth_rejected = cx.counters.xauth_rejected.saturating_add(1);
    }
    if !accepted && ra.attempts < max {
        // Attempts left: ask again.
        sa.ra = Some(ra);
        send_xauth_request(cx, now, sa);
        return CommandOutcome::Done(Followup::Continue);
    }
    // The outcome: STATUS = OK, or FAIL after the last attempt (the SA
    // goes once the client acknowledges it, or its timer runs out).
    let set = AttributesRepr {
        cfg_type: CfgType::SET,
        identifier: identifier(cx),
        attributes: vec![Attribute::basic(
            CfgAttributeType::XAUTH_STATUS.0,
            u16::from(accepted),
        )],
    };
    let outcome = match send_new_for(cx, now, sa, &mut ra, &set) {
        Some((mid, iv)) => {
            ra.wait(cx, now);
            ra.step = Step::StatusSent {
                mid,
                iv,
                ok: accepted,
            };
            CommandOutcome::Done(Followup::Continue)
        }
        None => CommandOutcome::Done(Followup::Delete(XauthFailure::Timeout)),
    };
    sa.ra = Some(ra);
    outcome
}

/// Server: the caller's answer to [`Event::ModeCfgRequested`]: `Some`
/// configuration, or `None` to refuse (an empty pool).
pub(crate) fn config_reply(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    config: Option<&ModeConfig>,
) -> CommandOutcome {
    let Some(mut ra) = sa.ra.take() else {
        return CommandOutcome::NotWaiting;
    };
    let Step::CfgAsking { request } = std::mem::replace(&mut ra.step, Step::Done) else {
        sa.ra = Some(ra);
        return CommandOutcome::NotWaiting;
    };
    let outcome = match (request, config) {
        (Some((mid, mut iv, id)), config) => {
            // Pull: REPLY on the REQUEST's message ID (empty when refused).
            let attributes = config
                .map(|c| config_attributes(c, &[]))
                .unwrap_or_default();
            let reply = AttributesRepr {
                cfg_type: CfgType::REPLY,
                identifier: id,
                attributes,
            };
            answer(cx, now, sa, &mut ra, mid, &mut iv, &reply);
            ra.deadline = None;
            ra.step = Step::Done;
            CommandOutcome::Done(Followup::Continue)
        }
        (None, Some(c)) => {
            let id = identifier(cx);
            let set = AttributesRepr {
                cfg_type: CfgType::SET,
                identifier: id,
                attributes: config_attributes(c, &[]),
            };
            match send_new_for(cx, now, sa, &mut ra, &set) {
                Some((mid, iv)) => {
                    ra.wait(cx, now);
                    ra.step = Step::CfgSetSent { mid, iv };
                    CommandOutcome::Done(Followup::Continue)
                }
                None => CommandOutcome::Done(Followup::Delete(XauthFailure::Timeout)),
            }
        }
        // Push refused: nothing to give this client.
        (None, None) => {
            ra.deadline = None;
            ra.step = Step::Done;
            CommandOutcome::Done(Followup::Continue)
        }
    };
    if let (Some(c), CommandOutcome::Done(Followup::Continue)) = (config, &outcome)
        && let Some(address) = c.address
    {
        ra.address = Some(address);
        cx.events.push_back(Event::AddressAssigned {
            sa: sa.id,
            peer: sa.remote,
            user: ra.user.clone(),
            address,
        });
    }
    if config.is_none() {
        cx.counters.mode_cfg_refused = cx.counters.mode_cfg_refused.saturating_add(1);
    }
    sa.ra = Some(ra);
    outcome
}

/// The SA's remote-access timers: retransmission of our request, the
/// deadline of the current wait.
pub(crate) fn timers(cx: &mut Context, now: Instant, sa: &mut IsakmpSa) -> Followup {
    let Some(ra) = sa.ra.as_mut() else {
        return Followup::Continue;
    };
    if ra.deadline.is_some_and(|d| d <= now) {
        return timed_out(sa);
    }
    let Some(out) = ra.out.as_mut() else {
        return Followup::Continue;
    };
    let Some(mut r) = out.retx else {
        return Followup::Continue;
    };
    if r.next > now {
        return Followup::Continue;
    }
    let schedule = &cx.config.retransmit;
    if r.count >= schedule.delays.len() {
        return timed_out(sa);
    }
    r.count = r.count.saturating_add(1);
    r.next = now + schedule.delay(r.count).unwrap_or(schedule.final_wait);
    out.retx = Some(r);
    out.sent_at = Some(now);
    let bytes = out.bytes.clone();
    cx.counters.retransmitted = cx.counters.retransmitted.saturating_add(1);
    cx.transmit(sa.local, sa.remote, bytes);
    Followup::Continue
}

fn timed_out(sa: &mut IsakmpSa) -> Followup {
    let Some(ra) = sa.ra.as_mut() else {
        return Followup::Continue;
    };
    ra.deadline = None;
    ra.out = None;
    // A server whose FAIL status went unacknowledged was ending the SA
    // anyway; anything else stalled.
    let reason = match ra.step {
        Step::StatusSent { ok: false, .. } => XauthFailure::AttemptsExhausted,
        _ => XauthFailure::Timeout,
    };
    let authenticated = ra.authenticated;
    ra.step = Step::Done;
    if authenticated && ra.role == Role::Responder {
        // The user is in; only a Mode-Config push stalled: the SA stays.
        return Followup::Continue;
    }
    Followup::Delete(reason)
}
