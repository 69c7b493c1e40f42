//! The operator's view of peers and controls over them (geth's `admin_`
//! namespace): who is connected and how, static peers added by hand, and
//! blocks. The network task owns one [`PeerBook`] and calls it from its
//! swarm-event and command handlers.
//!
//! Blocking itself is the gate's job (it refuses a blocked peer in both
//! directions and closes its connections); the book remembers where a
//! blocked peer listened, so that unblocking can dial it again. Without
//! that, two nodes that both have other peers would never reconnect: the
//! bootnodes are only redialled by a node with no peer at all, and
//! discovery only dials peers new to its routing table.

use std::collections::{BTreeMap, HashMap};

use libp2p::{
    core::ConnectedPoint,
    identify,
    multiaddr::Protocol,
    swarm::{
        dial_opts::{DialOpts, PeerCondition},
        ConnectionId, DialError,
    },
    Multiaddr, PeerId, Swarm,
};
use tracing::{debug, info};

use crate::{behaviour::Behaviour, Direction, NetworkError, PeerInfo};

/// At most this many addresses per peer are kept from identify; a peer
/// cannot make us store an unbounded list.
const MAX_ADDRS_PER_PEER: usize = 8;

#[derive(Debug)]
struct Conn {
    id: ConnectionId,
    direction: Direction,
    remote: Multiaddr,
    local: Option<Multiaddr>,
}

#[derive(Debug, Default)]
struct Connected {
    /// Open connections, oldest first.
    conns: Vec<Conn>,
    identity: Option<identify::Info>,
}

#[derive(Debug, Default)]
pub(crate) struct PeerBook {
    connected: HashMap<PeerId, Connected>,
    /// Added by the operator: redialled whenever not connected.
    statics: BTreeMap<PeerId, Multiaddr>,
    /// Where blocked peers were last seen listening.
    blocked_addrs: HashMap<PeerId, Vec<Multiaddr>>,
}

impl PeerBook {
    pub fn on_established(&mut self, peer: PeerId, id: ConnectionId, endpoint: &ConnectedPoint) {
        let (direction, local) = match endpoint {
            ConnectedPoint::Dialer { .. } => (Direction::Outbound, None),
            ConnectedPoint::Listener { local_addr, .. } => {
                (Direction::Inbound, Some(local_addr.clone()))
            }
        };
        self.connected.entry(peer).or_default().conns.push(Conn {
            id,
            direction,
            remote: endpoint.get_remote_address().clone(),
            local,
        });
    }

    pub fn on_closed(&mut self, peer: PeerId, id: ConnectionId) {
        if let Some(connected) = self.connected.get_mut(&peer) {
            connected.conns.retain(|c| c.id != id);
            if connected.conns.is_empty() {
                self.connected.remove(&peer);
            }
        }
    }

    /// Keeps what a connected peer announced (its address list capped).
    pub fn on_identify(&mut self, peer: PeerId, info: &identify::Info) {
        if let Some(connected) = self.connected.get_mut(&peer) {
            let mut info = info.clone();
            info.listen_addrs.truncate(MAX_ADDRS_PER_PEER);
            info.protocols.clear();
            connected.identity = Some(info);
        }
    }

    /// Connected peers, ordered by peer id.
    pub fn infos(&self) -> Vec<PeerInfo> {
        let mut infos: Vec<PeerInfo> = self
            .connected
            .iter()
            .filter_map(|(peer, connected)| {
                let first = connected.conns.first()?;
                let identity = connected.identity.as_ref();
                Some(PeerInfo {
                    peer_id: *peer,
                    direction: first.direction,
                    remote_addr: first.remote.clone(),
                    local_addr: first.local.clone(),
                    agent_version: identity.map(|i| i.agent_version.clone()),
                    protocol_version: identity.map(|i| i.protocol_version.clone()),
                    listen_addrs: identity.map(|i| i.listen_addrs.clone()).unwrap_or_default(),
                    is_static: self.statics.contains_key(peer),
                })
            })
            .collect();
        infos.sort_by_key(|info| info.peer_id);
        infos
    }

