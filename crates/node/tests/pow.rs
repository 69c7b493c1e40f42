//! Proof-of-work nodes: mining with rewards, side branches, reorgs to the
//! heaviest chain after a partition heals (over the simulated network),
//! transactions of abandoned blocks mined again exactly once, and refusal
//! of bad headers.

mod common;

use common::*;
use std::time::Duration;
use tally_crypto::node_key::NodeKey;
use tally_network::{
    peer_id_from_ed25519_secret,
    sim::{Faults, SimNetwork},
    PeerId,
};
use tally_node::{ImportError, Imported, MiningOptions, Node};
use tally_primitives::{Address, ChainSpec, B256, U256};

const REWARD: u64 = 50;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

struct Miner {
    node: Node,
    peer: PeerId,
    coinbase: Address,
    _dir: tempfile::TempDir,
}

async fn start_miner(spec: &ChainSpec, i: u8, coinbase: Address) -> Miner {
    let dir = tempfile::tempdir().unwrap();
    let key = NodeKey::from_bytes(&[60 + i; 32]);
    let mut cfg = config(dir.path(), spec.clone(), key.clone(), None);
    cfg.beneficiary = coinbase;
    cfg.mining = Some(MiningOptions { threads: 1 });
    let node = Node::start(cfg).await.unwrap();
    let peer = peer_id_from_ed25519_secret(key.to_bytes()).unwrap();
    Miner {
        node,
        peer,
        coinbase,
        _dir: dir,
    }
}

fn balance(node: &Node, who: Address) -> U256 {
    node.db()
        .latest_state()
        .unwrap()
        .account(&who)
        .unwrap()
        .map_or(U256::ZERO, |a| a.balance)
}

fn nonce(node: &Node, who: Address) -> u64 {
    node.db()
        .latest_state()
        .unwrap()
        .account(&who)
        .unwrap()
        .map_or(0, |a| a.nonce)
}

