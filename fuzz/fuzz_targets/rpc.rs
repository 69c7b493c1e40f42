//! What the JSON-RPC server parses itself: the ids of a request body (the
//! `RequestIdLayer` in front of jsonrpsee) and every method's parameters
//! (block numbers and tags, EIP-1898 block ids, filters, call requests,
//! fee-history percentiles, …), served by a stub node.
//!
//! Input: one byte choosing the method, then the `params` JSON text.
//! The whole input is also sent as a raw HTTP body to the id check.
#![no_main]

use std::{convert::Infallible, sync::Arc, sync::OnceLock};

use http::{Request, Response};
use http_body_util::Full;
use jsonrpsee::{server::HttpBody, RpcModule};
use libfuzzer_sys::fuzz_target;
use tally_fuzz::rpc_stub::StubNode;
use tally_rpc::{rpc_module, RequestIdLayer, RpcConfig};
use tower::{Layer, ServiceExt};

struct Server {
    runtime: tokio::runtime::Runtime,
    module: RpcModule<()>,
    methods: Vec<&'static str>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let module = runtime
            .block_on(async { rpc_module(&RpcConfig::default(), Arc::new(StubNode::default())) });
        let mut methods: Vec<&'static str> = module.method_names().collect();
        methods.sort_unstable();
        Server {
            runtime,
            module,
            methods,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let server = server();
    let Some((&pick, params)) = data.split_first() else {
        return;
    };
    if let Ok(params) = std::str::from_utf8(params) {
        let method = server.methods[usize::from(pick) % server.methods.len()];
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
        let _ = server
            .runtime
            .block_on(server.module.raw_json_request(&request, 1));
    }

    let inner = tower::service_fn(|_: Request<HttpBody>| async {
        Ok::<_, Infallible>(Response::new(HttpBody::empty()))
    });
    let service = RequestIdLayer::new(1 << 20).layer(inner);
    let body = Request::post("/").body(Full::new(bytes::Bytes::copy_from_slice(data)));
    let _ = server
        .runtime
        .block_on(service.oneshot(body.expect("a POST request")));
});
