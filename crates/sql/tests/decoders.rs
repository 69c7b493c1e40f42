//! What each table holds for a block: transactions, logs, token transfers,
//! touched accounts, contracts, and the system contracts' tables.

mod common;

use alloy_primitives::keccak256;
use common::*;
use serde_json::json;
use tally_sql::decoders::{self, Decoder, LogContext};
use tally_sql::rows::{Cell, Row};
use tally_sql::{Index, IndexOptions};

fn hex<T: std::fmt::LowerHex>(x: T) -> serde_json::Value {
    json!(format!("{x:#x}"))
}

fn one_block(txs: &[(Tx, u64)]) -> (tempfile::TempDir, Index, Chain) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let mut chain = Chain::default();
    chain.push(0, &[]);
    chain.push(0, txs);
    index.sync(&chain, &mut no_progress()).unwrap();
    (dir, index, chain)
}

#[test]
fn blocks_and_transactions() {
    let (_dir, index, chain) = one_block(&[
        (
            Tx::Pay {
                from: 1,
                to: 2,
                value: 1_000,
            },
            0,
        ),
        (Tx::Create { from: 3, ok: true }, 0),
        (Tx::Fail { from: 4, to: 5 }, 0),
    ]);
    let block = &chain.blocks[1].block;
    let got = rows(&index, "SELECT * FROM blocks WHERE number = 1", &[]);
    assert_eq!(
        got[0],
        vec![
            json!(1),
            hex(block.hash()),
            hex(block.header.parent_hash),
            json!(1_700_000_002u64),
            hex(account(99)),
            json!(block.header.gas_used),
            json!(30_000_000),
            json!(1_000_000_000),
            json!(3),
        ]
    );
    let txs = rows(
        &index,
        "SELECT hash, idx, sender, recipient, value, nonce, gas_limit, gas_used, status, type, \
                input_bytes, selector, contract_address \
         FROM transactions WHERE block_number = 1 ORDER BY idx",
        &[],
    );
    let hashes: Vec<_> = block.tx_hashes().map(hex).collect();
    let created = account(3).create(17);
    assert_eq!(
        txs,
        vec![
            vec![
                hashes[0].clone(),
                json!(0),
                hex(account(1)),
                hex(account(2)),
                json!("1000"),
                json!(16),
                json!(100_000),
                json!(21_000),
                json!(1),
                json!(0),
                json!(8),
                json!("0x00000000"),
                json!(null)
            ],
            vec![
                hashes[1].clone(),
                json!(1),
                hex(account(3)),
                json!(null),
                json!("0"),
                json!(17),
                json!(100_000),
                json!(21_000),
                json!(1),
                json!(2),
                json!(12),
                json!("0x60806040"),
                hex(created)
            ],
            vec![
                hashes[2].clone(),
                json!(2),
                hex(account(4)),
                hex(account(5)),
                json!("1"),
                json!(18),
                json!(100_000),
                json!(21_000),
                json!(0),
                json!(0),
                json!(9),
                json!("0xff000000"),
                json!(null)
            ],
        ]
    );
    assert_eq!(
        rows(
            &index,
            "SELECT address, creator, tx_hash, block_number FROM contracts",
            &[]
        ),
        vec![vec![
            hex(created),
            hex(account(3)),
            hashes[1].clone(),
            json!(1)
        ]]
    );
    let touched = rows(
        &index,
        "SELECT address FROM touched WHERE block_number = 1 ORDER BY address",
        &[],
    );
    let mut expected: Vec<_> = [
        account(1),
        account(2),
        account(3),
        created,
        account(4),
        account(5),
    ]
    .into_iter()
    .map(|a| vec![hex(a)])
    .collect();
    expected.sort_by_key(|v| v[0].to_string());
    assert_eq!(touched, expected);
}

#[test]
fn a_reverted_creation_makes_no_contract() {
    let (_dir, index, _) = one_block(&[(Tx::Create { from: 3, ok: false }, 0)]);
    assert_eq!(
        scalar(&index, "SELECT COUNT(*) FROM contracts", &[]),
        json!(0)
    );
    // The transaction still names the address it aimed at, as receipts do.
    assert_eq!(
        scalar(&index, "SELECT contract_address FROM transactions", &[]),
        hex(account(3).create(16))
    );
    assert_eq!(
        scalar(&index, "SELECT COUNT(*) FROM touched", &[]),
        json!(1)
    );
}

