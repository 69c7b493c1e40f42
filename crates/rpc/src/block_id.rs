//! Turning block parameters (tags, numbers, EIP-1898 objects) into the
//! canonical block numbers [`Backend`] methods take.

use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use jsonrpsee::types::ErrorObjectOwned;
use tally_primitives::{SealedHeader, B256};

use crate::backend::Backend;
use crate::error::{rpc_err, SERVER_ERROR};

/// The block number a tag or number names. `pending` is `latest`: Tally
/// does not build pending blocks. A number above the head is returned as is;
/// callers decide whether that is `null` or an error.
pub fn tag_number(backend: &dyn Backend, tag: BlockNumberOrTag) -> u64 {
    match tag {
        BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => backend.head().number,
        BlockNumberOrTag::Earliest => 0,
        BlockNumberOrTag::Safe => backend.safe_number(),
        BlockNumberOrTag::Finalized => backend.finalized_number(),
        BlockNumberOrTag::Number(n) => n,
    }
}

/// The header a block id names, `None` when there is no such block.
/// A hash must name a canonical block when `requireCanonical` is set.
pub fn resolve_header(
    backend: &dyn Backend,
    id: BlockId,
) -> Result<Option<SealedHeader>, ErrorObjectOwned> {
    match id {
        BlockId::Number(tag) => Ok(backend.header_by_number(tag_number(backend, tag))?),
        BlockId::Hash(h) => {
            let Some(header) = backend.header_by_hash(h.block_hash)? else {
                return Ok(None);
            };
            if h.require_canonical == Some(true) && !is_canonical(backend, &header)? {
                return Err(rpc_err(
                    SERVER_ERROR,
                    format!("block {} is not canonical", h.block_hash),
                ));
            }
            Ok(Some(header))
        }
    }
}

fn is_canonical(backend: &dyn Backend, header: &SealedHeader) -> Result<bool, ErrorObjectOwned> {
    Ok(backend
        .header_by_number(header.number)?
        .is_some_and(|c| c.hash == header.hash))
}

/// The block number whose *state* a query reads (balance, code, call...).
/// Unlike block lookups, a missing block is an error here, as in geth, and
/// a hash must be canonical: the backend reads state by canonical number.
pub fn state_number(backend: &dyn Backend, id: Option<BlockId>) -> Result<u64, ErrorObjectOwned> {
    let id = id.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest));
    match id {
        BlockId::Number(tag) => {
            let number = tag_number(backend, tag);
            if number > backend.head().number {
                return Err(rpc_err(
                    SERVER_ERROR,
                    format!("header not found: block {number} is above the head"),
                ));
            }
            Ok(number)
        }
        BlockId::Hash(h) => {
            let header = backend
                .header_by_hash(h.block_hash)?
                .ok_or_else(|| header_not_found(h.block_hash))?;
            if !is_canonical(backend, &header)? {
                return Err(rpc_err(
                    SERVER_ERROR,
                    format!(
                        "block {} is not on the canonical chain; its state is not kept",
                        h.block_hash
                    ),
                ));
            }
            Ok(header.number)
        }
    }
}

fn header_not_found(hash: B256) -> ErrorObjectOwned {
    rpc_err(SERVER_ERROR, format!("header for hash {hash} not found"))
}
