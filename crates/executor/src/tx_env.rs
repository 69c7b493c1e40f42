//! Converting signed transactions into revm's transaction environment.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::Address;
use revm::context::TxEnv;

pub(crate) fn tx_env(tx: &TxEnvelope, sender: Address) -> TxEnv {
    let mut env = TxEnv {
        tx_type: tx.tx_type() as u8,
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        ..Default::default()
    };
    if let Some(list) = tx.access_list() {
        env.access_list = list.clone();
    }
    env
}
