//! The composed libp2p behaviour and the swarm built from it.

use std::time::Duration;

use libp2p::{
    gossipsub, identify,
    identity::Keypair,
    kad::{self, store::MemoryStore, store::MemoryStoreConfig, StoreInserts},
    mdns, noise, ping,
    request_response::{self, cbor, ProtocolSupport},
    swarm::{behaviour::toggle::Toggle, NetworkBehaviour},
    tcp, yamux, Swarm, SwarmBuilder,
};
use sha2::{Digest, Sha256};

use crate::{gate::Gate, NetworkConfig, NetworkError, SyncRequest, SyncResponse};

/// Field order matters: the gate comes first so a denied connection never
/// reaches the other protocols.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub gate: Gate,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub sync: cbor::Behaviour<SyncRequest, SyncResponse>,
    /// Present when [`NetworkConfig::kademlia`] is set.
    pub kad: Toggle<kad::Behaviour<MemoryStore>>,
    /// Present when [`NetworkConfig::mdns`] is set.
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}

/// Gossip message ids hash topic and content, so the same transaction or
/// block gossiped by several nodes is delivered (and forwarded) once.
fn message_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    let mut hasher = Sha256::new();
    hasher.update(message.topic.as_str().as_bytes());
    hasher.update(&message.data);
    gossipsub::MessageId::new(&hasher.finalize()[..20])
}

fn build_behaviour(key: &Keypair, config: &NetworkConfig) -> Result<Behaviour, NetworkError> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(config.gossip_heartbeat)
        .heartbeat_initial_delay(Duration::from_millis(100))
        .max_transmit_size(config.max_gossip_size)
        .validation_mode(gossipsub::ValidationMode::Strict)
        .message_id_fn(message_id)
        .build()
        .map_err(|e| NetworkError::Build(format!("gossipsub config: {e}")))?;
    let gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossip_config,
    )
    .map_err(|e| NetworkError::Build(format!("gossipsub: {e}")))?;

    let identify = identify::Behaviour::new(
        identify::Config::new(config.identify_version(), key.public())
            .with_agent_version(config.agent_version.clone()),
    );

    let max = u64::try_from(config.max_message_size).unwrap_or(u64::MAX);
    let codec = cbor::codec::Codec::default()
        .set_request_size_maximum(max)
        .set_response_size_maximum(max);
    let sync = request_response::Behaviour::with_codec(
        codec,
        [(config.sync_protocol()?, ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(config.request_timeout),
    );

    let kad = if config.kademlia {
        Some(build_kad(key, config)?)
    } else {
        None
    };
    let mdns = if config.mdns {
        let mdns_config = mdns::Config {
            query_interval: config.discovery_interval,
            ..mdns::Config::default()
        };
        Some(
            mdns::tokio::Behaviour::new(mdns_config, key.public().to_peer_id())
                .map_err(|e| NetworkError::Build(format!("mdns: {e}")))?,
        )
    } else {
        None
    };

    Ok(Behaviour {
        gate: Gate::new(config.allowlist.clone(), config.max_peers),
        identify,
        ping: ping::Behaviour::default(),
        gossipsub,
        sync,
        kad: Toggle::from(kad),
        mdns: Toggle::from(mdns),
    })
}

/// Kademlia is used only to find peers, never to store records: inbound
/// records and provider announcements are filtered (handed to the service,
/// which ignores them) so a peer cannot fill our memory, and the store is
/// kept tiny.
fn build_kad(
    key: &Keypair,
    config: &NetworkConfig,
) -> Result<kad::Behaviour<MemoryStore>, NetworkError> {
    let local = key.public().to_peer_id();
    let mut kad_config = kad::Config::new(config.kad_protocol()?);
    kad_config
        .set_record_filtering(StoreInserts::FilterBoth)
        // The service bootstraps on its own timer, and only while it has room
        // for more peers; kademlia still bootstraps by itself when its routing
        // table is small and gains a peer (i.e. soon after the first connection).
        .set_periodic_bootstrap_interval(None);
    let store = MemoryStore::with_config(
        local,
        MemoryStoreConfig {
            max_records: 16,
            max_value_bytes: 1024,
            max_providers_per_key: 1,
            max_provided_keys: 16,
        },
    );
    let mut kad = kad::Behaviour::with_config(local, store, kad_config);
    // Server mode: answer lookups even without a confirmed external address,
    // which private and LAN deployments never get.
    kad.set_mode(Some(kad::Mode::Server));
    Ok(kad)
}

/// TCP + noise + yamux, with the behaviour above. Connections stay open while
/// idle: a chain node keeps its peers.
pub fn build_swarm(
    keypair: Keypair,
    config: &NetworkConfig,
) -> Result<Swarm<Behaviour>, NetworkError> {
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Build(format!("tcp/noise/yamux transport: {e}")))?
        .with_behaviour(|key| build_behaviour(key, config).map_err(Box::from))
        .map_err(|e| NetworkError::Build(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    Ok(swarm)
}
