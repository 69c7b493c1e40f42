//! Reading ERC-20 tokens the way `eth_call` would: name, symbol,
//! decimals, total supply and balances, each a call on the state after a
//! block. A contract that lacks a function (or reverts) leaves that field
//! empty rather than failing the page.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use tally_rpc::{Backend, CallRequest, CallStatus};

use crate::decode::abi::IERC20;

/// What a token says about itself; `None` where it would not answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenInfo {
    pub name: Option<String>,
    pub symbol: Option<String>,
    pub decimals: Option<u8>,
    pub total_supply: Option<U256>,
}

impl TokenInfo {
    /// Whether it answered anything an ERC-20 token would.
    pub fn is_token(&self) -> bool {
        self.symbol.is_some() || self.decimals.is_some() || self.total_supply.is_some()
    }

    /// `amount` in the token's units with its symbol, or the raw amount.
    pub fn amount(&self, amount: U256) -> String {
        let symbol = self.symbol.as_deref().unwrap_or("units");
        match self.decimals {
            Some(d) => format!("{} {symbol}", crate::format::units(amount, d)),
            None => format!("{} {symbol}", crate::format::units(amount, 0)),
        }
    }
}

/// Runs `call` against `token` on the state after block `number`.
fn read<C: SolCall>(
    backend: &dyn Backend,
    token: Address,
    call: &C,
    number: u64,
) -> Option<C::Return> {
    let request = CallRequest {
        to: Some(token),
        input: call.abi_encode().into(),
        gas: Some(5_000_000),
        ..CallRequest::default()
    };
    let outcome = backend.call(&request, number).ok()?;
    if outcome.status != CallStatus::Success || outcome.output.is_empty() {
        return None;
    }
    C::abi_decode_returns(&outcome.output).ok()
}

/// Name, symbol, decimals and supply of `token` after block `number`.
pub fn info(backend: &dyn Backend, token: Address, number: u64) -> TokenInfo {
    TokenInfo {
        name: read(backend, token, &IERC20::nameCall {}, number),
        symbol: read(backend, token, &IERC20::symbolCall {}, number),
        decimals: read(backend, token, &IERC20::decimalsCall {}, number),
        total_supply: read(backend, token, &IERC20::totalSupplyCall {}, number),
    }
}