#[test]
fn logs_and_token_transfers() {
    let (_dir, index, chain) = one_block(&[
        (
            Tx::Erc20 {
                from: 1,
                token: 2,
                to: 3,
                amount: u64::MAX,
            },
            0,
        ),
        (
            Tx::Erc721 {
                from: 4,
                token: 7,
                to: 5,
                id: 42,
            },
            0,
        ),
        (
            Tx::Pay {
                from: 1,
                to: 2,
                value: 1,
            },
            0,
        ),
    ]);
    let hashes: Vec<_> = chain.blocks[1].block.tx_hashes().map(hex).collect();
    let logs = rows(
        &index,
        "SELECT log_index, tx_hash, tx_index, address, topic0, topic3, data FROM logs ORDER BY log_index",
        &[],
    );
    let transfer = hex(keccak256("Transfer(address,address,uint256)"));
    assert_eq!(logs.len(), 2);
    assert_eq!(
        logs[0][..5],
        [
            json!(0),
            hashes[0].clone(),
            json!(0),
            hex(token(2)),
            transfer.clone()
        ]
    );
    assert_eq!(logs[0][5], json!(null));
    assert_eq!(
        logs[0][6],
        json!(format!("0x{}{}", "0".repeat(48), "ffffffffffffffff"))
    );
    assert_eq!(
        logs[1][..5],
        [
            json!(1),
            hashes[1].clone(),
            json!(1),
            hex(token(7)),
            transfer
        ]
    );
    assert_eq!(logs[1][6], json!("0x"));

    let transfers = rows(
        &index,
        "SELECT log_index, tx_hash, token, sender, recipient, value, token_id, standard \
         FROM token_transfers ORDER BY log_index",
        &[],
    );
    assert_eq!(
        transfers,
        vec![
            vec![
                json!(0),
                hashes[0].clone(),
                hex(token(2)),
                hex(account(1)),
                hex(account(3)),
                json!(u64::MAX.to_string()),
                json!(null),
                json!("erc20")
            ],
            vec![
                json!(1),
                hashes[1].clone(),
                hex(token(7)),
                hex(account(4)),
                hex(account(5)),
                json!(null),
                json!("42"),
                json!("erc721")
            ],
        ]
    );
    // The parties of a transfer are touched.
    let touched = scalar(
        &index,
        "SELECT COUNT(*) FROM touched WHERE address = ?",
        &[hex(account(5))],
    );
    assert_eq!(touched, json!(1));
}

#[test]
fn token_balances_add_up_transfers_mints_and_burns() {
    let erc20 = |from, to, amount| {
        (
            Tx::Erc20 {
                from,
                token: 2,
                to,
                amount,
            },
            0,
        )
    };
    let nft = |from, to, id| {
        (
            Tx::Erc721 {
                from,
                token: 7,
                to,
                id,
            },
            0,
        )
    };
    let mint = ZERO_PARTY;
    let (_dir, index, _chain) = one_block(&[
        erc20(mint, 1, u64::MAX),
        erc20(mint, 1, u64::MAX),
        erc20(1, 3, 5),
        erc20(3, mint, 5),
        nft(mint, 4, 1),
        nft(mint, 4, 2),
        nft(4, 5, 1),
    ]);
    let big = (2 * u128::from(u64::MAX) - 5).to_string();
    let balances = rows(
        &index,
        "SELECT token, holder, standard, balance FROM token_balances ORDER BY token, balance_real DESC",
        &[],
    );
    assert_eq!(
        balances,
        vec![
            vec![
                hex(token(2)),
                hex(account(1)),
                json!("erc20"),
                json!(big.clone())
            ],
            vec![hex(token(7)), hex(account(4)), json!("erc721"), json!("1")],
            vec![hex(token(7)), hex(account(5)), json!("erc721"), json!("1")],
        ],
        "account 3 went back to zero and has no row; the zero address never has one"
    );
    assert_eq!(stored_balances(&index), balances_from_transfers(&index));
}

