//! The network task: owns the swarm, executes commands, turns swarm events
//! into [`NetworkEvent`]s.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use futures::StreamExt;
use libp2p::{
    gossipsub::{self, PublishError, TopicHash},
    identify,
    identity::Keypair,
    request_response::{self, InboundRequestId, OutboundRequestId, ResponseChannel},
    swarm::SwarmEvent,
    PeerId, Swarm,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::{
    behaviour::{build_swarm, Behaviour, BehaviourEvent},
    discovery::Discovery,
    gate::GateEvent,
    handle::{Command, Stats},
    peers::PeerBook,
    GossipKind, NetworkConfig, NetworkError, NetworkEvent, NetworkHandle, RefuseReason, RequestId,
    SyncResponse,
};

/// Non-gossip events waiting for room in the event channel. Bounded too: past
/// it events are dropped and counted, because blocking the swarm would stall
/// every peer.
const MAX_PENDING_EVENTS: usize = 1024;
/// How often to redial the bootnodes while the node has no peer.
const REDIAL_INTERVAL: Duration = Duration::from_secs(5);
/// How long `start` waits for the listener to bind.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts the network. The service itself is the spawned task; this type only
/// namespaces the constructor.
pub struct NetworkService;

impl NetworkService {
    /// Builds the swarm, binds the listen address (returning once it is bound,
    /// so `listen_addrs` is meaningful), dials the bootnodes and spawns the
    /// network task on the current tokio runtime.
    pub async fn start(
        config: NetworkConfig,
        keypair: Keypair,
    ) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
        config.validate()?;
        let local_peer_id = keypair.public().to_peer_id();
        let mut swarm = build_swarm(keypair, &config)?;
        let discovery = Discovery::new(&config, local_peer_id)?;

        let mut topics = HashMap::new();
        for kind in GossipKind::ALL {
            let topic = config.topic(kind);
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&topic)
                .map_err(|e| NetworkError::Build(format!("subscribe to {topic}: {e}")))?;
            topics.insert(topic.hash(), kind);
        }
        swarm
            .listen_on(config.listen.clone())
            .map_err(|e| NetworkError::Listen {
                addr: config.listen.clone(),
                reason: e.to_string(),
            })?;

        let (command_tx, command_rx) = mpsc::channel(config.command_buffer);
        let (event_tx, event_rx) = mpsc::channel(config.event_buffer);
        let stats = Arc::new(Stats::default());
        let mut task = Task {
            swarm,
            config,
            commands: command_rx,
            events: event_tx,
            events_closed: false,
            pending: VecDeque::new(),
            stats: stats.clone(),
            topics,
            connected: HashSet::new(),
            scores: HashMap::new(),
            inbound: HashMap::new(),
            inbound_ids: HashMap::new(),
            outbound: HashMap::new(),
            next_request_id: 0,
            discovery,
            book: PeerBook::default(),
        };
        task.wait_for_listener().await?;
        task.discovery.start(&mut task.swarm);
        task.dial_bootnodes();
        info!(peer_id = %local_peer_id, "network started");
        tokio::spawn(task.run());
        Ok((
            NetworkHandle::new(command_tx, local_peer_id, stats),
            event_rx,
        ))
    }
}

struct Task {
    swarm: Swarm<Behaviour>,
    config: NetworkConfig,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
    events_closed: bool,
    pending: VecDeque<NetworkEvent>,
    stats: Arc<Stats>,
    topics: HashMap<TopicHash, GossipKind>,
    connected: HashSet<PeerId>,
    scores: HashMap<PeerId, u32>,
    inbound: HashMap<RequestId, (InboundRequestId, ResponseChannel<SyncResponse>)>,
    inbound_ids: HashMap<InboundRequestId, RequestId>,
    outbound:
        HashMap<OutboundRequestId, (PeerId, oneshot::Sender<Result<SyncResponse, NetworkError>>)>,
    next_request_id: u64,
    discovery: Discovery,
    book: PeerBook,
}

impl Task {
    async fn wait_for_listener(&mut self) -> Result<(), NetworkError> {
        let listen = self.config.listen.clone();
        let wait = async {
            loop {
                match self.swarm.select_next_some().await {
                    SwarmEvent::NewListenAddr { address, .. } => {
                        info!(%address, "listening");
                        return Ok(());
                    }
                    SwarmEvent::ListenerError { error, .. } => {
                        return Err(NetworkError::Listen {
                            addr: listen.clone(),
                            reason: error.to_string(),
                        })
                    }
                    SwarmEvent::ListenerClosed { reason, .. } => {
                        return Err(NetworkError::Listen {
                            addr: listen.clone(),
                            reason: format!("listener closed: {reason:?}"),
                        })
                    }
                    other => self.on_swarm_event(other),
                }
            }
        };
        tokio::time::timeout(LISTEN_TIMEOUT, wait)
            .await
            .map_err(|_| NetworkError::Listen {
                addr: self.config.listen.clone(),
                reason: format!("no listen address after {LISTEN_TIMEOUT:?}"),
            })?
    }