    /// Where `peer` can be dialled: the addresses it listens on (identify)
    /// and those we reached it at.
    fn dialable_addrs(&self, peer: &PeerId) -> Vec<Multiaddr> {
        let Some(connected) = self.connected.get(peer) else {
            return Vec::new();
        };
        let listening = connected
            .identity
            .iter()
            .flat_map(|i| i.listen_addrs.iter().cloned());
        let dialled = connected
            .conns
            .iter()
            .filter(|c| c.direction == Direction::Outbound)
            .map(|c| c.remote.clone());
        let mut addrs: Vec<Multiaddr> = Vec::new();
        for addr in listening.chain(dialled) {
            if addrs.len() < MAX_ADDRS_PER_PEER && !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        addrs
    }

    /// `admin_addPeer`: dials `addr`; a named peer becomes static.
    pub fn add(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        addr: Multiaddr,
    ) -> Result<(), NetworkError> {
        let dial_error = |addr: &Multiaddr, reason: String| NetworkError::Dial {
            addr: addr.clone(),
            reason,
        };
        let Some(peer) = peer_of(&addr) else {
            // Without a peer id we cannot tell later whether it is
            // connected, so it is dialled once and not kept.
            return swarm
                .dial(addr.clone())
                .map_err(|e| dial_error(&addr, crate::service::error_chain(&e)));
        };
        if peer == *swarm.local_peer_id() {
            return Err(dial_error(&addr, "that is this node's own peer id".into()));
        }
        match swarm.dial(dial_opts(peer, vec![addr.clone()])) {
            // Already connected or being dialled: nothing to do now.
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => {}
            Err(e) => return Err(dial_error(&addr, crate::service::error_chain(&e))),
        }
        info!(%peer, %addr, "static peer added");
        self.statics.insert(peer, addr);
        Ok(())
    }

    /// `admin_removePeer`: whether `peer` was connected or static.
    pub fn remove(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId) -> bool {
        let was_static = self.statics.remove(&peer).is_some();
        let was_connected = swarm.disconnect_peer_id(peer).is_ok();
        info!(%peer, was_connected, was_static, "peer removed by the operator");
        was_static || was_connected
    }

    /// Blocks `peer` (the gate closes its connections and refuses it).
    pub fn block(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId) {
        let addrs = self.dialable_addrs(&peer);
        if !addrs.is_empty() {
            self.blocked_addrs.insert(peer, addrs);
        }
        swarm.behaviour_mut().gate.block(peer);
        info!(%peer, "peer blocked by the operator");
    }

    /// Lifts a block and dials the peer where it last listened (and, when
    /// kademlia is on, where the routing table says it is).
    pub fn unblock(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId) -> bool {
        let mut addrs = self.blocked_addrs.remove(&peer).unwrap_or_default();
        if !swarm.behaviour_mut().gate.unblock(&peer) {
            return false;
        }
        info!(%peer, "peer unblocked by the operator");
        if let Some(addr) = self.statics.get(&peer) {
            addrs.push(addr.clone());
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .extend_addresses_through_behaviour()
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        if let Err(e) = swarm.dial(opts) {
            debug!(%peer, error = %e, "not redialling the unblocked peer");
        }
        true
    }

    /// Dials static peers that are not connected (and not refused anyway).
    pub fn redial_statics(&self, swarm: &mut Swarm<Behaviour>) {
        for (peer, addr) in &self.statics {
            let gate = &swarm.behaviour().gate;
            if self.connected.contains_key(peer) || gate.is_blocked(peer) || gate.is_banned(peer) {
                continue;
            }
            match swarm.dial(dial_opts(*peer, vec![addr.clone()])) {
                Ok(()) => debug!(%peer, %addr, "redialling static peer"),
                Err(e) => debug!(%peer, %addr, error = %e, "not redialling static peer"),
            }
        }
    }
}

fn dial_opts(peer: PeerId, addrs: Vec<Multiaddr>) -> DialOpts {
    DialOpts::peer_id(peer)
        .addresses(addrs)
        .condition(PeerCondition::DisconnectedAndNotDialing)
        .build()
}

/// The peer id an address ends with (`…/p2p/<id>`).
pub(crate) fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}
