// What the system-contract scripts (assets.mjs, notary.mjs) share: the
// node's URL, the test mnemonic, and waiting for a transaction or a revert.

import assert from "node:assert/strict";

export const url = process.env.TALLY_RPC;
if (!url) {
  console.error("set TALLY_RPC to the node's JSON-RPC URL, e.g. http://127.0.0.1:8545");
  process.exit(2);
}

export const MNEMONIC = "test test test test test test test test test test test junk";

// Awaits a call that must revert with a reason containing `text`.
export async function expectRevert(promise, text, what) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, "CALL_EXCEPTION", `${what}: ${e}`);
    assert.ok(
      (e.reason ?? "").includes(text),
      `${what}: reason ${JSON.stringify(e.reason)} does not say ${JSON.stringify(text)}`,
    );
    return;
  }
  assert.fail(`${what}: did not revert`);
}

// Awaits a sent transaction's receipt, which must be a success.
export async function sent(promise) {
  const receipt = await (await promise).wait();
  assert.equal(receipt.status, 1);
  return receipt;
}
