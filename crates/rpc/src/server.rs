//! Starting and stopping the server: HTTP and WebSocket share one port
//! (jsonrpsee upgrades a connection to WebSocket when asked).

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::core::traits::IdProvider;
use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, BatchRequestConfig, Methods, PingConfig, Server,
    ServerConfig, ServerHandle,
};
use jsonrpsee::types::SubscriptionId;
use jsonrpsee::RpcModule;

use crate::admin::AdminRpc;
use crate::api::{
    AdminApiServer, EthApiServer, MiningApiServer, NetApiServer, TallyApiServer, Web3ApiServer,
};
use crate::assets::{AssetsApiServer, AssetsRpc};
use crate::backend::Backend;
use crate::bft::{BftApiServer, BftRpc};
use crate::error::RpcError;
use crate::eth::EthRpc;
use crate::logs::LogLimits;
use crate::mining::MiningRpc;
use crate::misc::MiscRpc;
use crate::proofs::{ProofsApiServer, ProofsRpc};
use crate::sql::{SqlApiServer, SqlRpc};
use crate::ws_limit::{Admit, WsLimits};

/// Server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    /// Where to listen; port 0 picks a free port (see
    /// [`RpcServerHandle::local_addr`]).
    pub addr: SocketAddr,
    /// Most HTTP requests served at once.
    pub max_connections: u32,
    /// Most open WebSocket connections, counted apart from HTTP requests
    /// (so subscriptions never lock HTTP out).
    pub max_ws_connections: u32,
    /// Most open WebSocket connections from one IP address.
    pub max_ws_per_ip: u32,
    /// Largest request body accepted, in bytes.
    pub max_request_body_bytes: u32,
    /// Largest response body sent, in bytes.
    pub max_response_body_bytes: u32,
    /// Most calls in one batch request.
    pub max_batch_len: u32,
    /// Most blocks one `eth_getLogs` range may span.
    pub max_block_range: u64,
    /// Most logs one `eth_getLogs` may return.
    pub max_logs: usize,
    /// Origins browsers may call from (`["*"]` for any); empty disables
    /// CORS headers.
    pub cors_origins: Vec<String>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8545)),
            max_connections: 100,
            max_ws_connections: 500,
            max_ws_per_ip: 100,
            max_request_body_bytes: 10 * 1024 * 1024,
            max_response_body_bytes: 50 * 1024 * 1024,
            max_batch_len: 1_000,
            max_block_range: 10_000,
            max_logs: 10_000,
            cors_origins: vec!["*".to_string()],
        }
    }
}

impl RpcConfig {
    /// Refuses caps of 0: a WebSocket budget of 0 would refuse every
    /// WebSocket with "too many connections", which reads as an overload,
    /// not as a setting.
    pub fn check(&self) -> Result<(), RpcError> {
        for (name, value) in [
            ("max_ws_connections", self.max_ws_connections),
            ("max_ws_per_ip", self.max_ws_per_ip),
        ] {
            if value == 0 {
                return Err(RpcError::Config(format!(
                    "{name} is 0: it must be at least 1 (WebSocket connections allowed open)"
                )));
            }
        }
        Ok(())
    }
}

/// A running server. Dropping the handle does not stop it; call
/// [`RpcServerHandle::stop`].
#[derive(Debug, Clone)]
pub struct RpcServerHandle {
    local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcServerHandle {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.local_addr)
    }

    /// Asks the server to stop; open connections are closed.
    pub fn stop(&self) {
        // Stopping twice is harmless: the error only says it already stopped.
        let _ = self.handle.stop();
    }

    /// Resolves once the server has stopped.
    pub async fn stopped(self) {
        self.handle.stopped().await
    }
}

