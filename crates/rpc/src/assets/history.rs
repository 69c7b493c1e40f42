//! `tally_getAssetHistory`: an asset's movements and policy changes,
//! decoded from its logs.
//!
//! Two bounded log scans (the limits of `eth_getLogs`): the `Transfer`
//! events at the token address, and the assets contract's events whose
//! first indexed topic is the token. A mint, burn or clawback emits both a
//! `Transfer` and its own event, one right after the other; the history
//! keeps only the richer one.

use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, Log};
use alloy_sol_types::{SolEvent, SolEventInterface};
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::abi::{ITallyAsset, ITallyAssets::ITallyAssetsEvents as Events};
use super::{unknown_token, ASSETS};
use crate::backend::Backend;
use crate::block_id::tag_number;
use crate::error::{internal, invalid_params};
use crate::logs::{logs_in_range, LogLimits};

/// Which part of the history to read (`tally_getAssetHistory`'s second
/// parameter). Unknown fields are refused, so a typo is not ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryFilter {
    /// Default: the block the asset was issued in, or the oldest block the
    /// range limit allows before `toBlock`.
    pub from_block: Option<BlockNumberOrTag>,
    /// Default: `latest`.
    pub to_block: Option<BlockNumberOrTag>,
    /// Only entries that move this account's balance or name it.
    pub account: Option<Address>,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MovementKind {
    Issue,
    Mint,
    Burn,
    Transfer,
    Clawback,
    Allow,
    Disallow,
    Freeze,
    Unfreeze,
    Tag,
    Untag,
    Pause,
    Resume,
    Policy,
    Regulator,
}

/// One entry of the history. Amounts are in base units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    pub block_number: u64,
    pub transaction_hash: Option<B256>,
    /// Position of the log in its block.
    pub log_index: u64,
    pub kind: MovementKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<U256>,
    /// The account an allowlist, freeze or tag change is about, or the new
    /// regulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Address>,
    /// Who made a policy change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Address>,
    /// A clawback's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The terms of an issue or a policy change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl Movement {
    fn new(log: &Log, kind: MovementKind) -> Self {
        Movement {
            block_number: log.block_number.unwrap_or_default(),
            transaction_hash: log.transaction_hash,
            log_index: log.log_index.unwrap_or_default(),
            kind,
            from: None,
            to: None,
            amount: None,
            account: None,
            by: None,
            reason: None,
            details: None,
        }
    }

    fn involves(&self, who: Address) -> bool {
        [self.from, self.to, self.account, self.by].contains(&Some(who))
    }
}

/// The answer of `tally_getAssetHistory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistory {
    pub token: Address,
    /// The range actually read.
    pub from_block: u64,
    pub to_block: u64,
    pub entries: Vec<Movement>,
}

pub(super) fn history(
    backend: &dyn Backend,
    token: Address,
    filter: &HistoryFilter,
    limits: LogLimits,
) -> Result<AssetHistory, ErrorObjectOwned> {
    let head = backend.head().number;
    let asset = backend.asset(token, head)?;
    if asset.is_null() {
        return Err(unknown_token(token, head));
    }
    let to = filter
        .to_block
        .map_or(head, |t| tag_number(backend, t))
        .min(head);
    let from = match filter.from_block {
        Some(t) => tag_number(backend, t),
        None => {
            let issued = asset
                .get("issuedBlock")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let oldest = to.saturating_add(1).saturating_sub(limits.max_block_range);
            issued.max(oldest)
        }
    };
    if from > to {
        if filter.from_block.is_none() {
            // A toBlock before the asset existed: nothing happened yet.
            return Ok(AssetHistory {
                token,
                from_block: from,
                to_block: to,
                entries: Vec::new(),
            });
        }
        return Err(invalid_params(format!(
            "invalid block range: fromBlock {from} is after toBlock {to}"
        )));
    }
    let transfers = Filter::new()
        .address(token)
        .event_signature(ITallyAsset::Transfer::SIGNATURE_HASH);
    let events = Filter::new().address(ASSETS).topic1(token.into_word());
    let mut logs = logs_in_range(backend, &transfers, from, to, limits)?;
    logs.extend(logs_in_range(backend, &events, from, to, limits)?);
    let mut entries = decode(token, logs)?;
    if let Some(who) = filter.account {
        entries.retain(|m| m.involves(who));
    }
    Ok(AssetHistory {
        token,
        from_block: from,
        to_block: to,
        entries,
    })
}

/// Decodes and orders the logs, folding each `Transfer` into the mint,
/// burn or clawback event that directly follows it.
fn decode(token: Address, mut logs: Vec<Log>) -> Result<Vec<Movement>, ErrorObjectOwned> {
    logs.sort_by_key(|l| (l.block_number, l.log_index));
    let mut out: Vec<Movement> = Vec::with_capacity(logs.len());
    for log in &logs {
        let Some(m) = decode_one(token, log)? else {
            continue;
        };
        let folds = matches!(
            m.kind,
            MovementKind::Mint | MovementKind::Burn | MovementKind::Clawback
        );
        if folds {
            if let Some(prev) = out.last() {
                let adjacent = prev.kind == MovementKind::Transfer
                    && prev.block_number == m.block_number
                    && prev.log_index + 1 == m.log_index
                    && prev.amount == m.amount;
                if adjacent {
                    out.pop();
                }
            }
        }
        out.push(m);
    }
    Ok(out)
}

