//! Decoding what a transaction says: its call data, its logs and its
//! revert data, with the ABIs the explorer knows — Tally's system
//! contracts (the `contracts/*.sol` interfaces, at their reserved
//! addresses) and the ERC-20 and ERC-721 standards (at any address).

use std::sync::OnceLock;

use alloy_dyn_abi::{DynSolValue, EventExt, JsonAbiExt};
use alloy_json_abi::{JsonAbi, Param};
use alloy_primitives::{hex, Address, Log};

use crate::html;

/// The standards, bound with `alloy-sol-types` for calls and decoding.
pub mod abi {
    alloy_sol_types::sol! {
        #[sol(abi)]
        interface IERC20 {
            event Transfer(address indexed from, address indexed to, uint256 value);
            event Approval(address indexed owner, address indexed spender, uint256 value);
            function transfer(address to, uint256 value) external returns (bool);
            function approve(address spender, uint256 value) external returns (bool);
            function transferFrom(address from, address to, uint256 value) external returns (bool);
            function name() external view returns (string);
            function symbol() external view returns (string);
            function decimals() external view returns (uint8);
            function totalSupply() external view returns (uint256);
            function balanceOf(address owner) external view returns (uint256);
        }
    }

    alloy_sol_types::sol! {
        #[sol(abi)]
        interface IERC721 {
            event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
            event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
            event ApprovalForAll(address indexed owner, address indexed operator, bool approved);
            function safeTransferFrom(address from, address to, uint256 tokenId) external;
            function safeTransferFrom(address from, address to, uint256 tokenId, bytes data) external;
            function setApprovalForAll(address operator, bool approved) external;
            function ownerOf(uint256 tokenId) external view returns (address);
        }
    }
}

/// A contract interface the explorer can decode.
struct Known {
    /// `ERC-20`, `ITallyNotary`, ...
    name: String,
    /// `None`: any address may serve it (the standards).
    address: Option<Address>,
    abi: JsonAbi,
}

fn registry() -> &'static [Known] {
    static REGISTRY: OnceLock<Vec<Known>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut known: Vec<Known> = tally_rpc::assets::system_contracts()
            .into_iter()
            .filter(|c| c.address.is_some())
            .map(|c| Known {
                name: c.interface,
                address: c.address,
                abi: c.abi,
            })
            .collect();
        known.push(Known {
            name: "ERC-20".into(),
            address: None,
            abi: abi::IERC20::abi::contract(),
        });
        known.push(Known {
            name: "ERC-721".into(),
            address: None,
            abi: abi::IERC721::abi::contract(),
        });
        known
    })
}

/// The interfaces to try for a contract at `address`: its own first, then
/// the standards.
fn candidates(address: Option<Address>) -> impl Iterator<Item = &'static Known> {
    let own = registry()
        .iter()
        .filter(move |k| k.address.is_some() && k.address == address);
    own.chain(registry().iter().filter(|k| k.address.is_none()))
}

/// A decoded call or event.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The interface it was decoded with.
    pub contract: String,
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: String,
    pub ty: String,
    pub value: DynSolValue,
}

impl Decoded {
    /// `transfer(address to, uint256 value)`.
    pub fn signature(&self) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| format!("{} {}", a.ty, a.name).trim().to_string())
            .collect();
        format!("{}({})", self.name, args.join(", "))
    }

    /// The first argument named `name`.
    pub fn arg(&self, name: &str) -> Option<&DynSolValue> {
        self.args.iter().find(|a| a.name == name).map(|a| &a.value)
    }
}

fn args(params: &[Param], values: Vec<DynSolValue>) -> Vec<Arg> {
    params
        .iter()
        .zip(values)
        .map(|(p, value)| Arg {
            name: p.name.clone(),
            ty: p.selector_type().into_owned(),
            value,
        })
        .collect()
}

/// The call `input` makes to `to`, when a known interface has its selector
/// and the arguments decode.
pub fn call(to: Option<Address>, input: &[u8]) -> Option<Decoded> {
    let selector = input.get(..4)?;
    let data = input.get(4..)?;
    candidates(to).find_map(|known| {
        known
            .abi
            .functions()
            .filter(|f| f.selector().as_slice() == selector)
            .find_map(|f| {
                let values = f.abi_decode_input(data).ok()?;
                Some(Decoded {
                    contract: known.name.clone(),
                    name: f.name.clone(),
                    args: args(&f.inputs, values),
                })
            })
    })
}

