//! Peer discovery: Kademlia seeded by the bootnodes, and mDNS on the local
//! network. Both only *find* peers; whether a connection may stay is still the
//! gate's decision (allowlist, bans, peer limit).
//!
//! Kademlia runs under a per-chain protocol name, so its routing table only
//! ever holds peers of our chain. Bootnodes with a `/p2p/<peer id>` suffix
//! seed it, identify adds every peer's listen addresses (inbound connections
//! alone do not tell us where a peer listens), and a periodic bootstrap
//! (self-lookup plus random bucket refreshes) walks the DHT; kademlia's own
//! lookups dial the peers they learn about, which is how a node that only
//! knows one bootnode ends up connected to that bootnode's other peers.
//!
//! Peers found by mDNS, or newly added to the routing table, are dialled by
//! us, but only while the node has room, and only peers the gate would accept:
//! not ourselves, not connected, not banned or blocked, and on consortium
//! chains only members. Our own dials in flight are capped and expire, so a
//! burst of discoveries cannot grow memory or sockets without bound.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use libp2p::{
    identify, kad, mdns,
    multiaddr::Protocol,
    swarm::dial_opts::{DialOpts, PeerCondition},
    Multiaddr, PeerId, StreamProtocol, Swarm,
};
use tracing::{debug, warn};

use crate::{behaviour::Behaviour, NetworkConfig, NetworkError};

/// At most this many discovery dials in flight at once.
const MAX_DISCOVERY_DIALS: usize = 8;
/// A discovery dial not resolved after this long no longer counts against the
/// cap (TCP connects to a silent host can hang for minutes).
const DIAL_EXPIRY: Duration = Duration::from_secs(30);
/// At most this many addresses per peer are taken from identify or mDNS; a
/// peer cannot make us store or dial an unbounded list.
const MAX_ADDRS_PER_PEER: usize = 8;

pub(crate) struct Discovery {
    local: PeerId,
    /// Bootnodes that name their peer id, for the routing table.
    bootnodes: Vec<(PeerId, Multiaddr)>,
    /// Our kademlia protocol when kademlia is on.
    kad_protocol: Option<StreamProtocol>,
    allowlist: Option<HashSet<PeerId>>,
    max_peers: usize,
    /// Our own discovery dials in flight, with when they started.
    dialing: HashMap<PeerId, Instant>,
}

impl Discovery {
    pub fn set_allowlist(&mut self, peers: HashSet<PeerId>) {
        self.allowlist = Some(peers);
    }

    pub fn new(config: &NetworkConfig, local: PeerId) -> Result<Self, NetworkError> {
        let kad_protocol = if config.kademlia {
            Some(config.kad_protocol()?)
        } else {
            None
        };
        let bootnodes = config
            .bootnodes
            .iter()
            .filter_map(|addr| match split_peer_id(addr) {
                Some(pair) => Some(pair),
                None => {
                    if config.kademlia {
                        warn!(%addr, "bootnode has no /p2p/<peer id> suffix; dialled, but not used to seed kademlia");
                    }
                    None
                }
            })
            .collect();
        Ok(Self {
            local,
            bootnodes,
            kad_protocol,
            allowlist: config.allowlist.clone(),
            max_peers: config.max_peers,
            dialing: HashMap::new(),
        })
    }

    /// Seeds the routing table with the bootnodes. Kademlia bootstraps by
    /// itself shortly after its routing table gains a peer.
    pub fn start(&mut self, swarm: &mut Swarm<Behaviour>) {
        let Some(kad) = swarm.behaviour_mut().kad.as_mut() else {
            return;
        };
        for (peer, addr) in &self.bootnodes {
            if *peer != self.local {
                kad.add_address(peer, addr.clone());
            }
        }
    }

    /// Periodic work: forget stalled dials, and walk the DHT again while the
    /// node has room for more peers.
    pub fn tick(&mut self, swarm: &mut Swarm<Behaviour>, connected: &HashSet<PeerId>) {
        let now = Instant::now();
        self.dialing
            .retain(|_, started| now.duration_since(*started) < DIAL_EXPIRY);
        if connected.len() < self.max_peers {
            bootstrap(swarm);
        }
    }

    /// A connection to `peer` is up. The first connection of a node is the
    /// moment its routing table becomes useful, so it bootstraps right away.
    pub fn on_connected(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId, first: bool) {
        self.dialing.remove(&peer);
        if first {
            bootstrap(swarm);
        }
    }

