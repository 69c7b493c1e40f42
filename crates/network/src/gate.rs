//! Connection gate: a libp2p behaviour that decides, as soon as the remote's
//! key is known (after the noise handshake, before any protocol runs), whether
//! a connection may stay: consortium allowlist, the operator's blocks, bans,
//! and the peer limit.
//!
//! It is the first field of the composed behaviour, so when it denies a
//! connection no other behaviour has seen it. `libp2p::allow_block_list` does
//! the same check but loses the peer id in inbound refusals, which the node
//! needs to log "peer X is not a member of this chain".

use std::{
    collections::{HashMap, HashSet, VecDeque},
    convert::Infallible,
    fmt,
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use libp2p::{
    core::{transport::PortUse, Endpoint},
    swarm::{
        dummy, CloseConnection, ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm,
        NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};

use crate::RefuseReason;

/// Emitted when the gate refuses a connection.
#[derive(Debug)]
pub struct GateEvent {
    pub peer: PeerId,
    pub reason: RefuseReason,
}

/// The error given to libp2p when a connection is denied.
#[derive(Debug)]
struct Denied {
    peer: PeerId,
    reason: RefuseReason,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer {} refused: {}", self.peer, self.reason)
    }
}

impl std::error::Error for Denied {}

pub struct Gate {
    allowlist: Option<HashSet<PeerId>>,
    bans: HashMap<PeerId, Instant>,
    /// Blocked by the operator: refused until unblocked, unlike a ban, which
    /// expires. Kept apart so unblocking never lifts a misbehaviour ban.
    blocked: HashSet<PeerId>,
    max_peers: usize,
    connected: HashSet<PeerId>,
    events: VecDeque<GateEvent>,
    close: VecDeque<PeerId>,
    waker: Option<Waker>,
}

impl Gate {
    pub fn new(allowlist: Option<HashSet<PeerId>>, max_peers: usize) -> Self {
        Self {
            allowlist,
            bans: HashMap::new(),
            blocked: HashSet::new(),
            max_peers,
            connected: HashSet::new(),
            events: VecDeque::new(),
            close: VecDeque::new(),
            waker: None,
        }
    }

    /// Bans `peer` for `duration` and closes its connections.
    /// Whether the gate admits members only.
    pub fn has_allowlist(&self) -> bool {
        self.allowlist.is_some()
    }

    /// Replaces the member allowlist (a consortium's members changed).
    pub fn set_allowlist(&mut self, peers: HashSet<PeerId>) {
        self.allowlist = Some(peers);
    }

    pub fn ban(&mut self, peer: PeerId, duration: Duration) {
        let until = Instant::now()
            .checked_add(duration)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
        self.bans.insert(peer, until);
        self.close.push_back(peer);
        self.wake();
    }

    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.bans
            .get(peer)
            .is_some_and(|until| Instant::now() < *until)
    }

    /// Blocks `peer` until [`Gate::unblock`] and closes its connections.
    pub fn block(&mut self, peer: PeerId) {
        self.blocked.insert(peer);
        self.close.push_back(peer);
        self.wake();
    }

    /// Lifts a block; whether `peer` was blocked.
    pub fn unblock(&mut self, peer: &PeerId) -> bool {
        self.blocked.remove(peer)
    }

    pub fn is_blocked(&self, peer: &PeerId) -> bool {
        self.blocked.contains(peer)
    }

    /// Blocked peers, in no particular order.
    pub fn blocked(&self) -> impl Iterator<Item = &PeerId> {
        self.blocked.iter()
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn check(&mut self, peer: PeerId) -> Result<(), ConnectionDenied> {
        let reason = if self
            .allowlist
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(&peer))
        {
            Some(RefuseReason::NotAllowed)
        } else if self.is_blocked(&peer) {
            Some(RefuseReason::Blocked)
        } else if self.is_banned(&peer) {
            Some(RefuseReason::Banned)
        } else if !self.connected.contains(&peer) && self.connected.len() >= self.max_peers {
            Some(RefuseReason::TooManyPeers)
        } else {
            None
        };
        match reason {
            None => Ok(()),
            Some(reason) => {
                self.events.push_back(GateEvent {
                    peer,
                    reason: reason.clone(),
                });
                self.wake();
                Err(ConnectionDenied::new(Denied { peer, reason }))
            }
        }
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = GateEvent;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(peer)?;
        Ok(dummy::ConnectionHandler)
    }

    /// Dialling a peer we would refuse anyway is skipped before any TCP work.
    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = peer {
            self.check(peer)?;
        }
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(peer)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm<'_>) {
        match event {
            FromSwarm::ConnectionEstablished(established) => {
                self.connected.insert(established.peer_id);
            }
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                remaining_established: 0,
                ..
            }) => {
                self.connected.remove(&peer_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        let never: Infallible = event;
        match never {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<GateEvent, THandlerInEvent<Self>>> {
        if let Some(peer) = self.close.pop_front() {
            return Poll::Ready(ToSwarm::CloseConnection {
                peer_id: peer,
                connection: CloseConnection::All,
            });
        }
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(ToSwarm::GenerateEvent(event));
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
