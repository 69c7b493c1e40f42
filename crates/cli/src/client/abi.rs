//! Contract artifacts and ABI encoding for `tally contract`.
//!
//! An artifact is the JSON a Solidity toolchain writes: an `abi` array and
//! the creation `bytecode` (a hex string, as solc's combined JSON and
//! Hardhat write it, or `{"object": "0x…"}` as Foundry does). Arguments are
//! given as a JSON array and coerced to the ABI types: numbers may be JSON
//! numbers or strings (strings for anything past 2^53), addresses and bytes
//! hex strings, arrays and tuples JSON arrays.

use std::path::Path;

use alloy_dyn_abi::{DynSolType, DynSolValue, JsonAbiExt as _, Specifier as _};
use alloy_json_abi::{Function, JsonAbi, Param, StateMutability};
use alloy_primitives::{hex, Bytes};
use alloy_sol_types::{Panic, Revert, SolError as _};
use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;

/// A contract's ABI and creation code.
#[derive(Debug)]
pub struct Artifact {
    pub abi: JsonAbi,
    /// Empty when the artifact has no bytecode (an interface).
    pub bytecode: Bytes,
}

pub fn load_artifact(path: &Path) -> anyhow::Result<Artifact> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read artifact {}", path.display()))?;
    parse_artifact(&text).with_context(|| format!("invalid artifact {}", path.display()))
}

pub fn parse_artifact(text: &str) -> anyhow::Result<Artifact> {
    let json: Value = serde_json::from_str(text).context("not JSON")?;
    // A bare ABI array is an artifact without bytecode.
    let (abi_json, code_json) = match &json {
        Value::Array(_) => (json.clone(), None),
        Value::Object(map) => (
            map.get("abi")
                .cloned()
                .ok_or_else(|| anyhow!("no \"abi\" field"))?,
            map.get("bytecode"),
        ),
        _ => bail!("expected an object with \"abi\" and \"bytecode\""),
    };
    // Some tools store the ABI as a JSON string.
    let abi_json = match abi_json {
        Value::String(s) => serde_json::from_str(&s).context("\"abi\" string is not JSON")?,
        other => other,
    };
    let abi: JsonAbi = serde_json::from_value(abi_json).context("\"abi\" is not a valid ABI")?;
    let code = match code_json {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("object").and_then(Value::as_str).unwrap_or(""),
        Some(_) => bail!("\"bytecode\" must be a hex string or {{\"object\": hex}}"),
    };
    if code.contains("__") {
        bail!("the bytecode has unlinked library placeholders (__…__): link the libraries first");
    }
    let bytecode = hex::decode(code.trim())
        .map(Bytes::from)
        .map_err(|e| anyhow!("\"bytecode\" is not hex: {e}"))?;
    Ok(Artifact { abi, bytecode })
}

/// Parses `--args`: a JSON array (absent means no arguments).
pub fn parse_args_json(args: Option<&str>) -> anyhow::Result<Vec<Value>> {
    let Some(text) = args else {
        return Ok(Vec::new());
    };
    match serde_json::from_str(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(other) => bail!("invalid --args {text:?}: expected a JSON array, got {other}"),
        Err(e) => bail!(
            "invalid --args {text:?}: not JSON ({e}); expected a JSON array like '[\"0xabc…\", 5]'"
        ),
    }
}

/// Coerces JSON arguments to the ABI parameters `params`.
pub fn encode_params(params: &[Param], args: &[Value]) -> anyhow::Result<Vec<DynSolValue>> {
    if params.len() != args.len() {
        bail!(
            "expected {} argument(s) ({}), got {}",
            params.len(),
            describe_params(params),
            args.len()
        );
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (param, arg))| {
            let ty = param
                .resolve()
                .map_err(|e| anyhow!("ABI type {:?}: {e}", param.ty))?;
            coerce(&ty, arg).map_err(|e| {
                let name = if param.name.is_empty() {
                    ""
                } else {
                    &param.name
                };
                anyhow!("argument {} ({name}: {}) = {arg}: {e}", i + 1, ty)
            })
        })
        .collect()
}

