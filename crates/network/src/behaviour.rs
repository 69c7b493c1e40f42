//! The composed libp2p behaviour and the swarm built from it.

use std::time::Duration;

use libp2p::{
    gossipsub, identify,
    identity::Keypair,
    noise, ping,
    request_response::{self, cbor, ProtocolSupport},
    swarm::NetworkBehaviour,
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

    let identify = identify::Behaviour::new(identify::Config::new(
        config.identify_version(),
        key.public(),
    ));

    let max = u64::try_from(config.max_message_size).unwrap_or(u64::MAX);
    let codec = cbor::codec::Codec::default()
        .set_request_size_maximum(max)
        .set_response_size_maximum(max);
    let sync = request_response::Behaviour::with_codec(
        codec,
        [(config.sync_protocol()?, ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(config.request_timeout),
    );

    Ok(Behaviour {
        gate: Gate::new(config.allowlist.clone(), config.max_peers),
        identify,
        ping: ping::Behaviour::default(),
        gossipsub,
        sync,
    })
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
