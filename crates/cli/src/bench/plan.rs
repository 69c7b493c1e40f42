//! The workload: which sender sends what with which nonce, and pre-signing
//! it all in parallel before the clock starts.
//!
//! Transaction `i` comes from sender `i % senders` with nonce `i / senders`,
//! so every batch spreads over many senders (blocks can fill from many
//! accounts at once) and each sender's nonces go out in increasing order.
//! Gas limits are fixed so no eth_estimateGas call is needed per transaction.

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{sol, SolCall};
use rayon::prelude::*;
use tally_crypto::{address_of, sign_transaction, SecretKey};

sol! {
    /// ERC-20 transfer, as in contracts/src/TestToken.sol.
    function transfer(address to, uint256 value) external returns (bool);
    /// Tally's roles system contract (contracts/ITallyRoles.sol): an admin
    /// grants the bench's fresh senders the transactor role on a
    /// consortium chain.
    function grantRole(address account, uint8 mask) external;
    /// Tally's assets system contract (contracts/ITallyAssets.sol): the
    /// funder issues a native asset and mints each sender its share.
    struct AssetPolicy { bool allowlist; uint256 maxHolding; string purpose; }
    function issue(string name, string symbol, uint8 decimals, uint256 cap, address regulator, AssetPolicy policy) external returns (address token);
    function mint(address token, address to, uint256 amount) external;
    function assetCount() external view returns (uint64);
    function symbol() external view returns (string);
}

/// The assets system contract (`tally_executor::system::ASSETS`).
pub const ASSETS_CONTRACT: alloy_primitives::Address =
    alloy_primitives::address!("0000000000000000000000000000000000001003");

/// The token address of native asset number `id`: "a55e7", zeros, the id
/// (as `tally_executor::system::assets::token_address`).
pub fn asset_token(id: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[..3].copy_from_slice(&[0xa5, 0x5e, 0x70]);
    bytes[12..].copy_from_slice(&id.to_be_bytes());
    Address::from(bytes)
}

/// The roles system contract of Tally's consortium chains.
pub const ROLES_CONTRACT: alloy_primitives::Address =
    alloy_primitives::address!("0000000000000000000000000000000000001002");
/// The transactor role's bit.
pub const TRANSACTOR: u8 = 4;
/// Gas of a role grant (two storage writes and a log, with headroom).
pub const GRANT_GAS: u64 = 100_000;

/// Gas of a plain ETH transfer.
pub const TRANSFER_GAS: u64 = 21_000;
/// Enough for an ERC-20 transfer even to a fresh holder (~52k: a new storage
/// slot, a balance update and a log), with headroom for other compilers.
pub const ERC20_GAS: u64 = 90_000;
/// Enough for a native asset transfer even to a fresh holder (~115k: the
/// policy reads, two balances, the holder list and a log).
pub const ASSET_GAS: u64 = 160_000;
/// Wei moved by each ETH transfer: the amount does not matter, the work does.
pub const TRANSFER_VALUE: u64 = 1;
/// Token units moved by each ERC-20 transfer.
pub const TOKEN_AMOUNT: u64 = 1;

/// The kind of transactions to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Plain ETH transfers.
    Transfer,
    /// ERC-20 `transfer` calls on a freshly deployed TestToken.
    Erc20,
    /// Alternating: each sender's even nonces transfer ETH, odd nonces tokens.
    Mix,
    /// ERC-20 `transfer` calls on a freshly issued Tally native asset (the
    /// assets system contract, run as native code instead of EVM bytecode).
    Asset,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Erc20 => "erc20",
            Kind::Mix => "mix",
            Kind::Asset => "asset",
        }
    }

    /// The gas limit of a token transfer when none was estimated: enough
    /// even for a fresh holder.
    pub fn default_token_gas(self) -> u64 {
        if self == Kind::Asset {
            ASSET_GAS
        } else {
            ERC20_GAS
        }
    }

    /// Whether the workload needs a token contract.
    pub fn needs_token(self) -> bool {
        matches!(self, Kind::Erc20 | Kind::Mix | Kind::Asset)
    }

    /// Whether the transaction with this nonce is a token transfer.
    pub fn is_token_tx(self, nonce: u64) -> bool {
        match self {
            Kind::Transfer => false,
            Kind::Erc20 | Kind::Asset => true,
            Kind::Mix => nonce % 2 == 1,
        }
    }
}

/// EIP-1559 fee caps used for every transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    pub max_fee_per_gas: u128,
    pub max_priority_fee_per_gas: u128,
}

/// Everything needed to build the workload, besides the sender keys.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub chain_id: u64,
    pub fees: Fees,
    pub kind: Kind,
    /// The TestToken address; required when `kind.needs_token()`.
    pub token: Option<Address>,
    /// The gas limit of each token transfer: a block's gas limit holds as
    /// many transactions as their gas limits add up to, so a wallet's
    /// estimate, not a generous constant, decides how full blocks get.
    pub token_gas: u64,
    pub txs: usize,
}