#[test]
fn notary_batches_documents_and_revocations() {
    let (_dir, index, chain) = one_block(&[
        (
            Tx::Stamp {
                from: 1,
                docs: 3,
                salt: 77,
            },
            0,
        ),
        (Tx::Revoke { from: 1, doc: 4 }, 0),
        (Tx::Revoke { from: 2, doc: 5 }, 0),
    ]);
    let hashes: Vec<_> = chain.blocks[1].block.tx_hashes().map(hex).collect();
    let docs: Vec<_> = (0..3).map(|i| document(77, i)).collect();
    let root = tally_primitives::merkle::root(&docs);
    assert_eq!(
        rows(&index, "SELECT block_number, log_index, tx_hash, timestamp, root, submitter, count, label FROM notary_batches", &[]),
        vec![vec![json!(1), json!(0), hashes[0].clone(), json!(1_700_000_002u64), hex(root),
                  hex(account(1)), json!(3), json!("batch 77")]]
    );
    assert_eq!(
        rows(
            &index,
            "SELECT log_index, document, root, idx FROM notary_documents ORDER BY idx",
            &[]
        ),
        (0..3)
            .map(|i| vec![json!(i + 1), hex(docs[i]), hex(root), json!(i)])
            .collect::<Vec<_>>()
    );
    assert_eq!(
        rows(&index, "SELECT log_index, tx_hash, document, submitter, replacement, reason FROM notary_revocations ORDER BY log_index", &[]),
        vec![
            vec![json!(4), hashes[1].clone(), hex(document(4, 0)), hex(account(1)), json!(null), json!("typo")],
            vec![json!(5), hashes[2].clone(), hex(document(5, 0)), hex(account(2)), hex(document(5, 1)), json!("typo")],
        ]
    );
    // The docs' example: a document's stamp.
    let stamp = rows(
        &index,
        "SELECT b.submitter, b.block_number, d.idx FROM notary_documents d \
         JOIN notary_batches b ON b.root = d.root WHERE d.document = ?",
        &[hex(docs[2])],
    );
    assert_eq!(stamp, vec![vec![hex(account(1)), json!(1), json!(2)]]);
}

#[test]
fn trace_products_and_events() {
    let (_dir, index, _) = one_block(&[(
        Tx::Trace {
            from: 3,
            product: 12,
        },
        0,
    )]);
    let product = hex(keccak256("SKU-12"));
    assert_eq!(
        rows(
            &index,
            "SELECT product, product_id, registry, manufacturer, description FROM trace_products",
            &[]
        ),
        vec![vec![
            product.clone(),
            json!("SKU-12"),
            json!(1),
            hex(account(3)),
            json!("a crate of apples")
        ]]
    );
    let events = rows(
        &index,
        "SELECT e.idx, e.party, e.role, e.status, e.location, e.documents, e.timestamp \
         FROM trace_events e JOIN trace_products p ON p.product = e.product \
         WHERE p.product_id = ? ORDER BY e.idx",
        &[json!("SKU-12")],
    );
    let documents = json!([format!("{:#x}", document(12, 0))]).to_string();
    assert_eq!(
        events,
        vec![vec![
            json!(0),
            hex(account(3)),
            json!(1),
            json!("made"),
            json!("Lyon"),
            json!(documents),
            json!(1_700_000_002u64)
        ]]
    );
}

#[test]
fn assets_and_their_transfers() {
    let (_dir, index, _) = one_block(&[(Tx::Issue { from: 2, id: 1 }, 0)]);
    assert_eq!(
        rows(&index, "SELECT token, id, name, symbol, decimals, cap, issuer, regulator, log_index FROM assets", &[]),
        vec![vec![hex(asset_token(1)), json!(1), json!("Asset 1"), json!("A1"), json!(6),
                  json!(format!("1{}", "0".repeat(30))), hex(account(2)), json!(null), json!(0)]]
    );
    // The mint is an ERC-20 transfer from zero; zero is not "touched".
    let minted = rows(
        &index,
        "SELECT a.symbol, t.sender, t.recipient, t.value FROM token_transfers t \
         JOIN assets a ON a.token = t.token",
        &[],
    );
    assert_eq!(
        minted,
        vec![vec![
            json!("A1"),
            hex(alloy_primitives::Address::ZERO),
            hex(account(2)),
            json!("1000000")
        ]]
    );
    assert_eq!(
        scalar(
            &index,
            "SELECT COUNT(*) FROM touched WHERE address = ?",
            &[hex(alloy_primitives::Address::ZERO)]
        ),
        json!(0)
    );
}

