// The notary and traceability system contracts through ethers v6, as a
// records office or a supply-chain app would use them against `tally dev`:
//
//   TALLY_RPC=http://127.0.0.1:8545 node tests/js/notary.mjs
//
// Stamps SHA-256 hashes of documents in one batch and reads the stamp
// back, revokes one, reads a product's history written by three parties
// and sees an unauthorised party refused with its reason; then asks the
// node for a proof of a document (tally_getNotaryProof). Exits non-zero
// on the first failure.

import assert from "node:assert/strict";
import { ethers } from "ethers";
import { MNEMONIC, expectRevert, sent, url } from "./system.mjs";

const NOTARY = "0x0000000000000000000000000000000000001006";
const TRACE = "0x0000000000000000000000000000000000001007";

const NOTARY_ABI = [
  "event Stamped(bytes32 indexed root, address indexed submitter, uint64 count, string label)",
  "event Notarized(bytes32 indexed document, bytes32 indexed root, uint64 index)",
  "function stamp(bytes32[] documents, string label) returns (bytes32 root)",
  "function revoke(bytes32 document, string reason)",
  "function batch(bytes32 root) view returns (address submitter, uint64 timestamp, uint64 blockNumber, uint64 count, string label)",
  "function revocation(address submitter, bytes32 document) view returns (bool revoked, uint64 blockNumber, uint64 timestamp, bytes32 replacement, string reason)",
  "function merkleRoot(bytes32[] documents) view returns (bytes32)",
];
const TRACE_ABI = [
  "event RegistryCreated(uint64 indexed registry, address indexed admin, string name)",
  "function createRegistry(string name) returns (uint64 id)",
  "function authorize(uint64 registry, address party, uint8 role)",
  "function registerProduct(string productId, uint64 registry, string description)",
  "function appendEvent(string productId, string status, string location, bytes32[] documents)",
  "function product(string productId) view returns (uint64 registry, address manufacturer, uint64 timestamp, uint64 blockNumber, string description, uint64 eventCount)",
  "function eventAt(string productId, uint64 index) view returns (address party, uint8 role, uint64 timestamp, uint64 blockNumber, string status, string location, bytes32[] documents)",
];

async function main() {
  const provider = new ethers.JsonRpcProvider(url, undefined, {
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  const wallet = (i) =>
    ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).connect(provider);
  const [clerk, admin, maker, shipper, stranger] = [0, 1, 2, 3, 4].map(wallet);

  // --- the notary: hashes only, one batch, one root ---
  const docs = ["deed A", "deed B", "deed C"].map((t) => ethers.sha256(ethers.toUtf8Bytes(t)));
  const notary = (who) => new ethers.Contract(NOTARY, NOTARY_ABI, who);
  const root = await notary(clerk).merkleRoot(docs);
  const receipt = await sent(notary(clerk).stamp(docs, "land registry"));
  const iface = new ethers.Interface(NOTARY_ABI);
  const logs = receipt.logs.map((l) => iface.parseLog(l)).filter(Boolean);
  assert.equal(logs.filter((l) => l.name === "Notarized").length, 3, "one Notarized per document");
  const stamped = logs.find((l) => l.name === "Stamped");
  assert.equal(stamped.args.root, root);
  const batch = await notary(clerk).batch(root);
  assert.equal(batch.submitter, clerk.address);
  assert.equal(batch.count, 3n);
  assert.equal(batch.label, "land registry");
  assert.equal(batch.blockNumber, BigInt(receipt.blockNumber));
  await expectRevert(notary(clerk).stamp(docs, "again"), "already stamped", "a second stamp");
  await sent(notary(clerk).revoke(docs[1], "boundary corrected"));
  const r = await notary(clerk).revocation(clerk.address, docs[1]);
  assert.equal(r.revoked, true);
  assert.equal(r.reason, "boundary corrected");
  // The node's proof of a document, for `tally verify`.
  const proof = await provider.send("tally_getNotaryProof", [docs[0], "latest"]);
  assert.equal(proof.format, "tally-proof/1");
  assert.equal(proof.claim.kind, "notary");
  assert.equal(proof.claim.root, root);

  // --- traceability: three parties, one refused ---
  const trace = (who) => new ethers.Contract(TRACE, TRACE_ABI, who);
  await sent(trace(admin).createRegistry("Pharma"));
  await sent(trace(admin).authorize(1n, maker.address, 1));
  await sent(trace(admin).authorize(1n, shipper.address, 2));
  await sent(trace(maker).registerProduct("VAX-0001", 1n, "vaccine lot 1"));
  await sent(trace(shipper).appendEvent("VAX-0001", "shipped", "Basel", [docs[0]]));
  await expectRevert(
    trace(stranger).appendEvent("VAX-0001", "sold", "nowhere", []),
    "not authorised",
    "an unauthorised party",
  );
  const product = await trace(stranger).product("VAX-0001");
  assert.equal(product.manufacturer, maker.address);
  assert.equal(product.eventCount, 1n);
  const event = await trace(stranger).eventAt("VAX-0001", 0n);
  assert.equal(event.party, shipper.address);
  assert.equal(event.role, 2n);
  assert.equal(event.status, "shipped");

  console.log("all checks passed");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