fn decode_one(token: Address, log: &Log) -> Result<Option<Movement>, ErrorObjectOwned> {
    let data = &log.inner.data;
    let undecodable = |e: alloy_sol_types::Error| {
        internal(format!(
            "log {} of block {} from {} does not decode: {e}",
            log.log_index.unwrap_or_default(),
            log.block_number.unwrap_or_default(),
            log.inner.address
        ))
    };
    if log.inner.address == token {
        let t = ITallyAsset::Transfer::decode_log_data(data).map_err(undecodable)?;
        let mut m = Movement::new(log, MovementKind::Transfer);
        m.from = Some(t.from);
        m.to = Some(t.to);
        m.amount = Some(t.value);
        return Ok(Some(m));
    }
    // An event this build does not know (a newer contract) is skipped
    // rather than failing the whole history.
    let Ok(event) = Events::decode_raw_log(data.topics(), &data.data) else {
        return Ok(None);
    };
    use MovementKind as K;
    let m = match event {
        Events::AssetIssued(e) => Movement {
            by: Some(e.issuer),
            details: Some(json!({
                "id": e.id,
                "name": e.name,
                "symbol": e.symbol,
                "decimals": e.decimals,
                "cap": e.cap,
                "regulator": e.regulator,
            })),
            ..Movement::new(log, K::Issue)
        },
        Events::PolicyChanged(e) => Movement {
            by: Some(e.by),
            details: Some(json!({
                "allowlist": e.allowlist,
                "maxHolding": e.maxHolding,
                "purpose": e.purpose,
            })),
            ..Movement::new(log, K::Policy)
        },
        Events::RegulatorChanged(e) => Movement {
            account: Some(e.regulator),
            by: Some(e.by),
            ..Movement::new(log, K::Regulator)
        },
        Events::Minted(e) => Movement {
            from: Some(Address::ZERO),
            to: Some(e.to),
            amount: Some(e.amount),
            ..Movement::new(log, K::Mint)
        },
        Events::Burned(e) => Movement {
            from: Some(e.from),
            to: Some(Address::ZERO),
            amount: Some(e.amount),
            ..Movement::new(log, K::Burn)
        },
        Events::AllowlistChanged(e) => Movement {
            account: Some(e.account),
            by: Some(e.by),
            ..Movement::new(log, if e.allowed { K::Allow } else { K::Disallow })
        },
        Events::FreezeChanged(e) => Movement {
            account: Some(e.account),
            by: Some(e.by),
            ..Movement::new(log, if e.frozen { K::Freeze } else { K::Unfreeze })
        },
        Events::TagChanged(e) => Movement {
            account: Some(e.account),
            by: Some(e.by),
            ..Movement::new(log, if e.tagged { K::Tag } else { K::Untag })
        },
        Events::PauseChanged(e) => Movement {
            by: Some(e.by),
            ..Movement::new(log, if e.paused { K::Pause } else { K::Resume })
        },
        Events::Clawback(e) => Movement {
            from: Some(e.from),
            to: Some(e.to),
            amount: Some(e.amount),
            reason: Some(e.reason),
            ..Movement::new(log, K::Clawback)
        },
    };
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::abi::ITallyAssets;
    use alloy_primitives::LogData;

    fn log(address: Address, data: LogData, index: u64) -> Log {
        Log {
            inner: alloy_primitives::Log { address, data },
            block_number: Some(7),
            transaction_hash: Some(B256::repeat_byte(1)),
            log_index: Some(index),
            ..Default::default()
        }
    }

    #[test]
    fn a_clawback_is_one_entry_and_transfers_stay() {
        let token = Address::repeat_byte(0xa5);
        let (a, b, issuer) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
        );
        let transfer = |from, to, v: u64, i| {
            let data = ITallyAsset::Transfer {
                from,
                to,
                value: U256::from(v),
            }
            .encode_log_data();
            log(token, data, i)
        };
        let clawback = ITallyAssets::Clawback {
            token,
            from: b,
            to: issuer,
            amount: U256::from(4),
            reason: "court order".into(),
        }
        .encode_log_data();
        let frozen = ITallyAssets::FreezeChanged {
            token,
            account: b,
            frozen: true,
            by: issuer,
        }
        .encode_log_data();
        // Out of order on purpose: two scans are merged.
        let logs = vec![
            log(ASSETS, clawback, 3),
            log(ASSETS, frozen, 1),
            transfer(a, b, 10, 0),
            transfer(b, issuer, 4, 2),
        ];
        let h = decode(token, logs).unwrap();
        let kinds: Vec<MovementKind> = h.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                MovementKind::Transfer,
                MovementKind::Freeze,
                MovementKind::Clawback
            ]
        );
        assert_eq!(h[2].reason.as_deref(), Some("court order"));
        assert_eq!((h[2].from, h[2].amount), (Some(b), Some(U256::from(4))));
        assert!(h[1].involves(b) && !h[1].involves(a));
        let json = serde_json::to_value(&h[0]).unwrap();
        assert_eq!(json["kind"], "transfer");
        assert_eq!(json["amount"], "0xa");
        assert!(json.get("reason").is_none());
    }
}