#[test]
fn logs_of_other_contracts_are_not_decoded() {
    // The notary's Stamped and Notarized events from an address that is not
    // the notary are any logs.
    let mut chain = Chain::default();
    chain.push(0, &[]);
    chain.push(
        0,
        &[(
            Tx::Stamp {
                from: 1,
                docs: 2,
                salt: 1,
            },
            0,
        )],
    );
    let forged = chain.blocks.last_mut().unwrap();
    // One Stamped and one Notarized per document.
    assert_eq!(forged.receipts[0].logs.len(), 3);
    for log in &mut forged.receipts[0].logs {
        log.address = token(1);
    }
    let forged = chain.blocks[1].clone();
    let decoder = decoders::NotaryDecoder;
    let mut out = Vec::new();
    for (i, log) in forged.receipts[0].logs.iter().enumerate() {
        decoder.decode(
            &LogContext {
                block_number: 1,
                block_hash: forged.block.hash(),
                timestamp: 0,
                tx_hash: alloy_primitives::B256::ZERO,
                tx_index: 0,
                log_index: i as u64,
                sender: account(1),
                log,
            },
            &mut out,
        );
    }
    assert!(out.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    index.sync(&chain, &mut no_progress()).unwrap();
    assert_eq!(
        scalar(&index, "SELECT COUNT(*) FROM notary_batches", &[]),
        json!(0)
    );
    assert_eq!(
        scalar(&index, "SELECT COUNT(*) FROM notary_documents", &[]),
        json!(0)
    );
    let tx_hash = hex(forged.block.tx_hashes().next().unwrap());
    let logs = rows(
        &index,
        "SELECT block_number, log_index, tx_hash, address, topic0 FROM logs \
         ORDER BY log_index",
        &[],
    );
    assert_eq!(
        logs,
        forged.receipts[0]
            .logs
            .iter()
            .enumerate()
            .map(|(i, log)| vec![
                json!(1),
                json!(i),
                tx_hash.clone(),
                hex(token(1)),
                hex(log.topics()[0]),
            ])
            .collect::<Vec<_>>()
    );
}

/// A decoder of every log's emitter, to show adding one.
struct Emitters;

impl Decoder for Emitters {
    fn name(&self) -> &'static str {
        "emitters"
    }
    fn schema(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS emitters (block_number INTEGER NOT NULL, address TEXT NOT NULL);"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["emitters"]
    }
    fn decode(&self, ctx: &LogContext<'_>, out: &mut Vec<Row>) {
        out.push(
            Row::new("emitters", ctx.block_number).cell("address", Cell::address(ctx.log.address)),
        );
    }
}

#[test]
fn adding_a_decoder_rebuilds_the_index_with_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    let mut chain = Chain::default();
    chain.extend(15, 0);
    let before = {
        let index = Index::open(&path).unwrap();
        index.sync(&chain, &mut no_progress()).unwrap();
        dump(&index)
    };
    let with = || {
        let mut decoders = decoders::builtin();
        decoders.push(Box::new(Emitters));
        IndexOptions {
            decoders,
            ..IndexOptions::default()
        }
    };
    let index = Index::open_with(&path, with()).unwrap();
    // Emptied, so the new table will cover every block.
    assert_eq!(index.stats().head, None);
    index.sync(&chain, &mut no_progress()).unwrap();
    let logs = scalar(&index, "SELECT COUNT(*) FROM logs", &[]);
    assert_eq!(scalar(&index, "SELECT COUNT(*) FROM emitters", &[]), logs);
    assert_ne!(logs, json!(0));
    let mut after = dump(&index);
    after.remove("emitters");
    assert_eq!(after, before);
    drop(index);
    // Opening again with the same decoders keeps everything.
    let index = Index::open_with(&path, with()).unwrap();
    assert_eq!(index.stats().head, Some(14));
    // And a reorg clears the new table too.
    chain.reorg(5, 0, 1);
    index.sync(&chain, &mut no_progress()).unwrap();
    assert_eq!(
        scalar(
            &index,
            "SELECT COUNT(*) FROM emitters WHERE block_number > 9",
            &[]
        ),
        json!(0)
    );
}

#[test]
fn the_documented_examples_run() {
    let docs = include_str!("../../../docs/sql.md");
    let mut chain = Chain::default();
    chain.extend(12, 0);
    chain.push(
        0,
        &[
            (
                Tx::Trace {
                    from: 1,
                    product: 12,
                },
                0,
            ),
            (Tx::Issue { from: 1, id: 1 }, 0),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    index.sync(&chain, &mut no_progress()).unwrap();
    let examples: Vec<&str> = docs
        .split("```sql")
        .skip(1)
        .map(|s| s.split("```").next().unwrap())
        .collect();
    assert!(examples.len() >= 8, "{} examples", examples.len());
    for &sql in &examples {
        let params = vec![json!("0x00"); sql.matches('?').count()];
        if let Err(e) = index.query(sql, &params, limits()) {
            panic!("{sql}\nfails: {e}");
        }
    }
    let example = |needle: &str| {
        let found: Vec<&str> = examples
            .iter()
            .copied()
            .filter(|e| e.contains(needle))
            .collect();
        assert_eq!(found.len(), 1, "one example with {needle}");
        index.query(found[0], &[], limits()).unwrap().rows.len()
    };
    // The product example finds the product this chain registered, the
    // token examples the asset's mint and its holder.
    assert_eq!(example("JOIN trace_events"), 1);
    assert_eq!(example("ORDER BY block_number DESC, log_index DESC"), 1);
    assert_eq!(example("FROM token_balances t"), 1);
}
