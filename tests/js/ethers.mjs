// ethers v6 against a Tally node: the calls a dapp makes, unchanged.
//
//   TALLY_RPC=http://127.0.0.1:8545 node tests/js/ethers.mjs
//
// Deploys TestToken (and Tester) from contracts/build, transfers, reads
// balances, waits for receipts, decodes reverts (reason string and custom
// error), queries logs with contract filters and listens for an event.
// Exits non-zero on the first failure.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const url = process.env.TALLY_RPC;
if (!url) {
  console.error("set TALLY_RPC to the node's JSON-RPC URL, e.g. http://127.0.0.1:8545");
  process.exit(2);
}

// Accounts 0 and 1 of the test mnemonic, funded by `tally dev`.
const KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const KEY1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const REASON = "ERC20: transfer amount exceeds balance";

function artifact(name) {
  const path = new URL(`../../contracts/build/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(path, "utf8"));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function expectRevert(promise, check, what) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, "CALL_EXCEPTION", `${what}: ${e}`);
    check(e);
    return;
  }
  assert.fail(`${what}: did not revert`);
}

async function main() {
  // Fast polling so tx.wait() and event listeners answer in milliseconds;
  // no request cache so nonces and balances are always fresh.
  const provider = new ethers.JsonRpcProvider(url, undefined, {
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  const network = await provider.getNetwork();
  assert.equal(network.chainId, 31337n, "chain id");
  const alice = new ethers.Wallet(KEY0, provider);
  const bob = new ethers.Wallet(KEY1, provider);
  assert.equal(alice.address, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

  const fee = await provider.getFeeData();
  assert.ok(fee.maxFeePerGas !== null && fee.maxFeePerGas > 0n, "EIP-1559 fee data");

  // --- deploy ---
  const art = artifact("TestToken");
  const supply = ethers.parseUnits("1000000", 18);
  const factory = new ethers.ContractFactory(art.abi, art.bytecode, alice);
  const token = await factory.deploy("Test Token", "TST", supply);
  const deployReceipt = await token.deploymentTransaction().wait();
  assert.equal(deployReceipt.status, 1, "deploy status");
  await token.waitForDeployment();
  const address = await token.getAddress();
  assert.equal(deployReceipt.contractAddress, address);
  assert.notEqual(await provider.getCode(address), "0x", "code at the token");
  assert.equal(await token.name(), "Test Token");
  assert.equal(await token.symbol(), "TST");
  assert.equal(await token.decimals(), 18n);
  assert.equal(await token.totalSupply(), supply);
  assert.equal(await token.balanceOf(alice.address), supply);

  // --- transfer and receipt ---
  const amount = 1234n;
  const tx = await token.transfer(bob.address, amount);
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1, "transfer status");
  assert.equal(receipt.hash, tx.hash);
  const parsed = receipt.logs.map((l) => token.interface.parseLog(l)).filter(Boolean);
  assert.equal(parsed.length, 1, "one Transfer log");
  assert.equal(parsed[0].name, "Transfer");
  assert.equal(parsed[0].args.from, alice.address);
  assert.equal(parsed[0].args.to, bob.address);
  assert.equal(parsed[0].args.value, amount);
  assert.equal(await token.balanceOf(bob.address), amount);
  assert.equal(await token.balanceOf(alice.address), supply - amount);

  const fetched = await provider.getTransaction(tx.hash);
  assert.equal(fetched.from, alice.address);
  assert.equal(fetched.to, address);
  assert.equal(fetched.blockHash, receipt.blockHash);
  const block = await provider.getBlock(receipt.blockNumber);
  assert.ok(block.transactions.includes(tx.hash), "tx in its block");

  // --- plain ETH transfers: EIP-1559 and legacy ---
  const before = await provider.getBalance(bob.address);
  const eth = await alice.sendTransaction({ to: bob.address, value: ethers.parseEther("1.5") });
  await eth.wait();
  const legacy = await alice.sendTransaction({
    type: 0,
    to: bob.address,
    value: 1n,
    gasPrice: ethers.parseUnits("2", "gwei"),
  });
  assert.equal((await legacy.wait()).status, 1, "legacy tx");
  assert.equal(await provider.getBalance(bob.address), before + ethers.parseEther("1.5") + 1n);

  // --- reverts ---
  const tooMuch = supply * 2n;
  await expectRevert(
    token.connect(bob).transfer.staticCall(alice.address, tooMuch),
    (e) => assert.equal(e.reason, REASON, `staticCall reason: ${e.shortMessage}`),
    "staticCall overdraft",
  );
  await expectRevert(
    token.connect(bob).transfer(alice.address, tooMuch),
    (e) => assert.equal(e.reason, REASON, `send reason: ${e.shortMessage}`),
    "send overdraft (estimateGas)",
  );
  const tart = artifact("Tester");
  const tester = await new ethers.ContractFactory(tart.abi, tart.bytecode, alice).deploy(5n);
  await tester.waitForDeployment();
  assert.equal(await tester.getValuePlus(1n), 6n);
  await expectRevert(
    tester.failCustom.staticCall(),
    (e) => {
      assert.equal(e.revert?.name, "CustomFailure", `custom error: ${e.shortMessage}`);
      assert.equal(e.revert.args[0], 42n);
      assert.equal(e.revert.args[1], "custom");
    },
    "custom error",
  );
  // A revert mined on chain gives status 0 (gas given, so no estimate).
  const failing = await tester.maybeFail(true, { gasLimit: 100000n });
  await expectRevert(failing.wait(), (e) => assert.equal(e.receipt?.status, 0), "mined revert");

  // --- logs ---
  const toBob = await token.queryFilter(token.filters.Transfer(null, bob.address), 0, "latest");
  assert.equal(toBob.length, 1, "Transfer logs to bob");
  assert.equal(toBob[0].args.value, amount);
  assert.equal(toBob[0].transactionHash, tx.hash);
  const all = await provider.getLogs({ address, fromBlock: 0, toBlock: "latest" });
  assert.equal(all.length, 2, "mint + transfer logs");

  // --- an event listener (eth_newFilter + eth_getFilterChanges) ---
  // The payload is the listener's last argument (ethers passes only the
  // payload to `once` listeners, the decoded args and payload to `on`).
  const heard = new Promise((resolve) => {
    token.once(token.filters.Transfer(alice.address, bob.address), (...args) =>
      resolve(args[args.length - 1]),
    );
  });
  // Let the listener install its filter before the event happens.
  await new Promise((r) => setTimeout(r, 300));
  const tx2 = await token.transfer(bob.address, 5n);
  await tx2.wait();
  const got = await withTimeout(heard, 10000, "Transfer listener");
  assert.equal(got.args.from, alice.address);
  assert.equal(got.args.value, 5n);
  assert.equal(got.log.transactionHash, tx2.hash);

  console.log("ethers compatibility: all checks passed");
}

// Exit explicitly: ethers keeps polling timers alive, and tears down the
// `once` listener's filter (eth_uninstallFilter) in the background, which a
// provider.destroy() here would turn into an unhandled rejection.
main().then(() => process.exit(0)).catch((e) => {
  console.error("ethers compatibility check FAILED:");
  console.error(e);
  process.exit(1);
});
