//! Writes the seed corpus, `fuzz/corpus/<target>/`: small, real, valid
//! inputs for each target, built with the project's own encoders (signed
//! transactions, blocks, signed consensus messages, chain specs, proofs
//! and keystores), so each run starts deep inside the decoders.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example make_corpus
//!
//! Files are named by content, so running it again changes nothing unless
//! an encoding changed.

use std::path::{Path, PathBuf};

use aes::cipher::{KeyIvInit, StreamCipher};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use futures::{executor::block_on, io::Cursor};
use libp2p::{
    request_response::{cbor, Codec},
    StreamProtocol,
};
use sha3::{Digest, Keccak256};
use tally_consensus::bft::{sign_proposal, sign_vote};
use tally_fuzz::{proofs::*, validator_keys, CHAIN_ID};
use tally_network::{SyncRequest, SyncResponse};
use tally_primitives::{
    bft::{SignedVoteRecord, VoteKind},
    Account, BftExtra, Block, ChainSpec, EngineSpec, Evidence, Receipt,
};
use tally_storage::codec::{self, Changeset, StoredBody};
use tally_verify::{pow::POW_LIMIT_BITS, state::compact::CompactProof, Finality};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let w = world(4, 30);
    let keys: Vec<_> = (1..=4).map(ed_key).collect();
    let block = Block {
        header: header(&w, NUMBER, B256::repeat_byte(7), Bytes::new()),
        transactions: w.txs.clone(),
    };
    let raw_txs: Vec<Bytes> = w.txs.iter().map(|t| t.encoded_2718().into()).collect();

    let seeds = Seeds::new(&root, "raw_tx");
    raw_txs.iter().for_each(|t| seeds.put(t));

    let seeds = Seeds::new(&root, "block");
    let bft = bft_header(&w, NUMBER, &keys);
    seeds.put(alloy_rlp::encode(&block));
    seeds.put(alloy_rlp::encode(&block.header));
    seeds.put(alloy_rlp::encode(&bft));
    seeds.put(alloy_rlp::encode(certificate(&keys, NUMBER, bft.hash())));

    // The consensus topic's wrapper (see fuzz_targets/gossip.rs).
    #[derive(RlpEncodable, RlpDecodable)]
    struct Wire {
        message: Bytes,
        block: Vec<Block>,
        sent_at: u64,
    }
    let nodes = validator_keys();
    let value = block.header.hash();
    let vote = sign_vote(&nodes[1], CHAIN_ID, VoteKind::Prevote, NUMBER, 0, value);
    let proposal = sign_proposal(&nodes[0], CHAIN_ID, NUMBER, 1, Some(0), value);
    let vote = tally_consensus::bft::ConsensusMessage::Vote(vote).encode();
    let proposal = tally_consensus::bft::ConsensusMessage::Proposal(proposal).encode();

    let seeds = Seeds::new(&root, "gossip");
    seeds.put(alloy_rlp::encode(&raw_txs));
    for (message, blocks) in [(&vote, vec![]), (&proposal, vec![block.clone()])] {
        seeds.put(alloy_rlp::encode(Wire {
            message: Bytes::copy_from_slice(message),
            block: blocks,
            sent_at: 1_796_119_200_000,
        }));
    }

    let seeds = Seeds::new(&root, "consensus");
    seeds.put(&vote);
    seeds.put(&proposal);
    seeds.put(&bft.extra_data);
    let precommit = |v: B256| sign_vote(&nodes[2], CHAIN_ID, VoteKind::Precommit, NUMBER, 0, v);
    let (a, b) = (precommit(value), precommit(B256::repeat_byte(1)));
    let record = |v: &tally_consensus::bft::VoteMsg| SignedVoteRecord {
        value: v.value,
        signature: v.signature,
    };
    let evidence = Evidence {
        validator: a.validator,
        height: NUMBER,
        round: 0,
        kind: VoteKind::Precommit.code(),
        first: record(&a),
        second: record(&b),
    }
    .canonical();
    seeds.put(
        BftExtra {
            round: 2,
            last_commit: vec![certificate(&keys, NUMBER - 1, B256::repeat_byte(3))],
            evidence: vec![evidence],
        }
        .encode(),
    );

    let seeds = Seeds::new(&root, "sync_wire");
    let protocol = StreamProtocol::new("/tally/sync/1");
    let mut cbor = cbor::codec::Codec::<SyncRequest, SyncResponse>::default();
    for request in [
        SyncRequest::BlocksByRange {
            start: 1,
            count: 128,
        },
        SyncRequest::BlockByHash([7; 32]),
        SyncRequest::Status,
        SyncRequest::HeadersByRange {
            start: 5,
            count: 64,
        },
        SyncRequest::Certificate { number: 9 },
    ] {
        let mut out = Cursor::new(Vec::new());
        block_on(cbor.write_request(&protocol, &mut out, request)).expect("encodes");
        seeds.put(out.into_inner());
    }
    let block_rlp = alloy_rlp::encode(&block);
    for response in [
        SyncResponse::Blocks(vec![block_rlp.clone()]),
        SyncResponse::Block(Some(block_rlp)),
        SyncResponse::Headers(vec![alloy_rlp::encode(&bft)]),
        SyncResponse::Certificate(Some(alloy_rlp::encode(certificate(&keys, 3, value)))),
        SyncResponse::Status {
            genesis: [1; 32],
            head_number: 12,
            head_hash: value.0,
            head_weight: 13u128.to_be_bytes(),
        },
        SyncResponse::Error("no such block".into()),
    ] {
        let mut out = Cursor::new(Vec::new());
        block_on(cbor.write_response(&protocol, &mut out, response)).expect("encodes");
        seeds.put(out.into_inner());
    }

    let seeds = Seeds::new(&root, "chain_spec");
    let mut with_alloc = ChainSpec::dev(Default::default(), 1000);
    with_alloc.alloc.insert(ALICE, Default::default());
    for spec in [
        with_alloc,
        authority_spec(&keys[0]),
        bft_spec(&keys),
        pow_spec(POW_LIMIT_BITS, 6),
    ] {
        assert!(!matches!(spec.engine, EngineSpec::Pow(_)) || spec.timestamp != 0);
        seeds.put(spec.to_toml());
    }

    let seeds = Seeds::new(&root, "node_config");
    let peer = tally_network::peer_id_from_ed25519_secret([1; 32]).expect("a key");
    seeds.put(format!("/ip4/127.0.0.1/tcp/30303/p2p/{peer}"));
    seeds.put(format!("/dns4/node-1.example/tcp/30304/p2p/{peer}"));
    seeds.put("/ip6/::1/tcp/0");
    seeds.put(peer.to_string());
    seeds.put(nodes[0].node_id());

    let seeds = Seeds::new(&root, "keystore");
    let keystore = keystore_json(&[0x11; 32], "fuzz");
    let dir = std::env::temp_dir().join(format!("tally-make-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(dir.join("key"), &keystore).expect("write the keystore");
    let opened = tally_crypto::keystore::decrypt_key(&dir.join("key"), "fuzz");
    assert!(opened.is_ok(), "the seed keystore opens: {opened:?}");
    std::fs::remove_dir_all(&dir).ok();
    seeds.put(keystore);
    seeds.put(format!("0x{}\n", hex(&nodes[0].to_bytes())));

    let seeds = Seeds::new(&root, "rpc");
    let genesis = tally_fuzz::rpc_stub::genesis().header.hash();
    for (method, params) in [
        ("eth_getBlockByNumber", r#"["latest",true]"#.to_string()),
        ("eth_getBlockByHash", format!(r#"["{genesis}",false]"#)),
        (
            "eth_getBalance",
            format!(r#"["{ALICE}",{{"blockHash":"{genesis}"}}]"#),
        ),
        ("eth_feeHistory", r#"["0x4","latest",[10,50,90]]"#.into()),
        (
            "eth_getLogs",
            format!(
                r#"[{{"fromBlock":"earliest","toBlock":"latest","address":"{ALICE}","topics":[null,["{genesis}"]]}}]"#
            ),
        ),
        (
            "eth_newFilter",
            r#"[{"fromBlock":"0x0","topics":[]}]"#.into(),
        ),
        (
            "eth_call",
            format!(
                r#"[{{"from":"{ALICE}","to":"{CONTRACT}","data":"0xdeadbeef","value":"0x1"}},"pending"]"#
            ),
        ),
        (
            "eth_estimateGas",
            format!(r#"[{{"to":"{ALICE}","value":"0x10"}}]"#),
        ),
        ("eth_sendRawTransaction", format!(r#"["{}"]"#, raw_txs[0])),
        ("eth_getProof", format!(r#"["{ALICE}",["0x01"],"safe"]"#)),
        (
            "eth_getStorageAt",
            format!(r#"["{CONTRACT}","0x0","finalized"]"#),
        ),
    ] {
        let methods = rpc_methods();
        let index = methods
            .iter()
            .position(|m| m == method)
            .expect("a method the node serves");
        let mut input = vec![index as u8];
        input.extend_from_slice(params.as_bytes());
        seeds.put(input);
    }
    seeds.put(r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":{"a":1},"method":"x"}]"#);

    let seeds = Seeds::new(&root, "proof_file");
    // Every seed proof checks, so the fuzzer starts past the spec checks.
    let checked = |proof: tally_verify::Proof, spec: &ChainSpec| {
        let verdict = tally_verify::check(&proof, spec, &Default::default());
        assert!(verdict.is_ok(), "the seed proof checks: {verdict:?}");
        json(&proof)
    };
    let sealed = authority_sealed(header(&w, NUMBER, B256::ZERO, Bytes::new()), &keys[0]);
    let authority = authority_spec(&keys[0]);
    for (_, claim) in all_claims(&w) {
        let proof = make_proof(&authority, claim, &sealed, Finality::Authority);
        seeds.put(checked(proof, &authority));
    }
    let bft_spec = bft_spec(&keys);
    let finality = bft_finality(&w, &keys, &keys[..3], &keys[..3], 5, &bft);
    let proof = make_proof(&bft_spec, notary_claim(&w, 0), &bft, finality);
    seeds.put(checked(proof, &bft_spec));
    let pow = pow_spec(POW_LIMIT_BITS, 1);
    let mut h = header(&w, NUMBER, B256::ZERO, Bytes::new());
    h.bits = POW_LIMIT_BITS;
    let h = mine(h);
    let descendants = pow_descendants(&w, &pow, &h, &[TIME + 2]);
    let proof = make_proof(&pow, tx_claim(&w, 0, true), &h, pow_finality(&descendants));
    seeds.put(checked(proof, &pow));

    let seeds = Seeds::new(&root, "state_proof");
    let present = w.tree.prove_account(&ALICE);
    seeds.put(&present);
    seeds.put(w.tree.prove_account(&NOBODY));
    seeds.put(w.tree.prove_jmt(tally_verify::state::account_key(&ALICE)));
    assert!(CompactProof::decode(&present).is_ok());

    let seeds = Seeds::new(&root, "storage_codec");
    seeds.put(codec::encode_account(&w.alice));
    seeds.put(codec::encode_opt_account(&Some(w.alice)));
    seeds.put(
        Changeset {
            accounts: vec![(ALICE, Some(Account::default())), (NOBODY, None)],
            storage: vec![(CONTRACT, U256::from(1), U256::from(2))],
        }
        .encode(),
    );
    seeds.put(alloy_rlp::encode(StoredBody {
        transactions: w.txs.clone(),
        senders: vec![sender(); w.txs.len()],
    }));
    seeds.put(codec::encode_receipts(&w.receipts));
    seeds.put(alloy_rlp::encode(&bft));
    seeds.put(tally_storage::keys::tx_lookup_value(12, 3));
    let _: Vec<Receipt> = alloy_rlp::decode_exact(codec::encode_receipts(&w.receipts)).unwrap();
}

/// One target's corpus directory.
struct Seeds(PathBuf);

impl Seeds {
    fn new(root: &Path, target: &str) -> Seeds {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        Seeds(dir)
    }

    /// Writes `bytes` under the first 16 hex digits of their hash.
    fn put(&self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        let name = hex(&keccak256(bytes)[..8]);
        std::fs::write(self.0.join(name), bytes).expect("write a seed");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json(proof: &tally_verify::Proof) -> Vec<u8> {
    serde_json::to_vec_pretty(proof).expect("a proof serialises")
}

/// The RPC target's method list (sorted names of the stub node's module).
fn rpc_methods() -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let module = runtime.block_on(async {
        tally_rpc::rpc_module(
            &tally_rpc::RpcConfig::default(),
            std::sync::Arc::new(tally_fuzz::rpc_stub::StubNode::default()),
        )
    });
    let mut names: Vec<String> = module.method_names().map(String::from).collect();
    names.sort_unstable();
    names
}

/// A keystore v3 file for `secret` with the cheapest scrypt there is
/// (n = 2), so the fuzzer can decrypt its mutants on every run;
/// eth-keystore only writes n = 8192.
fn keystore_json(secret: &[u8; 32], password: &str) -> String {
    let salt = [0x5a; 32];
    let iv = [0x1f; 16];
    let params = scrypt::Params::new(1, 1, 1).expect("valid scrypt parameters");
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key).expect("scrypt");
    let mut ciphertext = *secret;
    ctr::Ctr128BE::<aes::Aes128>::new(key[..16].into(), (&iv).into())
        .apply_keystream(&mut ciphertext);
    let mac = Keccak256::new()
        .chain_update(&key[16..])
        .chain_update(ciphertext)
        .finalize();
    let secret = tally_crypto::secret_key(secret).expect("a valid key");
    let address: Address = tally_crypto::address_of(&secret);
    serde_json::json!({
        "address": hex(address.as_slice()),
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": hex(&iv) },
            "ciphertext": hex(&ciphertext),
            "kdf": "scrypt",
            "kdfparams": { "dklen": 32, "n": 2, "p": 1, "r": 1, "salt": hex(&salt) },
            "mac": hex(&mac),
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3,
    })
    .to_string()
}