/// All methods, ready to serve (also usable in-process without a socket).
pub fn rpc_module(config: &RpcConfig, backend: Arc<dyn Backend>) -> RpcModule<()> {
    let limits = LogLimits {
        max_block_range: config.max_block_range.max(1),
        max_logs: config.max_logs,
    };
    let eth = EthRpc::new(backend.clone(), limits);
    let admin = AdminRpc {
        backend: backend.clone(),
    };
    let mining = MiningRpc {
        backend: backend.clone(),
    };
    let bft = BftRpc {
        backend: backend.clone(),
    };
    let assets = AssetsRpc {
        backend: backend.clone(),
        limits,
    };
    let proofs = ProofsRpc {
        backend: backend.clone(),
    };
    let sql = SqlRpc {
        backend: backend.clone(),
    };
    let misc = MiscRpc { backend };
    let mut module = RpcModule::new(());
    // Method names are unique across namespaces by construction, so merging
    // cannot fail; should it ever, the duplicate is logged and skipped.
    for other in [
        eth.into_rpc().remove_context(),
        Web3ApiServer::into_rpc(misc.clone()).remove_context(),
        NetApiServer::into_rpc(misc.clone()).remove_context(),
        TallyApiServer::into_rpc(misc).remove_context(),
        admin.into_rpc().remove_context(),
        mining.into_rpc().remove_context(),
        bft.into_rpc().remove_context(),
        assets.into_rpc().remove_context(),
        proofs.into_rpc().remove_context(),
        sql.into_rpc().remove_context(),
    ] {
        if let Err(e) = module.merge(other) {
            tracing::error!(error = %e, "duplicate RPC method name");
        }
    }
    module
}

/// Binds `config.addr` and serves the Ethereum JSON-RPC API over HTTP and
/// WebSocket until stopped. The accept loop is Tally's own so that each
/// connection knows its peer's address: WebSocket handshakes draw on their
/// own budgets ([`crate::ws_limit`]), HTTP requests on `max_connections`.
pub async fn start(
    config: RpcConfig,
    backend: Arc<dyn Backend>,
) -> Result<RpcServerHandle, RpcError> {
    config.check()?;
    let metrics = crate::metrics_http::MetricsLayer::new(backend.clone());
    let module = rpc_module(&config, backend);
    let server_config = ServerConfig::builder()
        // jsonrpsee counts HTTP requests in flight and WebSocket connections
        // against one limit: room for both, WebSockets capped apart.
        .max_connections(
            config
                .max_connections
                .saturating_add(config.max_ws_connections),
        )
        .max_request_body_size(config.max_request_body_bytes)
        .max_response_body_size(config.max_response_body_bytes)
        .set_id_provider(HexIdProvider)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
        // Drop WebSocket peers that stop answering pings.
        .enable_ws_ping(PingConfig::new())
        .build();
    let addr = config.addr;
    let bind_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            RpcError::AddrInUse { addr }
        } else {
            RpcError::Bind { addr, source }
        }
    };
    let cors = crate::cors::CorsLayer::new(&config.cors_origins)?;
    let request_id = crate::request_id::RequestIdLayer::new(config.max_request_body_bytes);
    let builder = Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(cors)
                .layer(metrics)
                .layer(request_id),
        )
        .to_service_builder();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_err)?;
    let local_addr = listener.local_addr().map_err(bind_err)?;
    let (stop, handle) = stop_channel();
    let limits = WsLimits::new(config.max_ws_connections, config.max_ws_per_ip);
    let methods: Methods = module.into();
    tokio::spawn(async move {
        loop {
            let (socket, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors, say: wait rather than spin.
                        tracing::warn!(error = %e, "RPC server cannot accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = stop.clone().shutdown() => break,
            };
            let service = Admit {
                inner: builder.clone().build(methods.clone(), stop.clone()),
                limits: limits.clone(),
                remote: remote.ip(),
            };
            let stopped = stop.clone().shutdown();
            tokio::spawn(async move {
                if let Err(e) = serve_with_graceful_shutdown(socket, service, stopped).await {
                    tracing::debug!(%remote, error = %e, "RPC connection ended with an error");
                }
            });
        }
    });
    tracing::info!(%local_addr, "JSON-RPC server listening (HTTP and WebSocket)");
    Ok(RpcServerHandle { local_addr, handle })
}

/// A fresh random id in Ethereum's `0x…` hex form, for subscriptions and
/// polling filters.
pub fn random_hex_id() -> String {
    format!("{:#x}", rand::random::<u128>() | 1)
}

/// Subscription ids as geth makes them (hex strings), which some clients
/// expect rather than JSON numbers.
#[derive(Debug, Clone, Copy)]
struct HexIdProvider;

impl IdProvider for HexIdProvider {
    fn next_id(&self) -> SubscriptionId<'static> {
        SubscriptionId::Str(random_hex_id().into())
    }
}
