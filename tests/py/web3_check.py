"""web3.py against a Tally node: the calls a Python dapp makes, unchanged.

    TALLY_RPC=http://127.0.0.1:8545 python3 tests/py/web3_check.py

Deploys TestToken from contracts/build, transfers, reads balances, waits for
receipts, decodes a revert reason and queries logs with a contract filter.
Exits non-zero on the first failure.
"""

import json
import os
import sys
from pathlib import Path

from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

# Accounts 0 and 1 of the test mnemonic, funded by `tally dev`.
KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
KEY1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
REASON = "ERC20: transfer amount exceeds balance"
BUILD = Path(__file__).resolve().parent.parent.parent / "contracts" / "build"


def artifact(name):
    return json.loads((BUILD / f"{name}.json").read_text())


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Sender:
    """Signs and sends transactions from one key, tracking its nonce."""

    def __init__(self, w3, key):
        self.w3 = w3
        self.acct = w3.eth.account.from_key(key)
        self.address = self.acct.address

    def send(self, tx):
        tx = dict(tx)
        tx.setdefault("from", self.address)
        tx.setdefault("chainId", self.w3.eth.chain_id)
        tx.setdefault("nonce", self.w3.eth.get_transaction_count(self.address, "pending"))
        if "gas" not in tx:
            tx["gas"] = self.w3.eth.estimate_gas(tx)
        if "gasPrice" not in tx:
            tx.setdefault("maxFeePerGas", Web3.to_wei(2, "gwei"))
            tx.setdefault("maxPriorityFeePerGas", Web3.to_wei(1, "gwei"))
        signed = self.acct.sign_transaction(tx)
        h = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.05)


def main():
    url = os.environ.get("TALLY_RPC")
    if not url:
        print("set TALLY_RPC to the node's JSON-RPC URL", file=sys.stderr)
        return 2
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    check(w3.is_connected(), f"cannot connect to {url}")
    check(w3.eth.chain_id == 31337, f"chain id {w3.eth.chain_id}")
    alice = Sender(w3, KEY0)
    bob = Sender(w3, KEY1)
    check(alice.address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", alice.address)

    # --- deploy ---
    art = artifact("TestToken")
    supply = 1_000_000 * 10**18
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    deploy = factory.constructor("Test Token", "TST", supply).build_transaction(
        {"from": alice.address, "nonce": w3.eth.get_transaction_count(alice.address, "pending")}
    )
    receipt = alice.send({k: v for k, v in deploy.items() if k in ("data", "nonce", "gas")})
    check(receipt.status == 1, f"deploy status {receipt}")
    token = w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])
    check(len(w3.eth.get_code(token.address)) > 0, "no code at the token")
    check(token.functions.name().call() == "Test Token", "name")
    check(token.functions.decimals().call() == 18, "decimals")
    check(token.functions.balanceOf(alice.address).call() == supply, "initial balance")

    # --- transfer ---
    amount = 4321
    data = token.functions.transfer(bob.address, amount)._encode_transaction_data()
    receipt = alice.send({"to": token.address, "data": data})
    check(receipt.status == 1, f"transfer status {receipt}")
    events = token.events.Transfer().process_receipt(receipt)
    check(len(events) == 1, f"Transfer events {events}")
    ev = events[0]["args"]
    check(ev["from"] == alice.address and ev["to"] == bob.address and ev["value"] == amount, ev)
    check(token.functions.balanceOf(bob.address).call() == amount, "bob's balance")
    check(
        token.functions.balanceOf(alice.address).call(block_identifier=receipt.blockNumber - 1)
        == supply,
        "alice's balance one block earlier",
    )
    tx = w3.eth.get_transaction(receipt.transactionHash)
    check(tx["from"] == alice.address and tx["to"] == token.address, tx)
    block = w3.eth.get_block(receipt.blockNumber, full_transactions=False)
    check(receipt.transactionHash in block.transactions, "tx in its block")

    # --- ETH transfer ---
    before = w3.eth.get_balance(bob.address)
    alice.send({"to": bob.address, "value": Web3.to_wei(1, "ether"), "gas": 21000})
    check(w3.eth.get_balance(bob.address) == before + Web3.to_wei(1, "ether"), "ETH transfer")

    # --- revert ---
    try:
        token.functions.transfer(alice.address, supply * 2).call({"from": bob.address})
    except ContractCustomError as e:
        raise AssertionError(f"reason string decoded as a custom error: {e}") from e
    except ContractLogicError as e:
        check(REASON in str(e), f"revert reason missing: {e!r}")
    else:
        raise AssertionError("overdraft call did not revert")

    # --- logs ---
    to_bob = token.events.Transfer().get_logs(
        argument_filters={"to": bob.address}, from_block=0, to_block="latest"
    )
    check(len(to_bob) == 1, f"Transfer logs to bob: {to_bob}")
    check(to_bob[0]["args"]["value"] == amount, to_bob)
    all_logs = w3.eth.get_logs({"address": token.address, "fromBlock": 0, "toBlock": "latest"})
    check(len(all_logs) == 2, f"mint + transfer logs: {all_logs}")

    print("web3.py compatibility: all checks passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - any failure must fail the check
        print(f"web3.py compatibility check FAILED: {e!r}", file=sys.stderr)
        import traceback

        traceback.print_exc()
        sys.exit(1)