    fn dial_bootnodes(&mut self) {
        for addr in self.config.bootnodes.clone() {
            if let Err(e) = self.swarm.dial(addr.clone()) {
                warn!(%addr, error = %e, "could not dial bootnode");
            }
        }
    }

    async fn run(mut self) {
        let mut redial = tokio::time::interval(REDIAL_INTERVAL);
        // The first tick is immediate; bootnodes were just dialled.
        redial.tick().await;
        let mut discover = tokio::time::interval(self.config.discovery_interval);
        // A busy task skips missed rounds instead of bootstrapping in a burst.
        discover.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Kademlia bootstraps by itself once its routing table has a peer.
        discover.tick().await;
        // A second sender, so waiting for room does not borrow `self`.
        let events = self.events.clone();
        let done = loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    None => break None,
                    Some(Command::Shutdown { done }) => break Some(done),
                    Some(command) => self.on_command(command),
                },
                permit = events.reserve(), if !self.pending.is_empty() && !self.events_closed => {
                    match permit {
                        Ok(permit) => {
                            if let Some(event) = self.pending.pop_front() {
                                permit.send(event);
                            }
                        }
                        Err(_) => {
                            // Nobody listens any more; stop queueing.
                            self.events_closed = true;
                            self.pending.clear();
                        }
                    }
                }
                _ = discover.tick() => self.discovery.tick(&mut self.swarm, &self.connected),
                _ = redial.tick() => {
                    if self.connected.is_empty() && !self.config.bootnodes.is_empty() {
                        debug!("no peers; redialling bootnodes");
                        self.dial_bootnodes();
                    }
                    self.book.redial_statics(&mut self.swarm);
                }
            }
        };
        info!("network stopping");
        // Dropping the swarm closes every connection before we confirm.
        drop(self.swarm);
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    /// Queues a non-gossip event for the node, dropping it (counted) if the
    /// node is too far behind.
    fn emit(&mut self, event: NetworkEvent) {
        if self.events_closed {
            return;
        }
        if self.pending.is_empty() {
            match self.events.try_send(event) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => self.events_closed = true,
                Err(mpsc::error::TrySendError::Full(event)) => self.pending.push_back(event),
            }
        } else if self.pending.len() < MAX_PENDING_EVENTS {
            self.pending.push_back(event);
        } else {
            self.stats.dropped_events.fetch_add(1, Ordering::Relaxed);
            warn!("event queue full; dropping a network event");
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => info!(%address, "listening"),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                self.book.on_established(peer_id, connection_id, &endpoint);
                if self.connected.insert(peer_id) {
                    debug!(peer = %peer_id, addr = %endpoint.get_remote_address(), "peer connected");
                    let first = self.connected.len() == 1;
                    self.discovery.on_connected(&mut self.swarm, peer_id, first);
                    self.emit(NetworkEvent::PeerConnected(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.book.on_closed(peer_id, connection_id);
                if num_established == 0 && self.connected.remove(&peer_id) {
                    debug!(peer = %peer_id, "peer disconnected");
                    self.emit(NetworkEvent::PeerDisconnected(peer_id));
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, %error, "outgoing connection failed");
                if let Some(peer) = peer_id {
                    self.discovery.on_dial_failed(peer);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gate(GateEvent { peer, reason })) => {
                warn!(%peer, %reason, "refused connection: peer {peer} is {reason}");
                self.emit(NetworkEvent::Refused { peer, reason });
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_identify(peer_id, info),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(event)) => {
                self.discovery
                    .on_kad(&mut self.swarm, &self.connected, event)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(event)) => {
                self.discovery
                    .on_mdns(&mut self.swarm, &self.connected, event)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message,
                ..
            })) => self.on_gossip(propagation_source, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            _ => {}
        }
    }

    /// A peer on our chain tells discovery where it listens.
    fn on_identify(&mut self, peer: PeerId, info: identify::Info) {
        if self.check_chain(peer, &info.protocol_version) {
            self.book.on_identify(peer, &info);
            self.discovery.on_identify(&mut self.swarm, peer, info);
        }
    }

    /// Different genesis means different topics already, but a peer on another
    /// chain only wastes a slot, so it is cut as soon as identify tells us.
    /// Returns whether the peer is on our chain.
    fn check_chain(&mut self, peer: PeerId, theirs: &str) -> bool {
        let ours = self.config.identify_version();
        if theirs == ours {
            return true;
        }
        let reason = RefuseReason::WrongChain {
            theirs: theirs.to_string(),
            ours,
        };
        warn!(%peer, %reason, "disconnecting peer on another chain");
        let _ = self.swarm.disconnect_peer_id(peer);
        self.emit(NetworkEvent::Refused { peer, reason });
        false
    }

    fn on_gossip(&mut self, propagation_source: PeerId, message: gossipsub::Message) {
        let Some(kind) = self.topics.get(&message.topic).copied() else {
            debug!(topic = %message.topic, "gossip on a topic we do not follow");
            return;
        };
        let event = NetworkEvent::Gossip {
            from: message.source.unwrap_or(propagation_source),
            kind,
            data: message.data,
        };
        // Gossip is the bulk of traffic and is re-sent by other peers, so
        // when the node falls behind it is dropped rather than queued.
        if let Err(mpsc::error::TrySendError::Full(_)) = self.events.try_send(event) {
            self.stats.dropped_gossip.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_sync(&mut self, event: request_response::Event<crate::SyncRequest, SyncResponse>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => {
                    if self.pending.len() >= MAX_PENDING_EVENTS {
                        // Dropping the channel tells the peer we will not answer.
                        self.stats.dropped_events.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    let id = RequestId(self.next_request_id);
                    self.next_request_id = self.next_request_id.wrapping_add(1);
                    self.inbound.insert(id, (request_id, channel));
                    self.inbound_ids.insert(request_id, id);
                    self.emit(NetworkEvent::Request {
                        from: peer,
                        id,
                        request,
                    });
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((_, reply)) = self.outbound.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((peer, reply)) = self.outbound.remove(&request_id) {
                    let _ = reply.send(Err(NetworkError::Request {
                        peer,
                        reason: error_chain(&error),
                    }));
                }
            }
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, %error, "inbound sync request failed");
                if let Some(id) = self.inbound_ids.remove(&request_id) {
                    self.inbound.remove(&id);
                }
            }
            request_response::Event::ResponseSent { request_id, .. } => {
                self.inbound_ids.remove(&request_id);
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { kind, data, reply } => {
                let topic = self.config.topic(kind);
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(topic, data)
                    .map(|_| ())
                    .map_err(|e| match e {
                        PublishError::NoPeersSubscribedToTopic => NetworkError::NoPeers { kind },
                        other => NetworkError::Publish {
                            kind,
                            reason: other.to_string(),
                        },
                    });
                let _ = reply.send(result);
            }
            Command::Request {
                peer,
                request,
                reply,
            } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.outbound.insert(id, (peer, reply));
            }
            Command::Respond {
                id,
                response,
                reply,
            } => {
                let result = match self.inbound.remove(&id) {
                    Some((_, channel)) => self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, response)
                        .map_err(|_| NetworkError::UnknownRequest(id.0)),
                    None => Err(NetworkError::UnknownRequest(id.0)),
                };
                let _ = reply.send(result);
            }
            Command::Report { peer, misbehaviour } => self.report(peer, misbehaviour),
            Command::Dial { addr, reply } => {
                let result = self
                    .swarm
                    .dial(addr.clone())
                    .map_err(|e| NetworkError::Dial {
                        addr,
                        reason: error_chain(&e),
                    });
                let _ = reply.send(result);
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.connected.iter().copied().collect());
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::PeerInfos { reply } => {
                let _ = reply.send(self.book.infos());
            }
            Command::AddPeer { addr, reply } => {
                let _ = reply.send(self.book.add(&mut self.swarm, addr));
            }
            Command::RemovePeer { peer, reply } => {
                let _ = reply.send(self.book.remove(&mut self.swarm, peer));
            }
            Command::Block { peer, reply } => {
                self.book.block(&mut self.swarm, peer);
                let _ = reply.send(());
            }
            Command::Unblock { peer, reply } => {
                let _ = reply.send(self.book.unblock(&mut self.swarm, peer));
            }
            Command::Blocked { reply } => {
                let mut blocked: Vec<PeerId> =
                    self.swarm.behaviour().gate.blocked().copied().collect();
                blocked.sort();
                let _ = reply.send(blocked);
            }
            Command::SetAllowlist { peers, reply } => {
                if self.swarm.behaviour().gate.has_allowlist() {
                    self.discovery.set_allowlist(peers.clone());
                    let gone: Vec<PeerId> = self
                        .swarm
                        .connected_peers()
                        .filter(|p| !peers.contains(p))
                        .copied()
                        .collect();
                    self.swarm.behaviour_mut().gate.set_allowlist(peers);
                    for peer in gone {
                        info!(%peer, "no longer a member: disconnecting");
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                }
                let _ = reply.send(());
            }
            Command::Shutdown { .. } => {} // handled in `run`
        }
    }

    fn report(&mut self, peer: PeerId, misbehaviour: crate::Misbehaviour) {
        let score = self.scores.entry(peer).or_insert(0);
        *score = score.saturating_add(misbehaviour.penalty());
        let score = *score;
        debug!(%peer, ?misbehaviour, score, "peer penalised");
        if score >= self.config.ban_threshold {
            let behaviour = self.swarm.behaviour_mut();
            if behaviour.gate.is_banned(&peer) {
                return;
            }
            warn!(%peer, ?misbehaviour, score, "banning misbehaving peer");
            behaviour.gate.ban(peer, self.config.ban_duration);
            // The ban starts a clean slate for when it expires.
            self.scores.remove(&peer);
            self.emit(NetworkEvent::Refused {
                peer,
                reason: RefuseReason::Misbehaved { score },
            });
        }
    }
}

/// libp2p errors keep the useful part (e.g. why the gate denied a dial) in
/// their `source`, which `Display` leaves out.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