/// The event `log` records, when a known interface declares it with as
/// many indexed arguments as the log has topics.
pub fn log(log: &Log) -> Option<Decoded> {
    let topic0 = *log.topics().first()?;
    candidates(Some(log.address)).find_map(|known| {
        known
            .abi
            .events()
            .filter(|e| e.selector() == topic0)
            .find_map(|e| {
                let decoded = e.decode_log(&log.data).ok()?;
                let (mut indexed, mut body) =
                    (decoded.indexed.into_iter(), decoded.body.into_iter());
                let args = e
                    .inputs
                    .iter()
                    .map(|p| {
                        let value = if p.indexed {
                            indexed.next()
                        } else {
                            body.next()
                        }?;
                        Some(Arg {
                            name: p.name.clone(),
                            ty: p.selector_type().into_owned(),
                            value,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Decoded {
                    contract: known.name.clone(),
                    name: e.name.clone(),
                    args,
                })
            })
    })
}

/// Why a call reverted: `Error(string)`, `Panic(uint256)` or a known
/// interface's custom error; `None` for empty or unknown revert data.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    if output.is_empty() {
        return None;
    }
    if let Some(reason) = alloy_sol_types::decode_revert_reason(output).filter(|r| !r.is_empty()) {
        return Some(reason);
    }
    let selector = output.get(..4)?;
    let data = output.get(4..)?;
    registry().iter().find_map(|known| {
        known
            .abi
            .errors()
            .filter(|e| e.selector().as_slice() == selector)
            .find_map(|e| {
                let values = e.abi_decode_input(data).ok()?;
                let shown: Vec<String> = values.iter().map(plain).collect();
                Some(format!("{}({})", e.name, shown.join(", ")))
            })
    })
}

/// A value as plain text.
pub fn plain(value: &DynSolValue) -> String {
    if let Some(a) = value.as_address() {
        a.to_string()
    } else if let Some((u, _)) = value.as_uint() {
        u.to_string()
    } else if let Some((i, _)) = value.as_int() {
        i.to_string()
    } else if let Some(b) = value.as_bool() {
        b.to_string()
    } else if let Some(s) = value.as_str() {
        format!("{s:?}")
    } else if let Some(b) = value.as_bytes() {
        hex::encode_prefixed(b)
    } else if let Some((b, size)) = value.as_fixed_bytes() {
        hex::encode_prefixed(b.get(..size).unwrap_or(b))
    } else if let Some(items) = value.as_array().or_else(|| value.as_fixed_array()) {
        let items: Vec<String> = items.iter().map(plain).collect();
        format!("[{}]", items.join(", "))
    } else if let Some(items) = value.as_tuple() {
        let items: Vec<String> = items.iter().map(plain).collect();
        format!("({})", items.join(", "))
    } else {
        format!("{value:?}")
    }
}

/// A value as HTML: addresses link to their page, long values wrap.
pub fn render(value: &DynSolValue) -> String {
    if let Some(a) = value.as_address() {
        return html::addr_full(&a);
    }
    if let Some(items) = value.as_array().or_else(|| value.as_fixed_array()) {
        let items: Vec<String> = items.iter().map(render).collect();
        return format!("[{}]", items.join(", "));
    }
    html::mono(&plain(value))
}

/// A table of a decoded call's or event's arguments.
pub fn args_table(decoded: &Decoded) -> String {
    let rows: Vec<Vec<String>> = decoded
        .args
        .iter()
        .map(|a| vec![html::esc(&a.name), html::mono(&a.ty), render(&a.value)])
        .collect();
    html::table(&["Name", "Type", "Value"], &rows, "No arguments")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, LogData, B256, U256};
    use alloy_sol_types::{SolCall, SolError, SolEvent};

    #[test]
    fn erc20_calls_and_events_decode() {
        let to = Address::repeat_byte(0xb0);
        let input = abi::IERC20::transferCall {
            to,
            value: U256::from(1234u64),
        }
        .abi_encode();
        let d = call(Some(Address::repeat_byte(1)), &input).expect("decodes");
        assert_eq!(d.contract, "ERC-20");
        assert_eq!(d.signature(), "transfer(address to, uint256 value)");
        assert_eq!(d.arg("to").and_then(DynSolValue::as_address), Some(to));
        let event = abi::IERC20::Transfer {
            from: Address::repeat_byte(1),
            to,
            value: U256::from(7u64),
        };
        let log = Log {
            address: Address::repeat_byte(9),
            data: event.encode_log_data(),
        };
        let d = super::log(&log).expect("decodes");
        assert_eq!(
            (d.contract.as_str(), d.name.as_str()),
            ("ERC-20", "Transfer")
        );
        assert_eq!(plain(d.arg("value").unwrap()), "7");
    }

    #[test]
    fn an_erc721_transfer_is_told_by_its_topics() {
        let event = abi::IERC721::Transfer {
            from: Address::ZERO,
            to: Address::repeat_byte(2),
            tokenId: U256::from(42u64),
        };
        let log = Log {
            address: Address::repeat_byte(9),
            data: event.encode_log_data(),
        };
        let d = super::log(&log).expect("decodes");
        assert_eq!(d.contract, "ERC-721");
        assert_eq!(plain(d.arg("tokenId").unwrap()), "42");
    }

    #[test]
    fn system_contract_calls_decode_at_their_address_only() {
        use tally_rpc::assets::abi::ITallyNotary;
        let input = ITallyNotary::stampCall {
            documents: vec![B256::repeat_byte(1)],
            label: "invoices".into(),
        }
        .abi_encode();
        let notary = Some(
            tally_rpc::assets::system_contracts()
                .into_iter()
                .find(|c| c.name == "notary")
                .and_then(|c| c.address)
                .unwrap(),
        );
        let d = call(notary, &input).expect("decodes");
        assert_eq!(d.contract, "ITallyNotary");
        assert_eq!(d.name, "stamp");
        assert_eq!(plain(d.arg("label").unwrap()), "\"invoices\"");
        assert!(call(Some(Address::repeat_byte(3)), &input).is_none());
    }

    #[test]
    fn unknown_or_short_data_is_not_decoded() {
        assert!(call(None, &[1, 2]).is_none());
        assert!(call(None, &[0xde, 0xad, 0xbe, 0xef, 0]).is_none());
        let log = Log {
            address: Address::ZERO,
            data: LogData::new_unchecked(vec![B256::repeat_byte(5)], Bytes::new()),
        };
        assert!(super::log(&log).is_none());
    }

    #[test]
    fn revert_reasons_decode() {
        let data = alloy_sol_types::Revert::from("not enough tokens").abi_encode();
        assert_eq!(
            revert_reason(&data).as_deref(),
            Some("revert: not enough tokens")
        );
        assert_eq!(revert_reason(&[]), None);
    }
}