fn describe_params(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| {
            format!("{} {}", p.selector_type(), p.name)
                .trim()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn coerce(ty: &DynSolType, value: &Value) -> anyhow::Result<DynSolValue> {
    match (ty, value) {
        (DynSolType::Array(inner), Value::Array(items)) => Ok(DynSolValue::Array(
            items
                .iter()
                .map(|v| coerce(inner, v))
                .collect::<Result<_, _>>()?,
        )),
        (DynSolType::FixedArray(inner, n), Value::Array(items)) => {
            if items.len() != *n {
                bail!("expected {n} elements, got {}", items.len());
            }
            Ok(DynSolValue::FixedArray(
                items
                    .iter()
                    .map(|v| coerce(inner, v))
                    .collect::<Result<_, _>>()?,
            ))
        }
        (DynSolType::Tuple(types), Value::Array(items)) => {
            if items.len() != types.len() {
                bail!("expected a tuple of {}, got {}", types.len(), items.len());
            }
            Ok(DynSolValue::Tuple(
                types
                    .iter()
                    .zip(items)
                    .map(|(t, v)| coerce(t, v))
                    .collect::<Result<_, _>>()?,
            ))
        }
        (_, Value::String(s)) => Ok(ty.coerce_str(s)?),
        (_, Value::Bool(b)) => Ok(ty.coerce_str(if *b { "true" } else { "false" })?),
        (_, Value::Number(n)) => {
            if n.is_f64() {
                bail!(
                    "{n} is not an integer (write big numbers as strings: \"1000000000000000000\")"
                );
            }
            Ok(ty.coerce_str(&n.to_string())?)
        }
        _ => bail!("expected a value of type {ty}"),
    }
}

/// Finds a function by name, or by full signature (`transfer(address,uint256)`)
/// when the name is overloaded.
pub fn find_function<'a>(
    abi: &'a JsonAbi,
    method: &str,
    arg_count: usize,
) -> anyhow::Result<&'a Function> {
    if method.contains('(') {
        let wanted: String = method.chars().filter(|c| !c.is_whitespace()).collect();
        return abi
            .functions()
            .find(|f| f.signature() == wanted)
            .ok_or_else(|| {
                anyhow!(
                    "no function {method} in the ABI (have: {})",
                    list_functions(abi)
                )
            });
    }
    let overloads = abi
        .function(method)
        .filter(|fs| !fs.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "no function {method:?} in the ABI (have: {})",
                list_functions(abi)
            )
        })?;
    if let [only] = overloads.as_slice() {
        return Ok(only);
    }
    let matching: Vec<_> = overloads
        .iter()
        .filter(|f| f.inputs.len() == arg_count)
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        _ => bail!(
            "{method} is overloaded; name one by signature: {}",
            overloads
                .iter()
                .map(|f| f.signature())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn list_functions(abi: &JsonAbi) -> String {
    let names: Vec<_> = abi.functions().map(|f| f.signature()).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

pub fn is_read_only(f: &Function) -> bool {
    matches!(
        f.state_mutability,
        StateMutability::View | StateMutability::Pure
    )
}

/// Calldata of `f` with JSON `args`.
pub fn encode_call(f: &Function, args: &[Value]) -> anyhow::Result<Bytes> {
    let values =
        encode_params(&f.inputs, args).with_context(|| format!("calling {}", f.signature()))?;
    Ok(f.abi_encode_input(&values)
        .map_err(|e| anyhow!("cannot encode {}: {e}", f.signature()))?
        .into())
}

/// Creation code followed by the ABI-encoded constructor arguments.
pub fn encode_deploy(artifact: &Artifact, args: &[Value]) -> anyhow::Result<Bytes> {
    if artifact.bytecode.is_empty() {
        bail!("the artifact has no bytecode to deploy");
    }
    let mut code = artifact.bytecode.to_vec();
    match &artifact.abi.constructor {
        Some(ctor) => {
            let values = encode_params(&ctor.inputs, args).context("constructor")?;
            code.extend(
                ctor.abi_encode_input(&values)
                    .map_err(|e| anyhow!("cannot encode constructor arguments: {e}"))?,
            );
        }
        None if !args.is_empty() => {
            bail!(
                "the contract has no constructor, but {} argument(s) were given",
                args.len()
            )
        }
        None => {}
    }
    Ok(code.into())
}

/// A decoded value as JSON: numbers as decimal strings (they overflow JSON
/// numbers), addresses checksummed, bytes as hex.
pub fn value_to_json(value: &DynSolValue) -> Value {
    match value {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(word, size) => Value::String(hex::encode_prefixed(
            word.get(..*size).unwrap_or(word.as_slice()),
        )),
        DynSolValue::Address(a) => Value::String(a.to_checksum(None)),
        DynSolValue::Function(f) => Value::String(hex::encode_prefixed(f.as_slice())),
        DynSolValue::Bytes(b) => Value::String(hex::encode_prefixed(b)),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            Value::Array(items.iter().map(value_to_json).collect())
        }
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}

/// One line per value: strings bare, everything else as JSON.
pub fn format_outputs(values: &[DynSolValue]) -> Vec<String> {
    values
        .iter()
        .map(|v| match value_to_json(v) {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect()
}

/// A human reason for revert `data`: a custom error of `abi`, a standard
/// `Error(string)` or `Panic(uint256)`, or the raw bytes.
pub fn decode_revert(data: &[u8], abi: Option<&JsonAbi>) -> String {
    if data.is_empty() {
        return "reverted without a reason".into();
    }
    if let (Some(abi), Some(selector)) = (abi, data.get(..4)) {
        for error in abi.errors() {
            if error.selector().as_slice() == selector {
                if let Ok(values) = error.abi_decode_input(data.get(4..).unwrap_or_default()) {
                    let args: Vec<String> = values
                        .iter()
                        .map(|v| value_to_json(v).to_string())
                        .collect();
                    return format!("{}({})", error.name, args.join(", "));
                }
            }
        }
    }
    if let Ok(revert) = Revert::abi_decode(data) {
        return format!("revert: {}", revert.reason);
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        return panic.to_string();
    }
    // Vyper reverts with a bare string; anything else is shown as hex
    // rather than as control characters.
    match std::str::from_utf8(data) {
        Ok(text) if !text.chars().any(char::is_control) => format!("revert: {text}"),
        _ => format!("reverted with data {}", hex::encode_prefixed(data)),
    }
}

#[cfg(test)]
#[path = "abi_tests.rs"]
mod tests;
