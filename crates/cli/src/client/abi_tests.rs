use super::*;
use alloy_primitives::{address, U256};
use alloy_sol_types::{sol, SolCall, SolError};

sol! {
    function transfer(address to, uint256 amount) returns (bool);
    function setMany(uint256[] xs, (string, bytes32) pair);
    error Insufficient(uint256 have, uint256 want);
}

const ABI: &str = r#"[
  {"type":"constructor","inputs":[{"name":"supply","type":"uint256"}],"stateMutability":"nonpayable"},
  {"type":"function","name":"transfer","inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],
   "outputs":[{"name":"","type":"bool"}],"stateMutability":"nonpayable"},
  {"type":"function","name":"balanceOf","inputs":[{"name":"who","type":"address"}],
   "outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
  {"type":"function","name":"setMany","inputs":[{"name":"xs","type":"uint256[]"},
   {"name":"pair","type":"tuple","components":[{"name":"s","type":"string"},{"name":"h","type":"bytes32"}]}],
   "outputs":[],"stateMutability":"nonpayable"},
  {"type":"function","name":"f","inputs":[],"outputs":[],"stateMutability":"pure"},
  {"type":"function","name":"f","inputs":[{"name":"x","type":"uint8"}],"outputs":[],"stateMutability":"pure"},
  {"type":"function","name":"f","inputs":[{"name":"x","type":"bool"}],"outputs":[],"stateMutability":"pure"},
  {"type":"error","name":"Insufficient","inputs":[{"name":"have","type":"uint256"},{"name":"want","type":"uint256"}]}
]"#;

fn artifact() -> Artifact {
    parse_artifact(&format!(r#"{{"abi": {ABI}, "bytecode": "0x6001600055"}}"#)).unwrap()
}

#[test]
fn encodes_calls_like_the_sol_macro() {
    let a = artifact();
    let f = find_function(&a.abi, "transfer", 2).unwrap();
    let args = parse_args_json(Some(
        r#"["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "1000000000000000000000"]"#,
    ))
    .unwrap();
    let data = encode_call(f, &args).unwrap();
    let expected = transferCall {
        to: address!("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        amount: U256::from(10u64).pow(U256::from(21)),
    }
    .abi_encode();
    assert_eq!(data.as_ref(), expected.as_slice());
    assert!(!is_read_only(f));
    assert!(is_read_only(find_function(&a.abi, "balanceOf", 1).unwrap()));
}

#[test]
fn encodes_arrays_tuples_and_json_numbers() {
    let a = artifact();
    let f = find_function(&a.abi, "setMany", 2).unwrap();
    let hash = format!("0x{}", "11".repeat(32));
    let args = parse_args_json(Some(&format!(r#"[[1, "2", 3], ["hi", "{hash}"]]"#))).unwrap();
    let data = encode_call(f, &args).unwrap();
    let expected = setManyCall {
        xs: vec![U256::from(1), U256::from(2), U256::from(3)],
        pair: ("hi".to_string(), [0x11u8; 32].into()),
    }
    .abi_encode();
    assert_eq!(data.as_ref(), expected.as_slice());
}

#[test]
fn constructor_args_follow_the_bytecode() {
    let a = artifact();
    let code = encode_deploy(&a, &[serde_json::json!(7)]).unwrap();
    assert_eq!(&code[..5], &[0x60, 0x01, 0x60, 0x00, 0x55]);
    assert_eq!(U256::from_be_slice(&code[5..]), U256::from(7));
    assert!(encode_deploy(&a, &[]).is_err());
}

#[test]
fn bad_args_name_the_argument() {
    let a = artifact();
    let f = find_function(&a.abi, "transfer", 2).unwrap();
    let err = format!(
        "{:#}",
        encode_call(f, &parse_args_json(Some(r#"["0x1234", 5]"#)).unwrap()).unwrap_err()
    );
    assert!(err.contains("argument 1 (to: address)"), "{err}");
    let err = format!("{:#}", encode_call(f, &[]).unwrap_err());
    assert!(err.contains("expected 2 argument(s)"), "{err}");
    let err = format!(
        "{:#}",
        encode_call(
            f,
            &parse_args_json(Some(
                r#"["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 1.5]"#
            ))
            .unwrap()
        )
        .unwrap_err()
    );
    assert!(err.contains("argument 2"), "{err}");

    let err = parse_args_json(Some("[1, 2")).unwrap_err().to_string();
    assert!(err.contains("[1, 2") && err.contains("not JSON"), "{err}");
    let err = parse_args_json(Some(r#"{"a": 1}"#))
        .unwrap_err()
        .to_string();
    assert!(err.contains("JSON array"), "{err}");
}

#[test]
fn overloads_resolve_by_count_or_signature() {
    let a = artifact();
    assert_eq!(find_function(&a.abi, "f", 0).unwrap().inputs.len(), 0);
    let err = find_function(&a.abi, "f", 1).unwrap_err().to_string();
    assert!(err.contains("f(uint8)") && err.contains("f(bool)"), "{err}");
    let f = find_function(&a.abi, "f(bool)", 1).unwrap();
    assert_eq!(f.inputs[0].ty, "bool");
    let err = find_function(&a.abi, "nope", 0).unwrap_err().to_string();
    assert!(err.contains("transfer(address,uint256)"), "{err}");
}

#[test]
fn outputs_are_formatted_for_people() {
    let values = vec![
        DynSolValue::Uint(U256::from(10u64).pow(U256::from(30)), 256),
        DynSolValue::Address(address!("70997970c51812dc3a010c7d01b50e0d17dc79c8")),
        DynSolValue::String("hello".into()),
        DynSolValue::Array(vec![DynSolValue::Bool(true), DynSolValue::Bool(false)]),
    ];
    assert_eq!(
        format_outputs(&values),
        vec![
            "1000000000000000000000000000000".to_string(),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".to_string(),
            "hello".to_string(),
            "[true,false]".to_string(),
        ]
    );
}

#[test]
fn revert_reasons_are_decoded() {
    let a = artifact();
    let custom = Insufficient {
        have: U256::from(1),
        want: U256::from(2),
    }
    .abi_encode();
    assert_eq!(
        decode_revert(&custom, Some(&a.abi)),
        "Insufficient(\"1\", \"2\")"
    );
    let standard = alloy_sol_types::Revert::from("not owner").abi_encode();
    assert_eq!(decode_revert(&standard, None), "revert: not owner");
    let panic =
        alloy_sol_types::Panic::from(alloy_sol_types::PanicKind::DivisionByZero).abi_encode();
    assert!(
        decode_revert(&panic, None).contains("division or modulo by zero"),
        "{}",
        decode_revert(&panic, None)
    );
    assert_eq!(decode_revert(&[], None), "reverted without a reason");
    assert!(decode_revert(&[1, 2, 3, 4, 5], None).contains("0x0102030405"));
}

#[test]
fn artifact_formats() {
    let foundry = format!(r#"{{"abi": {ABI}, "bytecode": {{"object": "0x60016000"}}}}"#);
    assert_eq!(parse_artifact(&foundry).unwrap().bytecode.len(), 4);
    let bare = parse_artifact(ABI).unwrap();
    assert!(bare.bytecode.is_empty());
    assert!(encode_deploy(&bare, &[]).is_err());
    let linked = r#"{"abi": [], "bytecode": "0x60__$abc$__"}"#;
    assert!(parse_artifact(linked)
        .unwrap_err()
        .to_string()
        .contains("link"));
    assert!(parse_artifact(r#"{"bytecode": "0x00"}"#).is_err());
    assert!(parse_artifact("nope").is_err());
}