fn account(i: usize) -> Address {
    tally_crypto::mnemonic::dev_accounts(4)[i].1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miner_mines_blocks_and_earns_rewards_and_fees() {
    let spec = pow_spec();
    let coinbase = Address::repeat_byte(0xc0);
    let m = start_miner(&spec, 0, coinbase).await;
    m.node.submit_transaction(transfer(0, 0, 1)).unwrap();
    wait_for("the transfer mined", 60, || nonce(&m.node, account(0)) == 1).await;
    wait_for("three mined blocks", 60, || m.node.head().number >= 3).await;
    m.node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let head = m.node.head();
    assert_ne!(head.bits, 0, "PoW blocks carry their target");
    assert_eq!(head.seal.len(), 8, "the seal is the nonce");
    // Every block's reward, plus the transfer's tip (21000 gas at 1 gwei).
    let expected = ether(REWARD) * U256::from(head.number) + U256::from(21_000u64 * 1_000_000_000);
    assert_eq!(balance(&m.node, coinbase), expected);
    assert_eq!(nonce(&m.node, account(0)), 1);
    m.node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_heals_onto_the_heaviest_chain_with_each_transaction_once() {
    let spec = pow_spec();
    let sim = SimNetwork::new(7, Faults::default());
    let mut miners = Vec::new();
    for i in 0..3u8 {
        let m = start_miner(&spec, i, Address::repeat_byte(0xa0 + i)).await;
        miners.push(m);
    }
    for m in &mut miners {
        let (handle, events) = sim.join(m.peer);
        m.node.attach_network(handle, events);
    }
    wait_for("a few shared blocks", 60, || {
        miners.iter().all(|m| m.node.head().number >= 2)
    })
    .await;

    // Node 0 alone against nodes 1 and 2. Each side mines its own
    // transaction; node 0 then stops mining, so the other side is heavier.
    sim.partition(&[vec![miners[0].peer], vec![miners[1].peer, miners[2].peer]]);
    // Node 0's own head when cut off: it may trail the pair by a block or
    // two still in flight, so its branch is measured from here.
    let lone_split = miners[0].node.head().number;
    let lone_tx = miners[0]
        .node
        .submit_transaction(transfer(0, 0, 7))
        .unwrap();
    let pair_tx = miners[1]
        .node
        .submit_transaction(transfer(1, 0, 9))
        .unwrap();
    wait_for("the lone side to mine its transaction", 60, || {
        matches!(miners[0].node.db().tx_location(lone_tx), Ok(Some(_)))
    })
    .await;
    miners[0].node.set_mining(false);
    let lone_head = miners[0].node.head();
    assert!(
        lone_head.number > lone_split,
        "node 0 mined its transaction without extending its own branch"
    );
    wait_for("the pair to mine well past the lone side", 90, || {
        miners[1].node.head().number >= lone_head.number + 4
            && matches!(miners[1].node.db().tx_location(pair_tx), Ok(Some(_)))
    })
    .await;
    assert!(
        matches!(miners[1].node.db().tx_location(lone_tx), Ok(None)),
        "the partition let the lone side's transaction through"
    );

    // Heal: node 0 follows the heavier chain; its transaction goes back to
    // its pool and, mining again, into the winning chain.
    sim.heal();
    let abandoned = lone_head.hash;
    wait_for("node 0 to abandon its branch", 60, || {
        miners[0]
            .node
            .db()
            .header_by_number(lone_head.number)
            .ok()
            .flatten()
            .map(|h| h.hash)
            != Some(abandoned)
    })
    .await;
    miners[0].node.set_mining(true);
    wait_for(
        "the lone transaction on the winning chain everywhere",
        90,
        || {
            miners
                .iter()
                .all(|m| matches!(m.node.db().tx_location(lone_tx), Ok(Some(_))))
        },
    )
    .await;

    // Stop mining and let everyone settle on one head.
    for m in &miners {
        m.node.set_mining(false);
    }
    wait_for("one head everywhere", 60, || {
        let h = miners[0].node.head().hash;
        miners.iter().all(|m| m.node.head().hash == h)
    })
    .await;
    let nodes: Vec<&Node> = miners.iter().map(|m| &m.node).collect();
    let head = nodes[0].head();
    for n in 0..=head.number {
        assert_same_block(&nodes, n);
    }
    for m in &miners {
        // Each transaction exactly once: one nonce step per sender, and the
        // index points at a canonical block holding it.
        assert_eq!(nonce(&m.node, account(0)), 1);
        assert_eq!(nonce(&m.node, account(1)), 1);
        for tx in [lone_tx, pair_tx] {
            let at = m.node.db().tx_location(tx).unwrap().unwrap();
            let block = m
                .node
                .db()
                .block_by_number(at.block_number)
                .unwrap()
                .unwrap();
            assert_eq!(block.hash(), at.block_hash);
            assert_eq!(block.tx_hashes().filter(|h| *h == tx).count(), 1);
        }
        assert!(
            m.node
                .metrics()
                .blocks
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
        );
    }
    let reorgs = miners[0]
        .node
        .metrics()
        .reorgs
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(reorgs >= 1, "node 0 never reorged");
    // Rewards went to the coinbase of the block that earned them.
    let total: U256 = miners
        .iter()
        .map(|m| balance(&m.node, m.coinbase))
        .fold(U256::ZERO, |a, b| a + b);
    assert!(total >= ether(REWARD) * U256::from(head.number));
    for m in miners {
        m.node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heavier_branch_replaces_the_head_and_bad_blocks_are_refused() {
    let spec = pow_spec();
    let a = start_miner(&spec, 10, Address::repeat_byte(0xaa)).await;
    let b = start_miner(&spec, 11, Address::repeat_byte(0xbb)).await;
    // Separate chains from one genesis; b's ends up with more work.
    wait_for("a's block", 60, || a.node.head().number >= 1).await;
    a.node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let weight = |n: &Node| n.db().weight(&n.head().hash).unwrap().unwrap();
    let a_weight = weight(&a.node);
    wait_for("b's heavier branch", 60, || {
        b.node.head().number >= 2 && weight(&b.node) > a_weight
    })
    .await;
    b.node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a_head = a.node.head();
    let b_head = b.node.head();
    assert_ne!(
        a.node.db().header_by_number(1).unwrap().unwrap().hash,
        b.node.db().header_by_number(1).unwrap().unwrap().hash
    );

    // A forged seal on b's block 1: refused, nothing kept.
    let mut forged = b.node.db().block_by_number(1).unwrap().unwrap().to_block();
    forged.header.seal = vec![0u8; 8].into();
    let err = a.node.import_block(forged.clone()).await.unwrap_err();
    assert!(err.is_invalid_block(), "{err}");
    // Wrong difficulty bits (with the original nonce) are refused too.
    let mut wrong_bits = b.node.db().block_by_number(1).unwrap().unwrap().to_block();
    wrong_bits.header.bits = 0x207f_ffff;
    let err = a.node.import_block(wrong_bits).await.unwrap_err();
    assert!(err.is_invalid_block(), "{err}");
    assert_eq!(a.node.head(), a_head);

    // b's branch, one block at a time: side blocks until it outweighs a's.
    let mut outcomes = Vec::new();
    for n in 1..=b_head.number {
        let block = b.node.db().block_by_number(n).unwrap().unwrap().to_block();
        outcomes.push(a.node.import_block(block).await.unwrap());
    }
    let b1 = b.node.db().header_by_number(1).unwrap().unwrap();
    if b.node.db().weight(&b1.hash).unwrap().unwrap() < a_weight {
        assert_eq!(
            outcomes[0],
            Imported::Side,
            "a lighter block went canonical"
        );
    }
    assert!(
        a.node
            .metrics()
            .reorgs
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    assert!(matches!(outcomes.last(), Some(Imported::Canonical(_))));
    assert_eq!(a.node.head(), b_head);
    assert_eq!(a.node.db().latest_state().unwrap().number(), b_head.number);
    // The abandoned block is known as a side block: importing it again is a no-op.
    let old = a
        .node
        .db()
        .side_block(&a_head.hash)
        .unwrap()
        .expect("kept as a side block");
    assert_eq!(
        a.node.import_block(old.to_block()).await.unwrap(),
        Imported::Known
    );
    // A block building on an unknown parent is not the sender's fault.
    let mut orphan = b.node.db().block_by_number(2).unwrap().unwrap().to_block();
    orphan.header.parent_hash = B256::repeat_byte(3);
    match a.node.import_block(orphan).await {
        Err(e @ ImportError::UnknownParent { .. }) => assert!(!e.is_invalid_block()),
        other => panic!("expected an unknown parent, got {other:?}"),
    }
    a.node.stop().await;
    b.node.stop().await;
}

/// Re-mines `header`'s nonce for its own bits.
fn reseal(mut header: tally_primitives::Header) -> tally_primitives::Header {
    use tally_consensus::pow::{hash::search, target::target_from_bits};
    let target = target_from_bits(header.bits).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let hashes = std::sync::atomic::AtomicU64::new(0);
    let nonce = search(&header.seal_hash(), &target, 0..=u64::MAX, &stop, &hashes)
        .expect("a nonce for an easy target");
    header.seal = nonce.to_be_bytes().to_vec().into();
    header
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heavier_branch_with_an_invalid_block_is_refused_and_not_kept() {
    let spec = pow_spec();
    let a = start_miner(&spec, 20, Address::repeat_byte(0xaa)).await;
    let b = start_miner(&spec, 21, Address::repeat_byte(0xbb)).await;
    wait_for("a's block", 60, || a.node.head().number >= 1).await;
    a.node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let weight = |n: &Node| n.db().weight(&n.head().hash).unwrap().unwrap();
    let a_weight = weight(&a.node);
    let a_head = a.node.head();
    wait_for("b's heavier branch", 60, || {
        b.node.head().number >= 4 && weight(&b.node) > a_weight
    })
    .await;
    b.node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // b's branch with a false state root in block 2, every block from
    // there re-mined so that its proof of work (and the links) hold.
    let mut forged = Vec::new();
    let mut parent_hash = None;
    for n in 1..=b.node.head().number {
        let mut block = b.node.db().block_by_number(n).unwrap().unwrap().to_block();
        if n == 2 {
            block.header.state_root = B256::repeat_byte(0x66);
        }
        if let Some(p) = parent_hash {
            block.header.parent_hash = p;
        }
        if n >= 2 {
            block.header = reseal(block.header);
        }
        parent_hash = Some(block.header.hash());
        forged.push(block);
    }
    let bad = forged[1].header.hash();
    let mut refused = None;
    for block in forged.clone() {
        match a.node.import_block(block).await {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("the branch with a false state root is refused");
    assert!(err.is_invalid_block(), "{err}");
    assert!(err.to_string().contains("state root"), "{err}");
    // a is on the heaviest valid chain: its own, or b's block 1 if that
    // alone weighs more (equal work: the lower hash); it keeps nothing
    // from the bad block on.
    let b1 = b.node.db().header_by_number(1).unwrap().unwrap();
    let b1_weight = b.node.db().weight(&b1.hash).unwrap().unwrap();
    let expected =
        if (b1_weight, std::cmp::Reverse(b1.hash)) > (a_weight, std::cmp::Reverse(a_head.hash)) {
            b1
        } else {
            a_head.clone()
        };
    assert_eq!(a.node.head(), expected);
    for block in &forged[1..] {
        assert!(a
            .node
            .db()
            .side_block(&block.header.hash())
            .unwrap()
            .is_none());
        assert!(a.node.db().weight(&block.header.hash()).unwrap().is_none());
    }
    // Offered again, it is refused at once as known bad.
    let again = a.node.import_block(forged[1].clone()).await.unwrap_err();
    assert!(
        matches!(again, ImportError::BadAncestor { hash, .. } if hash == bad),
        "{again}"
    );
    let child = a.node.import_block(forged[2].clone()).await.unwrap_err();
    assert!(child.is_invalid_block(), "{child}");
    a.node.stop().await;
    b.node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_announcing_a_heavy_branch_without_the_work_is_penalised_before_any_body() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tally_network::{Misbehaviour, Network, NetworkEvent, SyncRequest, SyncResponse};
    let spec = pow_spec();
    let sim = SimNetwork::new(11, Faults::default());
    let mut a = start_miner(&spec, 30, Address::repeat_byte(0xaa)).await;
    wait_for("a few blocks", 60, || a.node.head().number >= 3).await;
    a.node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let head = a.node.head();
    let genesis = a.node.genesis().clone();

    // A block 1 whose nonce does not meet its target.
    let mut fake = tally_primitives::Header {
        parent_hash: genesis.hash,
        number: 1,
        timestamp: genesis.timestamp + 1,
        bits: genesis.bits,
        gas_limit: genesis.gas_limit,
        base_fee: genesis.base_fee,
        ..Default::default()
    };
    let mut nonce = 0u64;
    loop {
        fake.seal = nonce.to_be_bytes().to_vec().into();
        if tally_consensus::pow::verify_seal(&fake).is_err() {
            break;
        }
        nonce += 1;
    }

    let rogue = peer_id_from_ed25519_secret([77u8; 32]).unwrap();
    let (r_handle, mut r_events) = sim.join(rogue);
    let bodies_asked = std::sync::Arc::new(AtomicU64::new(0));
    let asked = bodies_asked.clone();
    let (g, fake_hash, encoded) = (genesis.hash.0, fake.hash().0, alloy_rlp::encode(&fake));
    let rogue_task = tokio::spawn(async move {
        while let Some(event) = r_events.recv().await {
            if let NetworkEvent::Request { id, request, .. } = event {
                let answer = match request {
                    // A head it claims outweighs everything.
                    SyncRequest::Status => SyncResponse::Status {
                        genesis: g,
                        head_number: 1,
                        head_hash: fake_hash,
                        head_weight: u128::MAX.to_be_bytes(),
                    },
                    SyncRequest::HeadersByRange { .. } => {
                        SyncResponse::Headers(vec![encoded.clone()])
                    }
                    SyncRequest::Certificate { .. } => SyncResponse::Certificate(None),
                    SyncRequest::BlocksByRange { .. } | SyncRequest::BlockByHash(_) => {
                        asked.fetch_add(1, Ordering::Relaxed);
                        SyncResponse::Blocks(Vec::new())
                    }
                };
                let _ = r_handle.respond(id, answer).await;
            }
        }
    });
    let (handle, events) = sim.join(a.peer);
    a.node.attach_network(handle, events);

    wait_for("the rogue to be penalised", 30, || {
        sim.reports().iter().any(|(by, who, m)| {
            *by == a.peer && *who == rogue && *m == Misbehaviour::InvalidResponse
        })
    })
    .await;
    assert_eq!(
        bodies_asked.load(Ordering::Relaxed),
        0,
        "a body was fetched"
    );
    assert_eq!(a.node.head(), head);
    assert!(a
        .node
        .db()
        .weight(&B256::from(fake_hash))
        .unwrap()
        .is_none());
    rogue_task.abort();
    a.node.stop().await;
}