/// A signed transaction ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    pub hash: B256,
    /// EIP-2718 encoding, the eth_sendRawTransaction payload.
    pub raw: Bytes,
    pub sender: Address,
    pub nonce: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("the workload needs at least one sender key")]
    NoSenders,
    #[error("kind {0} needs a token contract address, but none was given")]
    NoToken(&'static str),
}

/// The sender index and nonce of transaction `i`.
pub fn slot(i: usize, senders: usize) -> (usize, u64) {
    let senders = senders.max(1);
    (i % senders, (i / senders) as u64)
}

/// The last batch (of `batch` transactions, in submission order) that holds
/// the previous nonce of some sender in batch `j`, if any. Batch `j` is sent
/// only once every batch up to this one has been answered: a sender's nonce
/// n+1 never reaches the node before its nonce n, which nodes without a
/// queue for future nonces (e.g. Hardhat's automine) require.
pub fn depends_on(j: usize, batch: usize, senders: usize, txs: usize) -> Option<usize> {
    let batch = batch.max(1);
    let end = (j.saturating_add(1).saturating_mul(batch)).min(txs);
    // The predecessor of transaction i is i - senders (same sender, nonce - 1).
    let last = end.checked_sub(1)?.checked_sub(senders.max(1))?;
    Some(last / batch)
}

/// How many transactions the busiest sender sends (senders get
/// `txs / senders` each, the first `txs % senders` one more).
pub fn max_txs_per_sender(txs: usize, senders: usize) -> u64 {
    txs.div_ceil(senders.max(1)) as u64
}

/// The most wei one transaction of `kind` can cost: gas at the fee cap plus
/// its value. Funding each sender with this times its count can never fall
/// short, whatever the base fee does during the run.
pub fn max_cost_per_tx(kind: Kind, fees: Fees) -> U256 {
    let (gas, value) = match kind {
        Kind::Transfer => (TRANSFER_GAS, TRANSFER_VALUE),
        // Mix: bound by the dearer of the two kinds.
        Kind::Erc20 | Kind::Mix => (ERC20_GAS, TRANSFER_VALUE),
        Kind::Asset => (ASSET_GAS, TRANSFER_VALUE),
    };
    U256::from(gas) * U256::from(fees.max_fee_per_gas) + U256::from(value)
}

/// The unsigned transaction `i`. Each sender pays the next sender, so the
/// run creates no new accounts and its cost does not depend on history.
pub fn build_tx(plan: &Plan, senders: &[Address], i: usize) -> Result<TxEip1559, PlanError> {
    let (s, nonce) = slot(i, senders.len());
    let recipient = *senders
        .get((s + 1) % senders.len().max(1))
        .ok_or(PlanError::NoSenders)?;
    let (to, value, input, gas_limit) = if plan.kind.is_token_tx(nonce) {
        let token = plan.token.ok_or(PlanError::NoToken(plan.kind.name()))?;
        let call = transferCall {
            to: recipient,
            value: U256::from(TOKEN_AMOUNT),
        };
        (token, U256::ZERO, call.abi_encode().into(), plan.token_gas)
    } else {
        (
            recipient,
            U256::from(TRANSFER_VALUE),
            Bytes::new(),
            TRANSFER_GAS,
        )
    };
    Ok(TxEip1559 {
        chain_id: plan.chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: plan.fees.max_fee_per_gas,
        max_priority_fee_per_gas: plan.fees.max_priority_fee_per_gas,
        to: TxKind::Call(to),
        value,
        access_list: Default::default(),
        input,
    })
}

/// Signs a transaction and encodes it for eth_sendRawTransaction.
pub fn sign(key: &SecretKey, tx: TxEip1559) -> SignedTx {
    let nonce = tx.nonce;
    let envelope = sign_transaction(key, tx);
    SignedTx {
        hash: *envelope.tx_hash(),
        raw: envelope.encoded_2718().into(),
        sender: address_of(key),
        nonce,
    }
}

/// Builds and signs all `plan.txs` transactions in parallel; the result is
/// in submission order.
pub fn presign(plan: &Plan, keys: &[SecretKey]) -> Result<Vec<SignedTx>, PlanError> {
    if keys.is_empty() {
        return Err(PlanError::NoSenders);
    }
    if plan.kind.needs_token() && plan.token.is_none() {
        return Err(PlanError::NoToken(plan.kind.name()));
    }
    let addresses: Vec<Address> = keys.par_iter().map(address_of).collect();
    (0..plan.txs)
        .into_par_iter()
        .map(|i| {
            let tx = build_tx(plan, &addresses, i)?;
            let key = keys
                .get(slot(i, keys.len()).0)
                .ok_or(PlanError::NoSenders)?;
            Ok(sign(key, tx))
        })
        .collect()
}