    /// A dial to `peer` failed (or was denied by the gate).
    pub fn on_dial_failed(&mut self, peer: PeerId) {
        self.dialing.remove(&peer);
    }

    /// Identify told us where a peer (already checked to be on our chain)
    /// listens: record it in the routing table if it speaks our kademlia.
    pub fn on_identify(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        peer: PeerId,
        info: identify::Info,
    ) {
        let Some(protocol) = &self.kad_protocol else {
            return;
        };
        if !info.protocols.contains(protocol) {
            return;
        }
        let Some(kad) = swarm.behaviour_mut().kad.as_mut() else {
            return;
        };
        for addr in info.listen_addrs.into_iter().take(MAX_ADDRS_PER_PEER) {
            kad.add_address(&peer, addr);
        }
    }

    pub fn on_kad(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        connected: &HashSet<PeerId>,
        event: kad::Event,
    ) {
        match event {
            kad::Event::RoutingUpdated {
                peer, addresses, ..
            } => {
                let addrs = addresses.iter().take(MAX_ADDRS_PER_PEER).cloned().collect();
                self.maybe_dial(swarm, connected, peer, addrs);
            }
            kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::Bootstrap(Err(e)),
                ..
            } => debug!(error = %e, "kademlia bootstrap did not finish"),
            // Inbound records and provider announcements are filtered out of
            // the store (see `build_kad`) and dropped here: kademlia is only
            // used to find peers.
            other => debug!(event = ?other, "kademlia event"),
        }
    }

    pub fn on_mdns(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        connected: &HashSet<PeerId>,
        event: mdns::Event,
    ) {
        let mdns::Event::Discovered(found) = event else {
            return; // expired records: kademlia drops addresses that fail by itself
        };
        let mut by_peer: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
        for (peer, addr) in found {
            let addrs = by_peer.entry(peer).or_default();
            if addrs.len() < MAX_ADDRS_PER_PEER {
                addrs.push(addr);
            }
        }
        for (peer, addrs) in by_peer {
            debug!(%peer, ?addrs, "found by mdns");
            if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                for addr in &addrs {
                    kad.add_address(&peer, addr.clone());
                }
            }
            self.maybe_dial(swarm, connected, peer, addrs);
        }
    }

    /// Dials a discovered peer if the gate would keep it and there is room.
    fn maybe_dial(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        connected: &HashSet<PeerId>,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
    ) {
        let member = self
            .allowlist
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&peer));
        if peer == self.local
            || !member
            || addrs.is_empty()
            || connected.contains(&peer)
            || self.dialing.contains_key(&peer)
            || self.dialing.len() >= MAX_DISCOVERY_DIALS
            || connected.len().saturating_add(self.dialing.len()) >= self.max_peers
            || swarm.behaviour().gate.is_banned(&peer)
            || swarm.behaviour().gate.is_blocked(&peer)
        {
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match swarm.dial(opts) {
            Ok(()) => {
                debug!(%peer, "dialling discovered peer");
                self.dialing.insert(peer, Instant::now());
            }
            Err(e) => debug!(%peer, error = %e, "not dialling discovered peer"),
        }
    }
}

fn bootstrap(swarm: &mut Swarm<Behaviour>) {
    if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
        if let Err(e) = kad.bootstrap() {
            debug!(error = %e, "kademlia bootstrap not started");
        }
    }
}

/// `addr` without its trailing `/p2p/<peer id>`, and that peer id.
fn split_peer_id(addr: &Multiaddr) -> Option<(PeerId, Multiaddr)> {
    let mut base = addr.clone();
    match base.pop() {
        Some(Protocol::P2p(peer)) => Some((peer, base)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootnode_peer_id_is_split_off() {
        let peer = PeerId::random();
        let addr: Multiaddr = format!("/ip4/10.0.0.1/tcp/30333/p2p/{peer}")
            .parse()
            .expect("valid address");
        let (id, base) = split_peer_id(&addr).expect("has a peer id");
        assert_eq!(id, peer);
        assert_eq!(base.to_string(), "/ip4/10.0.0.1/tcp/30333");
        let bare: Multiaddr = "/ip4/10.0.0.1/tcp/30333".parse().expect("valid address");
        assert!(split_peer_id(&bare).is_none());
    }
}
